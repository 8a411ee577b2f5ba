"""Download a published adapter at its pinned commit, so the cell predicts without training."""

from pathlib import Path

from breakeven.publish.hub import pull_adapter
from breakeven.runtime import log_to

log_to(snakemake.log[0])
repo_id, _, revision = snakemake.params.published.rpartition("@")
pull_adapter(repo_id, revision, Path(snakemake.output[0]))
print("pulled", repo_id, "at", revision)
