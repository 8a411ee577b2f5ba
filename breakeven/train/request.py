"""What a training backend is asked to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainRequest:
    """One LoRA training cell.

    Attributes:
        model_dir: HF folder of the base model.
        train: conversations (``{"messages": [...]}``) to train on; loss only on assistant turns.
        val: conversations for the validation loss.
        lora: LoRA and optimiser hyperparameters (the model's lora block, condition overrides applied).
        max_seq_length: truncation length in tokens.
        seed: training seed.
        out_dir: where the adapter is saved.
        threads: CPU threads the job may use.
        bf16: bfloat16 autocast on CPU (CUDA always uses it).
        gradient_checkpointing: trade compute for memory; None = only on CUDA, where memory is the limit.
    """

    model_dir: Path
    train: list[dict]
    val: list[dict]
    lora: dict
    max_seq_length: int
    seed: int
    out_dir: Path
    threads: int = 1
    bf16: bool = False
    gradient_checkpointing: bool | None = None
