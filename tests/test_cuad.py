"""CUAD-QA: the grid rebuilt from the mirror, the SQuAD metrics, and windowed reading of long contracts."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import MIRROR

from breakeven.data.cuad import (
    EXPECTED_CATEGORIES,
    EXPECTED_CONTRACTS,
    balanced_questions,
    locate_answers,
    locate_stats,
    match_contracts,
    name_key,
    parse_excerpts,
    read_cuad,
)
from breakeven.tasks.qa_metrics import answer_detection, exact_match, normalize_answer, token_f1
from breakeven.tasks.windows import aggregate, windows

CUAD_DIR = MIRROR / "cuad"
needs_mirror = pytest.mark.skipif(
    not (CUAD_DIR / "master_clauses.csv").is_file(), reason=f"CUAD mirror not found at {CUAD_DIR}"
)
MIN_LOCATE_RATE = 0.99  # measured: every answer span of the release is located (100%)


# --- metrics -----------------------------------------------------------------------------------------------


def test_normalisation_follows_squad() -> None:
    assert normalize_answer("The Cat!") == "cat"
    assert normalize_answer("a  quick, brown fox") == normalize_answer("the quick brown fox") == "quick brown fox"
    assert normalize_answer("Theater's") == "theaters"  # articles only as whole words


def test_exact_match_and_f1_worked_examples() -> None:
    assert exact_match("The Cat!", ["cat"]) == 1.0
    assert exact_match("a  quick, brown fox", ["the quick brown fox"]) == 1.0
    # precision 2/2, recall 2/3 ("the" is dropped): 2 * 1 * (2/3) / (5/3) = 0.8
    assert token_f1("quick brown", ["the quick brown fox"]) == pytest.approx(0.8)
    # without the dropped article: precision 1, recall 0.5 -> 2 * 0.5 / 1.5
    assert token_f1("quick brown", ["quick brown fox jumps"]) == pytest.approx(2 * 0.5 / 1.5)
    assert token_f1("", []) == exact_match("", []) == 1.0
    assert token_f1("x", []) == exact_match("x", []) == 0.0
    assert token_f1("", ["cat"]) == 0.0
    assert token_f1("brown fox", ["red dog", "the brown fox", "fox"]) == 1.0
    assert token_f1("brown fox", ["red dog", "fox"]) == pytest.approx(2 * 0.5 / 1.5)
    assert token_f1("x b b", ["b b c"]) == pytest.approx(2 / 3)  # Counter overlap 2: P = R = 2/3
    assert token_f1("a b b", ["b b c"]) == pytest.approx(0.8)  # "a" is an article: P = 1, R = 2/3


def test_answer_detection_hand_computed() -> None:
    # ranked scores 0.9+ 0.8+ 0.7- 0.4+ 0.2-; at threshold 0.5: TP 2, FP 1, FN 1 -> P = R = F1 = 2/3.
    # AP = sum over positives of (recall step) * precision there = 1/3*1 + 1/3*1 + 1/3*(3/4) = 11/12.
    # recall >= 0.8 only from the 0.4 cut on: precisions 3/4 (cut 0.4) and 3/5 (cut 0.2) -> 0.75.
    out = answer_detection([True, True, False, True, False], [0.9, 0.8, 0.7, 0.4, 0.2], threshold=0.5)
    assert out["precision"] == out["recall"] == out["f1"] == pytest.approx(2 / 3)
    assert out["aupr"] == pytest.approx(11 / 12)
    assert out["precision_at_80_recall"] == pytest.approx(0.75)


def test_answer_detection_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="y_true"):
        answer_detection([True], [0.1, 0.2], threshold=0.5)


# --- chunking ----------------------------------------------------------------------------------------------

LONG = " ".join(f"w{i}" for i in range(1037))


def _word_range(text: str, span: tuple[int, int]) -> list[str]:
    return text[span[0] : span[1]].split()


def test_windows_overlap_and_cover() -> None:
    spans = windows(LONG, None, window=100, stride=70, max_windows=None)
    words = [_word_range(LONG, s) for s in spans]
    assert spans[0][0] == 0 and spans[-1][1] == len(LONG)
    assert all(len(w) == 100 for w in words[:-1]) and 0 < len(words[-1]) <= 100
    assert all(len(set(a) & set(b)) == 30 for a, b in zip(words, words[1:]))
    assert set().union(*words) == set(LONG.split())
    assert windows(LONG, None, 100, 70, max_windows=3) == spans[:3]
    assert windows("short text", None, 100, 70, None) == [(0, 10)]


def test_windows_count_tokens_with_a_tokenizer() -> None:
    def tokenizer(text: str, *, add_special_tokens: bool, return_offsets_mapping: bool) -> dict:
        return {"offset_mapping": [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]}

    text = "a, b. " * 50  # 200 tokens, 100 words
    assert len(windows(text, tokenizer, 50, 25, None)) == 7
    assert len(windows(text, None, 50, 25, None)) == 3


def test_windows_reject_bad_settings() -> None:
    with pytest.raises(ValueError, match="stride"):
        windows(LONG, None, window=10, stride=20, max_windows=None)


def test_answer_across_a_boundary_is_whole_in_a_window() -> None:
    window, stride = 100, 70
    answer = " ".join(f"w{i}" for i in range(95, 115))  # 20 words across the first boundary (word 100)
    start = LONG.index(answer)
    spans = windows(LONG, None, window, stride, None)
    assert any(a <= start and start + len(answer) <= b for a, b in spans)


def test_aggregate() -> None:
    assert aggregate([(None, 0.0), ("  ", 0.9)]) == (None, 0.0)
    assert aggregate([(None, 0.0), ("first", 0.7), ("second", 0.7)]) == ("first", 0.7)
    assert aggregate([("low", 0.2), (None, 0.0), ("high", 0.9)]) == ("high", 0.9)
    assert aggregate([]) == (None, 0.0)


# --- the grid on synthetic pieces --------------------------------------------------------------------------


def test_locate_answers_splits_omitted_and_normalises_whitespace() -> None:
    context = "Term.  This Agreement\nshall last two years. Notice: 30 days. Governed by Texas law."
    answers = locate_answers(context, ["This Agreement shall last<omitted>30 days.", "Texas", "Mars"])
    starts = [context.index(piece) for piece in ("This", "30 days", "Texas")]
    assert [a["start"] for a in answers] == [*starts, -1]
    assert answers[0]["text"] == "This Agreement\nshall last"
    assert all(context[a["start"] : a["start"] + len(a["text"])] == a["text"] for a in answers[:3])


def test_parse_excerpts_names_row_and_column() -> None:
    assert parse_excerpts("['one', 'two']", "f.csv, line 3", "Parties") == ["one", "two"]
    assert parse_excerpts("[]", "f.csv, line 3", "Parties") == []
    with pytest.raises(ValueError, match=r"f\.csv, line 3, column 'Parties'"):
        parse_excerpts("['one'", "f.csv, line 3", "Parties")


def test_match_contracts_normalises_names(tmp_path: Path) -> None:
    for stem in ("MACY_S,INC-EX-99.4-JOINT FILING", "LECLANCHÉ S.A. - JDA", "Plain Contract"):
        (tmp_path / f"{stem}.txt").write_text("x", encoding="utf-8")
    names = ["MACY'S,INC-EX-99.4-JOINT FILING.PDF", "LECLANCHE\u0301 S.A. - JDA.pdf", "Plain Contract.PDF'"]
    assert {n: p.stem for n, p in match_contracts(names, tmp_path, 0).items()} == dict(
        zip(names, ["MACY_S,INC-EX-99.4-JOINT FILING", "LECLANCHÉ S.A. - JDA", "Plain Contract"])
    )
    assert name_key("NETGEAR-.pdf") == name_key("NETGEAR.txt")
    with pytest.raises(ValueError, match="Missing.pdf"):
        match_contracts([*names, "Missing.pdf"], tmp_path, 0)
    assert len(match_contracts([*names, "Missing.pdf"], tmp_path, 1)) == 3


# --- the real mirror ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid() -> list[dict]:
    return read_cuad(CUAD_DIR)


@needs_mirror
def test_grid_shape(grid: list[dict]) -> None:
    assert len(grid) == EXPECTED_CONTRACTS * EXPECTED_CATEGORIES == 20_910
    assert len({r["input"]["contract"] for r in grid}) == EXPECTED_CONTRACTS
    assert len({r["input"]["category"] for r in grid}) == EXPECTED_CATEGORIES
    assert len({r["id"] for r in grid}) == len(grid)
    assert sum("Details: " in r["input"]["question"] for r in grid) == len(grid)
    stats = locate_stats(grid)
    print(f"CUAD grid: {stats}")
    assert stats["rate"] >= MIN_LOCATE_RATE
    for row in grid[:2000]:
        context = row["input"]["context"]
        assert all(
            context[a["start"] : a["start"] + len(a["text"])] == a["text"]
            for a in row["target"]["answers"]
            if a["start"] >= 0
        )


@needs_mirror
def test_balanced_questions(grid: list[dict]) -> None:
    chosen = balanced_questions(grid, seed=0)
    present = Counter(not r["target"]["is_impossible"] for r in chosen)
    assert present[True] == present[False] == min(Counter(not r["target"]["is_impossible"] for r in grid).values())
    assert [r["id"] for r in balanced_questions(grid, seed=0)] == [r["id"] for r in chosen]
    pos = Counter(r["meta"]["category"] for r in grid if not r["target"]["is_impossible"])
    neg = Counter(r["meta"]["category"] for r in grid if r["target"]["is_impossible"])
    kept_neg = Counter(r["meta"]["category"] for r in chosen if r["target"]["is_impossible"])
    assert all(kept_neg[c] >= pos[c] for c in pos if neg[c] >= pos[c])


@needs_mirror
def test_truncated_master_file_is_rejected(tmp_path: Path) -> None:
    pd.read_csv(CUAD_DIR / "master_clauses.csv", dtype=str).head(100).to_csv(
        tmp_path / "master_clauses.csv", index=False
    )
    with pytest.raises(ValueError, match=r"master_clauses\.csv: expected 510 contract rows, found 100"):
        read_cuad(tmp_path)


@needs_mirror
def test_windows_and_scoring_compose(grid: list[dict]) -> None:
    window, stride = 400, 300
    short = [
        r
        for r in grid
        if any(a["start"] >= 0 and len(a["text"].split()) < window - stride for a in r["target"]["answers"])
    ]
    empty = [r for r in grid if r["target"]["is_impossible"]]
    for row in short[::997][:6] + empty[:2]:
        context, answers = row["input"]["context"], row["target"]["answers"]
        per_window = [
            (
                next(
                    (
                        a["text"]
                        for a in answers
                        if a["start"] >= 0 and a["start"] >= lo and a["start"] + len(a["text"]) <= hi
                    ),
                    None,
                ),
                1.0,
            )
            for lo, hi in windows(context, None, window, stride, None)
        ]
        answer, score = aggregate(per_window)
        assert token_f1(answer or "", [a["text"] for a in answers]) == 1.0
        assert score == (0.0 if row["target"]["is_impossible"] else 1.0)
