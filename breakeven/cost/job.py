"""The tco job's entry point: cost tables (self-hosted cells at the serving capacity that meets the latency
target), break-even with intervals, and the error-cost curve."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd

from breakeven.cost.overhead import selection_runs
from breakeven.cost.tables import at_latency_slo, breakeven, deployments, sensitivity, tco_grid
from breakeven.cost.uncertainty import breakeven_intervals, error_cost_curve, resampled_costs
from breakeven.jsonio import read_json, read_yaml

log = logging.getLogger(__name__)


def run_tco(
    cells_path: Path,
    metric_paths: list[Path],
    gate_paths: list[Path],
    sweep_paths: list[Path],
    capacity_paths: list[Path],
    pricing_path: Path,
    cost: dict,
    bootstrap: dict,
    out: dict[str, Path],
) -> None:
    """Write costs, TCO grid, break-even (with resampled intervals), sensitivity and the error-cost curve."""
    capacity = pd.concat([pd.read_csv(p) for p in capacity_paths] or [pd.DataFrame()], ignore_index=True)
    cells, pricing = at_latency_slo(pd.read_csv(cells_path), capacity, cost), read_yaml(pricing_path)
    selection = selection_runs([read_json(p) for p in gate_paths], [read_json(p) for p in sweep_paths])
    table = deployments(cells, pricing, cost, selection)
    start = time.perf_counter()
    samples = resampled_costs(table, [read_json(p) for p in metric_paths], pricing, cost, bootstrap)
    confidence = bootstrap["confidence"]
    rows = breakeven_intervals(breakeven(table, cost), table, samples, cost, confidence)
    curve = error_cost_curve(table, samples, cost, confidence)
    log.info(
        "%d resamples of %d deployments in %.1f s", bootstrap["n_resamples"], len(table), time.perf_counter() - start
    )
    table.to_csv(out["costs"], index=False)
    tco_grid(table, cost).to_csv(out["tco"], index=False)
    rows.to_csv(out["breakeven"], index=False)
    sensitivity(cells, pricing, cost, selection).to_csv(out["sensitivity"], index=False)
    curve.to_csv(out["error_cost"], index=False)
