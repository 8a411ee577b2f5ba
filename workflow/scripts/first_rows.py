"""The first n rows of a prepared split (stratified order, so smaller sets nest in larger ones).

train_{n} must have n rows; an evaluation slice takes what the split has when it holds fewer.
"""

from breakeven.jsonio import read_jsonl, write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
rows = read_jsonl(snakemake.input[0])
n = int(snakemake.wildcards.n)
if n > len(rows):
    if snakemake.params.exact:
        raise ValueError(f"{snakemake.input[0]}: {n} examples asked, {len(rows)} available")
    print(f"{snakemake.input[0]}: {n} examples asked, using all {len(rows)}")
write_jsonl(snakemake.output[0], rows[:n])
