"""Extraction parsing and scoring on hand-worked examples; malformed output is scored wrong, never raised."""

from __future__ import annotations

import json

import pytest

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.tasks import build_task
from breakeven.tasks.extraction import extract_json_object, set_f1

GOLD = {
    "customer_name": "Priya Shah",
    "issue_category": "billing",
    "urgency": 4,
    "primary_request": "refund duplicate charge",
    "mentioned_products": ["CloudVault Pro", "Nimbus Router X2"],
    "sentiment": "negative",
}
EXAMPLE = {"id": "e1", "input": "Hi, I was charged twice ...", "target": GOLD}


@pytest.fixture(scope="module")
def task(default_config=None):
    from breakeven.jsonio import read_yaml

    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    return build_task(project.tasks["support_email"])


def test_perfect_answer(task):
    scores = task.score(json.dumps(GOLD), EXAMPLE)
    assert scores["field_f1"] == 1.0 and scores["strict_all_correct"] == 1.0 and scores["valid_json"] == 1.0
    assert scores["error_class"] == "correct"


def test_normalisation_and_partial_credit(task):
    answer = dict(
        GOLD, customer_name="  priya   SHAH. ", urgency="4", mentioned_products=["cloudvault pro"], sentiment="neutral"
    )
    scores = task.score("Here you go:\n```json\n" + json.dumps(answer) + "\n```", EXAMPLE)
    # name, category, urgency, request right (4); products P=1 R=1/2 -> 2/3; sentiment wrong (0)
    assert scores["field_f1"] == pytest.approx((4 + 2 / 3) / 6)
    assert scores["strict_all_correct"] == 0.0
    assert scores["fields"]["mentioned_products"] == pytest.approx(2 / 3)
    assert scores["error_class"] == "partially_correct"


def test_missing_key_counts_as_null(task):
    gold = dict(GOLD, customer_name=None)
    answer = {k: v for k, v in GOLD.items() if k != "customer_name"}
    scores = task.score(json.dumps(answer), {"id": "e2", "input": "", "target": gold})
    assert scores["strict_all_correct"] == 1.0


@pytest.mark.parametrize(
    ("output", "error_class"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("The customer is Priya and she is angry.", "invalid_json"),
        ('{"customer_name": "Priya Shah", "urgency": ', "invalid_json"),
        ("[1, 2, 3]", "invalid_json"),
    ],
)
def test_malformed_output_is_scored_wrong(task, output, error_class):
    scores = task.score(output, EXAMPLE)
    assert scores["field_f1"] == 0.0 and scores["valid_json"] == 0.0 and scores["strict_all_correct"] == 0.0
    assert scores["error_class"] == error_class


def test_wrong_types_score_zero_for_that_field(task):
    answer = dict(GOLD, urgency="very high", mentioned_products="CloudVault Pro", issue_category=True)
    scores = task.score(json.dumps(answer), EXAMPLE)
    assert scores["fields"]["urgency"] == 0.0
    assert scores["fields"]["issue_category"] == 0.0
    assert scores["fields"]["mentioned_products"] == pytest.approx(2 / 3)  # a bare string is one item
    assert scores["valid_json"] == 1.0


def test_extract_json_object_skips_prose_and_broken_objects():
    assert extract_json_object('Sure! {"a": 1} and {"b": 2}') == {"a": 1}
    assert extract_json_object('{"a": {broken} then {"c": 3}') == {"c": 3}
    assert extract_json_object("no json here") is None


def test_set_f1():
    assert set_f1([], []) == 1.0
    assert set_f1(None, []) == 1.0
    assert set_f1(["a"], []) == 0.0
    assert set_f1(["a", "b"], ["b", "c"]) == pytest.approx(0.5)


def test_messages_put_shots_before_the_question(task):
    shot = {"id": "s", "input": "shot email", "target": GOLD}
    messages = task.messages(EXAMPLE, [shot])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "shot email" in messages[1]["content"] and EXAMPLE["input"] in messages[3]["content"]
    assert json.loads(messages[2]["content"]) == GOLD
