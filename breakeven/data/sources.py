"""Raw data sources: each turns a task's ``source`` block into a list of ``{id, input, target}`` rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from breakeven.registry import Registry

SOURCES = Registry(
    "data source",
    {"synthetic": "breakeven.data.sources:load_synthetic", "dataset": "breakeven.data.sources:load_dataset_rows"},
)

GENERATORS = Registry(
    "synthetic generator", {"support_emails": "breakeven.data.synthetic.support_emails:generate_emails"}
)


def load_synthetic(source: dict, mirror: str | None = None) -> list[dict]:
    """Generate a synthetic dataset deterministically from ``source`` (generator, n, seed); no mirror applies."""
    generate: Callable[[int, int], list[dict]] = GENERATORS.get(source["generator"])
    return [
        {"id": row["id"], "input": row["email"], "target": row["label"], "meta": {"situation": row["situation"]}}
        for row in generate(int(source["n"]), int(source["seed"]))
    ]


def load_dataset_rows(source: dict, mirror: str | None = None) -> list[dict]:
    """A published dataset: from the local mirror folder when one is configured, else from the hub at the
    pinned revision."""
    options = source.get("options", {})
    if source.get("text_labels"):
        from breakeven.data.text_labels import read_text_labels_hub, read_text_labels_mirror

        if mirror:
            return read_text_labels_mirror(source["dataset"], Path(mirror), source["text_labels"])
        return read_text_labels_hub(source["dataset"], source["text_labels"], source.get("revision"))
    if source["dataset"] == "cuad":
        from breakeven.data.cuad import load_cuad

        return load_cuad(Path(mirror) if mirror else None, source.get("revision"), **options)
    if mirror:
        from breakeven.data.mirror import read_mirror

        rows = read_mirror(source["dataset"], Path(mirror), **options)
    else:
        from breakeven.data.hub import read_hub

        rows = read_hub(source["dataset"], source.get("revision"), **options)
    # splits published without labels (MedMCQA's test) cannot be scored or trained on
    return [row for row in rows if row["meta"].get("labelled", True)]


def load_raw(source: dict, mirror: str | None = None) -> list[dict]:
    """Rows of a task's raw data, from the source its config names (``mirror``: local copy of releases)."""
    return SOURCES.get(source["kind"])(source, mirror)
