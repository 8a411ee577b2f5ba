"""Entry points of the GPU-bound and scoring jobs: read the cell's files, call the package, write outputs."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.documents import attach_documents
from breakeven.infer import GENERATORS
from breakeven.infer.base import Generation
from breakeven.infer.constraints import output_constraint
from breakeven.jsonio import read_json, read_jsonl, write_json, write_jsonl
from breakeven.run_manifest import package_versions
from breakeven.scoring import score_cell
from breakeven.tasks import Task, build_task
from breakeven.train import TRAINERS, resolve_backend
from breakeven.train.request import TrainRequest

TRAIN_INFO = "train_info.json"


def adapter_config(task_cfg: dict, manifest_path: Path) -> dict:
    """The adapter's config, with the label set from the prepared data when the task file lists none."""
    if task_cfg["kind"] == "classification" and not task_cfg.get("labels"):
        return {**task_cfg, "labels": read_json(manifest_path)["labels"]}
    return task_cfg


def conversations(task_cfg: dict, rows: list[dict]) -> list[dict]:
    """Training conversations: the zero-shot prompt followed by the reference answer."""
    task = build_task(task_cfg, REPO_ROOT)
    return [
        {"messages": [*task.messages(row, []), {"role": "assistant", "content": task.target_text(row)}]} for row in rows
    ]


def prediction_row(task: Task, example_id: str, answers: list[Generation]) -> dict:
    """One example's answer; multi-request tasks combine theirs (tokens add up, latency is the slowest)."""
    row = {
        "id": example_id,
        "output": task.combine([a.text for a in answers]),
        "latency_s": max(a.latency_s for a in answers),
        "input_tokens": sum(a.input_tokens for a in answers),
        "output_tokens": sum(a.output_tokens for a in answers),
    }
    if len(answers) > 1:
        row["request_outputs"] = [a.text for a in answers]
    return row


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def library_versions() -> dict:
    return package_versions(("torch", "transformers", "peft", "trl", "bitsandbytes", "unsloth"))


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
) -> dict:
    """Train one LoRA cell into ``out_dir`` (resuming from ``checkpoint_dir`` when a killed run left one) and
    write its provenance as ``train_info.json``.

    ``choice_path`` is the sweep's choice: its hyperparameters replace the configured ones, except the keys the
    cell's condition sets itself (``lora_pinned``).
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
    shaping = {"backend": backend, "cell": cell, "seed": seed, "data": data}
    request = TrainRequest(
        model_dir=model_dir,
        train=conversations(task_cfg, attach_documents(read_jsonl(train_path), documents_path)),
        val=conversations(task_cfg, attach_documents(read_jsonl(val_path), documents_path)),
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
        threads=threads,
    )
    info = TRAINERS.get(backend)(request)
    info |= {
        "backend_requested": training["backend"],
        "base_model": model["name"],
        "base_source": model["source"],  # hub repo_id + revision, or the packaged/local source
        "base_dir": str(model_dir),
        "train_file": str(train_path),
        "val_file": str(val_path),
        **data,
        "checkpoint_dir": str(checkpoint_dir),
        "libraries": library_versions(),
        "host": platform.node(),
        "threads": threads,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if choice:
        info["sweep_choice"] = choice["point"]
    write_json(out_dir / TRAIN_INFO, info)
    return info


def run_local_predictions(
    cell: dict,
    model_dir: Path,
    adapter_dir: Path | None,
    test_path: Path,
    fewshot_path: Path,
    manifest_path: Path,
    documents_path: Path,
    out_predictions: Path,
    out_run: Path,
    threads: int,
) -> None:
    """Answer every test example of a cell; write one JSONL row per example and the run's timing."""
    task_cfg, inference = adapter_config(cell["task"], manifest_path), cell["inference"]
    task = build_task(task_cfg, REPO_ROOT)
    test = attach_documents(read_jsonl(test_path), documents_path)
    shots = attach_documents(read_jsonl(fewshot_path)[: cell["shots"]], documents_path)
    if len(shots) < cell["shots"]:
        raise ValueError(f"{fewshot_path}: {cell['shots']} shots asked, the pool holds {len(shots)}")
    constraint = output_constraint(task_cfg) if cell.get("structured_output") else None
    start = time.perf_counter()
    generator = GENERATORS.get(inference["backend"])(model_dir, adapter_dir)
    requests = [task.requests(row, shots) for row in test]
    load = time.perf_counter() - start
    flat = generator.generate(
        [c for group in requests for c in group], cell["max_new_tokens"], inference["batch_size"], constraint
    )
    # vLLM's worker reports its generation time without its engine start (a one-off cost, recorded apart)
    job_wall = time.perf_counter() - start - load
    wall = getattr(generator, "generate_s", None) or job_wall
    rows, position = [], 0
    for row, group in zip(test, requests):
        answers = flat[position : position + len(group)]
        position += len(group)
        rows.append(prediction_row(task, row["id"], answers))
    write_jsonl(out_predictions, rows)
    write_json(
        out_run,
        {
            "backend": inference["backend"],
            "batch_size": inference["batch_size"],
            "shots": cell["shots"],
            "structured_output": constraint is not None,
            "device": getattr(generator, "device", "unknown"),
            "load_s": load,
            "engine_start_s": getattr(generator, "engine_start_s", None),
            "threads": threads,
            "n": len(test),
            "wall_s": wall,
            "job_wall_s": job_wall,
            "throughput_per_s": len(test) / wall if wall else None,
            "host": platform.node(),
        },
    )


def run_scoring(
    cell: dict,
    wildcards: dict,
    predictions_path: Path,
    run_path: Path,
    test_path: Path,
    manifest_path: Path,
    adapter_dir: Path | None,
    out: Path,
) -> None:
    """Score a cell and write its metrics file (everything later stages need about the cell)."""
    task_cfg = adapter_config(cell["task"], manifest_path)
    scored = score_cell(
        build_task(task_cfg, REPO_ROOT), read_jsonl(test_path), read_jsonl(predictions_path), cell["bootstrap"]
    )
    write_json(
        out,
        {
            "task": wildcards["task"],
            "system": wildcards["model"],
            "condition": wildcards["condition"],
            "seed": int(wildcards["seed"]),
            "kind": cell["kind"],
            "primary_metric": task_cfg["primary_metric"],
            "run": read_json(run_path),
            "training": read_json(adapter_dir / TRAIN_INFO) if adapter_dir else None,
            **scored,
        },
    )
