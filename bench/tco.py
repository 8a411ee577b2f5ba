"""The tco job on constructed metric files, 10,000 resamples: the embedded default's shape (one task, 100 test
examples, four local and two API cells, one gate cell) and a production-sized task (three models x (two prompt
+ two LoRA conditions x three seeds) + four API cells, 1,000 examples). Side by side in one run: the whole job
(resampled intervals and the error-cost curve included) against its point-estimate tables alone."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from breakeven import REPO_ROOT
from breakeven.analysis.summary import cells_wide
from breakeven.cost.job import run_tco
from breakeven.cost.tables import breakeven, deployments, sensitivity, tco_grid
from breakeven.jsonio import read_yaml, write_json

RESAMPLES = 10_000
COST = read_yaml(REPO_ROOT / "config" / "config.yaml")["cost"] | {"error_usd": 0.01}
BOOTSTRAP = {"n_resamples": RESAMPLES, "confidence": 0.95, "seed": 0}


def cell(system: str, condition: str, kind: str, n: int, rng: np.random.Generator, seed: int = 0) -> dict:
    api = kind == "api"
    correct = rng.random(n) < rng.uniform(0.4, 0.9)
    latency = rng.gamma(4.0, 0.05 if not api else 0.25, n)
    rows = [
        {
            "id": f"e{i:05d}",
            "field_f1": float(correct[i]),
            "error_class": "correct" if correct[i] else "wrong",
            "latency_s": float(latency[i]),
            "input_tokens": int(rng.integers(300, 900)),
            "output_tokens": int(rng.integers(20, 80)),
            **({"cached_tokens": 0} if api else {}),
        }
        for i in range(n)
    ]
    value = float(correct.mean())
    usage = {
        "latency_p50_s": float(np.median(latency)),
        "latency_p95_s": float(np.percentile(latency, 95)),
        "input_tokens_mean": float(np.mean([r["input_tokens"] for r in rows])),
        "output_tokens_mean": float(np.mean([r["output_tokens"] for r in rows])),
    }
    run = {"wall_s": float(latency.sum()), "n": n, "device": "cpu"}
    if api:
        run |= {"pricing": system if system != "standin-tiny" else "gpt-5.4-mini", "batch": False, "standin": False}
        usage |= {"cached_tokens_mean": 0.0, "cost_usd_mean": 0.0}
    return {
        "task": "support_email",
        "system": system,
        "condition": condition,
        "seed": seed,
        "kind": kind,
        "primary_metric": "field_f1",
        "metrics": {"field_f1": {"value": value, "ci_low": value - 0.05, "ci_high": value + 0.05, "n": n}},
        "run": run,
        "training": {"device_hours": 0.2, "n_train": 200} if kind == "lora" else None,
        "usage": usage,
        "per_example": rows,
        "error_classes": {},
    }


def grid(models: list[str], lora: list[str], seeds: int, apis: list[str], n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    cells = [cell(m, c, "prompt", n, rng) for m in models for c in ("zero_shot", "five_shot")]
    cells += [cell(m, c, "lora", n, rng, seed) for m in models for c in lora for seed in range(seeds)]
    return cells + [cell(a, c, "api", n, rng) for a in apis for c in ("zero_shot", "five_shot")]


def measure(label: str, cells: list[dict], gate: list[dict], folder: Path) -> None:
    metric_paths, gate_paths = [], []
    for i, c in enumerate(cells + gate):
        path = folder / f"{label}-{i}.json"
        write_json(path, c)
        (metric_paths if i < len(cells) else gate_paths).append(path)
    cells_path = folder / f"{label}-cells.csv"
    wide = cells_wide(cells)
    wide.to_csv(cells_path, index=False)
    pricing = read_yaml(REPO_ROOT / "config" / "pricing.yaml")
    out = {name: folder / f"{label}-{name}.csv" for name in ("costs", "tco", "breakeven", "sensitivity", "error_cost")}
    start = time.perf_counter()
    run_tco(cells_path, metric_paths, gate_paths, [], [], REPO_ROOT / "config" / "pricing.yaml", COST, BOOTSTRAP, out)
    whole = time.perf_counter() - start
    start = time.perf_counter()
    table = deployments(pd.read_csv(cells_path), pricing, COST)
    tco_grid(table, COST), breakeven(table, COST), sensitivity(wide, pricing, COST)
    point = time.perf_counter() - start
    rows = pd.read_csv(out["breakeven"])
    print(
        f"{label}: {len(cells)} cells x {cells[0]['run']['n']} examples, {len(rows)} break-even rows, "
        f"{RESAMPLES} resamples: tco job {whole:.2f} s; point tables alone {point:.2f} s ({whole / point:.1f}x)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-tco-") as tmp:
        folder = Path(tmp)
        default = grid(["smollm2-135m"], ["lora_50", "lora_200"], 1, ["standin-tiny"], 100)
        gate = [cell("smollm2-135m", "base_val", "prompt", 50, np.random.default_rng(1))]
        measure("embedded default", default, gate, folder)
        models = ["qwen3-8b", "gemma-3-4b", "phi-4-mini"]
        apis = ["gpt-5.4-mini", "gemini-3.8-flash"]
        measure("production task", grid(models, ["lora_500", "lora_full"], 3, apis, 1000), gate, folder)


if __name__ == "__main__":
    main()
