"""Produce a task's raw rows (generated or downloaded) as JSONL, long shared contexts stored once, and the
provenance of the data."""

from breakeven.data.documents import split_documents
from breakeven.data.provenance import describe_source
from breakeven.data.sources import load_raw
from breakeven.jsonio import write_json, write_jsonl
from breakeven.runtime import log_to

log_to(snakemake.log[0])
source, mirror = snakemake.params.source, snakemake.params.mirror
rows = load_raw(source, mirror)
documents = {}
if source.get("document_key"):
    rows, documents = split_documents(rows, source["document_key"])
write_jsonl(snakemake.output.rows, rows)
write_json(snakemake.output.documents, documents)
write_json(snakemake.output.provenance, describe_source(source, mirror) | {"rows": len(rows)})
print(f"{len(rows)} raw rows, {len(documents)} documents")
