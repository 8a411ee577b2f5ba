"""Pre-registered hypotheses (from config), each tested per task and system with the paired bootstrap.

A hypothesis says one condition (``better``) beats another (``worse``) on the primary metric, of the same
system unless ``better_system`` / ``worse_system`` pin one side (e.g. LoRA of every open model against one
API's five-shot cell). For every task and every system that has both cells (first seed), the difference ``better - worse`` gets a percentile CI and a
two-sided p-value; p-values across all tests are adjusted with Benjamini-Hochberg. The verdict rests on the
adjusted p-value and the registered sign: a test supports the hypothesis when its BH-adjusted p is below
1 - confidence and ``better - worse`` is positive, contradicts it when the adjusted p is below that level and the
difference is negative, and is inconclusive otherwise.
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import false_discovery_control

from breakeven.analysis.paired import compare, task_labels

COLUMNS = [
    "hypothesis",
    "task",
    "system",
    "better",
    "worse",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted_bh",
    "alpha",
    "verdict",
]


def verdict(difference: float, p_adjusted: float, alpha: float) -> str:
    """supported / contradicted when the BH-adjusted p is below ``alpha``, by the sign of better - worse."""
    if p_adjusted >= alpha or difference == 0:
        return "inconclusive"
    return "supported" if difference > 0 else "contradicted"


def _first_seed(cells: list[dict], task: str, system: str, condition: str) -> dict | None:
    found = [c for c in cells if (c["task"], c["system"], c["condition"]) == (task, system, condition)]
    return min(found, key=lambda c: c["seed"]) if found else None


def hypothesis_table(cells: list[dict], hypotheses: list[dict], bootstrap: dict) -> pd.DataFrame:
    """One row per (hypothesis, task, system) that has both conditions."""
    rows, seen = [], set()
    labels = task_labels(cells)
    for hypothesis in hypotheses:
        for task, system in sorted({(c["task"], c["system"]) for c in cells}):
            better_system = hypothesis.get("better_system") or system
            worse_system = hypothesis.get("worse_system") or system
            key = (hypothesis["id"], task, better_system, worse_system)
            better = _first_seed(cells, task, better_system, hypothesis["better"])
            worse = _first_seed(cells, task, worse_system, hypothesis["worse"])
            if better is None or worse is None or key in seen or better is worse:
                continue
            seen.add(key)
            test = compare(
                better, worse, labels[task], bootstrap["n_resamples"], bootstrap["confidence"], bootstrap["seed"]
            )
            rows.append(
                {
                    "hypothesis": hypothesis["id"],
                    "task": task,
                    "system": better_system if better_system == worse_system else f"{better_system} vs {worse_system}",
                    "better": hypothesis["better"],
                    "worse": hypothesis["worse"],
                    **{k: test[k] for k in ("difference", "ci_low", "ci_high", "p_value")},
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_adjusted_bh", "alpha", "verdict")])
    table["p_adjusted_bh"] = false_discovery_control(table["p_value"].to_numpy()) if len(table) else []
    alpha = round(1 - bootstrap["confidence"], 10)
    table["alpha"] = alpha
    table["verdict"] = [verdict(d, p, alpha) for d, p in zip(table["difference"], table["p_adjusted_bh"])]
    return table[COLUMNS]
