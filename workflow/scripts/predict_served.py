"""Answer a task's test examples through its base model's shared engine (the base model or the cell's adapter)."""

from pathlib import Path

from breakeven.infer.job import run_local_predictions
from breakeven.runtime import log_to
from breakeven.serving.engine import engine_session, served_model
from breakeven.serving.served import ServedGenerator

log_to(snakemake.log[0])
adapter = snakemake.input.get("adapter")
wildcards = snakemake.wildcards
model = served_model(wildcards.task, wildcards.condition, wildcards.seed, adapter is not None)
with engine_session(Path(snakemake.input.engine), model, snakemake.params.engine_timeout_s) as engine:
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
        threads=0,
        generator=ServedGenerator(engine.url, model, engine.start_s),
    )
