"""Answer one API cell: the same prompts as the local systems, through the cache, the limiter and the
provider's client (or the Batch API); one prediction row per test example, with measured usage and cost.

Every reply, error message, cache entry, log record and raised error passes through the client's
:class:`~breakeven.providers.redact.Redactor`, so no key reaches them even from a server that echoes it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import time
import traceback
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from dotenv import load_dotenv

from breakeven import REPO_ROOT
from breakeven.cost.model import api_cost_per_query
from breakeven.data.documents import attach_documents
from breakeven.jsonio import read_jsonl, write_json, write_jsonl
from breakeven.providers import CLIENTS, MissingKeyError, PermanentError, Reply, TransientError
from breakeven.providers.batch import run_batch
from breakeven.providers.cache import ResponseCache, request_key
from breakeven.providers.limits import Limiter
from breakeven.providers.redact import dotenv_paths
from breakeven.providers.server import standin_server
from breakeven.providers.structured import output_schema, unwrap
from breakeven.runtime import code_version, package_versions
from breakeven.storage import state_store
from breakeven.tasks import adapter_config, build_task

log = logging.getLogger(__name__)
STANDIN_KEY = "standin-no-key"
"""What the loopback stand-in receives as its key (it checks none)."""


def api_key(system: dict) -> str:
    """The system's key from the environment or ``.env``; a missing key names the variable."""
    if system.get("standin"):
        return STANDIN_KEY
    for dotenv in dotenv_paths():
        load_dotenv(dotenv, override=False)
    value = os.environ.get(system["key_env"], "").strip()
    if not value:
        raise MissingKeyError(
            f"API system {system['name']!r}: the environment variable {system['key_env']} holding its API key "
            "is not set (set it in the environment or in .env; see .env.example)"
        )
    return value


def request_cost(usage: dict, price: dict, batch: bool) -> float:
    """Measured usage priced with config/pricing.yaml (cached input at its own price, batch discount)."""
    return api_cost_per_query(
        usage["input_tokens"], usage["output_tokens"], price, batch, cached_tokens=usage["cached_tokens"]
    )


def logprobs_unavailable(system: dict) -> str | None:
    """Why this system's replies carry no token log-probabilities (None: they are requested)."""
    if system["logprobs"]:
        return None
    return (
        f"API system {system['name']!r} returns no token log-probabilities (config/api_models/{system['name']}.yaml: "
        "logprobs is false; only Chat Completions models that return them can set it)"
    )


def _outcome(reply: Reply, latency_s: float, attempts: int, cache_hit: bool) -> dict:
    return vars(reply) | {
        "latency_s": latency_s,
        "attempts": attempts,
        "cache_hit": cache_hit,
        "error": None,
    }


def _failure(message: str, attempts: int) -> dict:
    empty = Reply(text="", input_tokens=0, output_tokens=0, cached_tokens=0, model_version=None)
    return _outcome(empty, 0.0, attempts, cache_hit=False) | {"error": message}


def _cached(entry: dict) -> dict:
    response = entry["response"]
    reply = Reply(**{k: response[k] for k in Reply.__dataclass_fields__ if k in response})
    return _outcome(reply, response["latency_s"], 0, cache_hit=True)


def _store(cache: ResponseCache, client, key: str, request: dict, reply: Reply, latency_s: float) -> Reply:
    """Mask the reply and write it to the cache at once (before anything else can fail); returns the masked reply."""
    reply = Reply(**client.redactor.value(vars(reply)))
    cache.put(key, client.redactor.value(request), vars(reply) | {"latency_s": latency_s})
    return reply


async def _answer_batch(client, todo: dict[str, dict], cache: ResponseCache, batch_dir: Path) -> dict[str, dict]:
    start = time.perf_counter()
    results = await run_batch(client, {key: request["body"] for key, request in todo.items()}, batch_dir)
    waited = time.perf_counter() - start
    outcomes = {}
    for key, result in results.items():
        if isinstance(result, str):
            outcomes[key] = _failure(client.redactor.text(result), 1)
        else:
            outcomes[key] = _outcome(_store(cache, client, key, todo[key], result, waited), waited, 1, False)
    return outcomes


async def _answer_one(client, key: str, request: dict, cache: ResponseCache, limiter: Limiter) -> dict:
    """One request's outcome; whatever goes wrong becomes this request's recorded error, never the cell's crash."""

    async def timed() -> tuple[Reply, float]:
        start = time.perf_counter()
        reply = await client.send(request["body"])
        latency = time.perf_counter() - start
        return _store(cache, client, key, request, reply, latency), latency

    try:
        (reply, latency), attempts = await limiter.call(timed, tokens=client.token_estimate(request["body"]))
    except Exception as err:
        if not isinstance(err, (TransientError, PermanentError)):  # a bug or an SDK surprise: say where
            log.warning("request %s: %s", key[:12], client.redactor.text("".join(traceback.format_exception(err))))
        return _failure(client.redactor.text(f"{type(err).__name__}: {err}"), getattr(err, "attempts", 1))
    return _outcome(reply, latency, attempts, cache_hit=False)


async def answer(
    client, requests: dict[str, dict], cache: ResponseCache, limiter: Limiter, batch_dir: Path | None
) -> dict[str, dict]:
    """Key -> outcome for every canonical request: from the cache, else from the API (stored on arrival)."""
    outcomes = {key: _cached(entry) for key in requests if (entry := cache.get(key)) is not None}
    todo = {key: request for key, request in requests.items() if key not in outcomes}
    log.info("%d requests: %d from the cache, %d to send", len(requests), len(outcomes), len(todo))
    if batch_dir is not None and todo:
        return outcomes | await _answer_batch(client, todo, cache, batch_dir)
    done = 0

    async def one(key: str, request: dict) -> None:
        nonlocal done
        outcomes[key] = await _answer_one(client, key, request, cache, limiter)
        done += 1
        if done % 50 == 0 or done == len(todo):
            log.info("answered %d/%d", done, len(todo))

    await asyncio.gather(*(one(key, request) for key, request in todo.items()))
    return outcomes


def prediction_row(
    task, example_id: str, outcomes: list[dict], price: dict, batch: bool, schema: dict | None, no_logprobs: str | None
) -> dict:
    """One example's row: the local rows' fields plus cost, cached tokens, model version, attempts, errors,
    whether an answer was cut at the output budget (``truncated``) and, for tasks with a confidence the system
    cannot give, why (``no_logprobs``)."""
    errors = [o["error"] for o in outcomes if o["error"]]
    texts = [unwrap(o["text"], schema) for o in outcomes]
    usage = {k: sum(o[k] for o in outcomes) for k in ("input_tokens", "output_tokens", "cached_tokens")}
    answer = task.answer(texts, [o["first_logprobs"] for o in outcomes])
    row = {
        "id": example_id,
        **answer,
        "output": "" if errors else answer["output"],
        "latency_s": max(o["latency_s"] for o in outcomes),
        **usage,
        "cost_usd": sum(request_cost(o, price, batch) for o in outcomes),
        "model_version": next((o["model_version"] for o in outcomes if o["model_version"]), None),
        "attempts": sum(o["attempts"] for o in outcomes),
        "cache_hit": all(o["cache_hit"] for o in outcomes),
        "truncated": any(o["truncated"] for o in outcomes),
    }
    if len(outcomes) > 1:
        row["request_outputs"] = texts
    if errors:
        row |= {"error": "; ".join(errors), "error_class": "api_error"}
    elif "confidence" in answer and answer["confidence"] is None:
        row["confidence_unavailable"] = no_logprobs or "the API returned no token log-probabilities"
    return row


def version_matches(echoed: str | None, expected: list[str]) -> bool:
    """An echoed model version is the configured one: equal, or that id at a revision (``<id>@<revision>``)."""
    return echoed is not None and any(echoed == e or echoed.startswith(f"{e}@") for e in expected)


def check_model_versions(rows: list[dict], expected: list[str], system: dict) -> None:
    """Fail the cell when any answer came from another model than the configured one (a provider re-routing a
    retired id, an alias moving to a new snapshot); the message gives both, with counts."""
    echoed = Counter(row["model_version"] for row in rows if not row.get("error"))
    wrong = {version: n for version, n in echoed.items() if not version_matches(version, expected)}
    if wrong:
        answered = ", ".join(f"{version!r} ({n} answers)" for version, n in sorted(wrong.items(), key=str))
        raise RuntimeError(
            f"API system {system['name']!r}: the configured model is {expected} but the API answered as {answered}; "
            "the answers are cached (a rerun pays nothing), so update the system's model (and its price) or list "
            "the echoed version under model_versions if it is the same model"
        )


def check_errors(rows: list[dict], system: dict) -> list[dict]:
    """The failed rows, logged; fails the cell when their share exceeds the system's ``max_error_rate``."""
    failed = [row for row in rows if row.get("error")]
    for row in failed:
        log.warning("example %s failed: %s", row["id"], row["error"])
    share = len(failed) / len(rows) if rows else 0.0
    if share > system["max_error_rate"]:
        raise RuntimeError(
            f"API system {system['name']!r}: {len(failed)} of {len(rows)} examples ({share:.0%}) failed after "
            f"retries, above max_error_rate {system['max_error_rate']:.0%}; first error: {failed[0]['error']}"
        )
    return failed


def warn_truncation(rows: list[dict], system: dict, max_tokens: int) -> int:
    """Count the rows with an answer cut at the output budget; warn when their share exceeds the bound."""
    truncated = sum(row["truncated"] for row in rows)
    share = truncated / len(rows) if rows else 0.0
    if share > system["truncation_warn_rate"]:
        log.warning(
            "API system %r: %d of %d answers (%.0f%%) stopped at the output budget of %d tokens (reasoning tokens "
            "count against it), above truncation_warn_rate %.0f%%: they are scored as given and classed 'truncated'; "
            "raise max_output_tokens to let them finish",
            system["name"],
            truncated,
            len(rows),
            100 * share,
            max_tokens,
            100 * system["truncation_warn_rate"],
        )
    return truncated


def run_record(cell: dict, model: str, rows: list[dict], outcomes: dict[str, dict], limiter: Limiter) -> dict:
    """The cell's ``.run.json``: system, model asked and versions answered, cache hits, attempts, pauses, cost."""
    system, price = cell["system"], cell["price"]
    fresh = [o for o in outcomes.values() if not o["cache_hit"] and not o["error"]]
    return {
        "backend": "api",
        "device": "api",
        "provider": system["provider"],
        "api": system["api"],
        "batch": system["batch"],
        "model": model,
        "pricing": system["pricing"],
        "standin": bool(system.get("standin")),
        "model_versions": sorted({row["model_version"] for row in rows if row["model_version"]}),
        "shots": cell["shots"],
        "concurrency": system["concurrency"],
        "threads": 0,
        "n": len(rows),
        "cache_hits": sum(o["cache_hit"] for o in outcomes.values()),
        "attempts": limiter.counters.attempts,
        "retries": limiter.counters.retries,
        "estimated_tokens": limiter.counters.tokens,
        "pauses": limiter.counters.pauses,
        "paused_s": limiter.counters.paused_s,
        "cost_usd_per_query": sum(row["cost_usd"] for row in rows) / len(rows) if rows else 0.0,
        "spent_usd": sum(request_cost(o, price, system["batch"]) for o in fresh),
        "host": platform.node(),
    }


def build_requests(
    client, model: str, per_example: list[list[list[dict]]], max_tokens: int, schema, body_options: dict
):
    """(cache keys per example, key -> canonical request) for every request of every example (``body_options``:
    extra keyword arguments of the client's ``body``, e.g. ``top_logprobs``)."""
    keys: list[list[str]] = []
    requests: dict[str, dict] = {}
    for group in per_example:
        keys.append([])
        for messages in group:
            request = {
                "provider": client.provider,
                "endpoint": client.endpoint,
                "body": client.body(model, messages, max_tokens, schema, **body_options),
            }
            keys[-1].append(request_key(request))
            requests[keys[-1][-1]] = request
    return keys, requests


def make_limiter(system: dict) -> Limiter:
    return Limiter(
        system["concurrency"],
        system["rpm"],
        system["tpm"],
        system["max_attempts"],
        retry_budget_s=system["retry_budget_s"],
        breaker_after=system["circuit_breaker_after"],
    )


async def answer_and_close(client, requests: dict[str, dict], cache_dir: Path, limiter: Limiter) -> dict[str, dict]:
    """:func:`answer` through the system's mode (direct, or the Batch API), closing the client after."""
    batch_dir = cache_dir / "batches" if client.system["batch"] else None
    try:
        return await answer(client, requests, ResponseCache(cache_dir, state_store()), limiter, batch_dir)
    finally:
        await client.aclose()


def standin_packages(system: dict) -> tuple[str, ...]:
    """The packages serving a stand-in API from this environment (vLLM's server runs in ``.venv-vllm``; its log
    names its version)."""
    standin = system.get("standin")
    return ("transformers",) if standin and standin["server"] == "transformers" else ()


def run_api_predictions(
    cell: dict,
    standin_model: Path | None,
    test_path: Path,
    fewshot_path: Path,
    manifest_path: Path,
    documents_path: Path,
    out_predictions: Path,
    out_run: Path,
    cache_dir: Path,
    server_log: Path | None = None,
) -> dict:
    """Answer every test example of an API cell; write one JSONL row per example and the run's record.

    Fails (after writing nothing, with every answer received cached) when an answer came from another model
    than the configured one, or when the share of examples without an answer after retries exceeds the
    system's ``max_error_rate``; the message says how many and why. Secrets are masked throughout.
    """
    system, price = cell["system"], cell["price"]
    key = api_key(system)
    task_cfg = adapter_config(cell["task"], manifest_path)
    task = build_task(task_cfg, REPO_ROOT)
    schema = output_schema(task_cfg) if cell["structured_output"] else None
    test = attach_documents(read_jsonl(test_path), documents_path)
    shots = attach_documents(read_jsonl(fewshot_path)[: cell["shots"]], documents_path)
    if len(shots) < cell["shots"]:
        raise ValueError(f"{fewshot_path}: {cell['shots']} shots asked, the pool holds {len(shots)}")
    max_tokens = system["max_output_tokens"] or cell["max_new_tokens"]
    no_logprobs = logprobs_unavailable(system) if task.top_logprobs else None
    logprobs = {"top_logprobs": task.top_logprobs} if task.top_logprobs and not no_logprobs else {}
    with ExitStack() as stack:
        base_url, model = system["base_url"], system["model"]
        if system.get("standin"):
            log_path = server_log or out_run.with_suffix(".server.log")
            base_url, model = stack.enter_context(standin_server(system, standin_model, log_path)), str(standin_model)
        client = CLIENTS.get(system["provider"])(system, key, base_url)
        stack.enter_context(client.redactor.masking_logs())
        stack.enter_context(client.redactor.masking_errors())
        keys, requests = build_requests(
            client, model, [task.requests(row, shots) for row in test], max_tokens, schema, logprobs
        )
        limiter = make_limiter(system)
        start = time.perf_counter()
        outcomes = asyncio.run(answer_and_close(client, requests, cache_dir, limiter))
        wall = time.perf_counter() - start
        rows = [
            prediction_row(task, row["id"], [outcomes[k] for k in group], price, system["batch"], schema, no_logprobs)
            for row, group in zip(test, keys)
        ]
        check_model_versions(rows, system["model_versions"] or [model], system)
        failed = check_errors(rows, system)
        truncated = warn_truncation(rows, system, max_tokens)
    record = run_record(cell, model, rows, outcomes, limiter) | {
        "logprobs_requested": bool(logprobs),
        "requests": len(requests),
        "failed": len(failed),
        "truncated": truncated,
        "wall_s": wall,
        "throughput_per_s": len(rows) / wall if wall else None,
        "packages": package_versions(("openai", "google-genai", *standin_packages(system))),
        **code_version(),
    }
    write_jsonl(out_predictions, rows)
    write_json(out_run, record)
    return record
