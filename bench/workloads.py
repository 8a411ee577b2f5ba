"""The model and the prompts the side-by-side benchmarks (and the prefix-cache tests) share.

- ``smollm2()``: the SmolLM2-135M stand-in, ``resources/models/smollm2-135m`` where ``make run`` fetched it (or
  the folder ``BREAKEVEN_BENCH_MODEL`` names), else converted once from the packaged GGUF into ``.cache/bench/``.
- ``five_shot_emails(n)``: five-shot support-email extraction prompts (the same five shots for every request).
- ``banking77_zero_shot(n)``: zero-shot BANKING77 prompts (the 77 intents in the system prompt) for the first
  ``n`` rows of the published test file in the data mirror (``BREAKEVEN_DATA_MIRROR``, else ``../shared/data``).
"""

from __future__ import annotations

import os
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.mirror import read_banking77
from breakeven.data.sources import load_synthetic
from breakeven.jsonio import read_yaml
from breakeven.tasks import build_task

MODEL_ENV = "BREAKEVEN_BENCH_MODEL"
MIRROR = Path(os.environ.get("BREAKEVEN_DATA_MIRROR", REPO_ROOT.parent / "shared" / "data"))


def project(tasks: list[str]) -> Project:
    return Project(read_yaml(REPO_ROOT / "config" / "config.yaml") | {"tasks": tasks})


def smollm2() -> Path:
    """The SmolLM2-135M-Instruct HF folder (fetched from the packaged GGUF when no run has fetched it yet)."""
    for candidate in (os.environ.get(MODEL_ENV), REPO_ROOT / "resources/models/smollm2-135m"):
        if candidate and (Path(candidate) / "config.json").exists():
            return Path(candidate)
    from breakeven.models.sources import fetch_model

    out = REPO_ROOT / ".cache" / "bench" / "smollm2-135m"
    if not (out / "config.json").exists():
        fetch_model(project(["support_email"]).models["smollm2-135m"], out)
    return out


def five_shot_emails(n: int, seed: int = 99) -> list[list[dict]]:
    """``n`` support-email prompts, each with the same five generated emails as shots."""
    task = build_task(project(["support_email"]).adapter_config("support_email"))
    rows = load_synthetic({"generator": "support_emails", "n": n + 5, "seed": seed})
    shots, rows = rows[:5], rows[5:]
    return [task.messages(row, shots) for row in rows]


def banking77_rows(n: int) -> list[dict]:
    """The first ``n`` rows of the published BANKING77 test file, in file order."""
    return [row for row in read_banking77(MIRROR) if row["meta"]["split"] == "test"][:n]


def banking77_task():
    return build_task(project(["banking77"]).adapter_config("banking77"))


def banking77_zero_shot(n: int) -> list[list[dict]]:
    """Zero-shot prompts for the first ``n`` BANKING77 test rows."""
    task = banking77_task()
    return [task.messages(row, []) for row in banking77_rows(n)]
