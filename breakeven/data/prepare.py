"""Seeded, stratified splits: train_full, nested train_{n}, val, test and a disjoint few-shot pool."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split


def stratum(row: dict, field: str | None) -> str:
    """The label a row is stratified on: ``target`` (the label itself) or a field of a dict target."""
    if field is None:
        return "all"
    target = row["target"]
    return str(target if field == "target" else target[field])


def stratified_order(rows: list[dict], field: str | None, seed: int) -> list[dict]:
    """Order rows so that every prefix keeps the label proportions (so train_100 is a subset of train_400)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(stratum(row, field), []).append(row)
    keyed = []
    for label in sorted(by_label):
        group = by_label[label]
        for rank, index in enumerate(rng.permutation(len(group))):
            keyed.append(((rank + rng.random()) / len(group), group[index]))
    keyed.sort(key=lambda pair: pair[0])
    return [row for _, row in keyed]


def _split(
    rows: list[dict], share: float, field: str | None, seed: int, group: str | None = None
) -> tuple[list[dict], list[dict]]:
    """Stratified split; with ``group`` (an input field), whole groups go to one side (no shared documents)."""
    if group:
        groups = [row["input"][group] for row in rows]
        train_idx, test_idx = next(
            GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed).split(rows, groups=groups)
        )
        return [rows[i] for i in train_idx], [rows[i] for i in test_idx]
    labels = [stratum(row, field) for row in rows] if field else None
    return train_test_split(rows, test_size=share, stratify=labels, random_state=seed)


def split_rows(rows: list[dict], split: dict) -> dict[str, list[dict]]:
    """Train / val / test: stratified shares of all rows (mode random), or the published splits (mode official)
    with val carved from train when the release has none."""
    if split["mode"] == "random":
        return _random_split(rows, split)
    return _official_split(rows, split)


def _random_split(rows: list[dict], split: dict) -> dict[str, list[dict]]:
    field, seed, group = split.get("stratify"), split["seed"], split.get("group")
    total = split["train"] + split["val"] + split["test"]
    rest, test = _split(rows, split["test"] / total, field, seed, group)
    train, val = _split(rest, split["val"] / (split["train"] + split["val"]), field, seed, group)
    return {"train": train, "val": val, "test": test}


def _official_split(rows: list[dict], split: dict) -> dict[str, list[dict]]:
    by_split: dict[str, list[dict]] = {}
    for row in rows:
        by_split.setdefault(row["meta"]["split"], []).append(row)

    def take(names: list[str], role: str) -> list[dict]:
        missing = [name for name in names if name not in by_split]
        if missing:
            raise ValueError(f"split.{role}_from: the raw data has no {missing} rows (it has {sorted(by_split)})")
        return [row for name in names for row in by_split[name]]

    train, test = take(split["train_from"], "train"), take(split["test_from"], "test")
    if split.get("val_from"):
        val = take(split["val_from"], "val")
    else:
        train, val = _split(train, split["val_share"], split.get("stratify"), split["seed"])
    parts = {"train": train, "val": val, "test": test}
    if split.get("fewshot_from"):
        parts["fewshot"] = take(split["fewshot_from"], "fewshot")
    return parts


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).casefold()).strip()


NEAR_DUPLICATE_COSINE = 0.9


def near_leaks(train: list[dict], test: list[dict], threshold: float = NEAR_DUPLICATE_COSINE) -> list[str]:
    """Test ids whose input has a train input with TF-IDF (character 3-5 grams) cosine >= ``threshold``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not train or not test:
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, sublinear_tf=True)
    train_matrix = vectorizer.fit_transform([normalise_text(r["input"]) for r in train])
    test_matrix = vectorizer.transform([normalise_text(r["input"]) for r in test])
    best = (test_matrix @ train_matrix.T).max(axis=1).toarray().ravel()
    return [row["id"] for row, score in zip(test, best) if score >= threshold]


def exact_leaks(train: list[dict], test: list[dict]) -> list[str]:
    """Test ids whose normalised input also occurs in train."""
    seen = {normalise_text(row["input"]) for row in train}
    return [row["id"] for row in test if normalise_text(row["input"]) in seen]


LABEL_KINDS = ("classification", "multiple_choice")


def label_set(rows: list[dict], task: dict) -> list[str] | None:
    """The task's labels (configured, or every label in the data); None when the task has no label set."""
    if task["kind"] not in LABEL_KINDS:
        return None
    found = sorted({str(row["target"]) for row in rows})
    if task.get("labels"):
        unknown = sorted(set(found) - set(task["labels"]))
        if unknown:
            raise ValueError(f"task {task['name']}: labels {unknown[:5]} occur in the data but not in field 'labels'")
        return list(task["labels"])
    return found


def prepare_splits(rows: list[dict], task: dict, train_sizes: list[int]) -> tuple[dict[str, list[dict]], dict]:
    """All splits of a task and a manifest with counts, label proportions, labels and leakage."""
    field, seed = task["split"].get("stratify"), task["split"]["seed"]
    labels = label_set(rows, task)
    try:
        parts = split_rows(rows, task["split"])
    except ValueError as err:
        raise ValueError(f"task {task['name']}: {err}") from err
    train = stratified_order(parts["train"], field, seed)
    if "fewshot" in parts:  # a published few-shot split (MBPP's prompt problems)
        pool = parts["fewshot"][: task["fewshot_pool"]]
    else:
        pool, train = train[: task["fewshot_pool"]], train[task["fewshot_pool"] :]
    train_full = train[: task["training_cap"]]
    too_big = [n for n in train_sizes if n > len(train_full)]
    if too_big:
        raise ValueError(f"task {task['name']}: train sizes {too_big} exceed the {len(train_full)} train examples")
    splits = {
        "train_full": train_full,
        "val": stratified_order(parts["val"], field, seed)[: task["val_sample_size"]],
        "test": stratified_order(parts["test"], field, seed)[: task["test_sample_size"]],
        "fewshot": pool,
        **{f"train_{n}": train_full[:n] for n in train_sizes},
    }
    return splits, manifest(rows, splits, field) | {"labels": labels}


def manifest(rows: list[dict], splits: dict[str, list[dict]], field: str | None) -> dict:
    """Counts, label proportions per split, and train/test leakage."""

    def proportions(part: list[dict]) -> dict[str, float]:
        counts = Counter(stratum(row, field) for row in part)
        return {label: round(count / len(part), 4) for label, count in sorted(counts.items())} if part else {}

    seen_in_train = splits["train_full"] + splits["fewshot"]
    return {
        "raw_rows": len(rows),
        "counts": {name: len(part) for name, part in splits.items()},
        "label_proportions": {"raw": proportions(rows), **{name: proportions(p) for name, p in splits.items()}},
        "leakage": {
            "exact_train_test": exact_leaks(seen_in_train, splits["test"]),
            "exact_train_val": exact_leaks(seen_in_train, splits["val"]),
            f"near_train_test_cosine_{NEAR_DUPLICATE_COSINE}": near_leaks(seen_in_train, splits["test"]),
        },
    }
