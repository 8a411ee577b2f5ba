"""JSON / JSONL / YAML files, written atomically so a killed job never leaves a half-written output."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the config is read at every snakemake start."""

COMPACT_SEPARATORS = (",", ":")
"""JSON without optional whitespace, the one format answers take everywhere: the references models are trained on
and shown as shots, and every backend's structured-output grammar (vLLM's ``disable_any_whitespace``), as the
APIs answer. A grammar that allows whitespace lets a small model spend its budget on it, and a reference format
the grammar forbids fights what the model was taught."""


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json(path: str | Path, data: Any) -> None:
    _atomic_write(Path(path), json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    _atomic_write(Path(path), "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_jsonl(path: str | Path) -> list[dict]:
    """Read a JSONL file; a malformed line raises ValueError naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({err.msg})") from err
    return rows


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file; a syntax error raises ValueError naming the file and position."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=SAFE_LOADER)
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: invalid YAML: {err}") from err
