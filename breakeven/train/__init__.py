"""Train stage: LoRA training backends behind one signature, ``train(request) -> info``, and the job entry point."""

from __future__ import annotations

import importlib.util
import sys

from breakeven.registry import Registry
from breakeven.runtime import gpu_count, gpu_python

TRAINERS = Registry(
    "training backend",
    {"peft": "breakeven.train.peft_trainer:train_lora", "unsloth": "breakeven.train.unsloth_trainer:train_lora"},
)
LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "unsloth")
"""The packages whose versions a trained adapter records."""


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_backend(name: str, cuda: bool | None = None, unsloth: bool | None = None) -> str:
    """The backend config ``training.backend`` names: ``auto`` = unsloth where CUDA and unsloth (in this
    interpreter or in the CUDA stack's, ``make venv-gpu``) are present, else peft. ``cuda``/``unsloth`` default to
    what this machine has."""
    if name != "auto":
        if name not in TRAINERS.names():
            raise KeyError(f"unknown training backend {name!r}; valid: auto, {', '.join(TRAINERS.names())}")
        return name
    cuda = cuda_available() if cuda is None else cuda
    if unsloth is None:
        unsloth = importlib.util.find_spec("unsloth") is not None or gpu_python() is not None
    return "unsloth" if cuda and unsloth else "peft"


def train(backend: str, request) -> dict:
    """Train ``request`` with ``backend`` here, or, for unsloth where it does not import here, under the CUDA
    stack's interpreter (``breakeven.train.worker``)."""
    python = gpu_python() if backend == "unsloth" and importlib.util.find_spec("unsloth") is None else None
    if python is None:
        require_cuda_here()
        return TRAINERS.get(backend)(request)
    from breakeven.train.worker import train_in

    return train_in(python, backend, request)


def require_cuda_here() -> None:
    """Training on the CPU of a machine with NVIDIA devices is a set-up error, not a fallback."""
    if gpu_count() and not cuda_available():
        import torch

        raise RuntimeError(
            f"training: this machine has {gpu_count()} NVIDIA device(s) but torch {torch.__version__} in "
            f"{sys.executable} sees no CUDA (a CPU build, or a driver older than its CUDA {torch.version.cuda or '-'}):"
            " install the pinned torch's CUDA build here (make venv on this machine; CUDA 13.0 needs driver >= 580)"
        )
