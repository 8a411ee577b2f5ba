"""Run this checkout's Snakefile in a scratch working directory, as a user would from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from breakeven import REPO_ROOT


def run_workflow(workdir: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    """``snakemake -s <repo>/Snakefile -d <workdir> --cores 2 --resources gpu=1 <args>``."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO_ROOT / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        "2",
        "--resources",
        "gpu=1",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    stats = dry_run_output.split("Job stats:")[-1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m.group(1) != "total"}
