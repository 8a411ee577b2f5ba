"""Answer a task's test examples with an API system (or its loopback stand-in)."""

import logging
from pathlib import Path

from breakeven.providers.cell import run_api_predictions
from breakeven.runtime import log_to

log_to(snakemake.log.job)
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx2").setLevel(logging.WARNING)
model = snakemake.input.get("model")
run_api_predictions(
    cell=snakemake.params.cell,
    standin_model=Path(model) if model else None,
    test_path=Path(snakemake.input.test),
    fewshot_path=Path(snakemake.input.fewshot),
    manifest_path=Path(snakemake.input.manifest),
    documents_path=Path(snakemake.input.documents),
    out_predictions=Path(snakemake.output.predictions),
    out_run=Path(snakemake.output.run),
    cache_dir=Path(snakemake.params.cache),
    server_log=Path(snakemake.log.server),
)
