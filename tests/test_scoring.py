"""Scoring a cell: every answer classified (refusal, empty, unparseable, generation error), hypotheses and
the spread across seeds and test resamples on constructed cells with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from breakeven.analysis.hypotheses import hypothesis_table
from breakeven.analysis.variability import spread_table
from breakeven.score.cell import score_cell
from breakeven.tasks.classification import ClassificationTask

BOOTSTRAP = {"n_resamples": 2000, "confidence": 0.95, "seed": 0}


def task():
    cfg = {"name": "t", "kind": "classification", "labels": ["pos", "neg"], "primary_metric": "accuracy"}
    return ClassificationTask(cfg, {"system": "{labels}", "user": "{input}"})


def prediction(i: int, output: str, **extra) -> dict:
    return {"id": str(i), "output": output, "latency_s": 0.5, "input_tokens": 10, "output_tokens": 2, **extra}


def test_every_answer_gets_an_error_class():
    examples = [{"id": str(i), "input": "x", "target": "pos"} for i in range(6)]
    outputs = ["pos", "neg", "", "I'm sorry, but I can't classify that.", "the weather is nice", "pos"]
    predictions = [prediction(i, out) for i, out in enumerate(outputs)]
    predictions[5] = prediction(5, "", error="RateLimitError after 6 tries")
    cell = score_cell(task(), examples, predictions, BOOTSTRAP)
    classes = [row["error_class"] for row in cell["per_example"]]
    assert classes == ["correct", "wrong_label", "empty", "refusal", "unparseable", "generation_error"]
    assert cell["metrics"]["accuracy"]["value"] == pytest.approx(1 / 6)


def test_clustered_rows_carry_their_group_and_the_ci_resamples_groups():
    examples = [{"id": str(i), "input": {"contract": f"c{i // 5}", "q": "x"}, "target": "pos"} for i in range(40)]
    outputs = ["pos" if (i // 5) % 2 else "neg" for i in range(40)]  # right or wrong by contract
    predictions = [prediction(i, out) for i, out in enumerate(outputs)]
    flat = score_cell(task(), examples, predictions, BOOTSTRAP)
    grouped = score_cell(task(), examples, predictions, BOOTSTRAP, group_field="contract")
    assert [row["group"] for row in grouped["per_example"]][:6] == ["c0"] * 5 + ["c1"]
    assert "group" not in flat["per_example"][0]
    flat_ci, grouped_ci = flat["metrics"]["accuracy"], grouped["metrics"]["accuracy"]
    assert grouped_ci["value"] == flat_ci["value"] == 0.5
    assert grouped_ci["ci_high"] - grouped_ci["ci_low"] > 1.8 * (flat_ci["ci_high"] - flat_ci["ci_low"])
    assert "8 groups" in grouped_ci["method"]
    with pytest.raises(ValueError, match="group_field 'document' is not a field"):
        score_cell(task(), examples, predictions, BOOTSTRAP, group_field="document")


def test_missing_predictions_are_an_error_not_a_silent_skip():
    examples = [{"id": str(i), "input": "x", "target": "pos"} for i in range(3)]
    with pytest.raises(ValueError, match="lack 1 test examples"):
        score_cell(task(), examples, [prediction(0, "pos"), prediction(1, "neg")], BOOTSTRAP)


def cell(condition: str, correct: list[bool], seed: int = 0, system: str = "m") -> dict:
    rows = [
        {"id": str(i), "accuracy": float(ok), "gold": "pos", "parsed": "pos" if ok else "neg"}
        for i, ok in enumerate(correct)
    ]
    return {
        "task": "t",
        "system": system,
        "condition": condition,
        "seed": seed,
        "primary_metric": "accuracy",
        "metrics": {"accuracy": {"value": float(np.mean(correct))}},
        "per_example": rows,
    }


def test_hypotheses_get_verdicts_from_the_paired_bootstrap():
    rng = np.random.default_rng(0)
    base = rng.random(300) < 0.5
    better = base | (rng.random(300) < 0.4)  # strictly more right answers on the same examples
    cells = [cell("lora", list(better)), cell("five", list(base)), cell("zero", list(base))]
    hypotheses = [
        {"id": "H1", "statement": "", "better": "lora", "worse": "five"},
        {"id": "H2", "statement": "", "better": "five", "worse": "lora"},
        {"id": "H3", "statement": "", "better": "five", "worse": "zero"},
        {"id": "H4", "statement": "", "better": "lora", "worse": "absent"},
    ]
    table = hypothesis_table(cells, hypotheses, BOOTSTRAP).set_index("hypothesis")
    assert list(table.index) == ["H1", "H2", "H3"]  # H4 has no cells to compare
    assert table.loc["H1", "verdict"] == "supported" and table.loc["H2", "verdict"] == "contradicted"
    assert table.loc["H3", "verdict"] == "inconclusive" and table.loc["H3", "difference"] == 0
    assert table.loc["H1", "difference"] == pytest.approx(better.mean() - base.mean())
    assert table.loc["H1", "p_adjusted_bh"] < 0.05 and table.loc["H3", "p_adjusted_bh"] == 1.0


def test_verdict_uses_bh_adjusted_p():
    """A single test with p ~ 0.02 (its CI excludes zero) among three null ones: after BH across the four it is
    no longer significant, so the verdict is inconclusive; on its own it is supported."""
    rng = np.random.default_rng(3)
    base = rng.random(300) < 0.5
    better = base.copy()
    better[np.flatnonzero(~base)[:14]] = True  # 14 gains ...
    better[np.flatnonzero(base)[:4]] = False  # ... and 4 losses: +10 of 300
    cells = [cell("lora", list(better)), cell("five", list(base))]
    cells += [cell(f"null{i}", list(rng.random(300) < 0.5)) for i in range(3)]
    hypotheses = [{"id": "H1", "statement": "", "better": "lora", "worse": "five"}]
    hypotheses += [{"id": f"N{i}", "statement": "", "better": f"null{i}", "worse": "five"} for i in range(3)]
    table = hypothesis_table(cells, hypotheses, BOOTSTRAP).set_index("hypothesis")
    h1 = table.loc["H1"]
    assert h1["p_value"] < 0.05 and h1["ci_low"] > 0  # the unadjusted CI alone would say "supported"
    assert h1["p_adjusted_bh"] > 0.05 and h1["verdict"] == "inconclusive"
    alone = hypothesis_table(cells, hypotheses[:1], BOOTSTRAP).iloc[0]
    assert alone["p_adjusted_bh"] == alone["p_value"] and alone["verdict"] == "supported"


def test_spread_across_training_seeds_and_test_resamples():
    rng = np.random.default_rng(1)
    seeds = [cell("lora", list(rng.random(400) < p), seed=s) for s, p in enumerate((0.6, 0.7, 0.8))]
    row = spread_table(seeds, n_eval_seeds=200, seed=0).iloc[0]
    values = [c["metrics"]["accuracy"]["value"] for c in seeds]
    assert row["n_seeds"] == 3 and row["seed_mean"] == pytest.approx(np.mean(values))
    assert row["seed_sd"] == pytest.approx(np.std(values, ddof=1))
    # resampling noise of a proportion: sqrt(p(1-p)/n) ~ 0.023 at p ~ 0.7, n = 400
    assert 0.015 < row["eval_sd"] < 0.03 and row["eval_mean"] == pytest.approx(np.mean(values), abs=0.01)


def test_a_hypothesis_can_pin_one_side_to_an_api_system():
    rng = np.random.default_rng(2)
    api = rng.random(300) < 0.6
    cells = [
        cell("five", list(api), system="api"),
        cell("lora", list(api | (rng.random(300) < 0.5)), system="m1"),
        cell("lora", list(api & (rng.random(300) < 0.5)), system="m2"),
    ]
    hypotheses = [{"id": "H", "statement": "", "better": "lora", "worse": "five", "worse_system": "api"}]
    table = hypothesis_table(cells, hypotheses, BOOTSTRAP).set_index("system")
    assert list(table.index) == ["m1 vs api", "m2 vs api"]
    assert table.loc["m1 vs api", "verdict"] == "supported" and table.loc["m2 vs api", "verdict"] == "contradicted"


def test_verdict_rule_is_stated_in_the_table():
    from breakeven.report.hypotheses import hypotheses_results

    cells = [cell("lora", [True] * 40 + [False] * 10), cell("five", [False] * 50)]
    table = hypothesis_table(cells, [{"id": "H1", "statement": "", "better": "lora", "worse": "five"}], BOOTSTRAP)
    text = hypotheses_results(table)
    assert "supported = p (BH) < 0.05 with better − worse > 0" in text and "| supported |" in text
