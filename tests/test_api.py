"""API systems end to end through the real SDKs against loopback servers: the stand-in (`transformers serve`
with the tiny random Llama), a fault-injecting proxy, a Gemini generateContent shim and a Batch API shim."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback import FAULTS, FaultProxy, ThreadedServer, batch_app, gemini_app

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.synthetic.support_emails import generate_emails
from breakeven.jsonio import read_json, read_jsonl, write_json, write_jsonl
from breakeven.models.chat_templates import install_chat_template
from breakeven.models.tiny import build_tiny_llama
from breakeven.providers import MissingKeyError
from breakeven.providers.batch import run_batch
from breakeven.providers.cache import ResponseCache, request_key
from breakeven.providers.cell import answer, api_key, run_api_predictions
from breakeven.providers.gemini_client import GeminiClient
from breakeven.providers.limits import Limiter
from breakeven.providers.openai_client import OpenAIClient
from breakeven.providers.server import transformers_server
from breakeven.providers.structured import output_schema, unwrap

PLANTED = "sk-planted-secret-0123456789abcdef"
MAX_TOKENS = 8


def system(**overrides) -> dict:
    """An API system config as the schema fills it in."""
    base = {
        "name": "loopback",
        "provider": "openai",
        "model": "m",
        "api": "chat_completions",
        "base_url": None,
        "key_env": "BREAKEVEN_TEST_KEY",
        "supports_temperature": True,
        "max_output_tokens": None,
        "request_options": {},
        "pricing": "gpt-5.4-mini",
        "concurrency": 4,
        "rpm": None,
        "tpm": None,
        "max_attempts": 8,
        "retry_budget_s": 60,
        "circuit_breaker_after": 5,
        "timeout_s": 30,
        "max_error_rate": 0.0,
        "truncation_warn_rate": 0.02,
        "model_versions": None,
        "batch": False,
        "standin": None,
    }
    return base | overrides


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> tuple[str, str]:
    """(base URL, model id) of `transformers serve` serving the tiny random Llama on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("standin") / "tiny"
    build_tiny_llama(folder)
    install_chat_template(folder, "chatml")
    with transformers_server(folder, folder.parent / "server.log", timeout_s=300) as base_url:
        yield base_url, str(folder)


def conversations(n: int) -> list[list[dict]]:
    return [[{"role": "system", "content": "Answer."}, {"role": "user", "content": f"question {i}"}] for i in range(n)]


def requests_for(client, model: str, n: int) -> dict[str, dict]:
    requests = {}
    for messages in conversations(n):
        request = {
            "provider": client.provider,
            "endpoint": client.endpoint,
            "body": client.body(model, messages, MAX_TOKENS, None),
        }
        requests[request_key(request)] = request
    return requests


def run(client, requests, cache_dir: Path, limiter: Limiter | None = None) -> dict:
    async def go():
        try:
            return await answer(client, requests, ResponseCache(cache_dir), limiter or Limiter(4), None)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_openai_sdk_against_the_standin(standin, tmp_path, api):
    base_url, model = standin
    client = OpenAIClient(system(api=api), "unused", base_url)
    requests = requests_for(client, model, 3)
    outcomes = run(client, requests, tmp_path)
    for outcome in outcomes.values():
        assert outcome["error"] is None and not outcome["cache_hit"]
        assert outcome["input_tokens"] > 5 and 0 < outcome["output_tokens"] <= MAX_TOKENS
        assert outcome["model_version"].startswith(model)  # echoed by the server
        assert outcome["latency_s"] > 0
    sent = next(iter(requests.values()))["body"]
    assert sent["temperature"] == 0 and ("messages" in sent) == (api == "chat_completions")
    again = run(OpenAIClient(system(api=api), "unused", base_url), requests, tmp_path)
    assert all(o["cache_hit"] for o in again.values())
    assert {k: o["text"] for k, o in again.items()} == {k: o["text"] for k, o in outcomes.items()}


def test_temperature_is_omitted_where_the_model_rejects_it():
    client = OpenAIClient(system(supports_temperature=False, request_options={"reasoning_effort": "low"}), "k", None)
    body = client.body("gpt-x", conversations(1)[0], 16, None)
    assert "temperature" not in body and body["reasoning_effort"] == "low"


def test_structured_output_schemas():
    labels = {"kind": "classification", "labels": ["a", "b"]}
    schema = output_schema(labels)
    assert schema["properties"]["answer"]["enum"] == ["a", "b"]
    assert unwrap('{"answer": "b"}', schema) == "b"
    extraction = Project(
        {
            "run": "t",
            "tasks": ["support_email"],
            "models": ["smollm2-135m"],
            "conditions": {"z": {"kind": "prompt"}},
            "cost": {"api_condition": "z"},
        }
    ).adapter_config("support_email")
    schema = output_schema(extraction)
    assert set(schema["required"]) == set(extraction["fields"])
    assert schema["properties"]["sentiment"]["enum"] == ["positive", "neutral", "negative"]
    client = OpenAIClient(system(api="responses"), "k", None)
    assert client.body("m", [], 8, schema)["text"]["format"]["schema"] == schema


def test_thirty_percent_faults_every_item_answered_none_paid_twice(standin, tmp_path, monkeypatch):
    base_url, model = standin
    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    # the timeout sits well above the stand-in's answer time on a loaded machine (an unfaulted request that
    # timed out would be retried and paid twice) and below the stall of a "slow" fault
    with FaultProxy(base_url.removesuffix("/v1"), rate=0.3, seed=1, slow_s=8.0) as proxy:
        sys_cfg = system(base_url=proxy.url + "/v1", timeout_s=5.0)
        client = OpenAIClient(sys_cfg, api_key(sys_cfg), sys_cfg["base_url"])
        requests = requests_for(client, model, 24)
        limiter = Limiter(4, max_attempts=10, backoff_base_s=0.05, backoff_max_s=1.0)
        outcomes = run(client, requests, tmp_path / "cache", limiter)
        assert all(o["error"] is None for o in outcomes.values())
        assert set(proxy.faults) == set(FAULTS), proxy.faults  # every fault kind was exercised
        assert sum(proxy.faults.values()) >= 0.2 * proxy.requests
        assert limiter.counters.retries == sum(proxy.faults.values())
        assert len(proxy.forwarded) == 24 and set(proxy.forwarded.values()) == {1}  # nothing paid twice
        assert proxy.authorizations == {f"Bearer {PLANTED}"}  # the key was sent ...
        before = proxy.requests
        client = OpenAIClient(sys_cfg, api_key(sys_cfg), sys_cfg["base_url"])
        rerun = run(client, requests, tmp_path / "cache")
        assert proxy.requests == before and all(o["cache_hit"] for o in rerun.values())
    for path in (tmp_path / "cache").rglob("*"):  # ... and never stored
        assert not path.is_file() or PLANTED not in path.read_text()


def test_failures_after_retries_are_recorded_and_bound_the_cell(standin, tmp_path):
    base_url, model = standin
    with FaultProxy(base_url.removesuffix("/v1"), rate=1.0, seed=0, slow_s=0.1) as proxy:
        client = OpenAIClient(system(timeout_s=1.0), "k", proxy.url + "/v1")
        outcomes = run(
            client,
            requests_for(client, model, 2),
            tmp_path,
            Limiter(2, max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.05, retry_budget_s=1.0),
        )
    # nothing is ever answered (an outage): the time budget, not the count, ends the retries
    assert all(o["error"] and o["attempts"] >= 2 for o in outcomes.values())
    assert not list(tmp_path.rglob("*.json"))  # failures are not cached: the next run asks again


KILL_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from test_api import OpenAIClient, system, requests_for, run, Limiter
client = OpenAIClient(system(timeout_s=30), "k", {url!r})
run(client, requests_for(client, {model!r}, 12), __import__("pathlib").Path({cache!r}), Limiter(1))
"""


def test_a_killed_run_resumes_from_the_cache(standin, tmp_path):
    base_url, model = standin
    cache = tmp_path / "cache"
    with FaultProxy(base_url.removesuffix("/v1"), latency_s=0.3) as proxy:
        script = KILL_SCRIPT.format(
            tests=str(Path(__file__).parent), url=proxy.url + "/v1", model=model, cache=str(cache)
        )
        process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT)
        deadline = time.monotonic() + 120
        while len(list(cache.rglob("*.json"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kept = len(list(cache.rglob("*.json")))
        assert 4 <= kept < 12 and not list(cache.rglob(".*"))  # complete entries only, no temp files left
        time.sleep(1.0)  # the request in flight at the kill still reaches upstream: paid, its answer lost
        first = sum(proxy.forwarded.values())
        client = OpenAIClient(system(), "k", proxy.url + "/v1")
        outcomes = run(client, requests_for(client, model, 12), cache)
        assert sum(o["cache_hit"] for o in outcomes.values()) == kept
        assert sum(proxy.forwarded.values()) - first == 12 - kept
        assert sum(count - 1 for count in proxy.forwarded.values()) <= 1  # only the one in flight at the kill
        assert all(o["error"] is None for o in outcomes.values())


def test_gemini_sdk_against_a_generate_content_endpoint(standin, tmp_path, monkeypatch):
    base_url, model = standin
    monkeypatch.setenv("BREAKEVEN_GEMINI_KEY", PLANTED)
    app = gemini_app(base_url.removesuffix("/v1"), model)
    with ThreadedServer(app) as server:
        sys_cfg = system(provider="gemini", key_env="BREAKEVEN_GEMINI_KEY", model="gemini-flash-test")
        client = GeminiClient(sys_cfg, api_key(sys_cfg), server.url)
        requests = requests_for(client, "gemini-flash-test", 3)
        outcomes = run(client, requests, tmp_path)
    assert app.state.calls["calls"] == 3 and app.state.calls["keys"] == {PLANTED}
    for outcome in outcomes.values():
        assert outcome["error"] is None and outcome["model_version"] == "gemini-flash-test-loopback-001"
        assert outcome["input_tokens"] > 5 and 0 < outcome["output_tokens"] <= MAX_TOKENS
    body = next(iter(requests.values()))["body"]
    assert body["config"]["system_instruction"] == "Answer." and body["contents"][0]["role"] == "user"
    assert all(PLANTED not in p.read_text() for p in tmp_path.rglob("*.json"))


BATCH_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from test_api import OpenAIClient, system, requests_for, run_batch
client = OpenAIClient(system(), "k", {url!r})
bodies = {{k: r["body"] for k, r in requests_for(client, "gpt-test", 4).items()}}
asyncio.run(run_batch(client, bodies, __import__("pathlib").Path({state!r}), poll_s=0.1))
"""


def test_batch_mode_never_submits_twice_after_a_crash(standin, tmp_path):
    base_url, model = standin
    app = batch_app(base_url.removesuffix("/v1"), model)
    with ThreadedServer(app) as server:
        script = BATCH_SCRIPT.format(tests=str(Path(__file__).parent), url=server.url + "/v1", state=str(tmp_path))
        for forget_state in (False, True):  # crash while polling; then a crash before the state was recorded
            process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT)
            deadline = time.monotonic() + 60
            while app.state.creates == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            if forget_state:
                for state in tmp_path.glob("*.json"):
                    state.unlink()
        assert app.state.creates == 1
        app.state.release.set()
        client = OpenAIClient(system(), "k", server.url + "/v1")
        bodies = {k: r["body"] for k, r in requests_for(client, "gpt-test", 4).items()}

        async def go():
            try:
                return await run_batch(client, bodies, tmp_path, poll_s=0.1)
            finally:
                await client.aclose()

        results = asyncio.run(go())
    assert app.state.creates == 1 and len(app.state.batches) == 1
    assert set(results) == set(bodies)
    for reply in results.values():
        assert reply.model_version == "gpt-test" and reply.input_tokens > 5 and reply.output_tokens > 0
    state = read_json(next(tmp_path.glob("*.json")))
    assert state["status"] == "completed" and state["batch_id"] == "batch-0"


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("BREAKEVEN_UNSET_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="BREAKEVEN_UNSET_KEY"):
        api_key(system(key_env="BREAKEVEN_UNSET_KEY"))


def prepared(folder: Path, n: int) -> dict[str, Path]:
    rows = [{"id": f"e{i}", "input": r["email"], "target": r["label"]} for i, r in enumerate(generate_emails(n + 2, 3))]
    paths = {name: folder / f"{name}.jsonl" for name in ("test", "fewshot")}
    write_jsonl(paths["test"], rows[:n])
    write_jsonl(paths["fewshot"], rows[n:])
    write_json(folder / "manifest.json", {})
    write_json(folder / "documents.json", {})
    return paths | {"manifest": folder / "manifest.json", "documents": folder / "documents.json"}


def test_cell_rows_costs_and_secrets(standin, tmp_path, monkeypatch):
    base_url, model = standin
    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    project = Project(
        {
            "run": "t",
            "tasks": ["support_email"],
            "models": ["smollm2-135m"],
            "conditions": {"z": {"kind": "prompt"}},
            "cost": {"api_condition": "z"},
        }
    )
    paths = prepared(tmp_path, 4)
    price = project.pricing["api"]["gpt-5.4-mini"]
    cell = {
        "task": project.adapter_config("support_email"),
        "structured_output": False,
        "max_new_tokens": MAX_TOKENS,
        "shots": 2,
        "system": system(base_url=base_url, model=model),
        "price": price,
    }
    out = tmp_path / "out"

    def answer() -> dict:
        return run_api_predictions(
            cell,
            None,
            paths["test"],
            paths["fewshot"],
            paths["manifest"],
            paths["documents"],
            out / "p.jsonl",
            out / "p.run.json",
            tmp_path / "cache",
        )

    record = answer()
    rows = read_jsonl(out / "p.jsonl")
    assert [r["id"] for r in rows] == ["e0", "e1", "e2", "e3"] and record["failed"] == 0
    for row in rows:
        expected = (row["input_tokens"] * price["input_per_1m"] + row["output_tokens"] * price["output_per_1m"]) / 1e6
        assert row["cost_usd"] == pytest.approx(expected) and row["cost_usd"] > 0
        assert row["model_version"].startswith(model) and row["cached_tokens"] == 0
    assert record["spent_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows))
    again = answer()
    assert again["cache_hits"] == 4 and again["attempts"] == 0 and again["spent_usd"] == 0
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or PLANTED not in path.read_text(errors="replace")
    request = json.loads(next((tmp_path / "cache").rglob("*.json")).read_text())["request"]
    assert request["body"]["messages"][-1]["role"] == "user" and len(request["body"]["messages"]) == 6
