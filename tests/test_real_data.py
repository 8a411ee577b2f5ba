"""Real benchmark data: the mirror readers on the published files, their rejection of truncated, corrupted or
altered copies, the LEDGAR fixture, and the hub converters on ``Dataset.from_dict`` fixtures in each hub schema."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import MIRROR
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from breakeven.data.fixtures import TEMPLATES, ledgar_fixture
from breakeven.data.hub import HUB_SOURCES, config_name, hub_rows, read_hub
from breakeven.data.mirror import SHA256, RawDataError, read_mirror

FPB_COUNTS = {"50": 4846, "66": 4217, "75": 3453, "all": 2264}


def mirror_of(task: str) -> Path:
    """The mirror root, skipping the test when it lacks ``task``."""
    if not (MIRROR / task).is_dir():
        pytest.skip(f"no {task}/ in the data mirror at {MIRROR} (set BREAKEVEN_DATA_MIRROR)")
    return MIRROR


@cache
def load(task: str, **options: Any) -> list[dict]:
    """Rows of ``task`` from the real mirror, read once per session (tests must not modify them)."""
    return read_mirror(task, mirror_of(task), **options)


def schema(value: Any) -> Any:
    """Keys and value types of a row, recursively (list items by their types)."""
    if isinstance(value, dict):
        return {key: schema(item) for key, item in value.items()}
    if isinstance(value, list):
        return ("list", sorted({type(item).__name__ for item in value}))
    return type(value).__name__


def assert_common(rows: list[dict]) -> None:
    """The common row schema: unique ids, non-empty inputs, a published split on every row."""
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        assert set(row) == {"id", "input", "target", "meta"} and row["meta"]["split"]
        text = row["input"] if isinstance(row["input"], str) else row["input"].get("question", row["input"].get("text"))
        assert text.strip(), row["id"]


# --- the published releases ------------------------------------------------------------------------------------


def test_banking77_matches_the_release() -> None:
    rows = load("banking77")
    categories = json.loads((MIRROR / "banking77" / "categories.json").read_text())
    assert len(categories) == len(set(categories)) == 77
    assert Counter(r["meta"]["split"] for r in rows) == {"train": 10003, "test": 3080}
    for split in ("train", "test"):
        assert {r["target"] for r in rows if r["meta"]["split"] == split} == set(categories)
    assert rows[0]["id"] == "banking77-train-00000" and rows[0]["input"] == "I am still waiting on my card?"
    assert all(r["input"] == r["input"].strip() for r in rows)  # 12 published queries carry stray newlines
    assert_common(rows)


@pytest.mark.parametrize("agreement", list(FPB_COUNTS))
def test_fpb_matches_the_release(agreement: str) -> None:
    rows = load("fpb", agreement=agreement)
    assert len(rows) == FPB_COUNTS[agreement]
    assert {r["target"] for r in rows} == {"positive", "negative", "neutral"}
    assert {(r["meta"]["split"], r["meta"]["agreement"]) for r in rows} == {("all", agreement)}
    assert not any(r["input"].endswith("@") for r in rows)
    assert_common(rows)


def test_fpb_agreement_levels_are_nested() -> None:
    pairs = {a: {(r["input"], r["target"]) for r in load("fpb", agreement=a)} for a in FPB_COUNTS}
    assert pairs["all"] <= pairs["75"] <= pairs["66"] <= pairs["50"]


def test_mbpp_full_matches_the_release() -> None:
    rows = load("mbpp")
    assert Counter(r["meta"]["split"] for r in rows) == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    assert [r["meta"]["task_id"] for r in rows] == list(range(1, 975))
    for row in rows:
        assert set(row["input"]) == {"text", "test_list", "test_setup_code", "challenge_test_list"}
        assert row["input"]["test_list"] and all(t.startswith("assert") for t in row["input"]["test_list"])
        assert row["target"].strip()
    assert_common(rows)


def test_mbpp_sanitized_matches_the_release() -> None:
    rows = load("mbpp", variant="sanitized")
    assert Counter(r["meta"]["split"] for r in rows) == {"prompt": 7, "test": 257, "validation": 43, "train": 120}
    assert {r["input"]["test_setup_code"] for r in rows} == {"", "import math"}
    assert all(r["input"]["challenge_test_list"] == [] for r in rows)
    full = {r["meta"]["task_id"] for r in load("mbpp")}
    assert {r["meta"]["task_id"] for r in rows} <= full
    assert_common(rows)


def test_medmcqa_matches_the_release() -> None:
    rows = load("medmcqa")
    validation = [r for r in rows if r["meta"]["split"] == "validation"]
    test = [r for r in rows if r["meta"]["split"] == "test"]
    assert (len(validation), len(test)) == (4183, 6150)
    assert all(r["meta"]["labelled"] and r["target"] in "ABCD" for r in validation)
    assert {r["target"] for r in validation} == set("ABCD")
    assert all(not r["meta"]["labelled"] and r["target"] is None for r in test)
    raw = [
        json.loads(line)["choices"]
        for name in ("validation", "test")
        for line in (MIRROR / "medmcqa" / f"{name}.jsonl").open(encoding="utf-8")
    ]
    for row, choices in zip(rows, raw, strict=True):
        assert [f"{x}. {option}" for x, option in zip("ABCD", row["input"]["options"], strict=True)] == choices
    assert rows[0]["input"]["options"][0] == "Impulse through myelinated fibers is slower than non-myelinated fibers"
    assert_common(rows)


# --- truncated, corrupted and altered copies ---------------------------------------------------------------------


def copy_task(task: str, tmp_path: Path) -> Path:
    """A writable copy of the mirror's ``task`` folder under ``tmp_path`` (the new mirror root)."""
    shutil.copytree(mirror_of(task) / task, tmp_path / task)
    for path in (tmp_path / task).rglob("*"):
        path.chmod(0o644)
    return tmp_path


def rewrite_lines(path: Path, change: Any) -> None:
    """Rewrite ``path`` (bytes) with ``change(lines)`` applied to its lines (line ends kept)."""
    path.write_bytes(b"".join(change(path.read_bytes().splitlines(keepends=True))))


@pytest.mark.parametrize(
    ("task", "options", "name", "message"),
    [
        ("banking77", {}, "train.csv", "expected 10003 rows"),
        ("fpb", {"agreement": "75"}, "Sentences_75Agree.txt", "expected 3453 rows"),
        ("medmcqa", {}, "validation.jsonl", "expected 4183 rows"),
        ("mbpp", {}, "mbpp.jsonl", "split train: expected 374 rows"),
    ],
)
def test_truncated_file_is_rejected(tmp_path: Path, task: str, options: dict, name: str, message: str) -> None:
    root = copy_task(task, tmp_path)
    rewrite_lines(root / task / name, lambda lines: lines[: int(0.9 * len(lines))])
    with pytest.raises(RawDataError, match=f"task {task}: .*{name}.*{message}.*found"):
        read_mirror(task, root, **options)


def test_banking77_unknown_category_is_rejected(tmp_path: Path) -> None:
    root = copy_task("banking77", tmp_path)
    path = root / "banking77" / "train.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[4, "category"] = "card_arival"
    frame.to_csv(path, index=False)
    with pytest.raises(RawDataError, match=r"train\.csv, row 5 .*field 'category': unknown label 'card_arival'"):
        read_mirror("banking77", root)


def test_fpb_line_without_separator_is_rejected(tmp_path: Path) -> None:
    root = copy_task("fpb", tmp_path)
    rewrite_lines(
        root / "fpb" / "Sentences_AllAgree.txt", lambda lines: lines[:2] + [lines[2].replace(b"@", b" ")] + lines[3:]
    )
    with pytest.raises(RawDataError, match=r"task fpb: .*Sentences_AllAgree\.txt, line 3: no '@'"):
        read_mirror("fpb", root, agreement="all")


def test_medmcqa_bad_json_line_is_rejected(tmp_path: Path) -> None:
    root = copy_task("medmcqa", tmp_path)
    rewrite_lines(root / "medmcqa" / "validation.jsonl", lambda lines: lines[:1] + [b'{"question": "x",\n'] + lines[2:])
    with pytest.raises(RawDataError, match=r"task medmcqa: .*validation\.jsonl, line 2: not valid JSON"):
        read_mirror("medmcqa", root)


def test_mbpp_missing_field_is_rejected(tmp_path: Path) -> None:
    root = copy_task("mbpp", tmp_path)
    path = root / "mbpp" / "sanitized-mbpp.json"
    records = json.loads(path.read_text())
    del records[5]["test_list"]
    path.write_text(json.dumps(records))
    with pytest.raises(RawDataError, match=r"task mbpp: .*sanitized-mbpp\.json, item 5: missing field 'test_list'"):
        read_mirror("mbpp", root, variant="sanitized")


def test_altered_file_fails_its_checksum(tmp_path: Path) -> None:
    root = copy_task("banking77", tmp_path)
    path = root / "banking77" / "train.csv"
    path.write_bytes(path.read_bytes().replace(b"waiting on my card?", b"waiting for my card?", 1))
    with pytest.raises(RawDataError, match=r"task banking77: .*train\.csv: the file differs from the published"):
        read_mirror("banking77", root)
    assert read_mirror("banking77", root, verify_counts=False)[0]["input"] == "I am still waiting for my card?"


def test_unknown_task_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="ledgar"):
        read_mirror("ledgr", MIRROR)
    with pytest.raises(KeyError, match="medmcqa"):
        hub_rows("medmcq", {})


# --- LEDGAR fixture -----------------------------------------------------------------------------------------------


def test_ledgar_fixture_round_trips(tmp_path: Path) -> None:
    ledgar_fixture(tmp_path, seed=3)
    rows = read_mirror("ledgar", tmp_path, verify_counts=False)
    assert Counter(r["meta"]["split"] for r in rows) == {"train": 60, "validation": 20, "test": 20}
    assert {r["target"] for r in rows} <= set(TEMPLATES) and len({r["target"] for r in rows}) > 5
    assert all(isinstance(r["input"], str) and "{" not in r["input"] for r in rows)
    assert_common(rows)
    again = tmp_path / "again"
    ledgar_fixture(again, seed=3)
    assert read_mirror("ledgar", again, verify_counts=False) == rows
    ledgar_fixture(again, seed=4)
    assert read_mirror("ledgar", again, verify_counts=False) != rows


def test_ledgar_fixture_is_not_the_release(tmp_path: Path) -> None:
    ledgar_fixture(tmp_path)
    with pytest.raises(RawDataError, match=r"task ledgar: .*train\.jsonl: expected 60000 rows .*found 60"):
        read_mirror("ledgar", tmp_path)


# --- hub converters -----------------------------------------------------------------------------------------------


def labelled_split(texts: list[str], labels: list[str], names: list[str], text: str = "text") -> Dataset:
    """A text + ClassLabel split in the hub's schema."""
    features = Features({text: Value("string"), "label": ClassLabel(names=names)})
    return Dataset.from_dict({text: texts, "label": [names.index(x) for x in labels]}, features=features)


def hub_banking77(rows: list[dict], names: list[str]) -> DatasetDict:
    """PolyAI/banking77 splits holding the raw texts of ``rows``."""
    return DatasetDict(
        {
            split: labelled_split(
                [r["input"] for r in rows if r["meta"]["split"] == split],
                [r["target"] for r in rows if r["meta"]["split"] == split],
                names,
            )
            for split in ("train", "test")
        }
    )


def test_banking77_hub_rows_equal_the_mirror_rows() -> None:
    rows = load("banking77")
    sample = rows[:5] + [r for r in rows if r["meta"]["split"] == "test"][:3]
    names = sorted({r["target"] for r in rows}, reverse=True)  # hub ClassLabel order differs from categories.json
    splits = hub_banking77(sample, names)
    splits["train"] = splits["train"].map(
        lambda r, i: {"text": f"\n{r['text']} " if i == 1 else r["text"]}, with_indices=True
    )
    assert hub_rows("banking77", splits, verify_counts=False) == sample
    with pytest.raises(RawDataError, match=r"task banking77: hub PolyAI/banking77 split train: expected 10003"):
        hub_rows("banking77", splits)


def test_fpb_hub_rows_equal_the_mirror_rows() -> None:
    sample = load("fpb", agreement="all")[:6]
    splits = {
        "train": labelled_split(
            [r["input"] for r in sample],
            [r["target"] for r in sample],
            ["negative", "neutral", "positive"],
            text="sentence",
        )
    }
    assert hub_rows("fpb", splits, agreement="all", verify_counts=False) == sample
    with pytest.raises(RawDataError, match="task fpb: .*unknown label names"):
        hub_rows("fpb", {"train": labelled_split(["x"], ["pos"], ["pos"], text="sentence")}, verify_counts=False)


def test_medmcqa_hub_rows_match_the_mirror_rows() -> None:
    rows = load("medmcqa")
    by_split = {"train": rows[10:12], "validation": rows[:4], "test": rows[-2:]}
    splits = {
        split: Dataset.from_dict(
            {
                "id": [f"q{i}" for i in range(len(part))],
                "question": [r["input"]["question"] for r in part],
                **{
                    name: [r["input"]["options"][k] for r in part]
                    for k, name in enumerate(("opa", "opb", "opc", "opd"))
                },
                "cop": ["ABCD".index(r["target"]) if r["meta"]["labelled"] else -1 for r in part],
                "exp": [None] * len(part),
            }
        )
        for split, part in by_split.items()
    }
    converted = hub_rows("medmcqa", splits, verify_counts=False)
    strip = [{**r, "id": None, "meta": {**r["meta"], "split": None}} for r in converted]
    expected = [{**r, "id": None, "meta": {**r["meta"], "split": None}} for part in by_split.values() for r in part]
    assert strip == expected
    assert [schema(r) for r in converted] == [schema(r) for part in by_split.values() for r in part]
    assert converted[0]["id"] == "medmcqa-train-00000" and converted[-1]["meta"] == {"split": "test", "labelled": False}


@pytest.mark.parametrize("variant", ["full", "sanitized"])
def test_mbpp_hub_rows_equal_the_mirror_rows(variant: str) -> None:
    name = "mbpp.jsonl" if variant == "full" else "sanitized-mbpp.json"
    path = mirror_of("mbpp") / "mbpp" / name
    records = [json.loads(line) for line in path.open()] if variant == "full" else json.loads(path.read_text())
    rows = load("mbpp", variant=variant)
    by_split: dict[str, list[tuple[dict, dict]]] = {}
    for record, row in zip(records, rows):
        by_split.setdefault(row["meta"]["split"], []).append((record, row))
    sample = {split: pairs[:2] for split, pairs in by_split.items()}
    splits = {split: Dataset.from_list([record for record, _ in pairs]) for split, pairs in sample.items()}
    expected = sorted((row for pairs in sample.values() for _, row in pairs), key=lambda r: r["meta"]["task_id"])
    assert hub_rows("mbpp", splits, variant=variant, verify_counts=False) == expected
    with pytest.raises(RawDataError, match="task mbpp: .*split prompt: expected"):
        hub_rows("mbpp", splits, variant=variant)
    splits["train"], splits["test"] = splits["test"], splits["train"]
    with pytest.raises(RawDataError, match="task mbpp: .*split test, row 0: field 'task_id'"):
        hub_rows("mbpp", splits, variant=variant, verify_counts=False)


def test_ledgar_hub_rows_equal_the_fixture_rows(tmp_path: Path) -> None:
    ledgar_fixture(tmp_path, {"train": 3, "validation": 2, "test": 2})
    mirrored = read_mirror("ledgar", tmp_path, verify_counts=False)
    names = sorted(TEMPLATES)
    splits = {
        split: labelled_split(
            [r["input"] for r in mirrored if r["meta"]["split"] == split],
            [r["target"] for r in mirrored if r["meta"]["split"] == split],
            names,
        )
        for split in ("train", "validation", "test")
    }
    assert hub_rows("ledgar", splits, verify_counts=False) == mirrored
    full_train = labelled_split(["A provision."] * 60000, [names[0]] * 60000, names)
    with pytest.raises(RawDataError, match=r"task ledgar: .*split train, field 'label': expected 100 labels"):
        hub_rows("ledgar", {**splits, "train": full_train})


@pytest.mark.parametrize("task", sorted(HUB_SOURCES))
def test_hub_download_needs_a_pinned_revision(task: str) -> None:
    with pytest.raises(ValueError, match=f"task {task}: .*pinned revision"):
        read_hub(task, None)


def test_hub_config_names() -> None:
    assert config_name("fpb", {"agreement": "All"}) == "sentences_allagree"
    assert config_name("fpb", {}) == "sentences_50agree"
    assert config_name("mbpp", {"variant": "sanitized"}) == "sanitized"
    assert (config_name("ledgar", {}), config_name("banking77", {})) == ("ledgar", None)
    with pytest.raises(ValueError, match="task fpb: agreement"):
        config_name("fpb", {"agreement": "90"})


@pytest.mark.parametrize(
    ("task", "overrides"),
    [("banking77", {}), ("fpb", {}), ("medmcqa", {"split": {"mode": "random", "train": 0.7, "val": 0.1, "test": 0.2}})],
)
def test_prepared_real_splits_are_stratified_and_disjoint(task, overrides):
    """Each prepared split keeps the label proportions of the rows it was drawn from within 1 point."""
    from collections import Counter

    from breakeven import REPO_ROOT
    from breakeven.config import Project
    from breakeven.data.prepare import prepare_splits, split_rows
    from breakeven.data.sources import load_raw
    from breakeven.jsonio import read_yaml

    mirror_of(task)
    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {"tasks": [task], "task_overrides": {task: overrides}}
    project = Project(config)
    rows = load_raw(project.tasks[task]["source"], str(MIRROR))
    prepare = project.prepare_config(task)
    splits, manifest = prepare_splits(rows, prepare, project.train_sizes(task))
    pools = split_rows(rows, prepare["split"])

    def shares(part):
        counts = Counter(r["target"] for r in part)
        return {label: counts[label] / len(part) for label in counts}

    for split, pool in (("train_full", pools["train"]), ("test", pools["test"]), ("val", pools["val"])):
        source = shares(pool)
        for label, share in shares(splits[split]).items():
            assert abs(share - source[label]) <= 0.01, (task, split, label)
    ids = {name: {r["id"] for r in part} for name, part in splits.items()}
    assert not ids["train_full"] & ids["test"] and not ids["val"] & ids["test"] and not ids["fewshot"] & ids["test"]
    assert manifest["labels"] and set(manifest["labels"]) >= {r["target"] for r in rows}


def test_ledgar_fixture_runs_through_prepare(tmp_path):
    """LEDGAR (no real copy here): the generated fixture in its schema, official splits, labels from the data."""
    from breakeven import REPO_ROOT
    from breakeven.config import Project
    from breakeven.data.fixtures import ledgar_fixture
    from breakeven.data.prepare import prepare_splits
    from breakeven.data.sources import load_raw
    from breakeven.jsonio import read_yaml

    ledgar_fixture(tmp_path)
    overrides = {
        "source": {"options": {"verify_counts": False}},
        "test_sample_size": 20,
        "fewshot_pool": 5,
        "val_sample_size": 20,
    }
    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {
        "tasks": ["ledgar"],
        "task_overrides": {"ledgar": overrides},
    }
    project = Project(config)
    rows = load_raw(project.tasks["ledgar"]["source"], str(tmp_path))
    splits, manifest = prepare_splits(rows, project.prepare_config("ledgar"), [8])
    assert manifest["counts"] == {"train_full": 55, "val": 20, "test": 20, "fewshot": 5, "train_8": 8}
    assert len(manifest["labels"]) == 10 and "Governing Laws" in manifest["labels"]


def test_provenance_records_mirror_checksums_and_generator():
    from breakeven.data.provenance import describe_source

    mirror_of("mbpp")
    described = describe_source({"kind": "dataset", "dataset": "mbpp"}, str(MIRROR))
    assert described["files"]["mbpp.jsonl"] == SHA256["mbpp/mbpp.jsonl"]
    assert set(described["files"]) >= {"mbpp.jsonl", "sanitized-mbpp.json"}
    synthetic = describe_source({"kind": "synthetic", "generator": "support_emails", "n": 20, "seed": 1}, None)
    assert synthetic == {"kind": "synthetic", "generator": "support_emails", "n": 20, "seed": 1}
