"""LoRA with transformers + peft + trl's SFTTrainer, loss on assistant tokens only (CPU or CUDA)."""

from __future__ import annotations

import time
from pathlib import Path

from breakeven.train.request import TrainRequest


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def sft_config(request: TrainRequest, work_dir: Path, device: str):
    from trl import SFTConfig

    lora = request.lora
    return SFTConfig(
        output_dir=str(work_dir),
        num_train_epochs=lora["epochs"],
        per_device_train_batch_size=lora["batch_size"],
        per_device_eval_batch_size=lora["batch_size"],
        gradient_accumulation_steps=lora["grad_accum"],
        learning_rate=lora["learning_rate"],
        weight_decay=lora["weight_decay"],
        warmup_steps=lora["warmup_ratio"],
        lr_scheduler_type="cosine",
        assistant_only_loss=True,
        max_length=request.max_seq_length,
        logging_steps=5,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        seed=request.seed,
        data_seed=request.seed,
        use_cpu=device == "cpu",
        bf16=request.bf16 if device == "cpu" else device == "cuda",
        gradient_checkpointing=device == "cuda"
        if request.gradient_checkpointing is None
        else request.gradient_checkpointing,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def train_lora(request: TrainRequest) -> dict:
    """Train a LoRA adapter into ``request.out_dir``; return what the TCO and the paper need."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    device = _device()
    lora = request.lora
    tokenizer = AutoTokenizer.from_pretrained(request.model_dir)
    model = AutoModelForCausalLM.from_pretrained(request.model_dir)
    peft_config = LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora["dropout"],
        target_modules=lora["target_modules"],
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model,
        args=sft_config(request, request.out_dir / "_work", device),
        train_dataset=Dataset.from_list(request.train),
        eval_dataset=Dataset.from_list(request.val) if request.val else None,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    kept = len(trainer.train_dataset)
    if kept < len(request.train):
        print(
            f"{len(request.train) - kept} of {len(request.train)} training conversations lost their answer to "
            f"truncation at max_seq_length={request.max_seq_length} and were dropped"
        )
    if kept == 0:
        raise ValueError(
            f"every training conversation is longer than max_seq_length={request.max_seq_length} "
            "tokens before its answer: raise the task's max_seq_length"
        )
    start = time.perf_counter()
    result = trainer.train()
    train_seconds = time.perf_counter() - start
    val_loss = trainer.evaluate()["eval_loss"] if request.val else None
    trainer.save_model(str(request.out_dir))
    trainable, total = trainer.model.get_nb_trainable_parameters()
    return {
        "backend": "peft",
        "device": device,
        "n_train": kept,
        "n_val": len(request.val),
        "train_seconds": round(train_seconds, 2),
        "device_hours": train_seconds / 3600,
        "train_loss": result.training_loss,
        "val_loss": val_loss,
        "trainable_params": trainable,
        "total_params": total,
        "steps": result.global_step,
        "lora": lora,
        "seed": request.seed,
        "max_seq_length": request.max_seq_length,
    }
