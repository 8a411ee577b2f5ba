"""Train stage: LoRA training backends behind one signature, ``train(request) -> info``, and the job entry point."""

from __future__ import annotations

import importlib.util

from breakeven.registry import Registry

TRAINERS = Registry(
    "training backend",
    {"peft": "breakeven.train.peft_trainer:train_lora", "unsloth": "breakeven.train.unsloth_trainer:train_lora"},
)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_backend(name: str, cuda: bool | None = None, unsloth: bool | None = None) -> str:
    """The backend config ``training.backend`` names: ``auto`` = unsloth where CUDA and unsloth are present,
    else peft. ``cuda``/``unsloth`` default to what this machine has."""
    if name != "auto":
        if name not in TRAINERS.names():
            raise KeyError(f"unknown training backend {name!r}; valid: auto, {', '.join(TRAINERS.names())}")
        return name
    cuda = cuda_available() if cuda is None else cuda
    unsloth = importlib.util.find_spec("unsloth") is not None if unsloth is None else unsloth
    return "unsloth" if cuda and unsloth else "peft"
