"""Produce a task's raw rows (generated or downloaded) as JSONL, long shared contexts stored once."""

from breakeven.data.documents import split_documents
from breakeven.data.sources import load_raw
from breakeven.jsonio import write_json, write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
rows = load_raw(snakemake.params.source, snakemake.params.mirror)
documents = {}
if snakemake.params.source.get("document_key"):
    rows, documents = split_documents(rows, snakemake.params.source["document_key"])
write_jsonl(snakemake.output.rows, rows)
write_json(snakemake.output.documents, documents)
print(f"{len(rows)} raw rows, {len(documents)} documents")
