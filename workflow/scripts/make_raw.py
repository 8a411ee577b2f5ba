"""Produce a task's raw rows (generated or downloaded) as JSONL."""

from breakeven.data.sources import load_raw
from breakeven.jsonio import write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
rows = load_raw(snakemake.params.source, snakemake.params.mirror)
write_jsonl(snakemake.output[0], rows)
print(f"{len(rows)} raw rows")
