"""profiles/slurm against a real Slurm: a one-node cluster on loopback with two fake GPUs runs a small slice
of the workflow (tiny model: fetch -> data -> train -> predict -> score) submitted through the profile, then a
job that fails. What was requested is read back from slurmctld (``scontrol show job``), not from our logs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from slurm_cluster import SlurmCluster, missing_requirement

from breakeven import REPO_ROOT
from breakeven.jsonio import read_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(missing_requirement() is not None, reason=str(missing_requirement())),
]

CONFIG = {
    "run": "slurm",
    "models": ["tiny-random-llama"],
    "conditions": {"lora_50": {"train_size": 8}},
    "task_overrides": {
        "support_email": {"test_sample_size": 8, "val_sample_size": 8, "fewshot_pool": 10, "max_new_tokens": 16}
    },
    "inference": {"batch_size": 8},
    "bootstrap": {"n_resamples": 200},
}
CELLS = ("zero_shot", "lora_50")
# The test cluster's site overlay, given after profiles/slurm: no accounting database here, so job states
# come from squeue; short waits because everything is local.
SITE_PROFILE = {
    "slurm-status-command": "squeue",
    "slurm-init-seconds-before-status-checks": 3,
    "slurm-keep-successful-logs": True,
    "latency-wait": 5,
}
GPU_RULES = {"train", "predict_local"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def snakemake_slurm(
    cluster: SlurmCluster, workdir: Path, targets: list[str], *args: str
) -> subprocess.CompletedProcess:
    """The README's Slurm command, plus the test cluster's overlay, run from the checkout."""
    site = workdir / "site-profile"
    site.mkdir(exist_ok=True)
    (site / "config.yaml").write_text(yaml.safe_dump(SITE_PROFILE))
    env = cluster.env | {"BREAKEVEN_SLURM_PARTITION": "cpu", "BREAKEVEN_SLURM_GPU_PARTITION": "gpu"}
    env.pop("BREAKEVEN_SLURM_ACCOUNT", None)
    command = [
        sys.executable, "-m", "snakemake", "-s", str(REPO_ROOT / "Snakefile"), "-d", str(workdir), *targets,
        "--workflow-profile", "none", "--profile", str(REPO_ROOT / "profiles" / "slurm"), "--profile", str(site),
        "--configfile", str(workdir / "slurm.yaml"), *args,
    ]  # fmt: skip
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)


def jobs_by_rule(cluster: SlurmCluster, workdir: Path) -> dict[str, list[dict[str, str]]]:
    """slurmctld's records of the jobs submitted from ``workdir``, by the rule named in their comment."""
    found: dict[str, list[dict[str, str]]] = {}
    for job in cluster.jobs():
        if job.get("WorkDir") == str(workdir):
            rule = re.match(r"rule_(\w+?)(_wildcards_|$)", job["Comment"]).group(1)
            found.setdefault(rule, []).append(job)
    return found


def tres_megabytes(job: dict[str, str]) -> float:
    """The memory in a job's TRES, which slurmctld prints rounded to two decimals of its unit (62.50G)."""
    memory = dict(item.split("=", 1) for item in job["TRES"].split(","))["mem"]
    return float(memory[:-1]) * {"M": 1, "G": 1024, "T": 1024**2}[memory[-1]]


@pytest.fixture(scope="module")
def workflow_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-run")
    (workdir / "slurm.yaml").write_text(yaml.safe_dump(CONFIG))
    targets = [f"results/slurm/metrics/support_email/tiny-random-llama/{c}/seed0.json" for c in CELLS]
    result = snakemake_slurm(cluster, workdir, targets)
    assert result.returncode == 0, result.stderr[-6000:]
    return workdir, jobs_by_rule(cluster, workdir)


def test_every_rule_ran_as_a_completed_slurm_job(workflow_run):
    workdir, jobs = workflow_run
    counts = {rule: len(records) for rule, records in jobs.items()}
    assert counts == {
        "fetch_model": 1,
        "make_raw": 1,
        "prepare": 1,
        "train_subset": 1,
        "train": 1,
        "predict_local": 2,
        "score": 2,
    }
    assert {job["JobState"] for records in jobs.values() for job in records} == {"COMPLETED"}
    for condition in CELLS:
        metrics = read_json(workdir / f"results/slurm/metrics/support_email/tiny-random-llama/{condition}/seed0.json")
        assert metrics["run"]["n"] == 8
    adapter = workdir / "results/slurm/adapters/tiny-random-llama/support_email/lora_50/seed0"
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0
    assert list((workdir / ".snakemake" / "slurm_logs" / "rule_train").rglob("*.log"))


def test_gpu_rules_request_a_gpu_and_cpu_rules_do_not(workflow_run):
    _, jobs = workflow_run
    for rule, records in jobs.items():
        for job in records:
            if rule in GPU_RULES:
                # sbatch --gpus=1 --cpus-per-gpu=8 on the gpu partition, as profiles/slurm asks
                assert job["TresPerJob"] == "gres:gpu:1", (rule, job)
                assert job["CpusPerTres"] == "gres:gpu:8", (rule, job)
                assert job["Partition"] == "gpu", (rule, job)
            else:
                assert "gpu" not in job.get("TresPerJob", "") + job["TRES"], (rule, job)
                assert job["Partition"] == "cpu", (rule, job)
    assert abs(tres_megabytes(jobs["train"][0]) - 64000) < 10  # the profile's memory for the train family
    assert jobs["make_raw"][0]["TimeLimit"] == "02:00:00" and jobs["make_raw"][0]["NumCPUs"] == "2"


def test_failing_job_is_reported_as_failed(cluster, workflow_run, tmp_path):
    (tmp_path / "slurm.yaml").write_text(yaml.safe_dump(CONFIG | {"tasks": ["fpb"]}))
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    result = snakemake_slurm(
        cluster, tmp_path, ["resources/raw/fpb/rows.jsonl"], "--config", f"data_mirror={empty_mirror}"
    )
    assert result.returncode != 0
    assert "Error in rule make_raw" in result.stderr, result.stderr[-4000:]
    records = jobs_by_rule(cluster, tmp_path)["make_raw"]
    assert records and {job["JobState"] for job in records} == {"FAILED"}
    assert not (tmp_path / "resources/raw/fpb/rows.jsonl").exists()
