"""Paired bootstrap on constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from breakeven.analysis.paired import paired_table

BOOT = {"n_resamples": 4000, "confidence": 0.95, "seed": 0}


def cell(condition: str, kind: str, scores: list[float], metric: str = "pass_at_1") -> dict:
    return {
        "task": "t",
        "system": "m",
        "condition": condition,
        "seed": 0,
        "kind": kind,
        "primary_metric": metric,
        "metrics": {metric: {"value": float(np.mean(scores))}},
        "per_example": [{"id": str(i), metric: s} for i, s in enumerate(scores)],
    }


def test_identical_cells_differ_by_nothing():
    scores = list(np.random.default_rng(0).integers(0, 2, 200).astype(float))
    table = paired_table([cell("lora", "lora", scores), cell("zero", "prompt", scores)], "best_lora", BOOT)
    row = table.iloc[0]
    assert row["difference"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0 and row["p_value"] == 1.0


def test_clear_difference_is_significant_and_matches_the_paired_t_interval():
    rng = np.random.default_rng(1)
    better = (rng.random(400) < 0.8).astype(float)
    worse = np.where(rng.random(400) < 0.7, better, 0.0)  # loses ~24% of the wins, never gains
    table = paired_table([cell("lora", "lora", list(better)), cell("zero", "prompt", list(worse))], "best_lora", BOOT)
    row = table.iloc[0]
    d = worse - better
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert row["difference"] == pytest.approx(d.mean())
    assert row["ci_low"] == pytest.approx(d.mean() - 1.96 * se, abs=0.01)
    assert row["ci_high"] == pytest.approx(d.mean() + 1.96 * se, abs=0.01)
    assert row["p_value"] < 0.001 and row["reference"] == "m · lora · seed 0"


def test_noise_is_not_significant_and_p_values_are_adjusted():
    rng = np.random.default_rng(2)
    base = list((rng.random(300) < 0.5).astype(float))
    cells = [cell("lora", "lora", base)] + [
        cell(f"c{i}", "prompt", list((rng.random(300) < 0.5).astype(float))) for i in range(4)
    ]
    cells[0]["metrics"]["pass_at_1"]["value"] = 1.0  # make sure it is the reference
    table = paired_table(cells, "best_lora", BOOT)
    assert len(table) == 4 and (table["p_adjusted_bh"] >= table["p_value"]).all()


def test_macro_f1_difference_uses_the_same_resamples():
    golds = ["a", "b", "c"] * 50
    ref = {
        "task": "t",
        "system": "m",
        "condition": "lora",
        "seed": 0,
        "kind": "lora",
        "primary_metric": "macro_f1",
        "metrics": {"macro_f1": {"value": 1.0}},
        "per_example": [{"id": str(i), "gold": g, "parsed": g} for i, g in enumerate(golds)],
    }
    worse = dict(
        ref,
        condition="zero",
        kind="prompt",
        metrics={"macro_f1": {"value": 0.0}},
        per_example=[{"id": str(i), "gold": g, "parsed": None} for i, g in enumerate(golds)],
    )
    row = paired_table([ref, worse], "best_lora", BOOT).iloc[0]
    assert row["difference"] == -1.0 and row["ci_low"] == -1.0 and row["ci_high"] == -1.0
