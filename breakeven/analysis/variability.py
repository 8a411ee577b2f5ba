"""Spread beyond the per-cell CI: across training seeds (LoRA variance) and across test resamples.

``n_eval_seeds`` seeded resamples (with replacement, same size) of a cell's test examples give the spread of
its primary metric that test-set sampling alone would cause; training seeds give the spread of retraining.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from breakeven.analysis.paired import design_scale, metric_samples, resampling_design, task_labels


def eval_spread(cell: dict, labels: list[str], n_eval_seeds: int, seed: int) -> tuple[float, float]:
    """Mean and standard deviation of the primary metric over ``n_eval_seeds`` test resamples (the task's
    resampling design, stratified deviations rescaled as in the CIs)."""
    order = [row["id"] for row in cell["per_example"]]
    design = resampling_design(cell, order)
    point = cell["metrics"][cell["primary_metric"]]["value"]
    samples = metric_samples(cell, order, labels, n_eval_seeds, seed, **design)
    samples = point + design_scale(cell, order, design) * (samples - point)
    return float(np.mean(samples)), float(np.std(samples, ddof=1))


def spread_table(cells: list[dict], n_eval_seeds: int, seed: int) -> pd.DataFrame:
    """Per (task, system, condition): mean ± sd over training seeds and over test resamples (per seed, averaged)."""
    rows = []
    labels = task_labels(cells)
    keys = sorted({(c["task"], c["system"], c["condition"]) for c in cells})
    for task, system, condition in keys:
        group = [c for c in cells if (c["task"], c["system"], c["condition"]) == (task, system, condition)]
        metric = group[0]["primary_metric"]
        values = np.array([c["metrics"][metric]["value"] for c in group])
        evals = np.array([eval_spread(c, labels[task], n_eval_seeds, seed) for c in group])
        rows.append(
            {
                "task": task,
                "system": system,
                "condition": condition,
                "metric": metric,
                "n_seeds": len(group),
                "seed_mean": float(values.mean()),
                "seed_sd": float(values.std(ddof=1)) if len(group) > 1 else float("nan"),
                "n_eval_seeds": n_eval_seeds,
                "eval_mean": float(evals[:, 0].mean()),
                "eval_sd": float(evals[:, 1].mean()),
            }
        )
    return pd.DataFrame(rows)
