"""MBPP sandbox throughput: the 974 reference solutions through today's sandbox (bubblewrap per program, values
judged in the scorer) and through the one it replaced (setpriv + audit hook: ``breakeven/tasks/sandbox.py`` at
``OLD_REVISION``, checked out from git into a temporary folder), side by side in one run with 2 workers each.

The references are split in halves and run old, new, new, old (ABBA), so that a change in the machine's load
during the run weighs on both alike. Programs per second and the ratio new / old; the MBPP cell (500 test
problems) scores in 500 / (programs per second), so a ratio of at least 0.5 keeps it within 2x of before.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from breakeven import REPO_ROOT

OLD_REVISION = "9103b3bfefcfafe95cbc914d60d471c14c512fc8"
OLD_PATH = "breakeven/tasks/sandbox.py"
WORKERS = 2
GOAL_RATIO = 0.5


def references() -> list[tuple[str, list[str], str]]:
    """(code, asserts, setup) of every MBPP problem in the data mirror."""
    mirror = Path(os.environ.get("BREAKEVEN_DATA_MIRROR", REPO_ROOT.parent / "shared" / "data"))
    lines = (mirror / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [(row["code"], row["test_list"], row["test_setup_code"]) for row in rows]


def old_sandbox(folder: Path) -> ModuleType:
    """The replaced sandbox module, read from git at OLD_REVISION and imported from `folder`."""
    source = subprocess.run(
        ["git", "show", f"{OLD_REVISION}:{OLD_PATH}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = folder / "old_sandbox.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_sandbox", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_sandbox"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def timed(sandbox: ModuleType, jobs: list) -> tuple[float, int]:
    """(seconds, programs passed) of one run_many over `jobs`."""
    start = time.perf_counter()
    outcomes = sandbox.run_many(jobs, sandbox.Limits(), workers=WORKERS)
    return time.perf_counter() - start, sum(outcome.passed for outcome in outcomes)


def main() -> None:
    from breakeven.tasks import sandbox as new

    jobs = references()
    halves = (jobs[: len(jobs) // 2], jobs[len(jobs) // 2 :])
    new.kernel_launcher()  # the one-off probe is not a program
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as folder:
        old = old_sandbox(Path(folder))
        totals = {"old": [0.0, 0], "new": [0.0, 0]}
        for name, half in (("old", 0), ("new", 0), ("new", 1), ("old", 1)):
            seconds, passed = timed(old if name == "old" else new, halves[half])
            totals[name][0] += seconds
            totals[name][1] += passed
    rates = {name: len(jobs) / seconds for name, (seconds, _) in totals.items()}
    print(f"MBPP references: {len(jobs)} programs, {WORKERS} workers, default limits (10 s, 512 MB)")
    print(f"old ({old.isolation()}, {OLD_REVISION[:7]}): {rates['old']:.1f} programs/s, {totals['old'][1]} passed")
    print(f"new ({new.kernel_launcher().name}): {rates['new']:.1f} programs/s, {totals['new'][1]} passed")
    ratio = rates["new"] / rates["old"]
    print(f"ratio new/old: {ratio:.2f} (goal >= {GOAL_RATIO}: the MBPP cell within 2x of before)")
    print(f"MBPP cell (500 programs): {500 / rates['old']:.0f} s before, {500 / rates['new']:.0f} s now")


if __name__ == "__main__":
    main()
