"""The predict_local job's entry point: answer a cell's test examples with a local model and time the run."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.documents import attach_documents
from breakeven.infer import GENERATORS
from breakeven.infer.base import Generation, Generator
from breakeven.infer.constraints import output_constraint
from breakeven.jsonio import read_jsonl, write_json, write_jsonl
from breakeven.runtime import code_version, package_versions
from breakeven.tasks import Task, adapter_config, build_task, without_instructions

PACKAGES = ("torch", "transformers", "peft", "accelerate", "xgrammar")
"""What the transformers backend runs with (the vLLM backend reports its worker's)."""


def prediction_row(task: Task, example_id: str, answers: list[Generation]) -> dict:
    """One example's answer (and confidence, for tasks with one); multi-request tasks combine theirs (tokens add
    up, latency is the slowest)."""
    row = {
        "id": example_id,
        **task.answer([a.text for a in answers], [a.first_logprobs for a in answers]),
        "latency_s": max(a.latency_s for a in answers),
        "input_tokens": sum(a.input_tokens for a in answers),
        "output_tokens": sum(a.output_tokens for a in answers),
    }
    if len(answers) > 1:
        row["request_outputs"] = [a.text for a in answers]
    return row


def cell_requests(
    cell: dict, test_path: Path, fewshot_path: Path, manifest_path: Path, documents_path: Path
) -> tuple[Task, list[dict], list[list[list[dict]]], dict | None]:
    """A cell's task adapter, its test rows, the conversations each row needs, and its output constraint."""
    task_cfg = adapter_config(cell["task"], manifest_path)
    task = build_task(task_cfg, REPO_ROOT)
    test = attach_documents(read_jsonl(test_path), documents_path)
    shots = attach_documents(read_jsonl(fewshot_path)[: cell["shots"]], documents_path)
    if len(shots) < cell["shots"]:
        raise ValueError(f"{fewshot_path}: {cell['shots']} shots asked, the pool holds {len(shots)}")
    constraint = output_constraint(task_cfg) if cell.get("structured_output") else None
    requests = [task.requests(row, shots) for row in test]
    if not cell["instructions"]:
        requests = [[without_instructions(conversation) for conversation in row] for row in requests]
    return task, test, requests, constraint


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
    generator: Generator | None = None,
) -> None:
    """Answer every test example of a cell; write one JSONL row per example and the run's timing. ``generator``:
    one already serving the model (the shared engine's client), else the configured backend is loaded."""
    inference = cell["inference"]
    task, test, requests, constraint = cell_requests(cell, test_path, fewshot_path, manifest_path, documents_path)
    start = time.perf_counter()
    generator = generator or GENERATORS.get(inference["backend"])(
        model_dir, adapter_dir, prefix_cache=inference["prefix_cache"]
    )
    load = time.perf_counter() - start
    flat = generator.generate(
        [c for group in requests for c in group],
        cell["max_new_tokens"],
        inference["batch_size"],
        constraint,
        top_logprobs=task.top_logprobs,
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
            "instructions": cell["instructions"],
            "structured_output": constraint is not None,
            "device": generator.device,
            "load_s": load,
            "engine_start_s": getattr(generator, "engine_start_s", None),
            "prefix_cache": generator.cache_stats if inference["prefix_cache"] else None,
            "threads": threads,
            "n": len(test),
            "wall_s": wall,
            "job_wall_s": job_wall,
            "throughput_per_s": len(test) / wall if wall else None,
            "host": platform.node(),
            "packages": getattr(generator, "packages", None) or package_versions(PACKAGES),
            **code_version(),
        },
    )
