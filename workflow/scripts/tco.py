"""Cost per query (self-hosted: at the serving capacity that meets the latency target), TCO over the configured
volumes, and break-even volumes."""

import pandas as pd

from breakeven.cost.tables import at_latency_slo, breakeven, deployments, sensitivity, tco_grid
from breakeven.jsonio import read_yaml
from breakeven.runtime import log_to

log_to(snakemake.log[0])
cost = snakemake.params.cost
capacity = pd.concat([pd.read_csv(path) for path in snakemake.input.capacity] or [pd.DataFrame()], ignore_index=True)
cells = at_latency_slo(pd.read_csv(snakemake.input.cells), capacity, cost)
pricing = read_yaml(snakemake.input.pricing)
table = deployments(cells, pricing, cost)
table.to_csv(snakemake.output.costs, index=False)
tco_grid(table, cost).to_csv(snakemake.output.tco, index=False)
breakeven(table, cost).to_csv(snakemake.output.breakeven, index=False)
sensitivity(cells, pricing, cost).to_csv(snakemake.output.sensitivity, index=False)
