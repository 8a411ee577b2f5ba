"""The LoRA hyperparameter sweep: every grid point trained on the train split and scored on a val slice; the
best point (primary metric on val, then val loss, then the smaller rank) is what the final LoRA cells use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from breakeven.jsonio import read_json, write_json


def sweep_table(points: dict[str, dict], metric_paths: dict[str, Path]) -> pd.DataFrame:
    """One row per sweep point: its hyperparameters, val primary metric with CI, and final val loss."""
    rows = []
    for name, point in points.items():
        cell = read_json(metric_paths[name])
        primary = cell["metrics"][cell["primary_metric"]]
        training = cell.get("training") or {}
        rows.append(
            {
                "point": name,
                **point,
                "metric": cell["primary_metric"],
                "value": primary["value"],
                "ci_low": primary["ci_low"],
                "ci_high": primary["ci_high"],
                "n_val": primary["n"],
                "val_loss": training.get("val_loss", float("nan")),
            }
        )
    table = pd.DataFrame(rows)
    order = ["value", "val_loss"] + (["r"] if "r" in table else [])
    return table.sort_values(order, ascending=[False, True] + [True] * (len(order) - 2), na_position="last")


def choose(points: dict[str, dict], metric_paths: dict[str, Path], out_choice: Path, out_table: Path) -> dict:
    """Write the sweep table (best first) and the chosen point's hyperparameters."""
    table = sweep_table(points, metric_paths).reset_index(drop=True)
    out_table.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_table, index=False)
    best = table.iloc[0]
    choice = {"point": best["point"], "chosen": points[best["point"]], "metric": best["metric"], "value": best["value"]}
    write_json(out_choice, choice)
    return choice
