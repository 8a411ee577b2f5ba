"""Push an adapter with its card to the Hugging Face Hub, and pull a published adapter back at a pinned revision."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from breakeven.jsonio import write_json
from breakeven.publish.card import model_card


def push_adapter(adapter_dir: Path, repo_id: str, private: bool, card_inputs: dict, receipt: Path) -> dict:
    """Upload the adapter folder (weights, config, ``train_info.json``) plus its generated ``README.md`` card to
    ``repo_id``, creating the repository if needed; write what was published (repo, commit) to ``receipt``."""
    from huggingface_hub import HfApi

    api = HfApi()  # the token comes from HF_TOKEN or the hub's login file, never from config
    with tempfile.TemporaryDirectory() as staging:
        folder = Path(staging) / "adapter"
        shutil.copytree(adapter_dir, folder)
        model_card(**card_inputs).save(folder / "README.md")
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        commit = api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=f"Breakeven: {repo_id}")
    record = {"repo_id": repo_id, "revision": commit.oid, "url": commit.commit_url, "private": private}
    write_json(receipt, record)
    return record


def pull_adapter(repo_id: str, revision: str, out: Path) -> Path:
    """Materialise a published adapter at ``revision`` (a commit SHA, so the cell is reproducible) into ``out``;
    offline it is served from the hub cache when that revision was downloaded before."""
    from huggingface_hub import snapshot_download

    if len(revision) != 40 or not all(c in "0123456789abcdef" for c in revision):
        raise ValueError(f"publish.pull: {repo_id}@{revision}: pin a 40-character commit SHA, not a branch or tag")
    snapshot = Path(snapshot_download(repo_id=repo_id, revision=revision, repo_type="model"))
    if not (snapshot / "adapter_config.json").exists():
        raise FileNotFoundError(f"{repo_id}@{revision}: no adapter_config.json, not a PEFT adapter")
    shutil.copytree(snapshot, out, dirs_exist_ok=True)
    return out
