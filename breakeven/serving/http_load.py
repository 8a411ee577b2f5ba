"""Load test of vLLM's OpenAI-compatible server: ``concurrency`` clients in a closed loop, each sending its next
streamed Chat Completions request as soon as the last one finished. Latency and time to first token are timed
by the client from the moment it sent the request; the server's queue and inference time per request, and its
prefix-cache hit rate, come from its Prometheus ``/metrics`` counters before and after the level."""

from __future__ import annotations

import asyncio
import itertools
import time
import urllib.request

from breakeven.serving.capacity import EngineTimes, LoadBudget, RequestTiming, level_row

COUNTERS = {
    "queue": "vllm:request_queue_time_seconds",
    "inference": "vllm:request_inference_time_seconds",
    "cache_hits": "vllm:prefix_cache_hits",
    "cache_queries": "vllm:prefix_cache_queries",
}
"""The metric families read from the server (histograms: ``_sum``/``_count``; counters: ``_total``)."""


def structured_body(constraint: dict | None) -> dict:
    """vLLM's request extension for the predictions' output constraint (label choice or JSON schema)."""
    if not constraint:
        return {}
    key = "choice" if "choice" in constraint else "json"
    return {"structured_outputs": {key: constraint[key]}}


def engine_counters(base_url: str) -> dict[str, float]:
    """Sample name -> value summed over labels, for the families of ``COUNTERS``."""
    from prometheus_client.parser import text_string_to_metric_families

    root = base_url.removesuffix("/").removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/metrics", timeout=10) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name in COUNTERS.values():
            for sample in family.samples:
                values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def engine_times(before: dict[str, float], after: dict[str, float]) -> EngineTimes:
    """Means per request over a level, from the counters' differences."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    def mean(family: str) -> float | None:
        count = delta(f"{COUNTERS[family]}_count")
        return delta(f"{COUNTERS[family]}_sum") / count if count else None

    queries = delta(f"{COUNTERS['cache_queries']}_total")
    hit_rate = delta(f"{COUNTERS['cache_hits']}_total") / queries if queries else None
    return EngineTimes(mean("queue"), mean("inference"), hit_rate)


async def timed_request(client, model: str, messages: list[dict], max_tokens: int, extra: dict) -> RequestTiming:
    """One streamed greedy request; the first content chunk marks the first token."""
    start = time.perf_counter()
    first, usage = None, None
    stream = await client.chat.completions.create(
        model=model,
        messages=messages,
        max_completion_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=extra,
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        usage = chunk.usage or usage
    end = time.perf_counter()
    return RequestTiming(end - start, (first or end) - start, usage.prompt_tokens, usage.completion_tokens)


async def closed_loop(
    client, model: str, conversations: list[list[dict]], max_tokens: int, concurrency: int, budget: LoadBudget, extra
) -> tuple[list[RequestTiming], float]:
    """Every client sends requests back to back (the cell's prompts in order, cycled) until the level's request or
    time cap (each sends at least one); returns the timings and the level's wall time."""
    prompts, timings, sent = itertools.cycle(conversations), [], 0
    start = time.perf_counter()

    async def run_client() -> None:
        nonlocal sent
        while sent < budget.requests(concurrency) and (
            sent < concurrency or time.perf_counter() - start < budget.seconds_per_level
        ):
            sent += 1
            timings.append(await timed_request(client, model, next(prompts), max_tokens, extra))

    await asyncio.gather(*(run_client() for _ in range(concurrency)))
    return timings, time.perf_counter() - start


def served_levels(
    base_url: str,
    model: str,
    conversations: list[list[dict]],
    max_tokens: int,
    budget: LoadBudget,
    constraint: dict | None,
) -> list[dict]:
    """One row per level of ``budget`` against the server at ``base_url`` (``model``: base or adapter name)."""
    from openai import AsyncOpenAI

    async def level(concurrency: int) -> dict:
        client = AsyncOpenAI(base_url=base_url, api_key="loopback", max_retries=0, timeout=600)
        try:
            before = engine_counters(base_url)
            timings, wall = await closed_loop(
                client, model, conversations, max_tokens, concurrency, budget, structured_body(constraint)
            )
            return level_row(concurrency, timings, wall, engine_times(before, engine_counters(base_url)))
        finally:
            await client.close()

    return [asyncio.run(level(concurrency)) for concurrency in budget.levels()]
