"""Split a task's raw rows into train_full / val / test / few-shot pool and write the manifest."""

from breakeven.data.prepare import prepare_splits
from breakeven.jsonio import read_jsonl, write_json, write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
splits, manifest = prepare_splits(read_jsonl(snakemake.input[0]), snakemake.params.task, snakemake.params.train_sizes)
for name in ("train_full", "val", "test", "fewshot"):
    write_jsonl(snakemake.output[name], splits[name])
write_json(snakemake.output.manifest, manifest)
print(manifest["counts"], "leakage:", {k: len(v) for k, v in manifest["leakage"].items()})
