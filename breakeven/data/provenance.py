"""Where a task's raw rows came from, written beside them: the generator and its seed, the mirror files with
their checksums, or the hub dataset with the commit its revision resolved to."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HUB_IDS = {"cuad": "theatticusproject/cuad-qa"}
"""Hub datasets read outside breakeven.data.hub (the CUAD-QA grid)."""
COMMIT = re.compile(r"[0-9a-f]{40}")
"""A hub commit sha; a branch (main, refs/convert/parquet) or tag moves."""


def require_commit(task: str, repo_id: str, revision: str | None) -> str:
    """``revision`` when it names a commit; else an error saying how to pin it."""
    if revision and COMMIT.fullmatch(revision):
        return revision
    raise ValueError(
        f"task {task}: reading {repo_id} from the hub needs a pinned revision, a commit sha (config/tasks/{task}.yaml "
        f"field 'source.revision' is {revision!r}, which can move); `python -m breakeven.data.pin {task}` writes the "
        "commit it points at now"
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mirror_files(folder: Path) -> dict[str, str]:
    """sha256 of every file under a dataset's mirror folder, by relative path."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def resolved_commit(repo_id: str, revision: str) -> str:
    """The commit a hub revision (branch, tag or sha) points at now."""
    from huggingface_hub import HfApi

    return HfApi().dataset_info(repo_id, revision=revision).sha


def hub_repo(source: dict) -> str:
    """The hub dataset a task's ``dataset`` source reads."""
    if source.get("text_labels"):
        return source["text_labels"]["hub_id"]
    from breakeven.data.hub import HUB_SOURCES

    return HUB_IDS.get(source["dataset"]) or HUB_SOURCES[source["dataset"]]["path"]


def describe_source(source: dict, mirror: str | None) -> dict:
    """Provenance of one task's raw data."""
    if source["kind"] == "synthetic":
        return {"kind": "synthetic", **{k: source[k] for k in ("generator", "n", "seed")}}
    dataset = source["dataset"]
    if mirror:
        folder = Path(mirror) / dataset
        return {"kind": "mirror", "dataset": dataset, "folder": str(folder), "files": mirror_files(folder)}
    repo_id = hub_repo(source)
    revision = source.get("revision")
    return {
        "kind": "hub",
        "dataset": dataset,
        "repo_id": repo_id,
        "revision": revision,
        "commit": resolved_commit(repo_id, revision),
    }
