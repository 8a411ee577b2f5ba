"""The API client against hostile servers, through the real SDKs on loopback: keys echoed back, 200s the SDK
cannot read, rate limits, outages, kills mid-cell, batch resumes, answers cut at the output budget, and answers
from another model than the configured one. Each test prints its figures (requests, paid requests per answer,
errors) with ``-s``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
from loopback import UNREADABLE_FAULTS, FaultProxy, ThreadedServer, batch_app, canned_app
from test_api import PLANTED, conversations, prepared, requests_for, run, system

from breakeven import REPO_ROOT
from breakeven.config import ConfigError, Project, deep_merge
from breakeven.jsonio import read_json, read_jsonl, write_jsonl
from breakeven.providers import limits, options
from breakeven.providers.batch import run_batch
from breakeven.providers.cell import run_api_predictions, version_matches
from breakeven.providers.gemini_client import GeminiClient
from breakeven.providers.limits import Limiter
from breakeven.providers.openai_client import OpenAIClient
from breakeven.providers.redact import MASK, RedactedError, Redactor
from breakeven.score.cell import score_cell
from breakeven.tasks import build_task

OTHER = "hf-planted-other-token-9876543210"
"""A configured secret (secret-named variable) that no request sends, planted in a prompt and echoed back."""
SHAPES = [("openai", "chat_completions"), ("openai", "responses"), ("gemini", "chat_completions")]
SHAPE_IDS = ["chat_completions", "responses", "gemini"]
PROJECT = Project(
    {
        "run": "t",
        "tasks": ["support_email"],
        "models": ["smollm2-135m"],
        "conditions": {"z": {"kind": "prompt"}},
        "cost": {"api_condition": "z"},
    }
)


def figures(name: str, **values) -> None:
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in values.items()))


def shape_system(provider: str, api: str, url: str, **overrides) -> tuple[dict, str]:
    """(system config, base URL) of one request shape against a loopback server at ``url``."""
    model = "gemini-test" if provider == "gemini" else "gpt-test"
    sys_cfg = system(provider=provider, api=api, model=model, **overrides)
    return sys_cfg, url if provider == "gemini" else url + "/v1"


def make_client(provider: str, api: str, url: str, key: str = "k", **overrides):
    sys_cfg, base_url = shape_system(provider, api, url, **overrides)
    return (GeminiClient if provider == "gemini" else OpenAIClient)(sys_cfg, key, base_url)


def examples(folder: Path, inputs: list[str]) -> dict[str, Path]:
    """Prepared support-email files whose test inputs are ``inputs`` (markers steer the canned server)."""
    paths = prepared(folder, len(inputs))
    rows = read_jsonl(paths["test"])
    write_jsonl(paths["test"], [row | {"input": text} for row, text in zip(rows, inputs)])
    return paths


def run_cell(folder: Path, paths: dict[str, Path], sys_cfg: dict, shots: int = 0) -> dict:
    cell = {
        "task": PROJECT.adapter_config("support_email"),
        "structured_output": False,
        "max_new_tokens": 16,
        "shots": shots,
        "system": sys_cfg,
        "price": PROJECT.pricing["api"]["gpt-5.4-mini"],
    }
    out = folder / "out"
    return run_api_predictions(
        cell,
        None,
        paths["test"],
        paths["fewshot"],
        paths["manifest"],
        paths["documents"],
        out / "p.jsonl",
        out / "p.run.json",
        folder / "cache",
    )


# -- nothing leaked --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "api"), SHAPES, ids=SHAPE_IDS)
def test_redact_echoed_keys_from_rows_logs_cache_and_errors(tmp_path, monkeypatch, caplog, provider, api):
    """A server that echoes the key (401 and 400 bodies, and a 200 answer) and a configured secret from the
    prompt: neither reaches the prediction rows, the run record, the cache, the log or the raised error."""
    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    monkeypatch.setenv("BREAKEVEN_OTHER_TOKEN", OTHER)
    caplog.set_level("INFO")
    paths = examples(tmp_path, ["[401] hello", "[400] hello", f"[echo] my token is {OTHER}", "plain"])
    app = canned_app()
    with ThreadedServer(app) as server:
        sys_cfg, base_url = shape_system(provider, api, server.url, key_env="BREAKEVEN_TEST_KEY")
        with pytest.raises(RuntimeError) as raised:  # 2 of 4 failed, above max_error_rate 0
            run_cell(tmp_path, paths, sys_cfg | {"base_url": base_url})
        raised_text = "".join(traceback.format_exception(raised.value))
        record = run_cell(tmp_path, paths, sys_cfg | {"base_url": base_url, "max_error_rate": 1.0})
    rows = {row["id"]: row for row in read_jsonl(tmp_path / "out" / "p.jsonl")}
    assert record["failed"] == 2 and "HTTP 401" in rows["e0"]["error"] and "HTTP 400" in rows["e1"]["error"]
    assert MASK in rows["e0"]["error"] and MASK in rows["e2"]["output"] and MASK in raised_text
    stored = [p for p in (tmp_path / "out").rglob("*") if p.is_file()] + list((tmp_path / "cache").rglob("*.json"))
    assert len(stored) >= 4
    for text in [raised_text, caplog.text, *(r.getMessage() for r in caplog.records), *map(Path.read_text, stored)]:
        assert PLANTED not in text and OTHER not in text
    assert "sk-planted" not in caplog.text and "example e0 failed" in caplog.text
    masked = sum(text.count(MASK) for text in [raised_text, caplog.text, *map(Path.read_text, stored)])
    figures(
        f"redact/{SHAPE_IDS[SHAPES.index((provider, api))]}",
        requests=app.state.canned.calls,
        paid_per_answer=max(app.state.canned.paid.values()),
        errors=record["failed"],
        masked=masked,
        leaked=0,
    )


def test_redact_masks_an_error_that_escapes_with_its_chain():
    """An exception whose message or cause holds a key leaves as a RedactedError printing neither."""
    redactor = Redactor([PLANTED])
    with pytest.raises(RedactedError) as raised, redactor.masking_errors():
        try:
            raise KeyError(f"Authorization: Bearer {PLANTED}")
        except KeyError as err:
            raise ValueError("upload refused") from err
    printed = "".join(traceback.format_exception(raised.value))
    assert PLANTED not in printed and "upload refused" in printed
    with pytest.raises(ValueError, match="no secret here"), redactor.masking_errors():
        raise ValueError("no secret here")  # nothing to mask: the original error, type and traceback kept
    assert redactor.text("x-goog-api-key: AIzaSyUnknownKey123 and ?key=AIzaOther456") == (
        f"x-goog-api-key: {MASK} and ?key={MASK}"
    )


# -- nothing lost: unreadable 200s, unexpected exceptions ----------------------------------------------------


@pytest.mark.parametrize(("provider", "api"), SHAPES, ids=SHAPE_IDS)
def test_unreadable_200s_are_retried_and_every_answer_paid_once(tmp_path, provider, api):
    """30 % of answers are a proxy's HTML page or JSON of the wrong shape, with status 200: all retried."""
    app = canned_app()
    with ThreadedServer(app) as server, FaultProxy(server.url, rate=0.3, seed=3, kinds=UNREADABLE_FAULTS) as proxy:
        client = make_client(provider, api, proxy.url)
        requests = requests_for(client, client.system["model"], 24)
        limiter = Limiter(4, max_attempts=10, backoff_base_s=0.02, backoff_max_s=0.2)
        outcomes = run(client, requests, tmp_path, limiter)
    errors = sum(o["error"] is not None for o in outcomes.values())
    paid = list(app.state.canned.paid.values())
    figures(
        f"unreadable/{api if provider == 'openai' else 'gemini'}",
        requests=proxy.requests,
        faults=dict(proxy.faults),
        answers=len(outcomes),
        paid_per_answer=max(paid),
        errors=errors,
    )
    assert errors == 0 and set(proxy.faults) == set(UNREADABLE_FAULTS)
    assert limiter.counters.retries == sum(proxy.faults.values())
    assert len(paid) == 24 and set(paid) == {1} and set(proxy.forwarded.values()) == {1}


def test_unreadable_unexpected_exception_is_that_requests_error_not_the_cells(tmp_path):
    """A bug while reading one answer is that request's recorded error; the others are answered and cached."""
    with ThreadedServer(canned_app()) as server:
        client = OpenAIClient(system(), "k", server.url + "/v1")
        requests = requests_for(client, "gpt-test", 6)
        doomed = next(iter(requests))
        send = client.send

        async def buggy(body: dict):
            reply = await send(body)
            if body == requests[doomed]["body"]:
                raise KeyError("choices")  # stands for any surprise in our own reading code
            return reply

        client.send = buggy
        outcomes = run(client, requests, tmp_path)
        again = run(OpenAIClient(system(), "k", server.url + "/v1"), requests, tmp_path)
    assert outcomes[doomed]["error"].startswith("KeyError") and outcomes[doomed]["attempts"] == 1
    assert all(o["error"] is None for k, o in outcomes.items() if k != doomed)
    assert sum(o["cache_hit"] for o in again.values()) == 5 and not again[doomed]["cache_hit"]


# -- the tokens-per-minute limit ------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "api"), SHAPES, ids=SHAPE_IDS)
def test_tpm_counts_the_prompt_and_the_output_budget_of_every_request_shape(tmp_path, provider, api):
    """A five-shot support email at gpt-5.4-mini's 2048-token budget is charged prompt + budget (not a flat
    256), and a tokens-per-minute limit below what 32 such requests need makes them wait."""
    task = build_task(PROJECT.adapter_config("support_email"), REPO_ROOT)
    paths = prepared(tmp_path, 32)
    shots = read_jsonl(paths["fewshot"])[:2] * 3  # five shots (and one more) from the pool
    messages = [task.requests(row, shots[:5])[0] for row in read_jsonl(paths["test"])]
    app = canned_app()
    with ThreadedServer(app) as server:
        client = make_client(provider, api, server.url)
        bodies = [client.body(client.system["model"], m, 2048, None) for m in messages]
        estimates = [client.token_estimate(body) for body in bodies]
        prompt_chars = [sum(len(turn["content"]) for turn in m) for m in messages]
        for estimate, chars in zip(estimates, prompt_chars):
            assert 2048 + chars / 4 <= estimate <= 2048 + chars / 4 * 1.1 + 32
        tpm = int(30.5 * sum(estimates) / len(estimates))  # room for 30 at once; the last two wait ~3 s in all
        requests = {
            f"r{i}": {"provider": client.provider, "endpoint": client.endpoint, "body": b} for i, b in enumerate(bodies)
        }

        def timed(limiter: Limiter, cache: str) -> tuple[float, dict]:
            start = time.perf_counter()
            outcomes = run(make_client(provider, api, server.url), requests, tmp_path / cache, limiter)
            return time.perf_counter() - start, outcomes

        free_s, _ = timed(Limiter(8), "free")  # side by side: the same requests without the limit
        limiter = Limiter(8, tpm=tpm)
        limited_s, outcomes = timed(limiter, "limited")
    figures(
        f"tpm/{SHAPE_IDS[SHAPES.index((provider, api))]}",
        estimate=estimates[0],
        times_the_old_flat_256=round(estimates[0] / 256, 1),
        requests=app.state.canned.calls,
        unlimited_s=round(free_s, 2),
        limited_s=round(limited_s, 2),
        errors=sum(o["error"] is not None for o in outcomes.values()),
    )
    assert limiter.counters.tokens == sum(estimates) and estimates[0] / 256 > 8
    throttled_s = (sum(estimates) - tpm) / (tpm / 60)  # what the limit must hold back: ~2.95 s
    assert limited_s >= 0.9 * throttled_s and all(o["error"] is None for o in outcomes.values())


# -- outages --------------------------------------------------------------------------------------------------


def test_outage_longer_than_the_retry_count_pauses_the_cell_and_loses_nothing(tmp_path, monkeypatch, caplog):
    """The provider refuses everything (429, Retry-After 1) for 6 s; 3 attempts per request would fail every
    example. The breaker pauses the cell with a countdown; every request is answered once it ends."""
    monkeypatch.setattr(limits, "COUNTDOWN_EVERY_S", 1.0)
    caplog.set_level("INFO")
    app = canned_app()
    app.state.canned.outage_s = 6.0
    with ThreadedServer(app) as server:
        client = OpenAIClient(system(), "k", server.url + "/v1")
        requests = requests_for(client, "gpt-test", 8)
        limiter = Limiter(4, max_attempts=3, backoff_base_s=0.2, backoff_max_s=2.0, retry_budget_s=60)
        start = time.perf_counter()
        outcomes = run(client, requests, tmp_path, limiter)
        elapsed = time.perf_counter() - start
    state = app.state.canned
    figures(
        "outage/6s",
        requests=state.calls,
        refused=state.refused,
        paid_per_answer=max(state.paid.values()),
        errors=sum(o["error"] is not None for o in outcomes.values()),
        pauses=limiter.counters.pauses,
        paused_s=round(limiter.counters.paused_s, 1),
        wall_s=round(elapsed, 1),
    )
    assert all(o["error"] is None for o in outcomes.values())
    assert len(state.paid) == 8 and set(state.paid.values()) == {1} and elapsed >= 6
    assert limiter.counters.pauses >= 1 and limiter.counters.paused_s >= 4
    assert state.refused <= 20  # retrying every request through the outage would take ~48
    assert "pausing every request of the cell" in caplog.text and "asking again in" in caplog.text
    assert "the provider answers again" in caplog.text


def test_outage_past_the_retry_time_budget_is_recorded_in_bounded_time(tmp_path):
    """An outage longer than retry_budget_s (3 s): every example is recorded as failed after about 3 s."""
    app = canned_app()
    app.state.canned.outage_s = 60.0
    with ThreadedServer(app) as server:
        client = OpenAIClient(system(), "k", server.url + "/v1")
        limiter = Limiter(4, max_attempts=3, backoff_base_s=0.2, backoff_max_s=2.0, retry_budget_s=3.0)
        start = time.perf_counter()
        outcomes = run(client, requests_for(client, "gpt-test", 8), tmp_path, limiter)
        elapsed = time.perf_counter() - start
    figures("outage/budget", requests=app.state.canned.calls, errors=len(outcomes), wall_s=round(elapsed, 1))
    assert all(o["error"] for o in outcomes.values()) and not app.state.canned.paid
    assert 3.0 <= elapsed < 8.0 and not list(tmp_path.rglob("*.json"))


def test_outage_is_not_one_request_failing_alone_the_count_still_bounds_it(tmp_path):
    """One request always gets a 500 while the others are answered: it stops after max_attempts (3)."""
    with ThreadedServer(canned_app()) as server:
        client = OpenAIClient(system(), "k", server.url + "/v1")
        requests = requests_for(client, "gpt-test", 6)
        doomed = next(iter(requests))
        requests[doomed]["body"]["messages"][-1]["content"] += " [500]"
        limiter = Limiter(2, max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05, retry_budget_s=60)
        outcomes = run(client, requests, tmp_path, limiter)
    assert outcomes[doomed]["error"] == "TransientError: HTTP 500" and outcomes[doomed]["attempts"] == 3
    assert all(o["error"] is None for k, o in outcomes.items() if k != doomed)


# -- kill mid-cell --------------------------------------------------------------------------------------------

KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_api import OpenAIClient, system, requests_for, run, Limiter
client = OpenAIClient(system(timeout_s=30), "k", {url!r})
run(client, requests_for(client, "gpt-test", 24), __import__("pathlib").Path({cache!r}), Limiter(4))
"""


def test_kill_mid_cell_pays_again_at_most_the_requests_in_flight(tmp_path):
    """SIGKILL with 4 requests in flight: every answer delivered before the kill is in the cache; the rerun pays
    again only for requests that were in flight (at most the concurrency)."""
    cache = tmp_path / "cache"
    app = canned_app()
    with ThreadedServer(app) as server, FaultProxy(server.url, latency_s=0.3) as proxy:
        script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), url=proxy.url + "/v1", cache=str(cache))
        process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT)
        deadline = time.monotonic() + 120
        while len(list(cache.rglob("*.json"))) < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        process.wait()
        kept = len(list(cache.rglob("*.json")))
        delivered_before = sum(t < killed_at - 0.2 for t, _ in proxy.delivered)
        time.sleep(1.0)  # requests in flight at the kill still reach upstream: paid, their answers lost
        first = sum(app.state.canned.paid.values())
        client = OpenAIClient(system(), "k", proxy.url + "/v1")
        outcomes = run(client, requests_for(client, "gpt-test", 24), cache, Limiter(4))
    paid_twice = sum(n - 1 for n in app.state.canned.paid.values())
    figures(
        "kill",
        cached_at_kill=kept,
        delivered_before_kill=delivered_before,
        paid_before_rerun=first,
        paid_again=paid_twice,
        errors=sum(o["error"] is not None for o in outcomes.values()),
    )
    assert kept >= delivered_before and not list(cache.rglob(".*"))
    assert sum(o["cache_hit"] for o in outcomes.values()) == kept
    assert paid_twice <= 4 and all(o["error"] is None for o in outcomes.values())


# -- batch mode: resume end to end ----------------------------------------------------------------------------

BATCH_CELL_SCRIPT = """
import sys, json
sys.path.insert(0, {tests!r})
from pathlib import Path
from test_api_faults import run_cell
run_cell(Path({folder!r}), {{k: Path(v) for k, v in json.loads({paths!r}).items()}}, json.loads({system!r}))
"""


def test_batch_resume_after_a_kill_end_to_end(tmp_path, monkeypatch):
    """The batch cell is killed after submitting; the rerun resumes the same batch (no second submission),
    collects its results once, caches them, and a third run touches the Batch API not at all."""
    import json

    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    paths = examples(tmp_path, [f"email {i}" for i in range(4)])
    canned = canned_app()
    with ThreadedServer(canned) as upstream:
        app = batch_app(upstream.url, "gpt-test")
        with ThreadedServer(app) as server:
            sys_cfg = system(model="gpt-test", base_url=server.url + "/v1", batch=True)
            script = BATCH_CELL_SCRIPT.format(
                tests=str(Path(__file__).parent),
                folder=str(tmp_path),
                paths=json.dumps({k: str(v) for k, v in paths.items()}),
                system=json.dumps(sys_cfg),
            )
            process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, env=os.environ.copy())
            deadline = time.monotonic() + 120
            while app.state.creates == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            state_file = next((tmp_path / "cache" / "batches").glob("*.json"))
            assert read_json(state_file)["batch_id"] == "batch-0" and not (tmp_path / "out").exists()
            app.state.release.set()
            while app.state.batches["batch-0"]["status"] != "completed" and time.monotonic() < deadline:
                time.sleep(0.05)
            record = run_cell(tmp_path, paths, sys_cfg)
            calls_after_resume = app.state.requests
            shutil.rmtree(tmp_path / "out")
            again = run_cell(tmp_path, paths, sys_cfg)
    output_file = app.state.batches["batch-0"]["output_file_id"]
    figures(
        "batch_resume",
        submissions=app.state.creates,
        downloads=app.state.downloads[output_file],
        answers=record["n"],
        paid_per_answer=max(canned.state.canned.paid.values()),
        errors=record["failed"],
    )
    assert app.state.creates == 1 and len(app.state.batches) == 1 and app.state.downloads[output_file] == 1
    assert read_json(state_file) == {
        "input_sha256": read_json(state_file)["input_sha256"],
        "batch_id": "batch-0",
        "status": "completed",
    }
    assert (
        record["failed"] == 0 and record["cache_hits"] == 0 and len(list((tmp_path / "cache").glob("??/*.json"))) == 4
    )
    assert again["cache_hits"] == 4 and app.state.requests == calls_after_resume
    assert set(canned.state.canned.paid.values()) == {1}


# -- truncated answers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "api"), SHAPES, ids=SHAPE_IDS)
def test_truncated_answers_are_recorded_classed_and_warned(tmp_path, monkeypatch, caplog, provider, api):
    """Responses ``status: incomplete``, Chat Completions ``finish_reason: length``, Gemini ``MAX_TOKENS``: the
    example's row says truncated, its error class is 'truncated', the run counts them and the log warns."""
    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    caplog.set_level("INFO")
    paths = examples(tmp_path, ["[long] one", "two", "[long] three", "four"])
    with ThreadedServer(canned_app()) as server:
        sys_cfg, base_url = shape_system(provider, api, server.url)
        record = run_cell(tmp_path, paths, sys_cfg | {"base_url": base_url})
    rows = read_jsonl(tmp_path / "out" / "p.jsonl")
    assert [row["truncated"] for row in rows] == [True, False, True, False] and record["truncated"] == 2
    task = build_task(PROJECT.adapter_config("support_email"), REPO_ROOT)
    scored = score_cell(task, read_jsonl(paths["test"]), rows, {"n_resamples": 50, "confidence": 0.95, "seed": 0})
    assert scored["error_classes"]["truncated"] == 2
    assert [row["error_class"] == "truncated" for row in scored["per_example"]] == [True, False, True, False]
    assert "2 of 4 answers (50%) stopped at the output budget of 16 tokens" in caplog.text


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_truncated_answers_in_batch_collection_are_flagged(tmp_path, api):
    with ThreadedServer(canned_app()) as upstream:
        app = batch_app(upstream.url, "gpt-test")
        app.state.release.set()
        with ThreadedServer(app) as server:
            client = OpenAIClient(system(api=api), "k", server.url + "/v1")
            messages = conversations(3)
            messages[1][-1]["content"] += " [long]"
            bodies = {f"k{i}": client.body("gpt-test", m, 16, None) for i, m in enumerate(messages)}

            async def go():
                try:
                    return await run_batch(client, bodies, tmp_path, poll_s=0.05)
                finally:
                    await client.aclose()

            replies = asyncio.run(go())
    assert [replies[f"k{i}"].truncated for i in range(3)] == [False, True, False]


# -- the model that answered ----------------------------------------------------------------------------------


def test_model_version_other_than_configured_fails_the_cell_naming_both(tmp_path, monkeypatch):
    """A retired id re-routed: asked for gemini-2.5-flash, answered by gemini-3.5-flash-lite. The cell fails
    naming both; the answers are cached, so listing the echoed version (or moving on) pays nothing again."""
    monkeypatch.setenv("BREAKEVEN_TEST_KEY", PLANTED)
    paths = examples(tmp_path, ["one", "two", "three"])
    app = canned_app()
    app.state.canned.model_version = "gemini-3.5-flash-lite"
    with ThreadedServer(app) as server:
        sys_cfg = system(provider="gemini", model="gemini-2.5-flash", base_url=server.url)
        with pytest.raises(RuntimeError, match=r"\['gemini-2.5-flash'\].*'gemini-3.5-flash-lite' \(3 answers\)"):
            run_cell(tmp_path, paths, sys_cfg)
        assert not (tmp_path / "out").exists() and app.state.canned.calls == 3
        record = run_cell(tmp_path, paths, sys_cfg | {"model_versions": ["gemini-3.5-flash-lite"]})
    assert app.state.canned.calls == 3 and record["cache_hits"] == 3
    assert record["model"] == "gemini-2.5-flash" and record["model_versions"] == ["gemini-3.5-flash-lite"]


def test_model_version_matching_rules():
    assert version_matches("gpt-5.4-mini-2026-03-17", ["gpt-5.4-mini-2026-03-17"])
    assert version_matches("/models/tiny@main", ["/models/tiny"])  # transformers serve: <id>@<revision>
    assert not version_matches("gemini-2.5-flash-lite", ["gemini-2.5-flash"])  # a sibling, not a revision
    assert not version_matches("gpt-5.4-mini-2026-03-17", ["gpt-5.4-mini"])  # an alias moved: pin the snapshot
    assert not version_matches(None, ["gpt-5.4-mini"])


# -- request_options checked at validation --------------------------------------------------------------------


@pytest.fixture
def config_root(tmp_path) -> Path:
    """A copy of the checkout's config and prompts, to add API systems to."""
    for folder in ("config", "prompts"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    return tmp_path


@pytest.mark.parametrize(
    ("provider", "api", "options", "field", "why"),
    [
        (
            "openai",
            "chat_completions",
            {"reasoning": {"effort": "low"}},
            "reasoning",
            "did you mean 'reasoning_effort'",
        ),
        ("openai", "responses", {"reasoning_effort": "low"}, "reasoning_effort", "did you mean 'reasoning'"),
        ("openai", "responses", {"stream": True}, "stream", "set by the client"),
        ("gemini", "chat_completions", {"thinking": {"level": "low"}}, "thinking", "did you mean 'thinking_config'"),
        (
            "gemini",
            "chat_completions",
            {"thinking_config": {"thinking_level": "lowest"}},
            "thinking_config",
            "not a valid ThinkingLevel",
        ),
        (
            "gemini",
            "chat_completions",
            {"thinking_config": {"thinking_budget": "lots"}},
            "thinking_config.thinking_budget",
            "valid integer",
        ),
        ("gemini", "chat_completions", {"temperature": 1.0}, "temperature", "set by the client"),
    ],
)
def test_request_options_the_endpoint_does_not_take_fail_validation(
    config_root, default_config, provider, api, options, field, why
):
    probe = config_root / "config" / "api_models" / "probe.yaml"
    fields = {
        "name": "probe",
        "provider": provider,
        "api": api,
        "model": "m",
        "key_env": "K",
        "pricing": "gpt-5.4-mini",
    }
    probe.write_text(__import__("yaml").safe_dump(fields | {"request_options": options}))
    with pytest.raises(ConfigError, match=rf"probe\.yaml: field 'request_options\.{field}': .*{why}"):
        Project(deep_merge(default_config, {"api_models": ["probe"]}), root=config_root)


def test_request_options_of_the_shipped_systems_validate(default_config):
    shipped = ["gpt-5.4-mini", "gpt-5.4-nano", "gemini-3.8-flash"]
    project = Project(deep_merge(default_config, {"api_models": shipped}))
    assert project.api_models["gemini-3.8-flash"]["request_options"] == {"thinking_config": {"thinking_level": "low"}}
    assert project.pricing["api"]["gemini-3.8-flash"]["read_on"] == "2026-12-01"


def test_request_options_that_passed_are_not_rechecked_until_the_sdk_changes(default_config, tmp_path, monkeypatch):
    """A second config load (every snakemake start) takes the recorded verdict without importing the SDKs; the
    same options under another SDK release are checked again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    config = deep_merge(default_config, {"api_models": ["gpt-5.4-mini", "gemini-3.8-flash"]})
    load = "import json, sys; from breakeven.config import Project; Project(json.loads(sys.argv[1])); "
    probe = load + "print(sorted(m for m in ('openai', 'google.genai') if m in sys.modules))"
    imported = [
        subprocess.run([sys.executable, "-c", probe, json.dumps(config)], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [run.stdout.strip() for run in imported] == ["['google.genai', 'openai']", "[]"]

    checked = []

    class Recording:
        @staticmethod
        def option_problems(request_options, api):
            checked.append(request_options)
            return []

    monkeypatch.setattr(options, "version", lambda sdk: "99.0")
    monkeypatch.setattr(options.CLIENTS, "get", lambda provider: Recording)
    Project(config)
    assert checked == [{"reasoning": {"effort": "low"}}, {"thinking_config": {"thinking_level": "low"}}]
