"""train_{n}: the first n rows of train_full (stratified order, so smaller sets nest in larger ones)."""

from breakeven.jsonio import read_jsonl, write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
rows = read_jsonl(snakemake.input[0])
n = int(snakemake.wildcards.n)
if n > len(rows):
    raise ValueError(f"{snakemake.input[0]}: {n} examples asked, {len(rows)} available")
write_jsonl(snakemake.output[0], rows[:n])
