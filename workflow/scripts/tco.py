"""Cost per query (self-hosted: at the serving capacity that meets the latency target), TCO over the configured
volumes, break-even volumes with intervals, and the error-cost curve."""

import logging
from pathlib import Path

from breakeven.cost.job import run_tco
from breakeven.runtime import log_to

log_to(snakemake.log[0])
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
run_tco(
    cells_path=Path(snakemake.input.cells),
    metric_paths=[Path(p) for p in snakemake.input.metrics],
    gate_paths=[Path(p) for p in snakemake.input.gate],
    sweep_paths=[Path(p) for p in snakemake.input.sweep],
    capacity_paths=[Path(p) for p in snakemake.input.capacity],
    pricing_path=Path(snakemake.input.pricing),
    cost=snakemake.params.cost,
    bootstrap=snakemake.params.bootstrap,
    out={name: Path(path) for name, path in snakemake.output.items()},
)
