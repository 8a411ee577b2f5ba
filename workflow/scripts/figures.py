"""Figures of the paper: accuracy vs cost, and TCO vs daily volume."""

import pandas as pd

from breakeven.report.figures import accuracy_vs_cost, data_efficiency, tco_curves
from breakeven.runtime import log_to

log_to(snakemake.log[0])
costs = pd.read_csv(snakemake.input.costs)
accuracy_vs_cost(costs, snakemake.output.accuracy_vs_cost)
data_efficiency(pd.read_csv(snakemake.input.cells), snakemake.output.data_efficiency)
tco_curves(costs, pd.read_csv(snakemake.input.breakeven), snakemake.params.months, snakemake.output.tco)
