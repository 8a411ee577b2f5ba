"""The run manifest: what produced a run's results (code, config, every input file, packages, models, data,
prices, machine) and, per cell, the commit, packages and API model versions its predictions were made with."""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.provenance import sha256
from breakeven.runtime import code_version, package_versions

CELL_KEYS = ("task", "system", "condition", "seed")


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_inputs(root: Path, tasks: list[str], models: dict, api_models: list[str]) -> list[Path]:
    """Every file a run reads besides its config and data: the schemas, prices, each task's config and prompt,
    each open model's config and chat template, each API system's config."""
    config = root / "config"
    files = [*sorted((config / "schemas").glob("*.yaml")), config / "pricing.yaml"]
    files += [path for task in tasks for path in (config / "tasks" / f"{task}.yaml", root / "prompts" / f"{task}.yaml")]
    for name, model in sorted(models.items()):
        files.append(config / "models" / f"{name}.yaml")
        if model.get("chat_template"):
            files.append(config / "chat_templates" / f"{model['chat_template']}.jinja")
    return files + [config / "api_models" / f"{name}.yaml" for name in api_models]


def input_hashes(paths: list[Path], root: Path = REPO_ROOT) -> dict[str, str]:
    """sha256 of each input file, by path relative to the checkout."""
    return {str(Path(path).resolve().relative_to(root.resolve())): sha256(Path(path)) for path in paths}


def imported_distributions(package_dir: Path = REPO_ROOT / "breakeven") -> set[str]:
    """The installed distributions that provide a top-level module some ``import`` in the package names (read
    from the source, so optional backends count too; modules not installed here, such as vLLM's, are
    recorded by the jobs that use them; a namespace such as ``google`` counts every distribution sharing it).
    The project itself is left out: the git commit identifies it."""
    modules = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    providers = importlib.metadata.packages_distributions()
    return {dist for module in modules - {"breakeven"} for dist in providers.get(module, [])}


def direct_requirements(path: Path = REPO_ROOT / "requirements.in") -> set[str]:
    """The distributions ``requirements.in`` names (what the jobs use without importing it: accelerate,
    bitsandbytes, gguf, the server behind ``transformers serve``)."""
    from packaging.requirements import Requirement

    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {Requirement(line).name for line in lines if line}


def job_packages(models: dict) -> dict[str, str]:
    """Versions of every distribution the jobs import or require, plus the wheels model sources are read from
    (those installed here)."""
    wheels = {m["source"]["distribution"] for m in models.values() if m["source"]["kind"] == "gguf_wheel"}
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(name) for name in imported_distributions() | direct_requirements() | wheels}
    return package_versions(tuple(sorted(names)))


def cell_provenance(cell: dict) -> dict:
    """What one cell's predictions were made with, from its metrics file's run record."""
    run = cell["run"]
    return {
        **{key: cell[key] for key in CELL_KEYS},
        "git_commit": run.get("git_commit"),
        "git_dirty": run.get("git_dirty"),
        "packages": run.get("packages", {}),
        "model_versions": run.get("model_versions"),
    }


def run_manifest(
    config: dict, models: dict, pricing: dict, sources: dict[str, dict], inputs: list[Path], cells: list[dict]
) -> dict:
    """Everything the reproducibility appendix states, as one JSON-able dict (``cells``: the metrics files)."""
    hashes = input_hashes(inputs)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": config["run"],
        **code_version(),
        "config_hash": config_hash(config),
        "inputs_hash": config_hash(hashes),
        "inputs": hashes,
        "config": config,
        "packages": job_packages(models),
        "python": platform.python_version(),
        "machine": {"host": platform.node(), "platform": platform.platform(), "processor": platform.machine()},
        "models": {name: {"source": m["source"], "license": m.get("license")} for name, m in models.items()},
        "data": sources,
        "prices_read_on": pricing["prices_read_on"],
        "cells": [cell_provenance(cell) for cell in cells],
    }
