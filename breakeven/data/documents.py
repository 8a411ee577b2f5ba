"""Long shared contexts (a contract asked 41 questions) are stored once, beside the rows that refer to them."""

from __future__ import annotations

from pathlib import Path

from breakeven.jsonio import read_json

DOCUMENT_KEY = "document"
CONTEXT_KEY = "context"


def split_documents(rows: list[dict], key: str) -> tuple[list[dict], dict[str, str]]:
    """Move ``input.context`` of each row into a documents table keyed by ``input[key]``."""
    documents: dict[str, str] = {}
    slim = []
    for row in rows:
        inputs = dict(row["input"])
        name = str(inputs[key])
        context = inputs.pop(CONTEXT_KEY)
        if documents.setdefault(name, context) != context:
            raise ValueError(f"document {name!r}: two rows carry different contexts")
        slim.append({**row, "input": {**inputs, DOCUMENT_KEY: name}})
    return slim, documents


def attach_documents(rows: list[dict], documents_path: Path | None) -> list[dict]:
    """Put each row's document text back as ``input.context`` (rows without a document pass through)."""
    if documents_path is None:
        return rows
    documents = read_json(documents_path)
    if not documents:
        return rows
    return [
        {**row, "input": {**row["input"], CONTEXT_KEY: documents[row["input"][DOCUMENT_KEY]]}}
        if isinstance(row["input"], dict) and DOCUMENT_KEY in row["input"]
        else row
        for row in rows
    ]
