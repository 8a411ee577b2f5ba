"""The train job's entry point: one LoRA cell's conversations, its training request, and its provenance."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.documents import attach_documents
from breakeven.jsonio import read_json, read_jsonl, write_json
from breakeven.models.chat_templates import training_template
from breakeven.runtime import package_versions
from breakeven.storage import state_store
from breakeven.tasks import adapter_config, build_task, without_instructions
from breakeven.train import LIBRARIES, resolve_backend, train
from breakeven.train.request import TrainRequest

TRAIN_INFO = "train_info.json"


def conversations(task_cfg: dict, rows: list[dict], instructions: bool = True) -> list[dict]:
    """Training conversations: the zero-shot prompt (without its system turn unless ``instructions``) followed by
    the reference answer."""
    task = build_task(task_cfg, REPO_ROOT)
    prompt = (lambda messages: messages) if instructions else without_instructions
    return [
        {"messages": [*prompt(task.messages(row, [])), {"role": "assistant", "content": task.target_text(row)}]}
        for row in rows
    ]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_versions() -> dict:
    return package_versions(LIBRARIES)


def run_training(
    cell: dict,
    model_dir: Path,
    train_path: Path,
    val_path: Path,
    manifest_path: Path,
    documents_path: Path,
    seed: int,
    out_dir: Path,
    checkpoint_dir: Path,
    threads: int,
    choice_path: Path | None = None,
    template_path: Path | None = None,
) -> dict:
    """Train one LoRA cell into ``out_dir`` (resuming from ``checkpoint_dir`` when a killed run left one) and
    write its provenance as ``train_info.json``.

    ``choice_path`` is the sweep's choice: its hyperparameters replace the configured ones, except the keys the
    cell's condition sets itself (``lora_pinned``). ``template_path`` is the model's ``training_chat_template``.
    """
    task_cfg = adapter_config(cell["task"], manifest_path)
    choice = read_json(choice_path) if choice_path else None
    if choice:
        cell = cell | {
            "lora": cell["lora"]
            | {key: value for key, value in choice["chosen"].items() if key not in cell["lora_pinned"]}
        }
    training, model = cell["training"], cell["model"]
    backend = resolve_backend(training["backend"])
    data = {"train_sha256": sha256_file(train_path), "val_sha256": sha256_file(val_path)}
    template = training_template(template_path, model.get("chat_template_kwargs", {})) if template_path else None
    if template:
        data["chat_template_sha256"] = hashlib.sha256(template.encode()).hexdigest()
    shaping = {"backend": backend, "cell": cell, "seed": seed, "data": data}
    request = TrainRequest(
        model_dir=model_dir,
        train=conversations(task_cfg, attach_documents(read_jsonl(train_path), documents_path), cell["instructions"]),
        val=conversations(task_cfg, attach_documents(read_jsonl(val_path), documents_path), cell["instructions"]),
        lora=cell["lora"],
        max_seq_length=cell["max_seq_length"],
        seed=seed,
        out_dir=out_dir,
        checkpoint_dir=checkpoint_dir,
        fingerprint=hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest(),
        eval_steps=training["eval_steps"],
        early_stopping_patience=training["early_stopping_patience"],
        load_in_4bit=training["load_in_4bit"],
        response_markers=model.get("response_markers"),
        chat_template=template,
        threads=threads,
    )
    store = state_store()
    if store and store.pull_tree(checkpoint_dir):
        print(f"checkpoints of {checkpoint_dir} restored from the state store")
    info = train(backend, request)
    if store:
        store.delete_tree(checkpoint_dir)  # the adapter is an output now; its checkpoints are spent
    info |= {
        "backend_requested": training["backend"],
        "base_model": model["name"],
        "base_source": model["source"],  # hub repo_id + revision, or the packaged/local source
        "base_dir": str(model_dir),
        "train_file": str(train_path),
        "val_file": str(val_path),
        **data,
        "checkpoint_dir": str(checkpoint_dir),
        "libraries": info.get("libraries") or library_versions(),  # a worker's are its interpreter's
        "host": platform.node(),
        "threads": threads,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if choice:
        info["sweep_choice"] = choice["point"]
    write_json(out_dir / TRAIN_INFO, info)
    return info
