"""Markdown fragments (tables and result sentences) that the paper includes."""

from pathlib import Path

import pandas as pd

from breakeven.jsonio import read_json, read_yaml
from breakeven.report.fragments import write_fragments
from breakeven.runtime import log_to

log_to(snakemake.log[0])
write_fragments(
    out_dir=Path(snakemake.output[0]),
    cells=pd.read_csv(snakemake.input.cells),
    metrics=pd.read_csv(snakemake.input.metrics),
    errors=pd.read_csv(snakemake.input.errors),
    paired=pd.read_csv(snakemake.input.paired),
    hypotheses=pd.read_csv(snakemake.input.hypotheses),
    variability=pd.read_csv(snakemake.input.variability),
    costs=pd.read_csv(snakemake.input.costs),
    breakeven=pd.read_csv(snakemake.input.breakeven),
    sensitivity=pd.read_csv(snakemake.input.sensitivity),
    manifests={Path(p).parent.name: read_json(p) for p in snakemake.input.manifests},
    run_manifest=read_json(snakemake.input.run_manifest),
    pricing=read_yaml(snakemake.input.pricing),
    config=snakemake.params.config,
    tasks=snakemake.params.tasks,
    models=snakemake.params.models,
    selections=[read_json(path) for path in snakemake.input.selections],
    sweeps={(Path(p).parent.parent.name, Path(p).parent.name): pd.read_csv(p) for p in snakemake.input.sweeps},
    api_models=snakemake.params.api_models,
)
