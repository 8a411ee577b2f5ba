"""Score one cell's predictions against the test split."""

from pathlib import Path

from breakeven.runtime import log_to
from breakeven.score.job import run_scoring

log_to(snakemake.log[0])
adapter = snakemake.input.get("adapter")
run_scoring(
    cell=snakemake.params.cell,
    wildcards=dict(snakemake.wildcards),
    predictions_path=Path(snakemake.input.predictions),
    run_path=Path(snakemake.input.run),
    test_path=Path(snakemake.input.test),
    manifest_path=Path(snakemake.input.manifest),
    adapter_dir=Path(adapter) if adapter else None,
    out=Path(snakemake.output[0]),
)
