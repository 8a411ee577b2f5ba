"""Load-test one local cell at rising concurrency: in this job's engine, or in its base model's shared engine."""

from pathlib import Path

from breakeven.runtime import claim_gpu, log_to, set_threads
from breakeven.serving.job import run_capacity

log_to(snakemake.log[0])
engine = snakemake.input.get("engine")
if engine is None:  # this job's own engine: its threads and GPU
    set_threads(snakemake.threads)
    claim_gpu()
adapter = snakemake.input.get("adapter")
wildcards = snakemake.wildcards
run_capacity(
    cell=snakemake.params.cell,
    keys={"task": wildcards.task, "system": wildcards.model, "condition": wildcards.condition, "seed": wildcards.seed},
    model_dir=Path(snakemake.input.model),
    adapter_dir=Path(adapter) if adapter else None,
    test_path=Path(snakemake.input.test),
    fewshot_path=Path(snakemake.input.fewshot),
    manifest_path=Path(snakemake.input.manifest),
    documents_path=Path(snakemake.input.documents),
    out_csv=Path(snakemake.output[0]),
    engine_address=Path(engine) if engine else None,
    engine_timeout_s=snakemake.params.get("engine_timeout_s"),
    server_log=Path(snakemake.log[0]).with_suffix(".server.log"),
)
