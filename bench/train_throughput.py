"""LoRA training throughput (tokens/s) and peak memory on CPU, before and after, side by side in one run: the same
SmolLM2-135M, LoRA hyperparameters (the model's, batch 4), conversations and optimizer steps.

- before: padded batches of 4 conversations, trl's fused LM head as it ships (every position projected through
  the vocabulary on devices without Triton);
- after: the peft backend as the train job runs it (``breakeven.train.peft_trainer.build_trainer``): one
  conversation per forward pass with the batch accumulated, only labelled positions projected.

Tasks: support_email (generated emails) and BANKING77 (the 77-intent label list in every example's system prompt).
Each measurement runs in its own process (peak resident memory is per process); the training losses must agree.
``python -m bench.train_throughput [steps]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.workloads import banking77_rows, project, smollm2
from breakeven.data.sources import load_synthetic
from breakeven.train.job import conversations
from breakeven.train.request import TrainRequest

STEPS, THREADS = 4, 2
MODES = ("before", "after")


def training_request(task: str, n: int, folder: Path) -> TrainRequest:
    config = project([task])
    if task == "banking77":
        rows = banking77_rows(n)
    else:
        rows = load_synthetic({"generator": "support_emails", "n": n, "seed": 3})
    return TrainRequest(
        model_dir=smollm2(),
        train=conversations(config.adapter_config(task), rows),
        val=[],
        lora=config.lora_params("smollm2-135m", task, "lora_50"),
        max_seq_length=config.tasks[task]["max_seq_length"],
        seed=0,
        out_dir=folder / "adapter",
        checkpoint_dir=folder / "checkpoints",
    )


def measure(task: str, mode: str, steps: int) -> dict:
    """Train ``steps`` optimizer steps in this process; tokens/s (pad tokens not counted) and peak RSS."""
    import trl.trainer.utils as trl_utils
    from trl.kernels.chunked_logprob import _use_triton

    from breakeven.runtime import set_threads
    from breakeven.train.peft_trainer import build_trainer

    set_threads(THREADS)
    with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
        request = training_request(task, steps * 4, Path(tmp))
        shape = {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 1} if mode == "before" else {}
        settings = {"max_steps": steps, "save_strategy": "no", "logging_steps": steps}
        settings |= {"disable_tqdm": True, "include_num_input_tokens_seen": "non_padding"}
        trainer = build_trainer(request, **settings, **shape)
        if mode == "before":
            trl_utils._use_triton = _use_triton  # the fused head as trl ships it
        start = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - start
    tokens = trainer.state.num_input_tokens_seen
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return {"seconds": seconds, "tokens": tokens, "loss": result.training_loss, "peak_gb": peak_gb}


def run_worker(task: str, mode: str, steps: int) -> dict:
    command = [sys.executable, "-m", "bench.train_throughput", "--worker", task, mode, str(steps)]
    env = os.environ | {"OMP_NUM_THREADS": str(THREADS)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(steps: int = STEPS) -> None:
    print(
        f"LoRA training on CPU, SmolLM2-135M, batch 4, {steps} optimizer steps, {THREADS} threads "
        f"(load average {os.getloadavg()[0]:.1f}); each in its own process"
    )
    for task in ("support_email", "banking77"):
        runs = {mode: run_worker(task, mode, steps) for mode in MODES}
        for mode, run in runs.items():
            print(
                f"  {task:<14} {mode:<7} {run['tokens'] / run['seconds']:7.1f} tokens/s ({run['tokens']} tokens in "
                f"{run['seconds']:.1f} s)  peak RSS {run['peak_gb']:.1f} GB  train loss {run['loss']:.4f}"
            )
        before, after = runs["before"], runs["after"]
        speedup = (after["tokens"] / after["seconds"]) / (before["tokens"] / before["seconds"])
        print(
            f"  {task:<14} after/before: {speedup:.2f}x tokens/s, peak memory {after['peak_gb'] / before['peak_gb']:.2f}x, "
            f"loss difference {abs(after['loss'] - before['loss']):.1e}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        main(*(int(a) for a in sys.argv[1:2]))
