"""Answer a task's test examples with a local model (optionally through its LoRA adapter)."""

from pathlib import Path

from breakeven.infer.job import run_local_predictions
from breakeven.runtime import claim_gpu, log_to, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
claim_gpu()  # one device per job when the local executor runs several GPU jobs at once
adapter = snakemake.input.get("adapter")
run_local_predictions(
    cell=snakemake.params.cell,
    model_dir=Path(snakemake.input.model),
    adapter_dir=Path(adapter) if adapter else None,
    test_path=Path(snakemake.input.test),
    fewshot_path=Path(snakemake.input.fewshot),
    manifest_path=Path(snakemake.input.manifest),
    documents_path=Path(snakemake.input.documents),
    out_predictions=Path(snakemake.output.predictions),
    out_run=Path(snakemake.output.run),
    threads=snakemake.threads,
)
