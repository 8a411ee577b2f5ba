"""Paired bootstrap on constructed cases with known answers; the reference chosen without the test set."""

from __future__ import annotations

import numpy as np
import pytest

from breakeven.analysis.paired import compare, paired_table, pick_reference, resampling_design
from breakeven.stats.bootstrap import classification_ci

BOOT = {"n_resamples": 4000, "confidence": 0.95, "seed": 0}


def cell(condition: str, kind: str, scores, metric: str = "pass_at_1", val_loss=None, groups=None) -> dict:
    rows = [{"id": str(i), metric: float(s)} for i, s in enumerate(scores)]
    if groups is not None:
        rows = [{**row, "group": str(g)} for row, g in zip(rows, groups)]
    return {
        "task": "t",
        "system": "m",
        "condition": condition,
        "seed": 0,
        "kind": kind,
        "primary_metric": metric,
        "metrics": {metric: {"value": float(np.mean(scores))}},
        "per_example": rows,
        "training": {"val_loss": val_loss} if kind == "lora" else None,
    }


def test_identical_cells_differ_by_nothing():
    scores = list(np.random.default_rng(0).integers(0, 2, 200).astype(float))
    table = paired_table([cell("lora", "lora", scores), cell("zero", "prompt", scores)], "lora", "m", BOOT)
    row = table.iloc[0]
    assert row["difference"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0 and row["p_value"] == 1.0


def test_clear_difference_is_significant_and_matches_the_paired_t_interval():
    rng = np.random.default_rng(1)
    better = (rng.random(400) < 0.8).astype(float)
    worse = np.where(rng.random(400) < 0.7, better, 0.0)  # loses ~24% of the wins, never gains
    table = paired_table([cell("lora", "lora", better), cell("zero", "prompt", worse)], "lora", "m", BOOT)
    row = table.iloc[0]
    d = worse - better
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert row["difference"] == pytest.approx(d.mean())
    assert row["ci_low"] == pytest.approx(d.mean() - 1.96 * se, abs=0.01)
    assert row["ci_high"] == pytest.approx(d.mean() + 1.96 * se, abs=0.01)
    assert row["p_value"] < 0.001 and row["reference"] == "m · lora · seed 0"


def test_noise_is_not_significant_and_p_values_are_adjusted():
    """Four systems that answer at random against a fifth: no comparison is significant after BH, every CI
    holds zero, and the adjusted p-values are Benjamini-Hochberg's, worked by hand."""
    rng = np.random.default_rng(2)
    cells = [cell("lora", "lora", rng.random(300) < 0.5, val_loss=0.5)] + [
        cell(f"c{i}", "prompt", rng.random(300) < 0.5) for i in range(4)
    ]
    table = paired_table(cells, "lowest_val_loss", "m", BOOT)
    assert len(table) == 4
    assert (table["p_adjusted_bh"] > 0.05).all()
    assert ((table["ci_low"] < 0) & (table["ci_high"] > 0)).all()
    p = table["p_value"].to_numpy()
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    expected = np.empty_like(p)
    expected[order] = np.minimum(1, np.minimum.accumulate(ranked[::-1])[::-1])
    assert table["p_adjusted_bh"].to_numpy() == pytest.approx(expected)


def test_p_value_agrees_with_the_interval():
    """p < 0.05 exactly when the 95% CI excludes zero (both come from the same rescaled deviations)."""
    rng = np.random.default_rng(3)
    base = rng.random(200) < 0.6
    for flips in range(0, 30, 3):
        better = base | (np.arange(200) < flips)
        row = compare(cell("a", "prompt", better), cell("b", "prompt", base), [], 2000, 0.95, flips)
        assert (row["p_value"] < 0.05) == (row["ci_low"] > 0 or row["ci_high"] < 0)


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
    row = paired_table([ref, worse], "lora", "m", BOOT).iloc[0]
    assert row["difference"] == -1.0 and row["ci_low"] == -1.0 and row["ci_high"] == -1.0


def test_macro_ci_paired_test_makes_the_same_choice_as_the_cell_interval():
    """Against a reference that answers nothing (F1 0 on every resample), the paired difference is the cell's
    own F1, so its interval must be the cell's label-stratified one."""
    rng = np.random.default_rng(4)
    labels = [f"i{k}" for k in range(60)]
    golds = [labels[k] for k in np.repeat(np.arange(60), 2)]
    preds = [g if rng.random() < 0.5 else labels[rng.integers(0, 60)] for g in golds]
    own = classification_ci(golds, preds, labels, "macro_f1", 2000, 0.95, 0)

    def f1_cell(condition, parsed, value):
        rows = [{"id": str(i), "gold": g, "parsed": p} for i, (g, p) in enumerate(zip(golds, parsed))]
        return {**cell(condition, "prompt", [0.0]), "primary_metric": "macro_f1", "per_example": rows} | {
            "metrics": {"macro_f1": {"value": value}}
        }

    a, nothing = f1_cell("a", preds, own.value), f1_cell("none", [None] * len(golds), 0.0)
    assert resampling_design(a, [str(i) for i in range(len(golds))])["strata"] is not None
    row = compare(a, nothing, labels, 2000, 0.95, 0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((own.low, own.high))


def test_clustered_paired_test_resamples_groups():
    """Two systems whose difference is shared within each group: resampling groups widens the CI."""
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(20), 10)
    base = rng.random(200) < 0.5
    better = base | (rng.random(20) < 0.3)[groups]  # gains come in whole groups
    flat = compare(cell("a", "prompt", better), cell("b", "prompt", base), [], 4000, 0.95, 0)
    grouped = compare(
        cell("a", "prompt", better, groups=groups), cell("b", "prompt", base, groups=groups), [], 4000, 0.95, 0
    )
    assert grouped["n_groups"] == 20 and flat["n_groups"] is None
    assert grouped["difference"] == flat["difference"]
    assert grouped["ci_high"] - grouped["ci_low"] > 1.5 * (flat["ci_high"] - flat["ci_low"])


def test_reference_chosen_on_val_loss_not_on_test():
    cells = [
        cell("lora_50", "lora", [1.0] * 9 + [0.0], val_loss=0.9),  # best on test, worse on val
        cell("lora_200", "lora", [1.0] * 5 + [0.0] * 5, val_loss=0.4),
        cell("five", "prompt", [1.0] * 10),
    ]
    ref, how = pick_reference(cells, "lowest_val_loss", "m")
    assert ref["condition"] == "lora_200" and "lowest validation loss (0.4000 among 2)" in how
    table = paired_table(cells, "lowest_val_loss", "m", BOOT)
    assert set(table["reference"]) == {"m · lora_200 · seed 0"} and set(table["condition"]) == {"lora_50", "five"}
    assert table["reference_chosen_by"].str.contains("validation loss").all()


def test_reference_fixed_by_name_and_fallback_without_lora():
    cells = [cell("zero", "prompt", [0.0, 1.0]), cell("five", "prompt", [1.0, 1.0])]
    cells[1]["run"] = {"shots": 5}
    assert pick_reference(cells, "zero", "m")[0]["condition"] == "zero"
    ref, how = pick_reference(cells, "lowest_val_loss", "m")
    assert ref["condition"] == "five" and "most shots" in how
    with pytest.raises(ValueError, match="no cell with condition 'lora'"):
        pick_reference(cells, "lora", "m")
    with pytest.raises(ValueError, match="'other' has no cell"):
        pick_reference(cells, "zero", "other")


def test_reference_chosen_on_val_keeps_the_false_positive_rate_nominal():
    """All cells equal (accuracy 0.6, n = 200), four LoRA candidates: how often is five-shot "significantly
    worse" than the reference (95% CI below zero; nominal 2.5%)? Picking the best LoRA cell on test inflates
    it; a pick on validation loss (independent of the test answers) does not."""
    rng = np.random.default_rng(6)
    runs, worse = 300, {"test": 0, "val": 0}
    for run in range(runs):
        loras = [cell(f"lora_{i}", "lora", rng.random(200) < 0.6, val_loss=rng.random()) for i in range(4)]
        five = cell("five", "prompt", rng.random(200) < 0.6)
        on_test = max(loras, key=lambda c: c["metrics"]["pass_at_1"]["value"])
        on_val, _ = pick_reference([*loras, five], "lowest_val_loss", "m")
        for rule, ref in (("test", on_test), ("val", on_val)):
            worse[rule] += compare(five, ref, [], 1000, 0.95, run)["ci_high"] < 0
    assert worse["val"] / runs <= 0.05  # 2.8% over 1,000 runs
    assert worse["test"] / runs >= 0.07  # 10.4% over 1,000 runs (22.4% with 18 candidates)


def test_reference_and_resampling_are_stated_in_the_paper():
    from breakeven.report.fragments import paired_text

    groups = np.repeat(np.arange(10), 4)
    rng = np.random.default_rng(7)
    cells = [
        cell("lora_50", "lora", rng.random(40) < 0.5, val_loss=0.8, groups=groups),
        cell("lora_200", "lora", rng.random(40) < 0.5, val_loss=0.3, groups=groups),
    ]
    text = paired_text(paired_table(cells, "lowest_val_loss", "m", BOOT))
    assert "t: m · lora_200 · seed 0, the LoRA cell of m with the lowest validation loss (0.3000 among 2)" in text
    assert "resampling whole groups (10 groups of 40 examples)" in text
