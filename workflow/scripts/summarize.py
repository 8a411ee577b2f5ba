"""Collect every cell's metrics into the summary tables."""

from breakeven.analysis.hypotheses import hypothesis_table
from breakeven.analysis.paired import paired_table
from breakeven.analysis.summary import cells_wide, error_classes, load_cells, metrics_long
from breakeven.analysis.variability import spread_table
from breakeven.runtime import log_to

log_to(snakemake.log[0])
cells = load_cells(snakemake.input)
cells_wide(cells).to_csv(snakemake.output.cells, index=False)
metrics_long(cells).to_csv(snakemake.output.metrics, index=False)
error_classes(cells).to_csv(snakemake.output.errors, index=False)
bootstrap = snakemake.params.bootstrap
paired = paired_table(cells, snakemake.params.reference, snakemake.params.reference_system, bootstrap)
paired.to_csv(snakemake.output.paired, index=False)
hypothesis_table(cells, snakemake.params.hypotheses, bootstrap).to_csv(snakemake.output.hypotheses, index=False)
spread_table(cells, snakemake.params.n_eval_seeds, bootstrap["seed"]).to_csv(snakemake.output.variability, index=False)
