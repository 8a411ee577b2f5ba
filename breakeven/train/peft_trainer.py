"""LoRA with transformers + peft + trl's SFTTrainer, loss on assistant tokens only (CPU or CUDA); the base model
optionally loaded 4-bit with bitsandbytes (QLoRA). The loss mask comes from the ``{% generation %}`` markers of
the request's training chat template; LoRA adapts the language model only (never a vision tower)."""

from __future__ import annotations

import time

from breakeven.train.fused_head import score_labelled_positions_only
from breakeven.train.request import TrainRequest
from breakeven.train.sft import callbacks, fit, resume_point, sft_kwargs

NON_TEXT_MODULES = ("vision_tower", "multi_modal_projector")
"""Modules of a multimodal checkpoint (Gemma 3: the SigLIP tower, whose attention also has q/k/v_proj, and its
projector) that LoRA leaves alone: every task here is text-only."""


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


def excluded_modules(model) -> str | None:
    """peft ``exclude_modules`` (a regex on module names) for the non-text modules ``model`` has; None if none."""
    present = sorted(
        {part for name, _ in model.named_modules() for part in name.split(".") if part in NON_TEXT_MODULES}
    )
    return rf"(.*\.)?({'|'.join(present)})(\..*)?" if present else None


def load_tokenizer(request: TrainRequest):
    """The model's tokenizer with the request's training chat template, which must carry ``{% generation %}``
    markers unless trl holds a marked copy of the model's own."""
    from transformers import AutoTokenizer
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    tokenizer = AutoTokenizer.from_pretrained(request.model_dir)
    if request.chat_template:
        tokenizer.chat_template = request.chat_template
    if not has_generation_markers(tokenizer.chat_template):
        try:
            get_training_chat_template(tokenizer)
        except ValueError as err:
            raise ValueError(
                f"{request.model_dir}: the chat template has no {{% generation %}} markers and trl has no marked "
                "copy of it, so the assistant-only loss has no mask: set training_chat_template in the model's "
                "config (config/models/<model>.yaml, a template in config/chat_templates/)"
            ) from err
    return tokenizer


def build_trainer(request: TrainRequest, callbacks: list | None = None, **overrides):
    """trl's SFTTrainer for the request: the (quantised) base model, LoRA on its text modules, the loss on
    assistant tokens, the fused LM head scoring labelled positions only; ``overrides`` replace ``SFTConfig``
    arguments (tests and benchmarks)."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    cuda = torch.cuda.is_available()
    score_labelled_positions_only()
    lora, model = request.lora, load_model(request, cuda)
    return SFTTrainer(
        model=model,
        args=SFTConfig(**sft_kwargs(request, cuda) | overrides, assistant_only_loss=True),
        train_dataset=Dataset.from_list(request.train),
        eval_dataset=Dataset.from_list(request.val) if request.val else None,
        processing_class=load_tokenizer(request),
        peft_config=LoraConfig(
            r=lora["r"],
            lora_alpha=lora["alpha"],
            lora_dropout=lora["dropout"],
            target_modules=lora["target_modules"],
            exclude_modules=excluded_modules(model),
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
