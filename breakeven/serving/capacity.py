"""The capacity table: one row per concurrency level of a load test, with throughput, time to first token,
latency percentiles, and queue time apart from inference time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = [
    "concurrency",
    "requests",
    "wall_s",
    "queries_per_s",
    "output_tokens_per_s",
    "ttft_p50_s",
    "ttft_p95_s",
    "latency_p50_s",
    "latency_p95_s",
    "queue_s_mean",
    "inference_s_mean",
    "input_tokens_mean",
    "output_tokens_mean",
    "prefix_cache_hit_rate",
]
"""A level's fields, after the cell's keys (task, system, condition, seed), the backend and the requests each
test example needs (a query is one example: its cost is ``requests_per_example / queries_per_s`` seconds)."""


@dataclass(frozen=True)
class LoadBudget:
    """How far a load test goes: levels 1, 2, 4, ... up to ``max_concurrency``; a level stops starting requests
    once it has sent ``requests_per_level`` or run ``seconds_per_level`` (it always sends one per client)."""

    max_concurrency: int
    requests_per_level: int
    seconds_per_level: float

    @classmethod
    def from_config(cls, serving: dict) -> LoadBudget:
        return cls(serving["max_concurrency"], serving["requests_per_level"], serving["seconds_per_level"])

    def levels(self) -> list[int]:
        """Powers of two below the cap, then the cap itself."""
        levels, level = [], 1
        while level < self.max_concurrency:
            levels.append(level)
            level *= 2
        return [*levels, self.max_concurrency]

    def requests(self, concurrency: int) -> int:
        """Requests a level may send: the cap, but at least one per client."""
        return max(self.requests_per_level, concurrency)


@dataclass(frozen=True)
class RequestTiming:
    """One request of a load test, timed from the moment its client sent it."""

    latency_s: float
    ttft_s: float
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class EngineTimes:
    """What the engine itself reports for a level's requests (means; None where it reports nothing)."""

    queue_s_mean: float | None = None
    inference_s_mean: float | None = None
    prefix_cache_hit_rate: float | None = None


def level_row(concurrency: int, timings: list[RequestTiming], wall_s: float, engine: EngineTimes) -> dict:
    """One level's row: throughput over the level's wall time, percentiles over its requests."""
    latency = np.array([t.latency_s for t in timings])
    ttft = np.array([t.ttft_s for t in timings])
    output_tokens = sum(t.output_tokens for t in timings)
    return {
        "concurrency": concurrency,
        "requests": len(timings),
        "wall_s": wall_s,
        "queries_per_s": len(timings) / wall_s,
        "output_tokens_per_s": output_tokens / wall_s,
        "ttft_p50_s": float(np.percentile(ttft, 50)),
        "ttft_p95_s": float(np.percentile(ttft, 95)),
        "latency_p50_s": float(np.percentile(latency, 50)),
        "latency_p95_s": float(np.percentile(latency, 95)),
        "queue_s_mean": engine.queue_s_mean,
        "inference_s_mean": engine.inference_s_mean,
        "input_tokens_mean": float(np.mean([t.input_tokens for t in timings])),
        "output_tokens_mean": output_tokens / len(timings),
        "prefix_cache_hit_rate": engine.prefix_cache_hit_rate,
    }


def capacity_table(keys: dict, backend: str, requests_per_example: float, rows: list[dict]) -> pd.DataFrame:
    """The cell's capacity CSV: its keys (task, system, condition, seed), the backend, then one row per level by
    rising concurrency."""
    keys = {k: keys[k] for k in ("task", "system", "condition", "seed")}
    fixed = {**keys, "backend": backend, "requests_per_example": requests_per_example}
    table = pd.DataFrame([{**fixed, **row} for row in rows])
    return table[[*fixed, *COLUMNS]].sort_values("concurrency").reset_index(drop=True)
