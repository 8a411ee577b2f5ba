"""The base-model gate on constructed pass rates (all three decisions, ranking, gating) and the chance level."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from breakeven.report.base_evaluation import base_model_document, gate_fragment
from breakeven.selection.gate import (
    DEPLOY,
    FINE_TUNE,
    FULL,
    candidate_row,
    chance_rate,
    contamination,
    decide,
    pass_rate,
    select,
)
from breakeven.tasks.classification import ClassificationTask

GATE = {
    "sufficient": 0.70,
    "fine_tune": 0.50,
    "gate": True,
    "extraction_rubric": None,
    "contamination_margin": 0.3,
}


def scored(passes: int, n: int, failure: str = "wrong_label") -> list[dict]:
    return [{"id": f"e{i}", "error_class": "correct" if i < passes else failure} for i in range(n)]


def cell(passes: int, n: int) -> dict:
    return {
        "primary_metric": "accuracy",
        "metrics": {"accuracy": {"value": passes / n}},
        "per_example": scored(passes, n),
    }


@pytest.mark.parametrize(
    ("rate", "decision"),
    [(0.95, DEPLOY), (0.70, DEPLOY), (0.69, FINE_TUNE), (0.50, FINE_TUNE), (0.49, FULL), (0.0, FULL)],
)
def test_decision_thresholds(rate, decision):
    assert decide(rate, 0.70, 0.50) == decision


def test_pass_rate_has_a_wilson_interval():
    rate = pass_rate(scored(7, 20), rubric=None).as_dict()
    expected = binomtest(7, 20).proportion_ci(method="wilson")
    assert rate["rate"] == 0.35 and rate["ci_low"] == pytest.approx(expected.low)
    assert rate["ci_high"] == pytest.approx(expected.high)


def test_extraction_rubric_counts_partly_right_answers():
    rows = [{"error_class": "partially_correct", "field_f1": f} for f in (0.5, 0.8, 1.0)]
    assert pass_rate(rows, rubric=None).passes == 0
    assert pass_rate(rows, rubric=0.75).passes == 2


@pytest.mark.parametrize(
    ("passes", "decision", "gated"), [(16, DEPLOY, True), (12, FINE_TUNE, False), (4, FULL, False)]
)
def test_selection_ranks_candidates_and_gates_only_sufficient_bases(tmp_path, passes, decision, gated):
    models = {
        "big": {"name": "big", "parameters_b": 8.0, "license": "Apache-2.0"},
        "small": {"name": "small", "parameters_b": 4.0, "license": "Gemma"},
    }
    cells = {"big": cell(passes, 20), "small": cell(passes - 2, 20)}
    candidates = [candidate_row(models[m], cells[m], {}, rubric=None) for m in models]
    for candidate in candidates:
        candidate["contamination"] = contamination(
            cells[candidate["model"]], {"rate": 0.1}, candidate["pass_rate"], None, GATE["contamination_margin"]
        )
    selection = select("t", candidates, GATE)
    assert (selection["primary"], selection["backup"]) == ("big", "small")
    assert selection["decision"] == decision and selection["gated"] == gated
    assert f"{passes / 20:.0%}" in selection["rationale"]

    assert not select("t", candidates, GATE | {"gate": False})["gated"]

    document = base_model_document("run", [selection])
    assert "| big | 8.0 | Apache-2.0 |" in document and f"**Decision:** {decision}" in document
    flagged = passes / 20 - 0.1 > GATE["contamination_margin"]
    assert ("FLAGGED" in document) == flagged
    assert ("LoRA cells skipped" in gate_fragment([selection])) == gated


def test_equal_pass_rates_prefer_the_smaller_model():
    models = [{"name": "a", "parameters_b": 8.0}, {"name": "b", "parameters_b": 4.0}]
    candidates = [candidate_row(m, cell(10, 20), {}, rubric=None) for m in models]
    for candidate in candidates:
        candidate["contamination"] = contamination(cell(10, 20), {"rate": 0.0}, candidate["pass_rate"], None, 0.3)
    assert select("t", candidates, GATE)["primary"] == "b"


def test_failure_analysis_counts_classes_with_examples():
    rows = scored(2, 6, failure="unparseable")
    rows[-1]["error_class"] = "empty"
    entry = candidate_row({"name": "m"}, {**cell(2, 6), "per_example": rows}, {"e2": "no idea", "e5": ""}, None)
    assert entry["failures"]["unparseable"]["count"] == 3 and entry["failures"]["empty"]["count"] == 1
    assert entry["failures"]["unparseable"]["examples"][0] == {"id": "e2", "output": "no idea"}


def test_chance_is_the_majority_answer_under_the_task_scorer():
    task = ClassificationTask(
        {"name": "t", "kind": "classification", "labels": ["pos", "neg", "neu"], "primary_metric": "accuracy"},
        {"system": "{labels}", "user": "{input}"},
    )
    train = [{"id": str(i), "input": "x", "target": t} for i, t in enumerate(["neg"] * 5 + ["pos"] * 3)]
    test = [{"id": str(i), "input": "x", "target": t} for i, t in enumerate(["neg", "pos", "neg", "neu"])]
    chance = chance_rate(task, train, test, rubric=None)
    assert chance["answer"] == "neg" and chance["rate"] == 0.5
