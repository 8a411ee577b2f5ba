"""API client throughput: requests/s against a loopback OpenAI-compatible server that answers every request
after an injected 200 ms, for several concurrency limits (target: at least 90% of limit / latency), then a
rerun of the same requests from the response cache (target: zero requests reach the server).

The server (``app`` below, under uvicorn in its own process) returns a canned answer: this measures the
client's concurrency, limiter and cache machinery, not a model.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx2
from fastapi import FastAPI

from breakeven.providers.cache import ResponseCache, request_key
from breakeven.providers.cell import answer
from breakeven.providers.limits import Limiter
from breakeven.providers.openai_client import OpenAIClient
from breakeven.providers.server import free_port, wait_ready

LATENCY_S = 0.2
LIMITS = (1, 4, 16, 64)
app = FastAPI()
served = {"requests": 0}


@app.get("/health")
async def health() -> dict:
    return {"status": "ok", "requests": served["requests"]}


@app.post("/v1/chat/completions")
async def chat() -> dict:
    served["requests"] += 1
    await asyncio.sleep(LATENCY_S)
    return {
        "id": "bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench-model-2026-01-01",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
    }


SYSTEM = {
    "api": "chat_completions",
    "timeout_s": 30,
    "supports_temperature": True,
    "request_options": {},
}


def served_requests(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as response:
        return json.load(response)["requests"]


def run(port: int, limit: int, n: int, cache_dir: Path) -> tuple[float, dict]:
    client = OpenAIClient(SYSTEM, "bench", f"http://127.0.0.1:{port}/v1")
    requests = {}
    for i in range(n):
        body = client.body("bench-model", [{"role": "user", "content": f"q{i}"}], 4, None)
        request = {"provider": "openai", "endpoint": client.endpoint, "body": body}
        requests[request_key(request)] = request

    async def go() -> dict:
        try:
            return await answer(client, requests, ResponseCache(cache_dir), Limiter(limit), None)
        finally:
            await client.aclose()

    start = time.perf_counter()
    outcomes = asyncio.run(go())
    return time.perf_counter() - start, outcomes


def raw_loop(port: int, limit: int, n: int) -> float:
    """The same requests from a bare httpx2 loop (no SDK, limiter or cache): this machine's ceiling."""

    async def go() -> float:
        semaphore = asyncio.Semaphore(limit)
        async with httpx2.AsyncClient(limits=httpx2.Limits(max_connections=limit)) as client:

            async def one(i: int) -> None:
                async with semaphore:
                    body = {"model": "bench-model", "messages": [{"role": "user", "content": f"q{i}"}]}
                    (await client.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body)).json()

            start = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return time.perf_counter() - start

    return n / asyncio.run(go())


def main() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.api:app", "--port", str(port), "--log-level", "warning"],
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", server, 30)
        print(f"API client vs a loopback server with {LATENCY_S * 1000:.0f} ms latency per request")
        print(f"{'limit':>6} {'requests':>9} {'req/s':>8} {'ideal':>8} {'share':>7}")
        with tempfile.TemporaryDirectory() as tmp:
            for limit in LIMITS:
                n = max(40, limit * 10)
                wall, outcomes = run(port, limit, n, Path(tmp) / str(limit))
                assert all(o["error"] is None for o in outcomes.values())
                rate, ideal = n / wall, limit / LATENCY_S
                print(f"{limit:>6} {n:>9} {rate:>8.1f} {ideal:>8.1f} {rate / ideal:>7.0%}")
            n = max(40, LIMITS[-1] * 10)
            print(
                f"bare httpx2 loop at limit {LIMITS[-1]}: {raw_loop(port, LIMITS[-1], n):.1f} req/s (machine ceiling)"
            )
            before = served_requests(port)
            wall, outcomes = run(port, LIMITS[-1], max(40, LIMITS[-1] * 10), Path(tmp) / str(LIMITS[-1]))
            sent = served_requests(port) - before
            hits = sum(o["cache_hit"] for o in outcomes.values())
            print(f"cached rerun: {hits}/{len(outcomes)} from the cache, {sent} requests to the server, {wall:.2f} s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
