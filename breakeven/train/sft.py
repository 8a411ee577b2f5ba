"""What the training backends share: trl's SFT arguments, resumable checkpoints with ``train_state.json``,
early stopping on the validation loss, and the provenance record of a finished adapter."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from breakeven.storage import ObjectStore, state_store
from breakeven.train.request import TrainRequest

STATE_FILE = "train_state.json"


def device_name() -> str:
    import torch

    return f"cuda:{torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu"


def batch_shape(lora: dict, cuda: bool) -> dict:
    """Conversations per forward pass and passes per optimizer step.

    On CPU one conversation per pass, the batch accumulated over passes: padding-free (no pad tokens, no
    attention across conversations) with the optimizer steps and the token-weighted loss of the padded batch
    (the Trainer divides every pass's loss by the batch's label tokens). trl's ``padding_free`` would instead
    flatten the batch into one sequence, which sdpa on CPU attends to whole under a block mask: measured slower,
    and peak memory grows with the tokens per pass (BANKING77, batch 4: 12.3 GB padded, 4.2 GB one per pass).
    On CUDA the padded batch (parallel hardware; Unsloth packs its own)."""
    if cuda:
        return {"per_device_train_batch_size": lora["batch_size"], "gradient_accumulation_steps": lora["grad_accum"]}
    return {"per_device_train_batch_size": 1, "gradient_accumulation_steps": lora["batch_size"] * lora["grad_accum"]}


def sft_kwargs(request: TrainRequest, cuda: bool) -> dict:
    """``trl.SFTConfig`` arguments shared by every backend (checkpoints every ``eval_steps``, best on val loss)."""
    lora, has_val = request.lora, bool(request.val)
    return {
        "output_dir": str(request.checkpoint_dir),
        "num_train_epochs": lora["epochs"],
        **batch_shape(lora, cuda),
        "per_device_eval_batch_size": lora["batch_size"],
        "prediction_loss_only": True,  # evaluation keeps no logits, even if metrics are added
        "learning_rate": lora["learning_rate"],
        "weight_decay": lora["weight_decay"],
        "warmup_steps": lora["warmup_ratio"],
        "lr_scheduler_type": "cosine",
        "max_length": request.max_seq_length,
        "logging_steps": 5,
        "save_strategy": "steps",
        "save_steps": request.eval_steps,
        "save_total_limit": 2,  # the last and (with load_best_model_at_end) the best
        "eval_strategy": "steps" if has_val else "no",
        "eval_steps": request.eval_steps,
        "load_best_model_at_end": has_val,
        "metric_for_best_model": "eval_loss",
        "greater_is_better": False,
        "report_to": "none",
        "seed": request.seed,
        "data_seed": request.seed,
        "use_cpu": not cuda,
        # bf16 autocast on CUDA only: on a 2-core AVX512-BF16 CPU it trained 1.16x the tokens/s of fp32 and its
        # loss left fp32's (0.93 vs 0.84 after 8 steps), too little gain for a different adapter
        "bf16": cuda,
        "gradient_checkpointing": cuda if request.gradient_checkpointing is None else request.gradient_checkpointing,
        "dataloader_num_workers": 0,
        "disable_tqdm": False,
    }


def read_state(checkpoint_dir: Path) -> dict:
    path = checkpoint_dir / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def write_state(checkpoint_dir: Path, state: dict) -> None:
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    tmp = checkpoint_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(checkpoint_dir / STATE_FILE)  # atomic: a kill never leaves a half-written state


def resume_point(request: TrainRequest) -> tuple[str | None, dict]:
    """The checkpoint to resume from (None: start afresh) and the state it was recorded in.

    Checkpoints written for another fingerprint (other data, hyperparameters or base model) are deleted."""
    state = read_state(request.checkpoint_dir)
    if state.get("fingerprint") != request.fingerprint or state.get("status") == "done":
        shutil.rmtree(request.checkpoint_dir, ignore_errors=True)
        return None, {}
    last = state.get("last_checkpoint")
    if last and (request.checkpoint_dir / last / "trainer_state.json").exists():
        return str(request.checkpoint_dir / last), state
    return None, state


def state_callback(request: TrainRequest, prior: dict, started: float):
    """A ``TrainerCallback`` that records every completed checkpoint in ``train_state.json``."""
    from transformers import TrainerCallback

    class TrainState(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            write_state(
                request.checkpoint_dir,
                {
                    "fingerprint": request.fingerprint,
                    "status": "training",
                    "global_step": state.global_step,
                    "max_steps": state.max_steps,
                    "last_checkpoint": f"checkpoint-{state.global_step}",
                    "best_checkpoint": Path(state.best_model_checkpoint).name if state.best_model_checkpoint else None,
                    "best_val_loss": state.best_metric,
                    "elapsed_s": prior.get("elapsed_s", 0.0) + time.perf_counter() - started,
                    "attempts": prior.get("attempts", 0) + 1,
                    "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )

    return TrainState()


def mirror_callback(store: ObjectStore, checkpoint_dir: Path):
    """A ``TrainerCallback`` that mirrors the checkpoints and ``train_state.json`` to the state store after each
    save (so a job on another machine resumes where this one stopped)."""
    from transformers import TrainerCallback

    class MirrorCheckpoints(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            store.push_tree(checkpoint_dir)

    return MirrorCheckpoints()


def callbacks(request: TrainRequest, prior: dict, started: float) -> list:
    from transformers import EarlyStoppingCallback

    found = [state_callback(request, prior, started)]  # before the mirror: it writes the state the mirror sends
    store = state_store()
    if store:
        found.append(mirror_callback(store, request.checkpoint_dir))
    if request.val and request.early_stopping_patience > 0:
        found.append(EarlyStoppingCallback(early_stopping_patience=request.early_stopping_patience))
    return found


def check_kept(trainer, request: TrainRequest) -> int:
    """How many training conversations survived truncation (an error when none did)."""
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
    return kept


def final_val_loss(trainer) -> float:
    """The saved adapter's validation loss. The Trainer evaluates at the last step and reloads the best
    checkpoint; where the best is the last step its loss is already known, otherwise evaluate the reloaded one."""
    state = trainer.state
    if state.best_global_step == state.global_step and state.best_metric is not None:
        return state.best_metric
    return trainer.evaluate()["eval_loss"]


def fit(trainer, request: TrainRequest, backend: str, resume_from: str | None, prior: dict, started: float) -> dict:
    """Train (resuming where a killed run stopped), save the best adapter to ``out_dir``, return its record."""
    import torch

    kept = check_kept(trainer, request)
    if resume_from:
        print(f"resuming from {resume_from} (step {prior.get('global_step')} of {prior.get('max_steps')})")
    result = trainer.train(resume_from_checkpoint=resume_from)
    val_loss = final_val_loss(trainer) if request.val else None
    trainer.save_model(str(request.out_dir))
    seconds = prior.get("elapsed_s", 0.0) + time.perf_counter() - started
    cuda = torch.cuda.is_available()
    trainable, total = trainer.model.get_nb_trainable_parameters()
    state = trainer.state
    write_state(
        request.checkpoint_dir,
        read_state(request.checkpoint_dir)
        | {"fingerprint": request.fingerprint, "status": "done", "elapsed_s": seconds},
    )
    for checkpoint in request.checkpoint_dir.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)  # the adapter is saved; optimizer states are no longer needed
    return {
        "backend": backend,
        "device": device_name(),
        "n_train": kept,
        "n_val": len(request.val),
        "train_seconds": round(seconds, 2),
        "device_hours": seconds / 3600,
        "gpu_hours": seconds / 3600 * (torch.cuda.device_count() if cuda else 0),
        "train_loss": result.training_loss,
        "val_loss": val_loss,
        "best_val_loss": state.best_metric,
        "best_step": int(Path(state.best_model_checkpoint).name.split("-")[-1])
        if state.best_model_checkpoint
        else None,
        "stopped_early": state.global_step < state.max_steps,
        "resumed_from_step": prior.get("global_step") if resume_from else None,
        "attempts": prior.get("attempts", 0) + 1,
        "trainable_params": trainable,
        "total_params": total,
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "lora": request.lora,
        "seed": request.seed,
        "max_seq_length": request.max_seq_length,
        "load_in_4bit": request.load_in_4bit,
        "eval_steps": request.eval_steps,
        "early_stopping_patience": request.early_stopping_patience,
    }
