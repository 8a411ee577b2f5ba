"""Materialise an open model as a HF folder under resources/models/."""

from pathlib import Path

from breakeven.models.sources import fetch_model
from breakeven.runtime import log_to, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
fetch_model(snakemake.params.model, Path(snakemake.output[0]))
