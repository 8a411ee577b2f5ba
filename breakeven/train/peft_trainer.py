"""LoRA with transformers + peft + trl's SFTTrainer, loss on assistant tokens only (CPU or CUDA); the base model
optionally loaded 4-bit with bitsandbytes (QLoRA)."""

from __future__ import annotations

import time

from breakeven.train.fused_head import score_labelled_positions_only
from breakeven.train.request import TrainRequest
from breakeven.train.sft import callbacks, fit, resume_point, sft_kwargs


def load_model(request: TrainRequest, cuda: bool):
    """The base model, 4-bit NF4 (bitsandbytes) when asked."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    if not request.load_in_4bit:
        return AutoModelForCausalLM.from_pretrained(request.model_dir)
    from peft import prepare_model_for_kbit_training

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if cuda else torch.float32,
    )
    model = AutoModelForCausalLM.from_pretrained(
        request.model_dir, quantization_config=quantization, device_map="cuda:0" if cuda else "cpu"
    )
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=cuda)


def build_trainer(request: TrainRequest, callbacks: list | None = None, **overrides):
    """trl's SFTTrainer for a cell: loss on assistant tokens only, the fused LM head scoring labelled positions
    only; ``overrides`` replace ``SFTConfig`` arguments (tests and benchmarks)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    score_labelled_positions_only()
    lora = request.lora
    return SFTTrainer(
        model=load_model(request, cuda),
        args=SFTConfig(**sft_kwargs(request, cuda) | overrides, assistant_only_loss=True),
        train_dataset=Dataset.from_list(request.train),
        eval_dataset=Dataset.from_list(request.val) if request.val else None,
        processing_class=AutoTokenizer.from_pretrained(request.model_dir),
        peft_config=LoraConfig(
            r=lora["r"],
            lora_alpha=lora["alpha"],
            lora_dropout=lora["dropout"],
            target_modules=lora["target_modules"],
            task_type="CAUSAL_LM",
        ),
        callbacks=callbacks,
    )


def train_lora(request: TrainRequest) -> dict:
    """Train a LoRA adapter into ``request.out_dir``; return what the TCO and the paper need."""
    started = time.perf_counter()
    resume_from, prior = resume_point(request)
    trainer = build_trainer(request, callbacks(request, prior, started))
    return fit(trainer, request, "peft", resume_from, prior, started)
