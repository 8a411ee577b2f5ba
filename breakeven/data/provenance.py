"""Where a task's raw rows came from, written beside them: the generator and its seed, the mirror files with
their checksums, or the hub dataset with the commit its revision resolved to."""

from __future__ import annotations

import hashlib
from pathlib import Path

HUB_IDS = {"cuad": "theatticusproject/cuad-qa"}
"""Hub datasets read outside breakeven.data.hub (the CUAD-QA grid)."""


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


def describe_source(source: dict, mirror: str | None) -> dict:
    """Provenance of one task's raw data."""
    if source["kind"] == "synthetic":
        return {"kind": "synthetic", **{k: source[k] for k in ("generator", "n", "seed")}}
    dataset = source["dataset"]
    if mirror:
        folder = Path(mirror) / dataset
        return {"kind": "mirror", "dataset": dataset, "folder": str(folder), "files": mirror_files(folder)}
    from breakeven.data.hub import HUB_SOURCES

    repo_id = HUB_IDS.get(dataset) or HUB_SOURCES[dataset]["path"]
    revision = source.get("revision")
    return {
        "kind": "hub",
        "dataset": dataset,
        "repo_id": repo_id,
        "revision": revision,
        "commit": resolved_commit(repo_id, revision),
    }
