"""Any text-classification dataset described by its config alone: a hub dataset (text and label columns,
split names) or, with a mirror, ``<mirror>/<dataset>/<split>.csv|.jsonl`` files with the same columns.
This is what lets a new classification task need only a task YAML and a prompt file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from breakeven.data.mirror import RawDataError, labelled_row


def _row(dataset: str, split: str, index: int, text: object, label: object, where: str) -> dict:
    if not isinstance(text, str) or not text.strip():
        raise RawDataError(f"task {dataset}: {where}, row {index}: field text: empty or not a string")
    if label is None or (isinstance(label, float) and pd.isna(label)):
        raise RawDataError(f"task {dataset}: {where}, row {index}: field label: missing")
    return labelled_row(dataset, split, index, text.strip(), str(label))


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_json(path, lines=True) if path.suffix == ".jsonl" else pd.read_csv(path)


def read_text_labels_mirror(dataset: str, folder: Path, spec: dict) -> list[dict]:
    """Rows from ``folder/<dataset>/<split>.csv`` (or .jsonl) for each split in ``spec['splits']``."""
    rows = []
    for split in spec["splits"]:
        candidates = [folder / dataset / f"{split}{ext}" for ext in (".csv", ".jsonl")]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise RawDataError(f"task {dataset}: no {split}.csv or {split}.jsonl in {folder / dataset}")
        frame = _read_table(path)
        missing = {spec["text_field"], spec["label_field"]} - set(frame.columns)
        if missing:
            raise RawDataError(f"task {dataset}: {path}: missing columns {sorted(missing)}")
        rows += [
            _row(dataset, split, i, t, label, str(path))
            for i, (t, label) in enumerate(zip(frame[spec["text_field"]], frame[spec["label_field"]]))
        ]
    return rows


def read_text_labels_hub(dataset: str, spec: dict, revision: str | None) -> list[dict]:
    """Rows from a hub dataset at a pinned revision; integer labels become their ClassLabel names."""
    from datasets import load_dataset

    from breakeven.data.provenance import require_commit

    revision = require_commit(dataset, spec["hub_id"], revision)
    loaded = load_dataset(spec["hub_id"], spec.get("config"), revision=revision)
    rows = []
    for split in spec["splits"]:
        data = loaded[split]
        feature = data.features[spec["label_field"]]
        names = getattr(feature, "names", None)
        labels = [names[v] if names else v for v in data[spec["label_field"]]]
        rows += [
            _row(dataset, split, i, t, label, f"{spec['hub_id']}[{split}]")
            for i, (t, label) in enumerate(zip(data[spec["text_field"]], labels))
        ]
    return rows
