"""Prepared splits of the synthetic task: stratified, disjoint, nested, reproducible; leakage reported."""

from __future__ import annotations

from collections import Counter

import pytest

from breakeven.config import Project
from breakeven.data.prepare import exact_leaks, prepare_splits, stratified_order
from breakeven.data.sources import load_raw


@pytest.fixture(scope="module")
def prepared():
    from breakeven import REPO_ROOT
    from breakeven.jsonio import read_yaml

    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    task = project.tasks["support_email"]
    rows = load_raw(task["source"])
    return rows, task, *prepare_splits(rows, task, [50, 200])


def proportions(rows, field="issue_category"):
    counts = Counter(r["target"][field] for r in rows)
    return {k: v / len(rows) for k, v in counts.items()}


def test_counts_follow_the_config(prepared):
    rows, task, splits, manifest = prepared
    assert len(rows) == 2000
    assert manifest["counts"]["test"] == task["test_sample_size"] == 100
    assert manifest["counts"]["val"] == task["val_sample_size"]
    assert manifest["counts"]["fewshot"] == task["fewshot_pool"]
    assert manifest["counts"]["train_full"] == min(task["training_cap"], 1400 - task["fewshot_pool"])


def test_splits_are_disjoint_and_nested(prepared):
    _, _, splits, _ = prepared
    ids = {name: {r["id"] for r in part} for name, part in splits.items()}
    for a, b in [
        ("train_full", "val"),
        ("train_full", "test"),
        ("val", "test"),
        ("fewshot", "train_full"),
        ("fewshot", "test"),
        ("fewshot", "val"),
    ]:
        assert not ids[a] & ids[b], (a, b)
    assert ids["train_50"] < ids["train_200"] < ids["train_full"]


@pytest.mark.parametrize("split", ["train_full", "train_200", "val", "test"])
def test_splits_are_stratified(prepared, split):
    rows, _, splits, _ = prepared
    source = proportions(rows)
    for label, share in proportions(splits[split]).items():
        assert share == pytest.approx(source[label], abs=0.011 if split != "train_200" else 0.02)


def test_prepare_is_deterministic(prepared):
    rows, task, splits, _ = prepared
    again, _ = prepare_splits(rows, task, [50, 200])
    assert [r["id"] for r in again["test"]] == [r["id"] for r in splits["test"]]
    assert [r["id"] for r in again["train_50"]] == [r["id"] for r in splits["train_50"]]


def test_train_size_larger_than_train_split_fails(prepared):
    rows, task, _, _ = prepared
    with pytest.raises(ValueError, match="support_email: train sizes \\[5000\\] exceed"):
        prepare_splits(rows, task, [5000])


def test_stratified_prefixes_keep_proportions():
    rows = [{"id": str(i), "target": {"label": "a" if i % 4 else "b"}} for i in range(400)]
    ordered = stratified_order(rows, "label", seed=0)
    for n in (20, 40, 100):
        share_b = sum(r["target"]["label"] == "b" for r in ordered[:n]) / n
        assert share_b == pytest.approx(0.25, abs=0.05)


def test_exact_leaks_are_found_after_normalisation():
    train = [{"id": "t1", "input": "Hello   World"}]
    test = [{"id": "x1", "input": "hello world"}, {"id": "x2", "input": "other"}]
    assert exact_leaks(train, test) == ["x1"]
