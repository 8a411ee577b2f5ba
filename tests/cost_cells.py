"""Metric files of constructed cells (what the score job writes), for the cost and decision tests."""

from __future__ import annotations

import numpy as np

from breakeven.analysis.summary import cells_wide

PRICING = {
    "prices_read_on": "2026-11-24",
    "currency": "USD",
    "api": {
        "gpt-5.4-mini": {
            "provider": "openai",
            "input_per_1m": 0.75,
            "cached_input_per_1m": 0.075,
            "output_per_1m": 4.50,
        },
        "gemini-2.5-flash": {"provider": "gemini", "input_per_1m": 0.30, "output_per_1m": 2.50},
    },
    "hardware": {"gpu": {"hourly_usd": 2.0}},
    "engineering": {"hourly_usd": 100.0, "hours": {"prompt": 4, "lora": 24}},
}
COST = {
    "hardware_profile": "gpu",
    "api_reference": "gpt-5.4-mini",
    "api_condition": "five_shot",
    "api_batch": False,
    "utilisation": 0.5,
    "min_replicas": 1,
    "months": 12,
    "error_usd": 0.0,
    "daily_volumes": [100, 10000],
}
BOOTSTRAP = {"n_resamples": 2000, "confidence": 0.95, "seed": 0}


def metric_cell(
    system: str,
    condition: str,
    kind: str,
    correct: np.ndarray,
    latency: np.ndarray,
    tokens: tuple[float, float] = (500.0, 20.0),
    *,
    task: str = "t",
    seed: int = 0,
    train_hours: float = 0.0,
    pricing: str | None = None,
) -> dict:
    """One cell's metrics file: exact-match scores, per-example latency and tokens, run and training info."""
    n = len(correct)
    rows = [
        {
            "id": f"e{i:04d}",
            "exact": float(correct[i]),
            "error_class": "correct" if correct[i] else "wrong",
            "latency_s": float(latency[i]),
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            **({"cached_tokens": 0} if pricing else {}),
        }
        for i in range(n)
    ]
    value = float(np.mean(correct))
    run = {"wall_s": float(np.sum(latency)), "n": n, "device": "cpu"}
    usage = {
        "latency_p50_s": float(np.median(latency)),
        "latency_p95_s": float(np.percentile(latency, 95)),
        "input_tokens_mean": tokens[0],
        "output_tokens_mean": tokens[1],
    }
    if pricing:
        run |= {"pricing": pricing, "batch": False, "standin": False}
        usage |= {"cached_tokens_mean": 0.0, "cost_usd_mean": 0.0}
    return {
        "task": task,
        "system": system,
        "condition": condition,
        "seed": seed,
        "kind": kind,
        "primary_metric": "exact",
        "metrics": {"exact": {"value": value, "ci_low": value - 0.1, "ci_high": value + 0.1, "n": n}},
        "run": run,
        "training": {"device_hours": train_hours, "n_train": 200} if kind == "lora" else None,
        "usage": usage,
        "per_example": rows,
        "error_classes": {},
    }


def bernoulli(accuracy: float, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < accuracy


def latencies(mean: float, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).gamma(4.0, mean / 4.0, n)


def summary(cells: list[dict]):
    """summary/cells.csv of the cells, as summarize writes it."""
    return cells_wide(cells)
