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
        val: conversations for the validation loss (early stopping, best checkpoint).
        lora: LoRA and optimiser hyperparameters (the model's lora block, condition overrides applied).
        max_seq_length: truncation length in tokens.
        seed: training seed.
        out_dir: where the adapter is saved.
        checkpoint_dir: resumable checkpoints and ``train_state.json`` (outside ``out_dir``, which Snakemake
            deletes when the job fails).
        fingerprint: hash of everything that shapes the run; checkpoints of another fingerprint are discarded.
        eval_steps: optimizer steps between validation evaluations and checkpoints.
        early_stopping_patience: evaluations without improvement before stopping (0 = never).
        load_in_4bit: load the base model in 4 bits (bitsandbytes NF4; unsloth always does).
        response_markers: ``{"instruction", "response"}`` turn openers for unsloth's response-only loss.
        chat_template: the training chat template (``{% generation %}`` markers) that replaces the tokenizer's on
            the peft backend; None: the tokenizer's own.
        threads: CPU threads the job may use.
        gradient_checkpointing: trade compute for memory; None = only on CUDA, where memory is the limit.
    """

    model_dir: Path
    train: list[dict]
    val: list[dict]
    lora: dict
    max_seq_length: int
    seed: int
    out_dir: Path
    checkpoint_dir: Path
    fingerprint: str = ""
    eval_steps: int = 50
    early_stopping_patience: int = 3
    load_in_4bit: bool = False
    response_markers: dict | None = None
    chat_template: str | None = None
    threads: int = 1
    gradient_checkpointing: bool | None = None
