"""Every answer parser against a corpus of realistic raw answers (tests/data/parse_corpus.yaml): at least 30
per task kind, each with the parse the scorer must make."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakeven.jsonio import read_yaml
from breakeven.tasks.classification import LabelParser, MultipleChoiceTask
from breakeven.tasks.codegen import extract_code
from breakeven.tasks.extraction import extract_json_object
from breakeven.tasks.span_qa import parse_span

CORPUS = read_yaml(Path(__file__).parent / "data" / "parse_corpus.yaml")
KINDS = {
    "classification": CORPUS["classification"],
    "multiple_choice": CORPUS["multiple_choice"]["cases"],
    "extraction": CORPUS["extraction"],
    "span_qa": CORPUS["span_qa"],
    "code": CORPUS["code"],
}
PARSERS = {name: LabelParser(labels) for name, labels in CORPUS["label_sets"].items()}
MC = MultipleChoiceTask(
    {"name": "m", "kind": "multiple_choice", "primary_metric": "accuracy", "n_options": 4},
    {"system": "Answer with a letter.", "user": "{input}"},
)
MC_EXAMPLE = {"id": "q", "input": {"question": "Drug of choice?", "options": CORPUS["multiple_choice"]["options"]}}


def cases(kind: str) -> list:
    return [pytest.param(case, id=repr(case["output"])[:60]) for case in KINDS[kind]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_parse_corpus_holds_thirty_answers_per_kind(kind):
    assert len(KINDS[kind]) >= 30
    assert len({case["output"] for case in KINDS[kind]}) == len(KINDS[kind])  # no duplicates padding the count


@pytest.mark.parametrize("case", cases("classification"))
def test_parse_corpus_classification(case):
    assert PARSERS[case["labels"]].parse(case["output"])[0] == case["parsed"]


@pytest.mark.parametrize("case", cases("multiple_choice"))
def test_parse_corpus_multiple_choice(case):
    assert MC.parse(case["output"], MC_EXAMPLE)[0] == case["parsed"]


@pytest.mark.parametrize("case", cases("extraction"))
def test_parse_corpus_extraction(case):
    assert extract_json_object(case["output"]) == case["parsed"]


@pytest.mark.parametrize("case", cases("span_qa"))
def test_parse_corpus_span_qa(case):
    assert parse_span(case["output"]) == case["parsed"]


@pytest.mark.parametrize("case", cases("code"))
def test_parse_corpus_code(case):
    assert extract_code(case["output"]) == case["parsed"]
