"""CUAD v1: rebuild the CUAD-QA grid (one question per contract x category) from master_clauses.csv and the
contract texts, locating each annotated excerpt in its contract to get SQuAD-style answer offsets.

Excerpts that the annotators cut with ``<omitted>`` are split there: each piece is a contiguous span of the
contract and becomes its own answer.
"""

from __future__ import annotations

import ast
import logging
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CSV_NAME = "master_clauses.csv"
TEXT_DIR = "full_contract_txt"
README_NAME = "CUAD_v1_README.txt"
EXPECTED_CONTRACTS = 510
EXPECTED_CATEGORIES = 41
OMITTED = "<omitted>"
QUESTION = 'Highlight the parts (if any) of this contract related to "{category}" that should be reviewed by a lawyer.'

README_ALIASES = {
    "Notice Period to Terminate Renewal": "Notice to Terminate Renewal",
    "Rofr/Rofo/Rofn": "Right of First Refusal, Offer or Negotiation (ROFR/ROFO/ROFN)",
    "Price Restrictions": "Price Restriction",
    "Affiliate License-Licensor": "Affiliate IP License-Licensor",
    "Affiliate License-Licensee": "Affiliate IP License-Licensee",
    "Unlimited/All-You-Can-Eat-License": "Unlimited/All-You-Can-Eat License",
}
"""master_clauses.csv column -> the name the README's category list gives the same category."""

_EXTENSION = re.compile(r"\.(pdf|txt)\W*$", re.IGNORECASE)
_README_ENTRY = re.compile(r"Category:\s*(.+?)\s*\n\s*Description:\s*(.+?)\s*\n")


def read_cuad(folder: Path, categories: list[str] | None = None, max_unmatched: int = 0) -> list[dict]:
    """The contract x category question grid of the CUAD v1 release in ``folder`` (all 41 categories unless
    ``categories`` names some); contracts without a text file are dropped, at most ``max_unmatched`` of them."""
    folder = Path(folder)
    csv_path = folder / CSV_NAME
    frame = read_master(csv_path)
    chosen = select_categories(category_columns(frame), categories, csv_path)
    questions = category_questions(folder / README_NAME, chosen)
    texts = match_contracts(frame["Filename"].tolist(), folder / TEXT_DIR, max_unmatched)
    rows = []
    for line, record in enumerate(frame.to_dict("records"), start=2):
        path = texts.get(record["Filename"])
        if path is not None:
            rows += contract_rows(path, record, questions, f"{csv_path}, line {line}")
    stats = locate_stats(rows)
    log.info(
        "CUAD: %d questions over %d contracts; %d of %d answer spans located (%.2f%%)",
        len(rows),
        len(texts),
        stats["located"],
        stats["answers"],
        100 * stats["rate"],
    )
    return rows


def read_master(path: Path) -> pd.DataFrame:
    """master_clauses.csv as strings, checked against the published shape (510 contracts, 41 categories)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: CUAD master clauses file not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "Filename" not in frame.columns:
        raise ValueError(f"{path}: no 'Filename' column")
    if len(frame) != EXPECTED_CONTRACTS:
        raise ValueError(f"{path}: expected {EXPECTED_CONTRACTS} contract rows, found {len(frame)}")
    found = len(category_columns(frame))
    if found != EXPECTED_CATEGORIES:
        raise ValueError(f"{path}: expected {EXPECTED_CATEGORIES} category columns, found {found}")
    duplicated = frame["Filename"][frame["Filename"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: field 'Filename' repeats {duplicated[:3]}")
    return frame


def category_columns(frame: pd.DataFrame) -> list[str]:
    """The excerpt columns: every column but Filename that has a ``<Category>-Answer`` partner."""
    return [c for c in frame.columns if c != "Filename" and f"{c}-Answer" in frame.columns]


def select_categories(available: list[str], requested: list[str] | None, path: Path) -> list[str]:
    """``requested`` (all when None), each checked against the columns of ``path``."""
    if requested is None:
        return available
    unknown = [c for c in requested if c not in available]
    if unknown:
        raise ValueError(f"{path}: no category column(s) {unknown}; known: {available}")
    return list(requested)


def category_questions(readme: Path, categories: list[str]) -> dict[str, str]:
    """CUAD's question per category: the fixed prompt plus ``Details: <description>`` from the README's
    category list (the category name alone when the README or the entry is missing)."""
    details = category_descriptions(readme) if readme.is_file() else {}
    questions = {}
    for category in categories:
        question = QUESTION.format(category=category)
        description = details.get(README_ALIASES.get(category, category))
        questions[category] = f"{question} Details: {description}" if description else question
    missing = [c for c in categories if "Details:" not in questions[c]]
    if missing:
        log.warning("%s: no description for %s; their questions name the category only", readme, missing)
    return questions


def category_descriptions(readme: Path) -> dict[str, str]:
    """README category name -> description (whitespace collapsed)."""
    text = readme.read_text(encoding="utf-8")
    return {" ".join(name.split()): " ".join(description.split()) for name, description in _README_ENTRY.findall(text)}


def name_key(name: str) -> str:
    """A file name reduced past its naming quirks: no .pdf/.txt extension (nor stray characters after it),
    accents dropped, case folded, only letters and digits kept."""
    stem = _EXTENSION.sub("", name)
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.casefold() if ch.isalnum())


def match_contracts(filenames: list[str], text_dir: Path, max_unmatched: int) -> dict[str, Path]:
    """Filename -> its text file: the same stem first, else the same :func:`name_key`; raises when more than
    ``max_unmatched`` stay unmatched (or a key is ambiguous)."""
    if not text_dir.is_dir():
        raise FileNotFoundError(f"{text_dir}: CUAD contract text folder not found")
    files = sorted(text_dir.glob("*.txt"))
    by_stem = {f.stem: f for f in files}
    by_key: dict[str, list[Path]] = {}
    for f in files:
        by_key.setdefault(name_key(f.name), []).append(f)
    matched, fuzzy, unmatched = {}, [], []
    for name in filenames:
        exact = by_stem.get(_EXTENSION.sub("", name))
        candidates = [exact] if exact else by_key.get(name_key(name), [])
        if len(candidates) > 1:
            raise ValueError(f"{text_dir}: Filename {name!r} matches several texts {[c.name for c in candidates]}")
        if candidates:
            matched[name] = candidates[0]
            fuzzy += [] if exact else [f"{name!r} -> {candidates[0].name!r}"]
        else:
            unmatched.append(name)
    _report_matching(text_dir, len(filenames), fuzzy, unmatched, max_unmatched)
    return matched


def _report_matching(text_dir: Path, total: int, fuzzy: list[str], unmatched: list[str], max_unmatched: int) -> None:
    """Log the normalised matches; raise when too many Filename values have no text."""
    log.info(
        "%s: %d of %d contracts matched by name, %d after normalising: %s",
        text_dir,
        total - len(fuzzy) - len(unmatched),
        total,
        len(fuzzy),
        fuzzy,
    )
    if len(unmatched) > max_unmatched:
        raise ValueError(
            f"{text_dir}: {len(unmatched)} Filename values have no text file "
            f"(at most {max_unmatched} allowed): {unmatched}"
        )
    if unmatched:
        log.warning("%s: dropped %d contracts without a text file: %s", text_dir, len(unmatched), unmatched)


def contract_rows(path: Path, record: dict[str, str], questions: dict[str, str], where: str) -> list[dict]:
    """The grid rows of one contract (``record``: its master_clauses.csv row; ``where``: the row, for errors)."""
    context = path.read_text(encoding="utf-8")
    rows = []
    for category, question in questions.items():
        answers = locate_answers(context, parse_excerpts(record[category], where, category))
        rows.append(
            {
                "id": f"{path.stem}::{category}",
                "input": {"contract": path.stem, "category": category, "question": question, "context": context},
                "target": {"answers": answers, "is_impossible": not answers},
                "meta": {"split": "all", "category": category},
            }
        )
    return rows


def parse_excerpts(cell: str, where: str, column: str) -> list[str]:
    """A list-like cell (``"['excerpt one', 'excerpt two']"`` or ``"[]"``) as a list of strings."""
    try:
        value = ast.literal_eval(cell) if cell.strip() else []
    except (ValueError, SyntaxError) as error:
        raise ValueError(f"{where}, column {column!r}: not a list literal ({error}): {cell[:80]!r}") from error
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}, column {column!r}: expected a list of strings, got {cell[:80]!r}")
    return value


def locate_answers(context: str, excerpts: list[str]) -> list[dict]:
    """``{"text", "start"}`` per excerpt piece (split at ``<omitted>``); a located answer's text is the
    context slice ``context[start:start + len(text)]``, an unlocated one keeps the excerpt with start -1."""
    answers = []
    for excerpt in excerpts:
        cursor = 0
        for piece in (p.strip() for p in excerpt.split(OMITTED)):
            if not piece:
                continue
            start, end = locate(context, piece, cursor)
            answers.append({"text": context[start:end] if start >= 0 else piece, "start": start})
            cursor = end if start >= 0 else cursor
    return answers


def locate(context: str, piece: str, cursor: int = 0) -> tuple[int, int]:
    """Character span of ``piece`` in ``context``, searched from ``cursor`` then from the start: verbatim
    first, then with any whitespace run matching any other; ``(-1, -1)`` when absent."""
    offsets = (cursor, 0) if cursor else (0,)
    for offset in offsets:
        start = context.find(piece, offset)
        if start >= 0:
            return start, start + len(piece)
    pattern = re.compile(r"\s+".join(re.escape(word) for word in piece.split()))
    for offset in offsets:
        found = pattern.search(context, offset)
        if found:
            return found.start(), found.end()
    return -1, -1


def locate_stats(rows: list[dict]) -> dict[str, float]:
    """How many answer spans the grid holds and which share of them was located in the contract text."""
    starts = [a["start"] for row in rows for a in row["target"]["answers"]]
    located = sum(s >= 0 for s in starts)
    return {"answers": len(starts), "located": located, "rate": located / len(starts) if starts else float("nan")}


def balanced_questions(rows: list[dict], seed: int, positive_share: float = 0.5) -> list[dict]:
    """A seeded subsample with ``positive_share`` of questions that have an answer, as large as the rarer side
    allows; the fuller side follows the category mix of the rarer one where it has the rows (so the category
    alone does not tell whether an answer is present). Rows keep their grid order."""
    if not 0 < positive_share < 1:
        raise ValueError(f"positive_share must lie strictly between 0 and 1, got {positive_share}")
    positive = [r for r in rows if not r["target"]["is_impossible"]]
    negative = [r for r in rows if r["target"]["is_impossible"]]
    total = int(min(len(positive) / positive_share, len(negative) / (1 - positive_share)))
    n_pos = min(len(positive), round(total * positive_share))
    n_neg = min(len(negative), total - n_pos)
    if not n_pos or not n_neg:
        raise ValueError(f"cannot balance {len(positive)} answered and {len(negative)} unanswered questions")
    rng = np.random.default_rng(seed)
    if n_pos / len(positive) >= n_neg / len(negative):
        kept_pos = _take_like(positive, positive, n_pos, rng)
        kept = kept_pos + _take_like(negative, kept_pos, n_neg, rng)
    else:
        kept_neg = _take_like(negative, negative, n_neg, rng)
        kept = kept_neg + _take_like(positive, kept_neg, n_pos, rng)
    chosen = {id(r) for r in kept}
    return [r for r in rows if id(r) in chosen]


def _take_like(pool: list[dict], reference: list[dict], n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` rows of ``pool`` whose category mix follows ``reference``'s; a category short of rows leaves
    its quota to the others, in proportion."""
    wanted = Counter(r["meta"]["category"] for r in reference)
    by_category: dict[str, list[dict]] = {}
    for row in pool:
        by_category.setdefault(row["meta"]["category"], []).append(row)
    keyed = []
    for category in sorted(by_category):
        group = by_category[category]
        quota = max(wanted[category] * n / len(reference), 1e-9)
        for rank, index in enumerate(rng.permutation(len(group))):
            keyed.append(((rank + rng.random()) / quota, len(keyed), group[index]))
    keyed.sort(key=lambda item: item[:2])
    return [row for _, _, row in keyed[:n]]


def rows_from_squad(records: list[dict]) -> list[dict]:
    """CUAD-QA in its published SQuAD layout (hub theatticusproject/cuad-qa: id "<contract>__<Category>",
    title, context, question, answers{text, answer_start}) as grid rows."""
    rows = []
    for record in records:
        contract, _, category = record["id"].rpartition("__")
        answers = [
            {"text": text, "start": int(start)}
            for text, start in zip(record["answers"]["text"], record["answers"]["answer_start"])
        ]
        rows.append(
            {
                "id": f"{contract}::{category}",
                "input": {
                    "contract": contract,
                    "category": category,
                    "question": record["question"],
                    "context": record["context"],
                },
                "target": {"answers": answers, "is_impossible": not answers},
                "meta": {"split": "all", "category": category},
            }
        )
    return rows


def read_cuad_hub(revision: str | None) -> list[dict]:
    """The grid from the hub's CUAD-QA (train + test splits together; the project makes its own split)."""
    from datasets import load_dataset

    from breakeven.data.provenance import HUB_IDS, require_commit

    dataset = load_dataset(HUB_IDS["cuad"], revision=require_commit("cuad", HUB_IDS["cuad"], revision))
    return rows_from_squad([record for split in dataset.values() for record in split])


def load_cuad(mirror: Path | None, revision: str | None, positive_share: float, seed: int) -> list[dict]:
    """The balanced question set, from the mirror (rebuilt from the release) or the hub."""
    rows = read_cuad(Path(mirror) / "cuad") if mirror else read_cuad_hub(revision)
    return balanced_questions(rows, seed, positive_share)
