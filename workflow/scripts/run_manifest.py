"""Write the run manifest: code version, config and input files, packages, models, data provenance, prices,
machine, and each cell's commit, packages and API model versions."""

from pathlib import Path

from breakeven.jsonio import read_json, read_yaml, write_json
from breakeven.report.manifest import run_manifest
from breakeven.runtime import log_to

log_to(snakemake.log[0])
manifest = run_manifest(
    config=snakemake.params.config,
    models=snakemake.params.models,
    pricing=read_yaml(snakemake.input.pricing),
    sources={Path(p).parent.name: read_json(p) for p in snakemake.input.provenance},
    inputs=[Path(p) for p in snakemake.input.inputs],
    cells=[read_json(p) for p in snakemake.input.metrics],
)
write_json(snakemake.output[0], manifest)
print("commit", manifest["git_commit"], "config hash", manifest["config_hash"])
