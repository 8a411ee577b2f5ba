"""Process set-up shared by the job scripts: CPU threads, in-repo caches, GPU slots, logs, and what a job ran
with (the versions of its packages, the git commit of the code)."""

from __future__ import annotations

import fcntl
import glob
import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

from breakeven import REPO_ROOT

CACHE_ENV = {
    "HF_HOME": ".cache/huggingface",
    "TORCH_HOME": ".cache/torch",
    "MPLCONFIGDIR": ".cache/matplotlib",
    "PIP_CACHE_DIR": ".cache/pip",
    "XDG_CACHE_HOME": ".cache",
    "TRITON_CACHE_DIR": ".cache/triton",
}


def prepare_job_environment() -> None:
    """Environment every job inherits: tool caches under the checkout (nothing under $HOME) unless the user
    set them, this interpreter first on PATH, and this package importable from any interpreter (conda envs do
    not install it)."""
    for var, rel in CACHE_ENV.items():
        os.environ.setdefault(var, str(REPO_ROOT / rel))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # a shell rule's `python` is this interpreter (a conda env activated for a job puts its own in front)
    interpreter_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != interpreter_dir:
        os.environ["PATH"] = os.pathsep.join(filter(None, [interpreter_dir, os.environ.get("PATH")]))
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), *paths]))


def pin_caches(root: Path = REPO_ROOT) -> None:
    """Point every tool cache into the checkout, overriding what the environment says (on a RunPod pod only
    the volume holding the checkout persists; an image's HF_HOME under /root would be lost with the pod)."""
    for var, rel in CACHE_ENV.items():
        os.environ[var] = str(root / rel)


GPU_PYTHON = REPO_ROOT / ".venv-gpu" / "bin" / "python"
"""The interpreter of the GPU jobs' CUDA stack (vLLM's CUDA build, Unsloth; ``make venv-gpu``)."""


def gpu_count() -> int:
    """NVIDIA devices visible to this process (device files, so no CUDA initialisation)."""
    return len(glob.glob("/dev/nvidia[0-9]*"))


def gpu_python() -> Path | None:
    """The CUDA stack's interpreter where ``make venv-gpu`` made it, else None."""
    return GPU_PYTHON if GPU_PYTHON.exists() else None


def gpu_stack(profile: str, devices: int | None = None) -> str:
    """What a GPU profile says about the GPU jobs' CUDA work (``make venv-gpu``); an error on a machine with
    NVIDIA devices (``devices``, default: this one's) that lacks the CUDA stack."""
    devices = gpu_count() if devices is None else devices
    if gpu_python():
        return f"{profile}: the GPU jobs run vLLM and Unsloth under {GPU_PYTHON} (make venv-gpu)"
    if devices:
        raise RuntimeError(
            f"{profile}: this machine has {devices} NVIDIA device(s) but no CUDA stack ({GPU_PYTHON} is missing): "
            "run `make venv-gpu` first (vLLM's CUDA build and Unsloth, in .venv-gpu)"
        )
    return (
        f"{profile}: no CUDA stack here ({GPU_PYTHON} is missing; make venv-gpu): on a node with NVIDIA devices "
        "the vLLM jobs refuse to start and training uses peft"
    )


_HELD_SLOTS: list[int] = []  # descriptors whose locks must live as long as the job


def claim_gpu(lock_dir: Path = Path(".snakemake/gpu-slots"), devices: int | None = None) -> int | None:
    """Give this job a GPU of its own on a multi-GPU machine run by the local executor, which admits up to
    ``--resources gpu=N`` GPU jobs at once but does not say which device each gets: take the first free device
    (an exclusive lock on ``lock_dir/gpu<i>``, held until the process exits) and export CUDA_VISIBLE_DEVICES.
    Nothing to do where a scheduler already chose (Slurm sets CUDA_VISIBLE_DEVICES) or with fewer than 2 GPUs."""
    devices = gpu_count() if devices is None else devices
    if "CUDA_VISIBLE_DEVICES" in os.environ or devices < 2:
        return None
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(devices):
            fd = os.open(lock_dir / f"gpu{index}", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _HELD_SLOTS.append(fd)
            os.environ["CUDA_VISIBLE_DEVICES"] = str(index)
            return index
        time.sleep(1)  # more GPU jobs than devices (gpu=N above the device count): wait for one to finish


def set_threads(threads: int) -> None:
    """Pin torch and BLAS to the job's thread budget (cores are shared between concurrent jobs)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(max(1, threads))


def log_to(path: str) -> None:
    """Send this process's stdout and stderr (Python and C level, tqdm included) to the job's log file."""
    import sys

    handle = open(path, "w", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the job
    os.dup2(handle.fileno(), 1)
    os.dup2(handle.fileno(), 2)
    sys.stdout = sys.stderr = handle


def package_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of ``packages`` (absent ones left out)."""
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def code_version(root: Path = REPO_ROOT) -> dict[str, str | bool | None]:
    """The git commit of the checkout and whether the tree differs from it (``git_dirty``: modified, staged or
    untracked files, ignored ones aside); both None outside a git checkout."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": bool(_git(root, "status", "--porcelain"))}
