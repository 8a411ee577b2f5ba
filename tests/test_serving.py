"""The serving stage: concurrency levels, the capacity table of a load test on the tiny model (transformers in
process, vLLM's OpenAI server), the latency-target pick the TCO prices self-hosting at, the shared engine's
command line, and the stand-in API behind vLLM answering structured-output requests end to end."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.cost.tables import at_latency_slo, deployments
from breakeven.data.synthetic.support_emails import generate_emails
from breakeven.infer import vllm_engine
from breakeven.infer.hf import HFGenerator
from breakeven.infer.vllm_engine import VLLM_STRUCTURED_OUTPUTS, engine_env, vllm_python
from breakeven.jsonio import read_yaml, write_json, write_jsonl
from breakeven.models.chat_templates import install_chat_template
from breakeven.models.tiny import build_tiny_llama
from breakeven.providers.openai_client import OpenAIClient
from breakeven.providers.server import VLLMServer, standin_server
from breakeven.providers.structured import output_schema
from breakeven.report.fragments import serving_level
from breakeven.serving.batched import batched_levels
from breakeven.serving.capacity import COLUMNS, LoadBudget
from breakeven.serving.engine import BASE_NAME, adapter_name
from breakeven.serving.job import run_capacity


def vllm_missing() -> str | None:
    try:
        vllm_python()
    except RuntimeError as err:
        return str(err)
    return None


needs_vllm = pytest.mark.skipif(vllm_missing() is not None, reason=f"no vLLM: {vllm_missing()}")
KEYS = ["task", "system", "condition", "seed"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("serving") / "tiny"
    build_tiny_llama(folder, seed=0)
    install_chat_template(folder, "chatml")
    return folder


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))


def prepared(folder: Path, n: int) -> dict[str, Path]:
    rows = [{"id": f"e{i}", "input": r["email"], "target": r["label"]} for i, r in enumerate(generate_emails(n + 2, 3))]
    write_jsonl(folder / "test.jsonl", rows[:n])
    write_jsonl(folder / "fewshot.jsonl", rows[n:])
    write_json(folder / "manifest.json", {})
    write_json(folder / "documents.json", {})
    return {name: folder / f"{name}.{ext}" for name, ext in (("test", "jsonl"), ("fewshot", "jsonl"))} | {
        "manifest": folder / "manifest.json",
        "documents": folder / "documents.json",
    }


def test_levels_rise_by_powers_of_two_to_the_cap():
    assert LoadBudget(8, 4, 1.0).levels() == [1, 2, 4, 8]
    assert LoadBudget(6, 4, 1.0).levels() == [1, 2, 4, 6]
    assert LoadBudget(1, 4, 1.0).levels() == [1]
    assert LoadBudget(8, 4, 1.0).requests(8) == 8 and LoadBudget(8, 4, 1.0).requests(2) == 4


def check_capacity_table(table: pd.DataFrame, budget: LoadBudget, max_tokens: int) -> None:
    """What every capacity table must satisfy, whatever the engine's speed."""
    assert list(table["concurrency"]) == budget.levels()
    assert (table["requests"] >= table["concurrency"]).all()
    assert table["queries_per_s"].to_numpy() == pytest.approx((table["requests"] / table["wall_s"]).to_numpy())
    assert (table["ttft_p50_s"] <= table["ttft_p95_s"]).all() and (table["ttft_p95_s"] <= table["latency_p95_s"]).all()
    assert (table["latency_p50_s"] <= table["latency_p95_s"]).all() and (table["latency_p50_s"] > 0).all()
    assert table["output_tokens_mean"].between(1, max_tokens).all() and (table["input_tokens_mean"] > 20).all()
    tokens_per_s = table["output_tokens_mean"] * table["queries_per_s"]
    assert table["output_tokens_per_s"].to_numpy() == pytest.approx(tokens_per_s.to_numpy())


def test_batched_capacity_of_the_tiny_model(tiny):
    """transformers, in process: each level sends whole rounds of `concurrency` requests until its request cap or
    its time cap (after the first round); a request's latency is its round's, and nothing waits in a queue."""
    conversations = [[{"role": "user", "content": f"email number {i}: my router is broken"}] for i in range(5)]
    generator = HFGenerator(tiny)
    by_requests = LoadBudget(max_concurrency=4, requests_per_level=4, seconds_per_level=600)
    table = pd.DataFrame(batched_levels(generator, conversations, 6, by_requests, None))
    check_capacity_table(table, by_requests, 6)
    assert list(table["requests"]) == [4, 4, 4]  # level 1: four rounds of one, level 2: two of two, 4: one of four
    assert (table["queue_s_mean"] == 0).all()
    one_round = table[table["concurrency"] == 4].iloc[0]
    assert one_round["latency_p50_s"] == one_round["latency_p95_s"] == pytest.approx(one_round["wall_s"], rel=0.05)
    by_time = LoadBudget(max_concurrency=4, requests_per_level=100, seconds_per_level=1e-3)
    table = pd.DataFrame(batched_levels(generator, conversations, 6, by_time, None))
    assert list(table["requests"]) == [1, 2, 4]  # one round each: the time cap stops after the first


def test_capacity_job_writes_the_cells_table(tiny, tmp_path, project):
    paths = prepared(tmp_path, 3)
    cell = {
        "task": project.adapter_config("support_email"),
        "shots": 1,
        "instructions": True,
        "max_new_tokens": 5,
        "structured_output": False,
        "inference": {"backend": "transformers", "batch_size": 4, "prefix_cache": True},
        "serving": {"max_concurrency": 2, "requests_per_level": 2, "seconds_per_level": 0.01, "engine_timeout_s": 60},
    }
    keys = {"task": "support_email", "system": "tiny", "condition": "five_shot", "seed": 0}
    out = tmp_path / "serving" / "seed0.csv"
    run_capacity(cell, keys, tiny, None, *paths.values(), out_csv=out)
    table = pd.read_csv(out)
    assert list(table.columns) == [*KEYS, "backend", "requests_per_example", *COLUMNS]
    assert set(table["backend"]) == {"transformers"} and set(table["condition"]) == {"five_shot"}
    assert list(table["concurrency"]) == [1, 2] and (table["requests_per_example"] == 1).all()
    assert (table["input_tokens_mean"] > 100).all()  # the shot is in every prompt


def capacity(rows: list[tuple[int, float, float]], per_example: float = 1.0, condition: str = "lora") -> pd.DataFrame:
    """A constructed capacity table: (concurrency, queries/s, p95 latency) per level."""
    return pd.DataFrame(
        [
            {
                "task": "t",
                "system": "m",
                "condition": condition,
                "seed": 0,
                "requests_per_example": per_example,
                "concurrency": c,
                "queries_per_s": qps,
                "latency_p50_s": p95 / 2,
                "latency_p95_s": p95,
            }
            for c, qps, p95 in rows
        ]
    )


LEVELS = [(1, 1.0, 0.5), (2, 1.8, 0.8), (4, 3.0, 1.5), (8, 4.0, 3.0)]
COST = {
    "hardware_profile": "gpu",
    "api_reference": "api",
    "api_condition": "five_shot",
    "api_batch": False,
    "utilisation": 0.5,
    "min_replicas": 0,
    "months": 12,
    "latency_slo_s": None,
    "latency_slo_fallback_s": 5.0,
    "error_usd": 0.0,
}


def cells(api_p95: dict[str, float] | None = None) -> pd.DataFrame:
    """One LoRA cell (eval batch: 0.1 s/query) and API reference cells with the given p95 per condition."""
    base = {"task": "t", "seed": 0, "primary_metric": "acc", "value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    rows = [
        {
            **base,
            "system": "m",
            "condition": "lora",
            "kind": "lora",
            "seconds_per_query": 0.1,
            "train_device_hours": 1.0,
            "latency_p95_s": 9.0,
            "api_pricing": None,
        }
    ]
    for condition, p95 in (api_p95 or {}).items():
        rows.append(
            {
                **base,
                "system": "gpt",
                "condition": condition,
                "kind": "api",
                "seconds_per_query": 0.2,
                "train_device_hours": 0.0,
                "latency_p95_s": p95,
                "api_pricing": "api",
            }
        )
    return pd.DataFrame(rows)


def picked(frame: pd.DataFrame) -> dict:
    return frame[frame["kind"] != "api"].iloc[0].to_dict()


@pytest.mark.parametrize(
    ("slo", "api_p95", "level", "source"),
    [
        (2.0, {"five_shot": 1.0}, 4, "config"),  # a configured target wins over the API's latency
        (None, {"zero_shot": 3.5, "five_shot": 1.0}, 2, "gpt measured p95"),  # the API's api_condition cell
        (None, {"zero_shot": 3.5}, 8, "gpt measured p95"),  # another condition where that is all there is
        (None, {}, 8, "fallback: no measured API reference"),
    ],
)
def test_the_highest_level_meeting_the_latency_target_prices_the_cell(slo, api_p95, level, source):
    frame = at_latency_slo(cells(api_p95), capacity(LEVELS), COST | {"latency_slo_s": slo})
    row = picked(frame)
    qps = dict((c, q) for c, q, _ in LEVELS)[level]
    assert row["serving_concurrency"] == level and row["meets_slo"] is True
    assert row["seconds_per_query"] == pytest.approx(1 / qps) and row["eval_seconds_per_query"] == 0.1
    assert row["latency_slo_source"] == source
    assert row["serving_latency_p95_s"] == dict((c, p) for c, _, p in LEVELS)[level]
    assert row["at_load_test_cap"] is (level == max(c for c, _, _ in LEVELS))
    assert ("capacity at the target may be higher" in serving_level(row)) is row["at_load_test_cap"]


def test_no_level_meeting_the_target_prices_the_lowest_and_says_so():
    row = picked(at_latency_slo(cells(), capacity(LEVELS, per_example=3.0), COST | {"latency_slo_s": 0.1}))
    assert row["serving_concurrency"] == 1 and row["meets_slo"] is False and row["at_load_test_cap"] is False
    assert row["seconds_per_query"] == pytest.approx(3.0)  # three requests per example at 1 request/s


def test_a_cell_without_a_capacity_table_keeps_the_eval_batch():
    row = picked(at_latency_slo(cells(), capacity(LEVELS, condition="other"), COST))
    assert row["seconds_per_query"] == 0.1 and pd.isna(row["serving_concurrency"])


def test_tco_prices_self_hosting_at_the_serving_capacity():
    pricing = {
        "api": {"api": {"provider": "x", "input_per_1m": 1.0, "output_per_1m": 4.0}},
        "hardware": {"gpu": {"hourly_usd": 3.6}},
        "engineering": {"hourly_usd": 100.0, "hours": {"prompt": 4, "lora": 24}},
    }
    frame = at_latency_slo(cells({"five_shot": 1.6}), capacity(LEVELS), COST)
    frame = frame.assign(input_tokens_mean=100.0, output_tokens_mean=10.0, api_batch=False, standin=False)
    frame["cached_tokens_mean"] = 0.0
    table = deployments(frame, pricing, COST).set_index("kind")
    # c = 4 (p95 1.5 s <= 1.6 s): 1/3 s per query at $3.6/h and 50% utilisation
    assert table.loc["lora", "per_query"] == pytest.approx(3.6 * (1 / 3) / 3600 / 0.5)
    assert table.loc["lora", "serving_concurrency"] == 4 and table.loc["lora", "latency_slo_s"] == 1.6
    assert table.loc["lora", "eval_seconds_per_query"] == 0.1
    assert pd.isna(table.loc["api", "serving_concurrency"])


def test_shared_engine_command_serves_every_adapter(tiny, tmp_path):
    adapters = {}
    for rank, condition in ((4, "lora_50"), (16, "lora_200")):
        folder = tmp_path / condition
        write_json(folder / "adapter_config.json", {"r": rank})
        adapters[adapter_name("support_email", condition, 0)] = folder
    command = VLLMServer(tiny, BASE_NAME, adapters, max_num_seqs=8, max_loras=4).command("python", 8000)
    assert command[:3] == ["python", "-m", "vllm.entrypoints.openai.api_server"]
    assert command[command.index("--max-lora-rank") + 1] == "16"  # the largest adapter's rank
    assert command[command.index("--max-loras") + 1] == "2" and command[command.index("--max-cpu-loras") + 1] == "2"
    start = command.index("--lora-modules") + 1
    assert command[start:] == [f"{name}={path}" for name, path in adapters.items()]
    assert "--enable-lora" in command and "--enforce-eager" in command  # no GPU here
    assert "--enable-lora" not in VLLMServer(tiny, BASE_NAME).command("python", 8000)
    # structured output without optional whitespace, as the stand-in API and the other backends constrain it
    assert json.loads(command[command.index("--structured-outputs-config") + 1]) == VLLM_STRUCTURED_OUTPUTS
    # the shared engine's answers report their prefix-cache hits; the stand-in API's are billed without them
    assert "--enable-prompt-tokens-details" in VLLMServer(tiny, BASE_NAME, cached_tokens_in_usage=True).command("p", 1)
    assert "--enable-prompt-tokens-details" not in VLLMServer(tiny, BASE_NAME).command("python", 8000)


def ask(system: dict, base_url: str, model: str, messages: list[dict], schema: dict):
    """One request through the OpenAI client the API cells use."""
    client = OpenAIClient(system, "no-key", base_url)

    async def send():
        try:
            return await client.send(client.body(model, messages, 256, schema))
        finally:
            await client.aclose()

    return asyncio.run(send())


def test_cpu_engine_is_bound_to_the_jobs_cores(monkeypatch):
    """A CPU engine started from a 2-thread job is bound to the job's 2 cores (not vLLM's ``auto``, which keeps
    one for its scheduler) and does not inherit the job's thread counts; a binding or KV-cache size the user set
    stays; a GPU engine gets the environment unchanged."""
    job = {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "HF_HOME": "/cache"}
    monkeypatch.setattr(vllm_engine, "gpu_count", lambda: 0)
    monkeypatch.setattr(vllm_engine.os, "sched_getaffinity", lambda pid: {3, 1, 2, 0})
    assert engine_env(job) == {"HF_HOME": "/cache", "VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_CPU_OMP_THREADS_BIND": "0,1"}
    assert engine_env({})["VLLM_CPU_OMP_THREADS_BIND"] == "0,1,2,3"
    chosen = {"VLLM_CPU_OMP_THREADS_BIND": "2-3", "VLLM_CPU_KVCACHE_SPACE": "8"}
    assert engine_env(job | chosen) == {"HF_HOME": "/cache"} | chosen
    monkeypatch.setattr(vllm_engine, "gpu_count", lambda: 1)
    assert engine_env(job) == job


def server_environ(port: str) -> dict[str, str]:
    """The environment of the vLLM API server listening on ``port`` (from /proc)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"vllm.entrypoints.openai.api_server" in argv and port.encode() in argv:
                pairs = (proc / "environ").read_bytes().split(b"\0")
                return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    raise AssertionError(f"no vLLM server on port {port}")


@needs_vllm
@pytest.mark.slow
def test_standin_behind_vllm_answers_structured_output_requests(tiny, tmp_path, project, monkeypatch):
    """The embedded default's stand-in API served by vLLM's OpenAI server: Chat Completions and the Responses
    API, each request carrying a JSON schema as structured output; every answer validates against it. Started
    from a 2-thread job, the server does not inherit its OMP_NUM_THREADS and is bound to its 2 cores."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    system = project.api_models["standin-api"]
    assert system["standin"] == {"model": "smollm2-135m", "server": "vllm"}
    labels = project.adapter_config("support_email")["fields"]["issue_category"]["enum"]
    schema = output_schema({"kind": "classification", "labels": labels})
    messages = [{"role": "user", "content": "Which category? My invoice from Acme is wrong."}]
    with standin_server(system, tiny, tmp_path / "server.log") as base_url:
        environ = server_environ(base_url.rsplit(":", 1)[1].split("/")[0])
        assert "OMP_NUM_THREADS" not in environ
        assert environ["VLLM_CPU_OMP_THREADS_BIND"] == ",".join(map(str, sorted(os.sched_getaffinity(0))[:2]))
        for api in ("chat_completions", "responses"):
            reply = ask(system | {"api": api}, base_url, str(tiny), messages, schema)
            assert json.loads(reply.text)["answer"] in labels
            jsonschema.validate(json.loads(reply.text), schema)
            assert reply.output_tokens > 0 and reply.input_tokens > 10 and reply.model_version == str(tiny)
