"""The run manifest: what produced a run's results (code, config, packages, models, data, prices, machine)."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime

from breakeven import REPO_ROOT
from breakeven.runtime import package_versions

PACKAGES = ("torch", "transformers", "trl", "peft", "snakemake", "scikit-learn", "scipy", "pandas", "numpy")


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_manifest(config: dict, models: dict, pricing: dict, sources: dict[str, dict]) -> dict:
    """Everything the reproducibility appendix states, as one JSON-able dict."""
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": config["run"],
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "config_hash": config_hash(config),
        "config": config,
        "packages": package_versions(PACKAGES),
        "python": platform.python_version(),
        "machine": {"host": platform.node(), "platform": platform.platform(), "processor": platform.machine()},
        "models": {name: {"source": m["source"], "license": m.get("license")} for name, m in models.items()},
        "data": sources,
        "prices_read_on": pricing["prices_read_on"],
    }
