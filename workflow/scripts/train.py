"""Train one LoRA cell and record its provenance next to the adapter."""

from pathlib import Path

from breakeven.runtime import claim_gpu, log_to, set_threads
from breakeven.train.job import run_training

log_to(snakemake.log[0])
set_threads(snakemake.threads)
claim_gpu()  # one device per job when the local executor runs several GPU jobs at once
choice = snakemake.input.get("choice")
template = snakemake.input.get("training_template")
run_training(
    cell=snakemake.params.cell,
    model_dir=Path(snakemake.input.model),
    train_path=Path(snakemake.input.train),
    val_path=Path(snakemake.input.val),
    manifest_path=Path(snakemake.input.manifest),
    documents_path=Path(snakemake.input.documents),
    seed=int(snakemake.wildcards.seed),
    out_dir=Path(snakemake.output[0]),
    checkpoint_dir=Path(snakemake.params.checkpoints),
    threads=snakemake.threads,
    choice_path=Path(choice) if choice else None,
    template_path=Path(template) if template else None,
)
