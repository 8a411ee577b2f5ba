"""The summarize stage's statistics (paired tests, hypotheses, spread) at 10,000 resamples on synthetic cells of
the embedded default's size (6 cells x 100 test examples, field F1), side by side with the same cells grouped in
documents of 4 (clustered resampling) and with a 150-label macro-F1 task (label-stratified resampling)."""

from __future__ import annotations

import time

import numpy as np

from breakeven.analysis.hypotheses import hypothesis_table
from breakeven.analysis.paired import paired_table
from breakeven.analysis.variability import spread_table

BOOTSTRAP = {"n_resamples": 10_000, "confidence": 0.95, "seed": 0}
CONDITIONS = {"zero_shot": "prompt", "five_shot": "prompt", "lora_50": "lora", "lora_200": "lora"}
HYPOTHESES = [
    {"id": "H1", "statement": "", "better": "lora_200", "worse": "five_shot"},
    {"id": "H2", "statement": "", "better": "lora_200", "worse": "lora_50"},
    {"id": "H3", "statement": "", "better": "five_shot", "worse": "zero_shot"},
    {"id": "H4", "statement": "", "better": "lora_200", "worse": "five_shot", "worse_system": "api"},
]


def cells(n: int, group_size: int | None, labels: int | None, seed: int = 0) -> list[dict]:
    """Four conditions of one open model and two of an API system, scored on the same ``n`` examples."""
    rng = np.random.default_rng(seed)
    keys = [*((("m", c, k) for c, k in CONDITIONS.items())), ("api", "zero_shot", "api"), ("api", "five_shot", "api")]
    gold = rng.integers(0, labels, n) if labels else None
    out = []
    for i, (system, condition, kind) in enumerate(keys):
        if labels:
            pred = np.where(rng.random(n) < 0.3 + 0.1 * i, gold, rng.integers(0, labels, n))
            rows = [{"id": str(j), "gold": f"l{g}", "parsed": f"l{p}"} for j, (g, p) in enumerate(zip(gold, pred))]
            metric, value = "macro_f1", 0.0  # the value only enters the reported difference
        else:
            scores = np.clip(rng.normal(0.4 + 0.05 * i, 0.3, n), 0, 1)
            rows = [{"id": str(j), "field_f1": float(s)} for j, s in enumerate(scores)]
            metric, value = "field_f1", float(scores.mean())
        if group_size:
            rows = [{**row, "group": f"doc{j // group_size}"} for j, row in enumerate(rows)]
        out.append(
            {
                "task": "t",
                "system": system,
                "condition": condition,
                "seed": 0,
                "kind": kind,
                "primary_metric": metric,
                "metrics": {metric: {"value": value}},
                "per_example": rows,
                "training": {"val_loss": 1.0 / (i + 1)} if kind == "lora" else None,
                "run": {"shots": 5 if condition == "five_shot" else 0},
            }
        )
    return out


def seconds(task_cells: list[dict]) -> float:
    start = time.perf_counter()
    paired_table(task_cells, "lowest_val_loss", "m", BOOTSTRAP)
    hypothesis_table(task_cells, HYPOTHESES, BOOTSTRAP)
    spread_table(task_cells, 10, 0)
    return time.perf_counter() - start


def main() -> None:
    cases = {
        "embedded default (100 examples, independent)": cells(100, None, None),
        "same, grouped in documents of 4 (clustered)": cells(100, 4, None),
        "CUAD-sized (400 questions, 100 contracts)": cells(400, 4, None),
        "150-label macro-F1 (300 examples, label-stratified)": cells(300, None, 150),
    }
    seconds(cells(20, None, None))  # warm-up: imports and first allocations
    base = None
    for name, task_cells in cases.items():
        took = seconds(task_cells)
        base = base or took
        print(f"summarize statistics, {name}: {took:.2f} s ({took / base:.1f}x the embedded default)")


if __name__ == "__main__":
    main()
