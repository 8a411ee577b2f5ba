"""The CUAD task adapter on the rebuilt grid: windows per question, training targets, aggregation, scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MIRROR

from breakeven.config import Project
from breakeven.data.documents import attach_documents, split_documents
from breakeven.jsonio import read_yaml
from breakeven.tasks import build_task
from breakeven.tasks.span_qa import NO_ANSWER

pytestmark = pytest.mark.skipif(not (MIRROR / "cuad").exists(), reason=f"no CUAD mirror at {MIRROR}")


@pytest.fixture(scope="module")
def grid():
    from breakeven import REPO_ROOT
    from breakeven.data.sources import load_raw

    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {"tasks": ["cuad"]}
    project = Project(config)
    rows = load_raw(project.tasks["cuad"]["source"], str(MIRROR))
    return build_task(project.adapter_config("cuad")), rows


def test_balanced_grid_and_documents_round_trip(grid):
    _, rows = grid
    answered = sum(not r["target"]["is_impossible"] for r in rows)
    assert answered * 2 == len(rows) == 13404
    slim, documents = split_documents(rows, "contract")
    assert len(documents) == 510 and "context" not in slim[0]["input"]
    restored = attach_documents(slim[:50], _write(documents))
    assert [r["input"]["context"] for r in restored] == [r["input"]["context"] for r in rows[:50]]


def _write(documents: dict) -> Path:
    import tempfile

    from breakeven.jsonio import write_json

    path = Path(tempfile.mkdtemp()) / "documents.json"
    write_json(path, documents)
    return path


def test_requests_cover_the_contract_and_gold_answers_score_one(grid):
    task, rows = grid
    answered = [r for r in rows if not r["target"]["is_impossible"]][:40]
    for row in answered:
        requests = task.requests(row, [])
        assert 1 <= len(requests) <= task.chunking["max_windows"]
        target = task.target_text(row)
        window_text = task.messages(row, [])[-1]["content"]
        if target != NO_ANSWER:  # the answer lies in the first 40 windows
            assert target in window_text
            outputs = [target if target in r[-1]["content"] else NO_ANSWER for r in requests]
            scores = task.score(task.combine(outputs), row)
            assert scores["token_f1"] == 1.0 and scores["error_class"] == "correct"


def test_no_answer_and_spurious_answers(grid):
    task, rows = grid
    empty = next(r for r in rows if r["target"]["is_impossible"])
    assert task.score(task.combine([NO_ANSWER, "No answer."]), empty)["error_class"] == "correct"
    spurious = task.score(task.combine([NO_ANSWER, "This Agreement shall terminate"]), empty)
    assert spurious["error_class"] == "spurious_answer" and spurious["token_f1"] == 0.0
    answered = next(r for r in rows if not r["target"]["is_impossible"])
    assert task.score(NO_ANSWER, answered)["error_class"] == "missed_answer"


def test_cell_metrics_include_detection(grid):
    task, rows = grid
    sample = rows[:20] + [r for r in rows if not r["target"]["is_impossible"]][:20]
    outputs = [a["text"] if (a := (r["target"]["answers"] or [None])[0]) else NO_ANSWER for r in sample]
    per_example = task.score_batch(outputs, sample)
    confident = [{**row, "confidence": 0.9 if row["predicted_answer"] else 0.1} for row in per_example]
    metrics = task.metrics(confident, {"n_resamples": 500, "confidence": 0.95, "seed": 0})
    assert metrics["token_f1"]["value"] == 1.0
    assert metrics["detection_f1"]["value"] == 1.0 and metrics["detection_aupr"]["value"] == 1.0
    assert metrics["detection_p_at_80r"]["value"] == 1.0
