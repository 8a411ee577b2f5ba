"""Pick the best sweep point of one (model, task) on the val slice and write the sweep table."""

from pathlib import Path

from breakeven.runtime import log_to
from breakeven.selection.sweep import choose

log_to(snakemake.log[0])
points = snakemake.params.points
choice = choose(
    points,
    dict(zip(points, map(Path, snakemake.input))),
    Path(snakemake.output.choice),
    Path(snakemake.output.table),
)
print("chosen:", choice)
