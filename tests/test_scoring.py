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
    assert (table["p_adjusted_bh"] >= table["p_value"]).all()


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
