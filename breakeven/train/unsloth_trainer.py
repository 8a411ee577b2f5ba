"""QLoRA with Unsloth (CUDA only): ``FastLanguageModel`` in 4 bits, trl's SFTTrainer, and
``train_on_responses_only`` with the model's response markers (config/models/<model>.yaml ``response_markers``)."""

from __future__ import annotations

import importlib.util
import time

from breakeven.train.request import TrainRequest
from breakeven.train.sft import callbacks, fit, resume_point, sft_kwargs

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
"""What ``target_modules: all-linear`` means for Unsloth (it takes module names, not peft's shorthand)."""


def require_unsloth() -> None:
    """Fail early, naming what is missing: unsloth needs a CUDA device and the ``unsloth`` package."""
    import torch

    missing = []
    if not torch.cuda.is_available():
        missing.append(f"a CUDA device (torch {torch.__version__} sees none)")
    if importlib.util.find_spec("unsloth") is None:
        missing.append("the 'unsloth' package (make venv-gpu: the CUDA stack in .venv-gpu)")
    if missing:
        raise RuntimeError(
            "training backend 'unsloth' needs " + " and ".join(missing) + "; set training.backend to 'peft' or 'auto'"
        )


def markers(request: TrainRequest) -> dict:
    if not request.response_markers:
        raise ValueError(
            "training backend 'unsloth': the model config has no 'response_markers' "
            "({instruction, response}: the rendered openers of a user and an assistant turn)"
        )
    return {
        "instruction_part": request.response_markers["instruction"],
        "response_part": request.response_markers["response"],
    }


def model_kwargs(request: TrainRequest) -> dict:
    """``FastLanguageModel.from_pretrained`` arguments: always 4-bit (QLoRA)."""
    return {
        "model_name": str(request.model_dir),
        "max_seq_length": request.max_seq_length,
        "load_in_4bit": True,
        "dtype": None,
    }


def peft_kwargs(request: TrainRequest) -> dict:
    """``FastLanguageModel.get_peft_model`` arguments from the cell's LoRA hyperparameters."""
    lora = request.lora
    targets = lora["target_modules"]
    return {
        "r": lora["r"],
        "lora_alpha": lora["alpha"],
        "lora_dropout": lora["dropout"],
        "target_modules": ALL_LINEAR if targets == "all-linear" else targets,
        "bias": "none",
        "use_gradient_checkpointing": "unsloth",
        "random_state": request.seed,
    }


def train_lora(request: TrainRequest) -> dict:
    """Train a QLoRA adapter with Unsloth into ``request.out_dir``."""
    require_unsloth()
    response_only = markers(request)
    import unsloth  # noqa: F401 - must be imported before transformers/trl/peft to patch them
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer
    from unsloth import FastLanguageModel
    from unsloth.chat_templates import train_on_responses_only

    started = time.perf_counter()
    resume_from, prior = resume_point(request)
    model, tokenizer = FastLanguageModel.from_pretrained(**model_kwargs(request))
    model = FastLanguageModel.get_peft_model(model, **peft_kwargs(request))
    trainer = SFTTrainer(
        model=model,
        args=SFTConfig(**sft_kwargs(request, cuda=True) | {"gradient_checkpointing": False}),
        train_dataset=Dataset.from_list(request.train),
        eval_dataset=Dataset.from_list(request.val) if request.val else None,
        processing_class=tokenizer,
        callbacks=callbacks(request, prior, started),
    )
    trainer = train_on_responses_only(trainer, **response_only)
    return fit(trainer, request, "unsloth", resume_from, prior, started)
