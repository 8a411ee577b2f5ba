"""Paired bootstrap of each cell against a reference cell of the same task (same test examples).

The difference of the primary metric is recomputed on every resample, with the same resampled examples for
both cells. Its CI is the percentile interval; the two-sided p-value tests "no difference" by shifting the
bootstrap distribution to zero (the share of resampled differences at least as far from the observed one as
the observed one is from zero). Within a task the p-values are adjusted for multiple comparisons with the
Benjamini-Hochberg procedure (scipy.stats.false_discovery_control).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from breakeven.stats.bootstrap import f1_samples, mean_samples

F1_METRICS = ("macro_f1", "weighted_f1")
KEYS = ("task", "system", "condition", "seed")


def metric_samples(cell: dict, order: list[str], labels: list[str], n_resamples: int, seed: int) -> np.ndarray:
    """The cell's primary metric on each resample of its test examples (taken in ``order``)."""
    rows = {row["id"]: row for row in cell["per_example"]}
    metric = cell["primary_metric"]
    if metric in F1_METRICS:
        golds = [rows[i]["gold"] for i in order]
        preds = [rows[i]["parsed"] for i in order]
        return f1_samples(golds, preds, labels, metric, n_resamples, seed)
    return mean_samples([rows[i][metric] for i in order], n_resamples, seed)


def pick_reference(cells: list[dict], reference: str) -> dict:
    """``best_lora``: the LoRA cell with the highest primary metric (any cell if there is none); otherwise the
    named condition's first seed (an open model's before an API system's)."""
    if reference == "best_lora":
        pool = [c for c in cells if c["kind"] == "lora"] or cells
        return max(pool, key=lambda c: c["metrics"][c["primary_metric"]]["value"])
    named = sorted((c for c in cells if c["condition"] == reference), key=lambda c: (c["kind"] == "api", c["seed"]))
    if not named:
        raise ValueError(f"statistics.reference: no cell has condition {reference!r}")
    return named[0]


def compare(cell: dict, ref: dict, labels: list[str], n_resamples: int, confidence: float, seed: int) -> dict:
    order = [row["id"] for row in ref["per_example"]]
    if sorted(order) != sorted(row["id"] for row in cell["per_example"]):
        raise ValueError(f"{cell['condition']} and {ref['condition']} were not scored on the same test examples")
    diffs = metric_samples(cell, order, labels, n_resamples, seed) - metric_samples(
        ref, order, labels, n_resamples, seed
    )
    metric = cell["primary_metric"]
    observed = cell["metrics"][metric]["value"] - ref["metrics"][metric]["value"]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha])
    p_value = float(np.mean(np.abs(diffs - observed) >= abs(observed))) if observed else 1.0
    return {
        **{k: cell[k] for k in KEYS},
        "reference": f"{ref['system']} · {ref['condition']} · seed {ref['seed']}",
        "metric": metric,
        "difference": observed,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": max(p_value, 1 / n_resamples),
        "n": len(order),
    }


def label_union(cells: list[dict]) -> list[str]:
    """Every gold and parsed label of a task's cells (so each F1 resample sees the same classes)."""
    seen = {row["gold"] for c in cells for row in c["per_example"]}
    seen |= {row["parsed"] for c in cells for row in c["per_example"] if row["parsed"] is not None}
    return sorted(seen)


def task_labels(cells: list[dict]) -> dict[str, list[str]]:
    """Each task's label set for F1 resamples (empty for tasks whose metric needs none)."""
    labels = {}
    for task in {c["task"] for c in cells}:
        group = [c for c in cells if c["task"] == task]
        labels[task] = label_union(group) if group[0]["primary_metric"] in F1_METRICS else []
    return labels


def paired_table(cells: list[dict], reference: str, bootstrap: dict) -> pd.DataFrame:
    """Every non-reference cell against its task's reference, with BH-adjusted p-values per task."""
    tables, labels = [], task_labels(cells)
    for task in sorted(labels):
        group = [c for c in cells if c["task"] == task]
        ref = pick_reference(group, reference)
        rows = [
            compare(c, ref, labels[task], bootstrap["n_resamples"], bootstrap["confidence"], bootstrap["seed"])
            for c in group
            if c is not ref
        ]
        if rows:
            table = pd.DataFrame(rows)
            table["p_adjusted_bh"] = false_discovery_control(table["p_value"].to_numpy())
            tables.append(table)
    columns = [*KEYS, "reference", "metric", "difference", "ci_low", "ci_high", "p_value", "p_adjusted_bh", "n"]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
