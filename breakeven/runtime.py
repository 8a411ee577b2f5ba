"""Process set-up shared by the job scripts: CPU threads and offline, in-repo caches."""

from __future__ import annotations

import os

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
    set them, and this package importable from any interpreter (conda envs do not install it)."""
    for var, rel in CACHE_ENV.items():
        os.environ.setdefault(var, str(REPO_ROOT / rel))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), *paths]))


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
