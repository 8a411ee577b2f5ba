"""The benchmark datasets from the Hugging Face hub at a pinned revision, as the rows of the mirror readers.

The converters (``*_from_hub``) take the loaded splits (a ``datasets.DatasetDict`` or any mapping of split name
to ``datasets.Dataset``) and build rows with the checks and row builders of :mod:`breakeven.data.mirror`, so
both sources give the same rows; tests run them on ``Dataset.from_dict`` fixtures in each hub schema.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from datasets import ClassLabel, Dataset, load_dataset

from breakeven.data.mirror import (
    DEFAULT_AGREEMENT,
    DEFAULT_VARIANT,
    FPB_LABELS,
    PUBLISHED,
    PUBLISHED_LABELS,
    RawDataError,
    check_count,
    check_split_counts,
    field,
    fpb_agreement,
    fpb_row,
    labelled_row,
    mbpp_key,
    mbpp_row,
    medmcqa_answer,
    medmcqa_row,
    text_field,
)
from breakeven.data.provenance import require_commit

# "name" may hold {agreement} / {variant}, filled from the reader options. "revision" stays None here: each task
# config pins the hub commit (source.revision), which read_hub requires.
HUB_SOURCES: dict[str, dict] = {
    "banking77": {"path": "PolyAI/banking77", "name": None, "revision": None},
    "fpb": {"path": "takala/financial_phrasebank", "name": "sentences_{agreement}agree", "revision": None},
    "medmcqa": {"path": "openlifescienceai/medmcqa", "name": None, "revision": None},
    "mbpp": {"path": "google-research-datasets/mbpp", "name": "{variant}", "revision": None},
    "ledgar": {"path": "coastalcph/lex_glue", "name": "ledgar", "revision": None},
}
MEDMCQA_OPTIONS = ("opa", "opb", "opc", "opd")

Splits = Mapping[str, Dataset]


def hub_split(task: str, splits: Splits, split: str) -> tuple[str, Dataset]:
    """``(where, dataset)`` of one published split (``where`` names the hub dataset and split, for errors)."""
    where = f"hub {HUB_SOURCES[task]['path']} split {split}"
    if split not in splits:
        raise RawDataError(f"task {task}: {where}: split missing (found {sorted(splits)})")
    return where, splits[split]


def labelled_texts(
    task: str, splits: Splits, split: str, text: str, expected: int | None, known: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """``(text, label name)`` per row of a text + ClassLabel ``label`` split; with ``expected``, the row count
    (and for BANKING77 / LEDGAR the label count) is checked against the release; ``known``: allowed names."""
    where, dataset = hub_split(task, splits, split)
    feature = dataset.features.get("label")
    if not isinstance(feature, ClassLabel):
        raise RawDataError(f"task {task}: {where}: field 'label' should be a ClassLabel, got {feature!r}")
    names = feature.names
    unknown = sorted(set(names) - set(known)) if known is not None else []
    if unknown:
        raise RawDataError(f"task {task}: {where}: field 'label': unknown label names {unknown}")
    if expected is not None:
        check_count(task, where, expected, dataset.num_rows)
        if task in PUBLISHED_LABELS:
            check_count(task, f"{where}, field 'label'", PUBLISHED_LABELS[task], len(names), "labels")
    pairs = []
    for index, record in enumerate(dataset.to_list()):
        at = f"{where}, row {index}"
        label = field(task, at, record, "label", int)
        if not 0 <= label < len(names):
            raise RawDataError(f"task {task}: {at}: field 'label' {label} is outside 0-{len(names) - 1}")
        pairs.append((text_field(task, at, record, text), names[label]))
    return pairs


def banking77_from_hub(splits: Splits, verify_counts: bool = True) -> list[dict]:
    """PolyAI/banking77 (text, label) train and test."""
    return [
        labelled_row("banking77", split, index, text, label)
        for split in ("train", "test")
        for index, (text, label) in enumerate(
            labelled_texts("banking77", splits, split, "text", PUBLISHED["banking77"][split] if verify_counts else None)
        )
    ]


def fpb_from_hub(splits: Splits, agreement: str | int = DEFAULT_AGREEMENT, verify_counts: bool = True) -> list[dict]:
    """takala/financial_phrasebank (sentence, label; one ``train`` split) at one agreement level."""
    key = fpb_agreement(agreement)
    pairs = labelled_texts(
        "fpb", splits, "train", "sentence", PUBLISHED["fpb"][key] if verify_counts else None, known=FPB_LABELS
    )
    return [fpb_row(key, index, sentence, label) for index, (sentence, label) in enumerate(pairs)]


def medmcqa_from_hub(splits: Splits, verify_counts: bool = True) -> list[dict]:
    """openlifescienceai/medmcqa (question, opa-opd, cop) train, validation and test (cop -1: unlabelled)."""
    rows = []
    for split in ("train", "validation", "test"):
        where, dataset = hub_split("medmcqa", splits, split)
        if verify_counts:
            check_count("medmcqa", where, PUBLISHED["medmcqa"][split], dataset.num_rows)
        for index, record in enumerate(dataset.to_list()):
            at = f"{where}, row {index}"
            options = [field("medmcqa", at, record, name, str) for name in MEDMCQA_OPTIONS]
            rows.append(
                medmcqa_row(
                    split,
                    index,
                    text_field("medmcqa", at, record, "question"),
                    options,
                    medmcqa_answer("medmcqa", at, record, "cop"),
                )
            )
    return rows


def mbpp_from_hub(splits: Splits, variant: str = DEFAULT_VARIANT, verify_counts: bool = True) -> list[dict]:
    """google-research-datasets/mbpp, config ``full`` or ``sanitized``, in task-id order; each row's hub split
    must agree with the split its task id gives."""
    key = mbpp_key(variant)
    rows = []
    for split in PUBLISHED[key]:
        where, dataset = hub_split("mbpp", splits, split)
        for index, record in enumerate(dataset.to_list()):
            row = mbpp_row(variant, f"{where}, row {index}", record)
            if row["meta"]["split"] != split:
                raise RawDataError(
                    f"task mbpp: {where}, row {index}: field 'task_id' {row['meta']['task_id']} "
                    f"belongs to split {row['meta']['split']}"
                )
            rows.append(row)
    if verify_counts:
        check_split_counts("mbpp", f"hub {HUB_SOURCES['mbpp']['path']} config {variant}", key, rows)
    return sorted(rows, key=lambda row: row["meta"]["task_id"])


def ledgar_from_hub(splits: Splits, verify_counts: bool = True) -> list[dict]:
    """coastalcph/lex_glue config ledgar (text, label) train, validation and test."""
    return [
        labelled_row("ledgar", split, index, text, label)
        for split in ("train", "validation", "test")
        for index, (text, label) in enumerate(
            labelled_texts("ledgar", splits, split, "text", PUBLISHED["ledgar"][split] if verify_counts else None)
        )
    ]


CONVERTERS: dict[str, Callable[..., list[dict]]] = {
    "banking77": banking77_from_hub,
    "fpb": fpb_from_hub,
    "medmcqa": medmcqa_from_hub,
    "mbpp": mbpp_from_hub,
    "ledgar": ledgar_from_hub,
}


def hub_rows(task: str, splits: Splits, **options: Any) -> list[dict]:
    """Rows of ``task`` from its loaded hub splits (options as for :func:`read_hub`)."""
    if task not in CONVERTERS:
        raise KeyError(f"unknown hub task {task!r}; valid: {', '.join(sorted(CONVERTERS))}")
    return CONVERTERS[task](splits, **options)


def config_name(task: str, options: Mapping[str, Any]) -> str | None:
    """The hub config of ``task`` under its reader options (FPB ``agreement``, MBPP ``variant``)."""
    template = HUB_SOURCES[task]["name"]
    if template is None:
        return None
    variant = options.get("variant", DEFAULT_VARIANT)
    mbpp_key(variant)
    return template.format(agreement=fpb_agreement(options.get("agreement", DEFAULT_AGREEMENT)), variant=variant)


def read_hub(task: str, revision: str | None, **options: Any) -> list[dict]:
    """Rows of ``task`` downloaded from the hub at the pinned ``revision`` (options: ``verify_counts``; FPB
    ``agreement``; MBPP ``variant``)."""
    if task not in HUB_SOURCES:
        raise KeyError(f"unknown hub task {task!r}; valid: {', '.join(sorted(HUB_SOURCES))}")
    path = HUB_SOURCES[task]["path"]
    splits = load_dataset(path, config_name(task, options), revision=require_commit(task, path, revision))
    return hub_rows(task, splits, **options)
