"""What the decision cost before the final cells: the device time of the base-model gate's val cells (one
per candidate model) and of the sweep's grid points (training and val scoring, per model and task)."""

from __future__ import annotations

import pandas as pd

COLUMNS = ["task", "system", "condition", "stage", "train_device_hours", "eval_device_hours"]


def selection_runs(gate_cells: list[dict], sweep_cells: list[dict]) -> pd.DataFrame:
    """One row per gate or sweep cell with the device-hours it took to train (sweep points) and to score."""
    rows = [
        {
            "task": cell["task"],
            "system": cell["system"],
            "condition": cell["condition"],
            "stage": stage,
            "train_device_hours": (cell.get("training") or {}).get("device_hours", 0.0),
            "eval_device_hours": cell["run"]["wall_s"] / 3600,
        }
        for stage, cells in (("gate", gate_cells), ("sweep", sweep_cells))
        for cell in cells
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def selection_device_hours(runs: pd.DataFrame | None, task: str, system: str, kind: str) -> float:
    """Device-hours a self-hosted cell owes to the selection: every gate cell of its task (the gate chose the
    base model), and for a LoRA cell every sweep point of its model and task (the sweep chose its values)."""
    if runs is None or runs.empty:
        return 0.0
    owed = (runs["task"] == task) & (
        (runs["stage"] == "gate") | ((runs["stage"] == "sweep") & (runs["system"] == system) & (kind == "lora"))
    )
    return float(runs.loc[owed, ["train_device_hours", "eval_device_hours"]].to_numpy().sum())
