"""On a CUDA machine (``make venv venv-gpu``): train one support-email LoRA cell with Unsloth and with peft, train
peft on a random-weight Qwen3 with Qwen3's chat template and the shipped training template, then answer test
prompts through vLLM with the adapter, free text and JSON schema. Every measurement runs in a process of its own
(Unsloth patches transformers and trl on import; each vLLM engine takes most of the GPU's memory) and prints the
device it ran on.

    python -m bench.gpu_check [train_size] [n_test]

Model: BREAKEVEN_BENCH_MODEL or resources/models/smollm2-135m (``snakemake resources/models/smollm2-135m``),
else the tiny random Llama. Outputs go to a temporary folder; nothing under results/ is touched.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.predict_throughput import bench_model
from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.sources import load_synthetic
from breakeven.jsonio import read_yaml, write_json, write_jsonl
from breakeven.runtime import gpu_count

STEPS = ("train-unsloth", "train-peft", "train-peft-qwen3", "vllm-text", "vllm-json")
QWEN3_SPECIAL = {"eos_token": "<|im_end|>", "additional_special_tokens": ["<|im_start|>", "<think>", "</think>"]}


@functools.cache
def project() -> Project:
    return Project(read_yaml(REPO_ROOT / "config" / "config.yaml") | {"models": ["smollm2-135m", "qwen3-8b"]})


def build_random_qwen3(out: Path) -> Path:
    """A random-weight model of the Qwen3 architecture (Qwen3-0.6B's layer shapes, a small BPE vocabulary) with
    Qwen3's own chat template (trl's copy), thinking fixed off as fetch_model does for qwen3-8b."""
    import torch
    import trl
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from breakeven.models.chat_templates import set_template_variables
    from breakeven.models.tiny import corpus, train_tokenizer

    tokenizer = train_tokenizer(corpus(500, 0), 2048)
    tokenizer.add_special_tokens(QWEN3_SPECIAL)
    tokenizer.chat_template = (Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja").read_text()
    tokenizer.save_pretrained(out)
    shapes = {"hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28, "head_dim": 128}
    config = Qwen3Config(vocab_size=len(tokenizer), num_attention_heads=16, num_key_value_heads=8, **shapes)
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).to(torch.bfloat16).save_pretrained(out)
    set_template_variables(out, project().models["qwen3-8b"]["chat_template_kwargs"])
    return out


def train_step(work: Path, model_dir: Path, model: str, backend: str, name: str) -> None:
    from breakeven.train.job import run_training

    cfg = project().models[model]
    template = cfg.get("training_chat_template")
    cell = {
        "lora": project().lora_params(model, "support_email", "lora_200"),
        "max_seq_length": 1024,
        "instructions": True,
        "task": project().adapter_config("support_email"),
        "model": {key: cfg[key] for key in ("name", "source", "response_markers", "chat_template_kwargs")},
        "training": project().config["training"] | {"backend": backend},
    }
    start = time.perf_counter()
    info = run_training(
        cell, model_dir, work / "train.jsonl", work / "val.jsonl", work / "manifest.json", work / "documents.json",
        0, work / name, work / f"{name}-checkpoints", 4,
        template_path=REPO_ROOT / "config" / "chat_templates" / f"{template}.jinja" if template else None,
    )  # fmt: skip
    print(
        f"{name:<17} on {info['device']}: {time.perf_counter() - start:7.1f} s job, {info['train_seconds']:7.1f} s "
        f"training, {info['steps']} steps, train loss {info['train_loss']:.4f}, val loss {info['val_loss']:.4f}, "
        f"{info['gpu_hours']:.4f} GPU-h, backend {info['backend']}"
    )


def vllm_step(work: Path, model_dir: Path, structured: bool, n_test: int) -> None:
    from breakeven.infer.constraints import output_constraint
    from breakeven.infer.vllm_engine import VLLMGenerator
    from breakeven.tasks import build_task

    task_cfg = project().adapter_config("support_email")
    adapter = next(a for a in (work / "train-unsloth", work / "train-peft") if (a / "adapter_config.json").exists())
    rows = load_synthetic({"generator": "support_emails", "n": n_test, "seed": 22})
    prompts = [build_task(task_cfg).messages(row, []) for row in rows]
    engine = VLLMGenerator(model_dir, adapter)
    start = time.perf_counter()
    answers = engine.generate(prompts, 96, 16, output_constraint(task_cfg) if structured else None)
    print(
        f"vllm + {adapter.name} adapter, {'json schema' if structured else 'free text'}, on {engine.device}: "
        f"engine start {engine.engine_start_s:.1f} s, generation {engine.generate_s:.2f} s "
        f"({n_test / engine.generate_s:.1f} examples/s), job {time.perf_counter() - start:.1f} s; "
        f"first answer {answers[0].text[:120]!r}"
    )


def run_step(step: str, work: Path, model_dir: Path, n_test: int) -> None:
    """One measurement (this process runs nothing else)."""
    if step.startswith("train-peft-qwen3"):
        train_step(work, build_random_qwen3(work / "random-qwen3"), "qwen3-8b", "peft", step)
    elif step.startswith("train-"):
        train_step(work, model_dir, "smollm2-135m", step.removeprefix("train-"), step)
    else:
        vllm_step(work, model_dir, step == "vllm-json", n_test)


def prepare(work: Path, train_size: int) -> None:
    rows = load_synthetic({"generator": "support_emails", "n": train_size + 50, "seed": 21})
    write_jsonl(work / "train.jsonl", rows[:train_size])
    write_jsonl(work / "val.jsonl", rows[train_size:])
    write_json(work / "documents.json", {})
    write_json(work / "manifest.json", {})


def main(train_size: int = 200, n_test: int = 64) -> None:
    """Run every step in a fresh interpreter, one after the other; exit non-zero if any failed."""
    if not gpu_count():
        raise SystemExit("bench.gpu_check needs a machine with NVIDIA devices (none under /dev)")
    work, model_dir = Path(tempfile.mkdtemp(prefix="gpu-check-")), bench_model()
    prepare(work, train_size)
    print(f"{gpu_count()} NVIDIA device(s); model {model_dir}; {train_size} train examples; work dir {work}")
    failed = []
    for step in STEPS:
        args = [step, str(work), str(model_dir), str(n_test)]
        done = subprocess.run([sys.executable, "-m", "bench.gpu_check", "--step", *args], check=False)
        if done.returncode != 0:
            failed.append(step)
    print(json.dumps({"failed": failed}))
    if failed:
        raise SystemExit(f"bench.gpu_check: {len(failed)} step(s) failed: {', '.join(failed)}")


if __name__ == "__main__":  # vLLM spawns processes
    if sys.argv[1:2] == ["--step"]:
        run_step(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    else:
        main(*(int(a) for a in sys.argv[1:3]))
