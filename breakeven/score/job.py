"""The score job's entry point: read a cell's predictions and timing, write its metrics file."""

from __future__ import annotations

from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.jsonio import read_json, read_jsonl, write_json
from breakeven.score.cell import score_cell
from breakeven.tasks import adapter_config, build_task
from breakeven.train.job import TRAIN_INFO


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
        build_task(task_cfg, REPO_ROOT),
        read_jsonl(test_path),
        read_jsonl(predictions_path),
        cell["bootstrap"],
        cell.get("group_field"),
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
