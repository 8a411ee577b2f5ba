"""The Snakemake profiles as Snakemake reads them: what the Slurm and RunPod profiles resolve to from the
user's environment, and the GPU slots that let one machine run several GPU jobs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from snakemake.profiles import ProfileConfigFileParser

from breakeven import REPO_ROOT
from breakeven.runtime import CACHE_ENV, claim_gpu

PROFILES = REPO_ROOT / "profiles"


def parse(profile: str) -> dict:
    with open(PROFILES / profile / "config.yaml") as stream:
        return ProfileConfigFileParser().parse(stream)


def test_slurm_profile_takes_partitions_and_account_from_the_environment(monkeypatch):
    monkeypatch.setenv("BREAKEVEN_SLURM_PARTITION", "short")
    monkeypatch.setenv("BREAKEVEN_SLURM_GPU_PARTITION", "a100")
    monkeypatch.setenv("BREAKEVEN_SLURM_ACCOUNT", "proj42")
    profile = parse("slurm")
    assert profile["executor"] == "slurm"
    assert {"slurm_partition=short", "slurm_account=proj42", "mem_mb=4000"} <= set(profile["default-resources"])
    train = {entry.split(":", 1)[1] for entry in profile["set-resources"] if entry.startswith("train:")}
    assert {"slurm_partition=a100", "cpus_per_gpu=8", "mem_mb=64000", "runtime=720"} <= train
    assert "score:slurm_partition=a100" not in profile["set-resources"]


def test_slurm_profile_without_site_settings_leaves_partition_and_account_to_the_cluster(monkeypatch):
    for var in ("BREAKEVEN_SLURM_PARTITION", "BREAKEVEN_SLURM_GPU_PARTITION", "BREAKEVEN_SLURM_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    profile = parse("slurm")
    entries = profile["default-resources"] + profile["set-resources"]
    assert not [entry for entry in entries if "slurm_partition" in entry or "slurm_account" in entry]


def test_runpod_profile_pins_caches_into_the_checkout_and_counts_gpus(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv("BREAKEVEN_VOLUME", str(REPO_ROOT.parent))
    monkeypatch.setenv("BREAKEVEN_GPUS", "4")
    for var in CACHE_ENV:
        monkeypatch.setenv(var, f"/root/.cache/image-default/{var}")  # what a pod image might set
    profile = parse("runpod")
    assert profile["resources"] == ["gpu=4"]
    assert "executor" not in profile  # the local executor
    for var, rel in CACHE_ENV.items():
        assert os.environ[var] == str(REPO_ROOT / rel)


def test_runpod_profile_refuses_a_checkout_off_the_volume(tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--workflow-profile", "none", "--profile", str(PROFILES / "runpod")],
        cwd=REPO_ROOT,
        env=os.environ | {"BREAKEVEN_VOLUME": str(volume)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"run from a checkout on the persistent volume {volume}" in result.stderr


@pytest.fixture
def no_assigned_gpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unset")  # so that teardown restores the caller's value
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")


def test_gpu_jobs_on_one_machine_get_different_devices(tmp_path, no_assigned_gpu, monkeypatch):
    assert claim_gpu(tmp_path, devices=2) == 0
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    # a second job (another process) while the first one runs gets the other device
    code = "from pathlib import Path; from breakeven.runtime import claim_gpu; print(claim_gpu(Path(r'%s'), 2))"
    other = subprocess.run(
        [sys.executable, "-c", code % tmp_path],
        env={k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.stdout.strip() == "1", other.stderr


def test_gpu_claim_leaves_scheduler_choices_and_single_gpus_alone(tmp_path, no_assigned_gpu, monkeypatch):
    assert claim_gpu(tmp_path, devices=1) is None and "CUDA_VISIBLE_DEVICES" not in os.environ
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # e.g. set by Slurm for its allocation
    assert claim_gpu(tmp_path, devices=4) is None and os.environ["CUDA_VISIBLE_DEVICES"] == "3"
