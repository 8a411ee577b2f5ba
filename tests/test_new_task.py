"""A seventh classification task needs only a task YAML and a prompt file (no reader code)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.mirror import RawDataError
from breakeven.data.prepare import prepare_splits
from breakeven.data.sources import load_raw
from breakeven.jsonio import read_yaml
from breakeven.tasks import build_task

TASK = {
    "name": "sms_spam",
    "description": "Is an SMS spam?",
    "kind": "classification",
    "source": {
        "kind": "dataset",
        "dataset": "sms_spam",
        "revision": "refs/convert/parquet",
        "text_labels": {
            "hub_id": "ucirvine/sms_spam",
            "text_field": "sms",
            "label_field": "label",
            "splits": ["train"],
        },
    },
    "split": {"mode": "random", "train": 0.6, "val": 0.2, "test": 0.2, "stratify": "target"},
    "fewshot_pool": 4,
    "test_sample_size": 10,
    "val_sample_size": 10,
    "primary_metric": "macro_f1",
}


@pytest.fixture
def project_root(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "config", root / "config")
    shutil.copytree(REPO_ROOT / "prompts", root / "prompts")
    (root / "config" / "tasks" / "sms_spam.yaml").write_text(yaml.safe_dump(TASK))
    (root / "prompts" / "sms_spam.yaml").write_text(
        yaml.safe_dump({"system": "Label the SMS as one of:\n{labels}", "user": "{input}"})
    )
    mirror = tmp_path / "mirror" / "sms_spam"
    mirror.mkdir(parents=True)
    texts = [f"WIN a prize now {i}!!!" if i % 3 == 0 else f"see you at {i} pm" for i in range(60)]
    labels = ["spam" if i % 3 == 0 else "ham" for i in range(60)]
    pd.DataFrame({"sms": texts, "label": labels}).to_csv(mirror / "train.csv", index=False)
    return root, tmp_path / "mirror"


def test_new_task_from_yaml_and_prompt_only(project_root):
    root, mirror = project_root
    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {"tasks": ["sms_spam"]}
    project = Project(config, root=root)
    rows = load_raw(project.tasks["sms_spam"]["source"], str(mirror))
    splits, manifest = prepare_splits(rows, project.prepare_config("sms_spam"), [8])
    assert manifest["labels"] == ["ham", "spam"] and manifest["counts"]["test"] == 10
    task = build_task({**project.adapter_config("sms_spam"), "labels": manifest["labels"]}, root)
    system = task.messages(splits["test"][0], [])[0]["content"]
    assert system == "Label the SMS as one of:\nham\nspam"
    assert task.score("spam", {"id": "x", "input": "WIN", "target": "spam"})["error_class"] == "correct"


def test_new_task_mirror_without_columns_is_rejected(project_root):
    root, mirror = project_root
    pd.DataFrame({"text": ["a"], "label": ["ham"]}).to_csv(mirror / "sms_spam" / "train.csv", index=False)
    config = read_yaml(REPO_ROOT / "config" / "config.yaml") | {"tasks": ["sms_spam"]}
    source = Project(config, root=root).tasks["sms_spam"]["source"]
    with pytest.raises(RawDataError, match=r"task sms_spam: .*train.csv: missing columns \['sms'\]"):
        load_raw(source, str(mirror))
