"""Raw data sources: each turns a task's ``source`` block into a list of ``{id, input, target}`` rows."""

from __future__ import annotations

from collections.abc import Callable

from breakeven.registry import Registry

SOURCES = Registry("data source", {"synthetic": "breakeven.data.sources:load_synthetic"})

GENERATORS = Registry("synthetic generator", {"support_emails": "breakeven.synth.support_emails:generate_emails"})


def load_synthetic(source: dict) -> list[dict]:
    """Generate a synthetic dataset deterministically from ``source`` (generator, n, seed)."""
    generate: Callable[[int, int], list[dict]] = GENERATORS.get(source["generator"])
    return [
        {"id": row["id"], "input": row["email"], "target": row["label"], "meta": {"situation": row["situation"]}}
        for row in generate(int(source["n"]), int(source["seed"]))
    ]


def load_raw(task: dict) -> list[dict]:
    """Rows of a task's raw data, from the source its config names."""
    return SOURCES.get(task["source"]["kind"])(task["source"])
