"""Paired bootstrap of each cell against a reference cell of the same task (same test examples).

The difference of the primary metric is recomputed on every resample, with the same resampled examples for
both cells, under the task's resampling design (``resampling_design``: whole groups where examples share one,
label-stratified for F1 metrics; see breakeven.stats.bootstrap). Its CI is the basic bootstrap interval (for
F1 metrics with the stratified deviations rescaled, as in a cell's own CI); the two-sided p-value is the one
that interval implies: twice the share of resampled deviations at least as far beyond zero as the observed
difference, so p < 1 - confidence exactly when the CI excludes zero. Within a task the p-values are adjusted for
multiple comparisons with the Benjamini-Hochberg procedure (scipy.stats.false_discovery_control).

The reference is never chosen on the test set: ``lowest_val_loss`` takes the LoRA cell of the reference system
with the lowest validation loss (recorded by its training run), any other value names a condition fixed before
the run (``pick_reference``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from breakeven.stats.bootstrap import basic_interval, f1_samples, label_strata, mean_samples, stratified_scale

F1_METRICS = ("macro_f1", "weighted_f1")
KEYS = ("task", "system", "condition", "seed")
LOWEST_VAL_LOSS = "lowest_val_loss"


def resampling_design(cell: dict, order: list[str]) -> dict[str, list | None]:
    """The ``groups`` and ``strata`` keyword arguments every resample of this cell's examples (in ``order``)
    is drawn with: the examples' groups where the metrics file has them, else the gold labels (pooled
    singletons) for F1 metrics. Pass them to both metric_samples and mean_samples to pair the two."""
    rows = {row["id"]: row for row in cell["per_example"]}
    if order and "group" in rows[order[0]]:
        return {"groups": [rows[i]["group"] for i in order], "strata": None}
    if cell["primary_metric"] in F1_METRICS:
        return {"groups": None, "strata": label_strata([rows[i]["gold"] for i in order])}
    return {"groups": None, "strata": None}


def design_scale(cell: dict, order: list[str], design: dict) -> float:
    """The factor that rescales the deviations of stratified resamples (1 for other designs)."""
    rows = {row["id"]: row for row in cell["per_example"]}
    golds = [rows[i].get("gold") for i in order]
    return stratified_scale(golds, design["strata"], cell["primary_metric"])


def metric_samples(
    cell: dict,
    order: list[str],
    labels: list[str],
    n_resamples: int,
    seed: int,
    groups: list | None = None,
    strata: list | None = None,
) -> np.ndarray:
    """The cell's primary metric on each resample of its test examples (taken in ``order``); for one seed,
    ``groups`` and ``strata`` the resamples are those of mean_samples."""
    rows = {row["id"]: row for row in cell["per_example"]}
    metric = cell["primary_metric"]
    if metric in F1_METRICS:
        golds = [rows[i]["gold"] for i in order]
        preds = [rows[i]["parsed"] for i in order]
        return f1_samples(golds, preds, labels, metric, n_resamples, seed, groups=groups, strata=strata)
    return mean_samples([rows[i][metric] for i in order], n_resamples, seed, groups=groups, strata=strata)


def pick_reference(cells: list[dict], reference: str, system: str) -> tuple[dict, str]:
    """The reference cell of one task's ``cells`` and how it was chosen, without looking at test scores.

    ``lowest_val_loss``: the LoRA cell of ``system`` with the lowest validation loss (first seed on ties); a
    task without one (e.g. gated) falls back to ``system``'s prompt cell with the most shots. Any other value
    names a condition: ``system``'s cell of it, first seed."""
    own = sorted((c for c in cells if c["system"] == system), key=lambda c: c["seed"])
    if not own:
        raise ValueError(f"statistics.reference_system: {system!r} has no cell in task {cells[0]['task']!r}")
    if reference == LOWEST_VAL_LOSS:
        scored = [c for c in own if c["kind"] == "lora" and (c.get("training") or {}).get("val_loss") is not None]
        if scored:
            best = min(scored, key=lambda c: c["training"]["val_loss"])
            return best, (
                f"the LoRA cell of {system} with the lowest validation loss ({best['training']['val_loss']:.4f} "
                f"among {len(scored)})"
            )
        prompt = [c for c in own if c["kind"] == "prompt"]
        if not prompt:
            raise ValueError(f"statistics.reference: {system!r} has no LoRA or prompt cell in {own[0]['task']!r}")
        best = max(prompt, key=lambda c: ((c.get("run") or {}).get("shots", 0), -c["seed"]))
        return best, f"no LoRA cell of {system} has a validation loss: its prompt cell with the most shots"
    named = [c for c in own if c["condition"] == reference]
    if not named:
        raise ValueError(f"statistics.reference: {system!r} has no cell with condition {reference!r}")
    return named[0], f"fixed in the config (statistics.reference: {reference}, system {system})"


def paired_p_value(diffs: np.ndarray, observed: float, scale: float) -> float:
    """Two-sided p-value of "no difference" implied by the basic interval: twice the share of rescaled
    deviations that reach beyond the observed difference in its own direction."""
    if observed == 0:
        return 1.0
    beyond = np.sign(observed) * scale * (diffs - observed) >= abs(observed)
    return float(min(1.0, 2 * np.mean(beyond)))


def compare(cell: dict, ref: dict, labels: list[str], n_resamples: int, confidence: float, seed: int) -> dict:
    order = [row["id"] for row in ref["per_example"]]
    if sorted(order) != sorted(row["id"] for row in cell["per_example"]):
        raise ValueError(f"{cell['condition']} and {ref['condition']} were not scored on the same test examples")
    design = resampling_design(ref, order)
    diffs = metric_samples(cell, order, labels, n_resamples, seed, **design) - metric_samples(
        ref, order, labels, n_resamples, seed, **design
    )
    metric = cell["primary_metric"]
    observed = cell["metrics"][metric]["value"] - ref["metrics"][metric]["value"]
    scale = design_scale(ref, order, design)
    low, high = basic_interval(diffs, observed, confidence, scale)
    return {
        **{k: cell[k] for k in KEYS},
        "reference": f"{ref['system']} · {ref['condition']} · seed {ref['seed']}",
        "metric": metric,
        "difference": observed,
        "ci_low": max(-1.0, low),
        "ci_high": min(1.0, high),
        "p_value": max(paired_p_value(diffs, observed, scale), 1 / n_resamples),
        "n": len(order),
        "n_groups": len(set(design["groups"])) if design["groups"] is not None else None,
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


COLUMNS = [
    *KEYS,
    "reference",
    "reference_chosen_by",
    "metric",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted_bh",
    "n",
    "n_groups",
]


def paired_table(cells: list[dict], reference: str, system: str, bootstrap: dict) -> pd.DataFrame:
    """Every non-reference cell against its task's reference, with BH-adjusted p-values per task."""
    tables, labels = [], task_labels(cells)
    for task in sorted(labels):
        group = [c for c in cells if c["task"] == task]
        ref, chosen_by = pick_reference(group, reference, system)
        rows = [
            compare(c, ref, labels[task], bootstrap["n_resamples"], bootstrap["confidence"], bootstrap["seed"])
            for c in group
            if c is not ref
        ]
        if rows:
            table = pd.DataFrame(rows).assign(reference_chosen_by=chosen_by)
            table["p_adjusted_bh"] = false_discovery_control(table["p_value"].to_numpy())
            tables.append(table[COLUMNS])
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)
