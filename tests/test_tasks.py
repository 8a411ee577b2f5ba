"""Label parsing, multiple choice and code extraction on hand-worked outputs; every bad answer is scored."""

from __future__ import annotations

import pytest
from conftest import MIRROR

from breakeven.tasks.classification import ClassificationTask, LabelParser, MultipleChoiceTask
from breakeven.tasks.codegen import extract_code

BANKING = ["card_arrival", "card_linking", "exchange_rate", "lost_or_stolen_card"]


@pytest.mark.parametrize(
    ("output", "label", "how"),
    [
        ("card_arrival", "card_arrival", "exact"),
        ("  Card Arrival.\n", "card_arrival", "normalised"),
        ("Label: exchange_rate", "exchange_rate", "exact"),
        ("lost or stolen crd", "lost_or_stolen_card", "closest"),
        ("I think the customer wants a refund", None, "unparseable"),
        ("", None, "empty"),
    ],
)
def test_label_parser(output, label, how):
    assert LabelParser(BANKING).parse(output) == (label, how)


def classification_task(labels, metric="macro_f1"):
    cfg = {"name": "t", "kind": "classification", "labels": labels, "primary_metric": metric}
    return ClassificationTask(cfg, {"system": "Pick one of:\n{labels}", "user": "{input}"})


def test_classification_scores_and_metrics():
    task = classification_task(["pos", "neg", "neu"])
    examples = [{"id": str(i), "input": "x", "target": t} for i, t in enumerate(["pos", "neg", "neu", "pos"])]
    outputs = ["pos", "neu", " Neu!! ", "blah"]
    rows = task.score_batch(outputs, examples)
    assert [r["error_class"] for r in rows] == ["correct", "wrong_label", "correct", "unparseable"]
    metrics = task.metrics(rows, {"n_resamples": 500, "confidence": 0.95, "seed": 0})
    assert metrics["accuracy"]["value"] == 0.5
    assert metrics["valid_label"]["value"] == 0.75
    # per class F1: pos 2/3 (tp1, fn1), neg 0, neu 2/3 (tp1, fp1) -> macro over seen labels = 4/9
    assert metrics["macro_f1"]["value"] == pytest.approx(4 / 9)
    assert "Pick one of:\npos\nneg\nneu" == task.messages(examples[0], [])[0]["content"]


def mc_task():
    return MultipleChoiceTask(
        {"name": "m", "kind": "multiple_choice", "primary_metric": "accuracy", "n_options": 4},
        {"system": "Answer with a letter.", "user": "{input}"},
    )


EXAMPLE = {
    "id": "q",
    "input": {"question": "Drug of choice?", "options": ["Aspirin", "Heparin", "Warfarin", "A placebo"]},
    "target": "B",
}


@pytest.mark.parametrize(
    ("output", "parsed"),
    [
        ("B", "B"),
        ("(B) Heparin", "B"),
        ("B. Heparin", "B"),
        ("The answer is B.", "B"),
        ("heparin", "B"),
        ("A placebo", "D"),
        ("A patient should get heparin", None),
        ("", None),
        ("E", None),
    ],
)
def test_multiple_choice_parsing(output, parsed):
    assert mc_task().parse(output, EXAMPLE)[0] == parsed


def test_multiple_choice_prompt_lists_lettered_options():
    text = mc_task().messages(EXAMPLE, [])[-1]["content"]
    assert "Drug of choice?\nA. Aspirin\nB. Heparin\nC. Warfarin\nD. A placebo" == text


def test_extract_code():
    assert extract_code("Here:\n```python\ndef f():\n    return 1\n```\nDone") == "def f():\n    return 1"
    assert extract_code("def g(x):\n    return x") == "def g(x):\n    return x"
    assert extract_code("```\nprint(1)\n```") == "print(1)"
    assert extract_code("```python\ndef cut_off(") == "def cut_off("


@pytest.mark.skipif(not (MIRROR / "mbpp").exists(), reason=f"no MBPP mirror at {MIRROR}")
def test_mbpp_task_scores_references_and_broken_answers_in_the_sandbox():
    from breakeven.data.mirror import read_mirror
    from breakeven.tasks.codegen import CodeTask

    rows = [r for r in read_mirror("mbpp", MIRROR) if r["meta"]["split"] == "test"][:12]
    task = CodeTask(
        {"name": "mbpp", "kind": "code", "primary_metric": "pass_at_1", "execution": {"timeout_s": 10}},
        {"system": "Write Python.", "user": "{input}"},
    )
    references = [task.target_text(r) for r in rows]  # fenced, as a model would answer
    broken = ["", "def nothing(:\n", "```python\nwhile True:\n    pass\n```", "I cannot help with that."]
    scores = task.score_batch(references + broken, rows + rows[:4])
    assert [s["pass_at_1"] for s in scores[:12]] == [1.0] * 12
    assert [s["error_class"] for s in scores[12:]] == ["empty", "syntax_error", "timeout", "syntax_error"]
    metrics = task.metrics(scores, {"n_resamples": 500, "confidence": 0.95, "seed": 0})
    assert metrics["pass_at_1"]["value"] == pytest.approx(12 / 16)
    assert "assert" in task.messages(rows[0], [])[-1]["content"]
