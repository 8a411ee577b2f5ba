"""Write the run's base-model-evaluation.md from every task's selection."""

from pathlib import Path

from breakeven.jsonio import read_json
from breakeven.report.base_evaluation import base_model_document
from breakeven.runtime import log_to

log_to(snakemake.log[0])
selections = [read_json(path) for path in snakemake.input]
Path(snakemake.output[0]).write_text(base_model_document(snakemake.params.run, selections))
