"""Answer one API cell: the same prompts as the local systems, through the cache, the limiter and the
provider's client (or the Batch API); one prediction row per test example, with measured usage and cost."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import time
from contextlib import ExitStack
from pathlib import Path

from dotenv import find_dotenv, load_dotenv

from breakeven import REPO_ROOT
from breakeven.cost.model import api_cost_per_query
from breakeven.data.documents import attach_documents
from breakeven.jsonio import read_jsonl, write_json, write_jsonl
from breakeven.providers import CLIENTS, MissingKeyError, PermanentError, Reply, TransientError
from breakeven.providers.batch import run_batch
from breakeven.providers.cache import ResponseCache, request_key
from breakeven.providers.limits import Limiter
from breakeven.providers.server import transformers_server
from breakeven.providers.structured import output_schema, unwrap
from breakeven.storage import state_store
from breakeven.tasks import adapter_config, build_task

log = logging.getLogger(__name__)
STANDIN_KEY = "standin-no-key"
"""What the loopback stand-in receives as its key (it checks none)."""


def api_key(system: dict) -> str:
    """The system's key from the environment or ``.env``; a missing key names the variable."""
    if system.get("standin"):
        return STANDIN_KEY
    for dotenv in (find_dotenv(usecwd=True), str(REPO_ROOT / ".env")):
        if dotenv and Path(dotenv).exists():
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


def _outcome(reply: Reply, latency_s: float, attempts: int, cache_hit: bool) -> dict:
    return {
        "text": reply.text,
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cached_tokens": reply.cached_tokens,
        "model_version": reply.model_version,
        "latency_s": latency_s,
        "attempts": attempts,
        "cache_hit": cache_hit,
        "error": None,
    }


def _failure(message: str, attempts: int) -> dict:
    zero = {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0}
    return {
        "text": "",
        **zero,
        "model_version": None,
        "latency_s": 0.0,
        "attempts": attempts,
        "cache_hit": False,
        "error": message,
    }


def _cached(entry: dict) -> dict:
    response = entry["response"]
    reply = Reply(**{k: response[k] for k in Reply.__dataclass_fields__})
    return _outcome(reply, response["latency_s"], 0, cache_hit=True)


async def answer(
    client, requests: dict[str, dict], cache: ResponseCache, limiter: Limiter, batch_dir: Path | None
) -> dict[str, dict]:
    """Key -> outcome for every canonical request: from the cache, else from the API (stored on arrival)."""
    outcomes = {key: _cached(entry) for key in requests if (entry := cache.get(key)) is not None}
    todo = {key: request for key, request in requests.items() if key not in outcomes}
    log.info("%d requests: %d from the cache, %d to send", len(requests), len(outcomes), len(todo))
    if batch_dir is not None and todo:
        start = time.perf_counter()
        results = await run_batch(client, {key: request["body"] for key, request in todo.items()}, batch_dir)
        waited = time.perf_counter() - start
        for key, result in results.items():
            if isinstance(result, str):
                outcomes[key] = _failure(result, 1)
            else:
                cache.put(key, todo[key], {**result.__dict__, "latency_s": waited})
                outcomes[key] = _outcome(result, waited, 1, cache_hit=False)
        return outcomes

    done = 0

    async def one(key: str, request: dict) -> None:
        nonlocal done

        async def timed() -> tuple[Reply, float]:
            start = time.perf_counter()
            reply = await client.send(request["body"])
            return reply, time.perf_counter() - start

        estimate = sum(len(str(m.get("content", ""))) for m in request["body"].get("messages", [])) // 4
        try:
            (reply, latency), attempts = await limiter.call(timed, tokens=estimate + 256)
        except (TransientError, PermanentError) as err:
            outcomes[key] = _failure(f"{type(err).__name__}: {err}", getattr(err, "attempts", 1))
        else:
            cache.put(key, request, {**reply.__dict__, "latency_s": latency})
            outcomes[key] = _outcome(reply, latency, attempts, cache_hit=False)
        done += 1
        if done % 50 == 0 or done == len(todo):
            log.info("answered %d/%d", done, len(todo))

    await asyncio.gather(*(one(key, request) for key, request in todo.items()))
    return outcomes


def prediction_row(task, example_id: str, outcomes: list[dict], price: dict, batch: bool, schema: dict | None) -> dict:
    """One example's row: the local rows' fields plus cost, cached tokens, model version, attempts, errors."""
    errors = [o["error"] for o in outcomes if o["error"]]
    texts = [unwrap(o["text"], schema) for o in outcomes]
    usage = {k: sum(o[k] for o in outcomes) for k in ("input_tokens", "output_tokens", "cached_tokens")}
    row = {
        "id": example_id,
        "output": "" if errors else task.combine(texts),
        "latency_s": max(o["latency_s"] for o in outcomes),
        **usage,
        "cost_usd": sum(request_cost(o, price, batch) for o in outcomes),
        "model_version": next((o["model_version"] for o in outcomes if o["model_version"]), None),
        "attempts": sum(o["attempts"] for o in outcomes),
        "cache_hit": all(o["cache_hit"] for o in outcomes),
    }
    if len(outcomes) > 1:
        row["request_outputs"] = texts
    if errors:
        row |= {"error": "; ".join(errors), "error_class": "api_error"}
    return row


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

    Fails (after writing nothing) only when the share of examples without an answer after retries exceeds the
    system's ``max_error_rate``; the message says how many failed and why.
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
    with ExitStack() as stack:
        base_url = system["base_url"]
        model = system["model"]
        if system.get("standin"):
            base_url = stack.enter_context(
                transformers_server(standin_model, server_log or out_run.with_suffix(".server.log"))
            )
            model = str(standin_model)
        client = CLIENTS.get(system["provider"])(system, key, base_url)
        per_example = [task.requests(row, shots) for row in test]
        keys = []
        requests: dict[str, dict] = {}
        for group in per_example:
            keys.append([])
            for messages in group:
                request = {
                    "provider": client.provider,
                    "endpoint": client.endpoint,
                    "body": client.body(model, messages, max_tokens, schema),
                }
                keys[-1].append(request_key(request))
                requests[keys[-1][-1]] = request
        limiter = Limiter(system["concurrency"], system["rpm"], system["tpm"], system["max_attempts"])
        batch_dir = cache_dir / "batches" if system["batch"] else None

        async def main() -> dict[str, dict]:
            try:
                return await answer(client, requests, ResponseCache(cache_dir, state_store()), limiter, batch_dir)
            finally:
                await client.aclose()

        start = time.perf_counter()
        outcomes = asyncio.run(main())
        wall = time.perf_counter() - start
    rows = [
        prediction_row(task, row["id"], [outcomes[k] for k in group], price, system["batch"], schema)
        for row, group in zip(test, keys)
    ]
    failed = [row for row in rows if row.get("error")]
    for row in failed:
        log.warning("example %s failed: %s", row["id"], row["error"])
    share = len(failed) / len(rows) if rows else 0.0
    if share > system["max_error_rate"]:
        raise RuntimeError(
            f"API system {system['name']!r}: {len(failed)} of {len(rows)} examples ({share:.0%}) failed after "
            f"retries, above max_error_rate {system['max_error_rate']:.0%}; first error: {failed[0]['error']}"
        )
    fresh = [o for o in outcomes.values() if not o["cache_hit"] and not o["error"]]
    record = {
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
        "requests": len(requests),
        "cache_hits": sum(o["cache_hit"] for o in outcomes.values()),
        "attempts": limiter.counters.attempts,
        "retries": limiter.counters.retries,
        "failed": len(failed),
        "wall_s": wall,
        "throughput_per_s": len(rows) / wall if wall else None,
        "cost_usd_per_query": sum(row["cost_usd"] for row in rows) / len(rows) if rows else 0.0,
        "spent_usd": sum(request_cost(o, price, system["batch"]) for o in fresh),
        "host": platform.node(),
    }
    write_jsonl(out_predictions, rows)
    write_json(out_run, record)
    return record
