"""Scheduling overhead of the production grid (config/production.yaml: 3 open models x 7 tasks x 4 conditions x
3 seeds): wall time of a fresh `snakemake` process that

- plans the grid from scratch (`snakemake -n` in an empty working directory), and
- reruns it when everything is up to date (the no-op rerun), both as `snakemake -n` and as a real
  `snakemake --cores 2` that finds nothing to do.

A no-op needs every output in place. Running the grid is impossible here, so its outputs are stand-ins: every
output that `snakemake --summary` lists is created empty (a folder for `directory()` outputs), then
`snakemake --touch` orders their modification times along the DAG and records the job metadata (params,
code, software versions) exactly as a real run would. The rerun therefore walks the same DAG, stats the same
files and compares the same metadata as after a real run; only file contents differ, which Snakemake never
reads when deciding what to run. Goal: a no-op rerun in <= 2 s. For scale, the same process also times
`snakemake --list-rules` (importing Snakemake and parsing the workflow, no DAG).

The grid is planned with `config/per-job-engines.yaml` (every predict and capacity job starts its own engine,
as on Slurm): `--touch` cannot date the outputs of a service group (Snakemake 9 stops with "Out of jobs ready
to be started"), so a no-op of the shared-engine grid cannot be staged this way.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from breakeven import REPO_ROOT

CONFIG = REPO_ROOT / "config" / "production.yaml"
OVERLAY = REPO_ROOT / "config" / "per-job-engines.yaml"
REPEATS = 3
GOAL_NOOP_S = 2.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def snakemake(workdir: Path, *args: str) -> tuple[float, float, str]:
    """Run one `snakemake` process on the production config; return its wall time, CPU time and output."""
    command = [
        sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile"), "-d", str(workdir),
        "--cores", "2", "--configfile", str(CONFIG), str(OVERLAY), "--replace-workflow-config", *args,
    ]  # fmt: skip
    env = os.environ | {"XDG_CACHE_HOME": str(REPO_ROOT / ".cache"), "HF_HUB_OFFLINE": "1"}
    start, cpu_start = time.perf_counter(), cpu_seconds()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=600)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    if result.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return elapsed, cpu, result.stdout + result.stderr


def directory_rules(workdir: Path) -> set[str]:
    """Rules whose outputs are `directory()`s, read from the parsed workflow."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings, StorageSettings

    with SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[CONFIG, OVERLAY], replace_workflow_config=True),
            storage_settings=StorageSettings(),
            snakefile=REPO_ROOT / "Snakefile",
            workdir=workdir,
        )
        rules = workflow._workflow.rules  # the API exposes no public rule listing
        return {rule.name for rule in rules if any(out.is_directory for out in rule.output)}


def materialise_outputs(workdir: Path) -> int:
    """Create every output of the grid as an empty stand-in, then let `--touch` date and record them."""
    *_, summary = snakemake(workdir, "--summary")
    rows = [line.split("\t") for line in summary.splitlines() if line.count("\t") >= 5]
    folders = directory_rules(workdir)
    outputs = [(row[0], row[2]) for row in rows if row[0] != "output_file"]
    for path, rule in outputs:
        target = workdir / path
        if rule in folders:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    snakemake(workdir, "--touch")
    return len(outputs)


def timed(workdir: Path, *args: str, expect_nothing: bool = False) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of REPEATS fresh runs."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        wall, cpu, output = snakemake(workdir, *args)
        if expect_nothing and "Nothing to be done" not in output:
            raise RuntimeError(f"snakemake {' '.join(args)} was expected to be a no-op:\n{output[-3000:]}")
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def report(label: str, times: tuple[list[float], list[float]]) -> None:
    walls, cpus = times
    print(
        f"  {label:<44} wall median {statistics.median(walls):5.2f} s (min {min(walls):.2f})"
        f"   CPU median {statistics.median(cpus):5.2f} s   n={len(walls)}"
    )


def main() -> None:
    grid = f"{CONFIG.relative_to(REPO_ROOT)} + {OVERLAY.relative_to(REPO_ROOT)}"
    print(f"Scheduling overhead, production grid ({grid}), fresh process each run:")
    with tempfile.TemporaryDirectory(prefix="breakeven-sched-") as tmp:
        workdir = Path(tmp)
        scratch = timed(workdir, "-n")
        *_, plan = snakemake(workdir, "-n")
        total = plan.split("Job stats:")[-1].split("total")[-1].split()[0]
        report(f"snakemake -n from scratch ({total} jobs)", scratch)
        n_outputs = materialise_outputs(workdir)
        noop_dry = timed(workdir, "-n", expect_nothing=True)
        noop_run = timed(workdir, expect_nothing=True)
        parse = timed(workdir, "--list-rules")
    report(f"no-op rerun, snakemake -n ({n_outputs} outputs)", noop_dry)
    report("no-op rerun, snakemake --cores 2", noop_run)
    report("parse only, snakemake --list-rules", parse)
    wall = statistics.median(noop_run[0])
    verdict = "meets" if wall <= GOAL_NOOP_S else "misses"
    print(
        f"  no-op rerun: {wall:.2f} s wall {verdict} the goal of <= {GOAL_NOOP_S:.0f} s (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
