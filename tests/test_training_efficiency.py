"""Training efficiency on CPU: one conversation per forward pass (padding-free), the loss still on the assistant's
tokens only, the fused LM head projecting only labelled positions, and the same optimizer step as the padded
batch of the old set-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.sources import load_synthetic
from breakeven.jsonio import read_yaml
from breakeven.models.sources import fetch_model
from breakeven.train.job import conversations
from breakeven.train.peft_trainer import build_trainer
from breakeven.train.request import TrainRequest

MODEL = "tiny-random-llama"


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(read_yaml(REPO_ROOT / "config" / "config.yaml") | {"models": [MODEL]})


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, project) -> Path:
    out = tmp_path_factory.mktemp("model") / MODEL
    fetch_model(project.models[MODEL], out)
    return out


def request_for(project, tiny_model, tmp_path, n: int = 8, **lora) -> TrainRequest:
    rows = load_synthetic({"generator": "support_emails", "n": n, "seed": 3})
    return TrainRequest(
        model_dir=tiny_model,
        train=conversations(project.adapter_config("support_email"), rows),
        val=[],
        lora=project.lora_params(MODEL, "support_email", "lora_50") | {"batch_size": 4} | lora,
        max_seq_length=1024,
        seed=0,
        out_dir=tmp_path / "adapter",
        checkpoint_dir=tmp_path / "checkpoints",
    )


def test_cpu_passes_hold_one_conversation_and_label_only_its_answer(project, tiny_model, tmp_path):
    request = request_for(project, tiny_model, tmp_path)
    trainer = build_trainer(request)
    assert trainer.args.per_device_train_batch_size == 1 and trainer.args.gradient_accumulation_steps == 4
    tokenizer, answers = trainer.processing_class, {c["messages"][-1]["content"] for c in request.train}
    for batch in trainer.get_train_dataloader():
        assert batch["input_ids"].shape[0] == 1 and bool(batch["attention_mask"].all())  # no padding
        labelled = batch["input_ids"][batch["labels"] != -100]
        text = tokenizer.decode(labelled)
        assert text.endswith("<|im_end|>") and text.removesuffix("<|im_end|>") in answers
        assert "<|im_start|>" not in text  # nothing of the prompt is trained on


def test_fused_head_projects_only_labelled_positions(project, tiny_model, tmp_path, monkeypatch):
    import trl.trainer.utils as trl_utils

    request = request_for(project, tiny_model, tmp_path, n=4)
    trainer = build_trainer(request, max_steps=1, save_strategy="no", report_to="none")
    rows, projected = [], trl_utils._ChunkedLogProbFunction.apply
    monkeypatch.setattr(
        trl_utils._ChunkedLogProbFunction, "apply", lambda hidden, *a: rows.append(len(hidden)) or projected(hidden, *a)
    )
    labelled = [int((b["labels"][:, 1:] != -100).sum()) for b in trainer.get_train_dataloader()]
    trainer.train()
    assert sorted(rows) == sorted(labelled) and max(rows) < 100  # the prompts are longer than that


def lora_weights(trainer) -> dict:
    return {k: v.detach().clone() for k, v in trainer.model.named_parameters() if "lora_" in k}


def test_accumulated_passes_take_the_padded_batch_step(project, tiny_model, tmp_path, monkeypatch):
    """One optimizer step of the CPU set-up (four passes of one conversation, labelled positions only) equals the
    step of the old set-up (one padded pass of four, every position projected)."""
    import trl.trainer.utils as trl_utils
    from trl.kernels.chunked_logprob import _use_triton

    request = request_for(project, tiny_model, tmp_path, dropout=0.0, learning_rate=1.0)
    # plain SGD: the step is the gradient itself (Adam's first step is ~lr * sign(gradient) whatever its size)
    step = {"max_steps": 1, "save_strategy": "no", "report_to": "none", "warmup_steps": 0, "optim": "sgd"}
    new = build_trainer(request, **step)
    new.train()
    old = build_trainer(request, **step, per_device_train_batch_size=4, gradient_accumulation_steps=1)
    monkeypatch.setattr(trl_utils, "_use_triton", _use_triton)  # the fused head as trl ships it
    old.train()
    after_new, after_old = lora_weights(new), lora_weights(old)
    assert after_new.keys() == after_old.keys()
    moved = [k for k in after_new if "lora_B" in k]  # initialised to zero: after the step, the gradient
    assert all(after_new[k].abs().max() > 1e-6 for k in moved)
    for key in after_new:
        assert after_new[key].allclose(after_old[key], rtol=1e-4, atol=1e-7), key
