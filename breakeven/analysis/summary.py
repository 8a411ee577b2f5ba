"""Collect cell metric files into tidy tables (one row per cell, and one row per cell x metric)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from breakeven.jsonio import read_json

CELL_KEYS = ["task", "system", "condition", "seed", "kind"]


def load_cells(paths: Iterable[str | Path]) -> list[dict]:
    return [read_json(path) for path in paths]


def metrics_long(cells: list[dict]) -> pd.DataFrame:
    """One row per cell and metric, with its CI."""
    rows = [
        {**{k: cell[k] for k in CELL_KEYS}, "metric": name, **estimate}
        for cell in cells
        for name, estimate in cell["metrics"].items()
    ]
    return pd.DataFrame(rows)


def cells_wide(cells: list[dict]) -> pd.DataFrame:
    """One row per cell: headline metric with CI, usage, throughput and training cost inputs."""
    rows = []
    for cell in cells:
        primary = cell["metrics"][cell["primary_metric"]]
        run, train = cell["run"], cell.get("training") or {}
        rows.append(
            {
                **{k: cell[k] for k in CELL_KEYS},
                "primary_metric": cell["primary_metric"],
                "value": primary["value"],
                "ci_low": primary["ci_low"],
                "ci_high": primary["ci_high"],
                "n_test": primary["n"],
                **cell["usage"],
                "seconds_per_query": run["wall_s"] / run["n"],
                "device": run["device"],
                "n_train": train.get("n_train", 0),
                "shots": run.get("shots", 0),
                "train_seconds": train.get("train_seconds", 0.0),
                "train_device_hours": train.get("device_hours", 0.0),
                "api_pricing": run.get("pricing"),
                "api_batch": run.get("batch", False),
                "standin": run.get("standin", False),
            }
        )
    return pd.DataFrame(rows).sort_values(["task", "system", "condition", "seed"]).reset_index(drop=True)


def error_classes(cells: list[dict]) -> pd.DataFrame:
    """Counts of each error class per cell (columns: classes)."""
    rows = [{**{k: cell[k] for k in CELL_KEYS}, **cell["error_classes"]} for cell in cells]
    return pd.DataFrame(rows).fillna(0)
