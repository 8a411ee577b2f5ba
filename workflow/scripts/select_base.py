"""Evaluate each candidate base model's zero-shot val pass rate and decide the task's plan."""

from pathlib import Path

from breakeven.runtime import log_to
from breakeven.selection.gate import run_select_base
from breakeven.tasks import adapter_config

log_to(snakemake.log[0])
models = snakemake.params.models
selection = run_select_base(
    task_cfg=adapter_config(snakemake.params.task, Path(snakemake.input.manifest)),
    models=models,
    val_cells={
        name: (Path(metrics), Path(predictions))
        for name, metrics, predictions in zip(models, snakemake.input.val_metrics, snakemake.input.val_predictions)
    },
    test_cells=dict(zip(models, map(Path, snakemake.input.test_metrics))),
    train_path=Path(snakemake.input.train),
    test_path=Path(snakemake.input.test),
    documents_path=Path(snakemake.input.documents),
    gate=snakemake.params.gate,
    out_dir=Path(snakemake.output.selection).parent,
)
print(selection["rationale"])
