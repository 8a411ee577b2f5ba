"""Figures of the paper: accuracy vs cost, TCO vs daily volume, data efficiency, metric CIs, latency, serving
capacity, and the break-even over the cost of a wrong answer."""

import pandas as pd

from breakeven.report.figures import (
    accuracy_vs_cost,
    capacity,
    data_efficiency,
    error_cost_curves,
    latency,
    metric_with_ci,
    tco_curves,
)
from breakeven.runtime import log_to

log_to(snakemake.log[0])
costs = pd.read_csv(snakemake.input.costs)
accuracy_vs_cost(costs, snakemake.output.accuracy_vs_cost)
cells = pd.read_csv(snakemake.input.cells)
data_efficiency(cells, snakemake.output.data_efficiency)
metric_with_ci(cells, snakemake.output.metric_ci)
latency(cells, costs, snakemake.output.latency)
tco_curves(costs, pd.read_csv(snakemake.input.breakeven), snakemake.params.months, snakemake.output.tco)
tables = [pd.read_csv(path) for path in snakemake.input.capacity]
capacity(pd.concat(tables, ignore_index=True), costs, cells, snakemake.output.capacity)
error_cost_curves(pd.read_csv(snakemake.input.error_cost), snakemake.params.error_usd, snakemake.output.error_cost)
