"""Readers of the published benchmark files in a local mirror folder (the layout of ``shared/data/README.md``).

Every reader returns rows ``{"id", "input", "target", "meta": {"split", ...}}``. The field checks and row
builders here are shared with :mod:`breakeven.data.hub`, so the mirror and the hub give the same rows.
Row counts (and, where the release publishes them, sha256 checksums) are checked against the release unless
``verify_counts=False`` (for small fixtures); a truncated, stale or malformed file raises :class:`RawDataError`.

LEDGAR has no public mirror; its layout here (written by :func:`breakeven.data.fixtures.ledgar_fixture`) is
``ledgar/labels.json`` (the label names, in the hub's ClassLabel order) and ``ledgar/{train,validation,test}.jsonl``
with one ``{"text": <provision>, "label": <label name>}`` object per line.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd


class RawDataError(ValueError):
    """Raw data that is not the published release (truncated, stale or malformed); the message names the task,
    the file and, for a bad row, the line or row and the field."""


PUBLISHED: dict[str, dict[str, int]] = {
    "banking77": {"train": 10003, "test": 3080},
    "fpb": {"50": 4846, "66": 4217, "75": 3453, "all": 2264},
    "medmcqa": {"train": 182822, "validation": 4183, "test": 6150},
    "mbpp": {"prompt": 10, "test": 500, "validation": 90, "train": 374},
    "mbpp-sanitized": {"prompt": 7, "test": 257, "validation": 43, "train": 120},
    "ledgar": {"train": 60000, "validation": 10000, "test": 10000},
}
"""Task (``mbpp-sanitized``: the sanitized variant) -> published split (FPB: agreement level) -> row count."""

PUBLISHED_LABELS = {"banking77": 77, "ledgar": 100}
SHA256 = {
    "banking77/train.csv": "b06e26ac675513959a63135f11b94ea7786ed02da65db93a5650d8838cbc664b",
    "banking77/test.csv": "d12d6e3bc4c3103966ae786dc435913c0c563dfa328f5a3646d0e62cfeeb474d",
    "mbpp/mbpp.jsonl": "ccf64ceae9c5403bf50a044cb6d505bfd2a2963ee58338ba268fd65beab92a9f",
}
FPB_FILES = {
    "50": "Sentences_50Agree.txt",
    "66": "Sentences_66Agree.txt",
    "75": "Sentences_75Agree.txt",
    "all": "Sentences_AllAgree.txt",
}
FPB_LABELS = ("positive", "negative", "neutral")
LETTERS = "ABCD"
MBPP_SPLITS = (("prompt", 1, 10), ("test", 11, 510), ("validation", 511, 600), ("train", 601, 974))
MBPP_VARIANTS = ("full", "sanitized")
DEFAULT_AGREEMENT = "50"
DEFAULT_VARIANT = "full"


# --- checks shared with the hub reader ------------------------------------------------------------------------


def field(task: str, where: str, record: Mapping[str, Any], name: str, kind: type) -> Any:
    """``record[name]``, checked to be a ``kind`` (``list``: a list of strings)."""
    if name not in record:
        raise RawDataError(f"task {task}: {where}: missing field {name!r}")
    value = record[name]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if ok and kind is list:
        ok = all(isinstance(item, str) for item in value)
    if not ok:
        expected = "list of strings" if kind is list else kind.__name__
        raise RawDataError(f"task {task}: {where}: field {name!r} should be a {expected}, got {value!r:.80}")
    return value


def text_field(task: str, where: str, record: Mapping[str, Any], name: str) -> str:
    """A non-empty text field, surrounding whitespace stripped."""
    text = field(task, where, record, name, str).strip()
    if not text:
        raise RawDataError(f"task {task}: {where}: field {name!r} is empty")
    return text


def label_field(task: str, where: str, record: Mapping[str, Any], name: str, labels: Collection[str]) -> str:
    """A label-name field, checked against the task's label set."""
    value = record.get(name)
    if not isinstance(value, str) or value not in labels:
        raise RawDataError(f"task {task}: {where}: field {name!r}: unknown label {value!r}")
    return value


def check_count(task: str, where: str, expected: int, found: int, what: str = "rows") -> None:
    """Raise unless ``found`` rows (or ``what``) match the ``expected`` published count."""
    if found != expected:
        raise RawDataError(
            f"task {task}: {where}: expected {expected} {what} (the published release), found "
            f"{found}; the data is truncated or stale"
        )


def check_split_counts(task: str, where: str, key: str, rows: list[dict]) -> None:
    """Rows per ``meta.split`` against ``PUBLISHED[key]``."""
    found = Counter(row["meta"]["split"] for row in rows)
    for split, expected in PUBLISHED[key].items():
        check_count(task, f"{where}, split {split}", expected, found[split])


def mbpp_split(task: str, where: str, task_id: int) -> str:
    """The published split of an MBPP task id."""
    for split, first, last in MBPP_SPLITS:
        if first <= task_id <= last:
            return split
    raise RawDataError(f"task {task}: {where}: field 'task_id' {task_id} is outside 1-974")


def mbpp_key(variant: str) -> str:
    """The ``PUBLISHED`` key of an MBPP variant (``full`` or ``sanitized``)."""
    if variant not in MBPP_VARIANTS:
        raise ValueError(f"task mbpp: variant must be one of {MBPP_VARIANTS}, got {variant!r}")
    return "mbpp" if variant == "full" else "mbpp-sanitized"


def fpb_agreement(agreement: str | int) -> str:
    """An FPB agreement level as a ``FPB_FILES`` key ("50", "66", "75", "all")."""
    key = str(agreement).lower()
    if key not in FPB_FILES:
        raise ValueError(f"task fpb: agreement must be one of {list(FPB_FILES)}, got {agreement!r}")
    return key


# --- row builders shared with the hub reader --------------------------------------------------------------------


def labelled_row(task: str, split: str, index: int, text: str, label: str) -> dict:
    """A text and its label (BANKING77 intent, LEDGAR provision type)."""
    return {"id": f"{task}-{split}-{index:05d}", "input": text, "target": label, "meta": {"split": split}}


def fpb_row(agreement: str, index: int, sentence: str, label: str) -> dict:
    """An FPB sentence and its sentiment (no official split: ``meta.split`` is "all")."""
    return {
        "id": f"fpb-{agreement}-{index:05d}",
        "input": sentence,
        "target": label,
        "meta": {"split": "all", "agreement": agreement},
    }


def medmcqa_row(split: str, index: int, question: str, options: list[str], answer: int) -> dict:
    """A MedMCQA question; ``answer`` -1 (labels withheld) gives target None and ``meta.labelled`` False."""
    return {
        "id": f"medmcqa-{split}-{index:05d}",
        "input": {"question": question, "options": options},
        "target": LETTERS[answer] if answer >= 0 else None,
        "meta": {"split": split, "labelled": answer >= 0},
    }


def medmcqa_answer(task: str, where: str, record: Mapping[str, Any], name: str) -> int:
    """The answer index field: 0-3, or -1 where the label is withheld."""
    answer = field(task, where, record, name, int)
    if not -1 <= answer <= 3:
        raise RawDataError(f"task {task}: {where}: field {name!r} should be 0-3 (or -1), got {answer}")
    return answer


def mbpp_row(variant: str, where: str, record: Mapping[str, Any]) -> dict:
    """An MBPP problem from a record of ``mbpp.jsonl`` / hub ``full`` or of the sanitized release (prompt,
    test_imports: mapped to text and to test_setup_code, one import a line)."""
    task_id = field("mbpp", where, record, "task_id", int)
    sanitized = variant == "sanitized"
    setup = (
        "\n".join(field("mbpp", where, record, "test_imports", list))
        if sanitized
        else field("mbpp", where, record, "test_setup_code", str)
    )
    problem = {
        "text": text_field("mbpp", where, record, "prompt" if sanitized else "text"),
        "test_list": field("mbpp", where, record, "test_list", list),
        "test_setup_code": setup,
        "challenge_test_list": [] if sanitized else field("mbpp", where, record, "challenge_test_list", list),
    }
    prefix = "mbpp-sanitized" if sanitized else "mbpp"
    return {
        "id": f"{prefix}-{task_id:04d}",
        "input": problem,
        "target": field("mbpp", where, record, "code", str),
        "meta": {"split": mbpp_split("mbpp", where, task_id), "task_id": task_id},
    }


# --- file readers -----------------------------------------------------------------------------------------------


def require_file(task: str, path: Path) -> Path:
    """``path``, which must exist."""
    if not path.is_file():
        raise FileNotFoundError(f"task {task}: {path}: file not found in the mirror")
    return path


def verify_file(task: str, path: Path, expected: int, found: int) -> None:
    """Row count, then (where the release publishes one) the sha256 checksum of ``path``."""
    check_count(task, str(path), expected, found)
    check_sha256(task, path)


def check_sha256(task: str, path: Path) -> None:
    """Raise when ``path`` has a published checksum (``SHA256``) and does not match it."""
    published = SHA256.get(f"{path.parent.name}/{path.name}")
    if published and hashlib.sha256(path.read_bytes()).hexdigest() != published:
        raise RawDataError(f"task {task}: {path}: the file differs from the published release (sha256 mismatch)")


def read_labels(task: str, path: Path) -> list[str]:
    """A JSON list of distinct label names."""
    try:
        labels = json.loads(require_file(task, path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RawDataError(f"task {task}: {path}: not valid JSON ({error})") from error
    names = labels if isinstance(labels, list) and all(isinstance(x, str) and x for x in labels) else None
    if names is None or len(set(names)) < len(names):
        raise RawDataError(f"task {task}: {path}: expected a list of distinct label names")
    return names


def read_jsonl(task: str, path: Path) -> list[tuple[str, dict]]:
    """``(where, record)`` per line of a JSON-lines file (``where``: file and line number, for errors)."""
    records = []
    try:
        with require_file(task, path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                where = f"{path}, line {number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise RawDataError(f"task {task}: {where}: not valid JSON ({error})") from error
                if not isinstance(record, dict):
                    raise RawDataError(f"task {task}: {where}: expected a JSON object, got {line.strip():.80}")
                records.append((where, record))
    except UnicodeDecodeError as error:
        raise RawDataError(f"task {task}: {path}: not UTF-8 ({error})") from error
    return records


def read_csv(task: str, path: Path, columns: tuple[str, ...]) -> list[tuple[str, dict]]:
    """``(where, record)`` per data row of a CSV file with a header naming ``columns``."""
    try:
        frame = pd.read_csv(require_file(task, path), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise RawDataError(f"task {task}: {path}: not a readable CSV file ({error})") from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RawDataError(f"task {task}: {path}: missing field(s) {missing} (columns: {list(frame.columns)})")
    return [
        (f"{path}, row {i} (after the header)", record)
        for i, record in enumerate(frame[list(columns)].to_dict("records"), start=1)
    ]


# --- the tasks ----------------------------------------------------------------------------------------------


def read_labelled_splits(
    task: str, labels_path: Path, splits: dict[str, tuple[Path, Callable]], fields: tuple[str, str], verify_counts: bool
) -> list[dict]:
    """Rows of every split file (read by its reader), labels checked against ``labels_path``, and counts
    against the published release."""
    labels = set(read_labels(task, labels_path))
    text_name, label_name = fields
    rows = []
    for split, (path, read) in splits.items():
        records = read(task, path)
        rows += [
            labelled_row(
                task,
                split,
                i,
                text_field(task, where, record, text_name),
                label_field(task, where, record, label_name, labels),
            )
            for i, (where, record) in enumerate(records)
        ]
        if verify_counts:
            verify_file(task, path, PUBLISHED[task][split], len(records))
    if verify_counts:
        check_count(task, str(labels_path), PUBLISHED_LABELS[task], len(labels), "labels")
    return rows


def read_banking77(folder: Path, verify_counts: bool = True) -> list[dict]:
    """BANKING77 train and test (``banking77/{train,test}.csv``; labels from ``categories.json``)."""
    root = folder / "banking77"

    def read(task: str, path: Path) -> list[tuple[str, dict]]:
        return read_csv(task, path, ("text", "category"))

    splits = {split: (root / f"{split}.csv", read) for split in ("train", "test")}
    return read_labelled_splits("banking77", root / "categories.json", splits, ("text", "category"), verify_counts)


def parse_fpb_line(where: str, line: str) -> dict[str, str]:
    """``sentence@label``, split on the last ``@``."""
    sentence, at, label = line.rpartition("@")
    if not at:
        raise RawDataError(f"task fpb: {where}: no '@' between the sentence and the label: {line:.80}")
    return {"sentence": sentence, "label": label}


def read_fpb(folder: Path, agreement: str | int = DEFAULT_AGREEMENT, verify_counts: bool = True) -> list[dict]:
    """The FPB sentences at one annotator agreement level ("50", "66", "75" or "all")."""
    key = fpb_agreement(agreement)
    path = require_file("fpb", folder / "fpb" / FPB_FILES[key])
    rows = []
    for index, line in enumerate(path.read_text(encoding="latin-1").splitlines()):
        where = f"{path}, line {index + 1}"
        record = parse_fpb_line(where, line)
        rows.append(
            fpb_row(
                key,
                index,
                text_field("fpb", where, record, "sentence"),
                label_field("fpb", where, record, "label", FPB_LABELS),
            )
        )
    if verify_counts:
        verify_file("fpb", path, PUBLISHED["fpb"][key], len(rows))
    return rows


def medmcqa_options(where: str, record: Mapping[str, Any]) -> list[str]:
    """The four ``choices`` of a mirror record, without their "A. " .. "D. " prefixes."""
    choices = field("medmcqa", where, record, "choices", list)
    prefixed = len(choices) == 4 and all(c.startswith(f"{letter}. ") for letter, c in zip(LETTERS, choices))
    if not prefixed:
        raise RawDataError(
            f"task medmcqa: {where}: field 'choices' should be 4 options prefixed 'A. '..'D. ', got {choices!r:.120}"
        )
    return [choice[3:] for choice in choices]


def read_medmcqa(folder: Path, verify_counts: bool = True) -> list[dict]:
    """MedMCQA validation and test (``medmcqa/{validation,test}.jsonl``); test rows are unlabelled."""
    rows = []
    for split in ("validation", "test"):
        path = folder / "medmcqa" / f"{split}.jsonl"
        records = read_jsonl("medmcqa", path)
        rows += [
            medmcqa_row(
                split,
                i,
                text_field("medmcqa", where, record, "question"),
                medmcqa_options(where, record),
                medmcqa_answer("medmcqa", where, record, "answer"),
            )
            for i, (where, record) in enumerate(records)
        ]
        if verify_counts:
            verify_file("medmcqa", path, PUBLISHED["medmcqa"][split], len(records))
    return rows


def read_sanitized_records(path: Path) -> list[tuple[str, dict]]:
    """``(where, record)`` per problem of ``sanitized-mbpp.json`` (one JSON list)."""
    try:
        records = json.loads(require_file("mbpp", path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RawDataError(f"task mbpp: {path}: not valid JSON ({error})") from error
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RawDataError(f"task mbpp: {path}: expected a JSON list of objects")
    return [(f"{path}, item {i}", record) for i, record in enumerate(records)]


def read_mbpp(folder: Path, variant: str = DEFAULT_VARIANT, verify_counts: bool = True) -> list[dict]:
    """MBPP, ``full`` (``mbpp.jsonl``) or ``sanitized`` (``sanitized-mbpp.json``); splits by task id."""
    key = mbpp_key(variant)
    path = folder / "mbpp" / ("mbpp.jsonl" if variant == "full" else "sanitized-mbpp.json")
    records = read_jsonl("mbpp", path) if variant == "full" else read_sanitized_records(path)
    rows = [mbpp_row(variant, where, record) for where, record in records]
    repeated = [task_id for task_id, n in Counter(r["meta"]["task_id"] for r in rows).items() if n > 1]
    if repeated:
        raise RawDataError(f"task mbpp: {path}: field 'task_id' repeats {repeated[:5]}")
    if verify_counts:
        check_split_counts("mbpp", str(path), key, rows)
        check_sha256("mbpp", path)
    return rows


def read_ledgar(folder: Path, verify_counts: bool = True) -> list[dict]:
    """LEDGAR in the layout of the module docstring (no public mirror: written by the fixture or an export)."""
    root = folder / "ledgar"
    splits = {split: (root / f"{split}.jsonl", read_jsonl) for split in ("train", "validation", "test")}
    return read_labelled_splits("ledgar", root / "labels.json", splits, ("text", "label"), verify_counts)


READERS: dict[str, Callable[..., list[dict]]] = {
    "banking77": read_banking77,
    "fpb": read_fpb,
    "mbpp": read_mbpp,
    "medmcqa": read_medmcqa,
    "ledgar": read_ledgar,
}


def read_mirror(task: str, folder: Path, **options: Any) -> list[dict]:
    """Rows of ``task`` from the mirror root ``folder`` (options: ``verify_counts``; FPB ``agreement``; MBPP
    ``variant``)."""
    if task not in READERS:
        raise KeyError(f"unknown mirror task {task!r}; valid: {', '.join(sorted(READERS))}")
    return READERS[task](Path(folder), **options)
