"""Local predict throughput (examples/s) on the same model and the same support-email prompts, in one run:
a naive one-example-at-a-time generate loop vs the transformers backend (batched, left-padded) vs the vLLM
backend (offline engine; its one-off engine start is reported apart). Goal: vLLM >= 10x the naive loop.

Model: the SmolLM2-135M stand-in (resources/models/smollm2-135m here or in BREAKEVEN_BENCH_MODEL), else the
tiny random Llama. ``python -m bench.predict_throughput [n_examples]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.sources import load_synthetic
from breakeven.jsonio import read_yaml
from breakeven.tasks import build_task

N_EXAMPLES, MAX_NEW_TOKENS, BATCH_SIZE = 48, 64, 16
THREADS = 1
"""One core each: vLLM's CPU engine binds its worker to one core and keeps one for itself on this 2-core machine."""


def bench_model() -> Path:
    """The SmolLM2 stand-in if it was fetched (this checkout, or the one BREAKEVEN_BENCH_MODEL names)."""
    for candidate in (os.environ.get("BREAKEVEN_BENCH_MODEL"), REPO_ROOT / "resources/models/smollm2-135m"):
        if candidate and (Path(candidate) / "config.json").exists():
            return Path(candidate)
    from breakeven.models.chat_templates import install_chat_template
    from breakeven.models.tiny import build_tiny_llama

    out = Path(tempfile.mkdtemp(prefix="bench-tiny-"))
    build_tiny_llama(out)
    install_chat_template(out, "chatml")
    return out


def conversations(n: int) -> list[list[dict]]:
    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    task = build_task(project.adapter_config("support_email"))
    rows = load_synthetic({"generator": "support_emails", "n": n, "seed": 99})
    return [task.messages(row, []) for row in rows]


def timed(label: str, n: int, run) -> tuple[float, list]:
    start = time.perf_counter()
    answers = run()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:8.1f} s  {n / seconds:7.2f} examples/s", flush=True)
    return seconds, answers


def main(n: int = N_EXAMPLES) -> None:
    from breakeven.infer.hf import HFGenerator
    from breakeven.infer.vllm_engine import VLLMGenerator
    from breakeven.runtime import set_threads

    set_threads(THREADS)
    model_dir, prompts = bench_model(), conversations(n)
    print(f"model {model_dir}, {n} support-email prompts, max_new_tokens={MAX_NEW_TOKENS}, greedy")
    hf = HFGenerator(model_dir)
    naive_s, naive = timed("naive loop (batch 1)", n, lambda: hf.generate(prompts, MAX_NEW_TOKENS, 1))
    batched_s, batched = timed(
        f"transformers (batch {BATCH_SIZE})", n, lambda: hf.generate(prompts, MAX_NEW_TOKENS, BATCH_SIZE)
    )
    engine = VLLMGenerator(model_dir)
    job_s, served = timed(
        f"vllm (max_num_seqs {BATCH_SIZE}), whole job", n, lambda: engine.generate(prompts, MAX_NEW_TOKENS, BATCH_SIZE)
    )
    vllm_s = engine.generate_s
    print(
        f"{'vllm, generation only':<34} {vllm_s:8.1f} s  {n / vllm_s:7.2f} examples/s (engine start {engine.engine_start_s:.1f} s)"
    )
    same = sum(a.text == b.text for a, b in zip(naive, served))
    print(
        f"ratios vs naive: transformers {naive_s / batched_s:.1f}x, vllm {naive_s / vllm_s:.1f}x (whole job {naive_s / job_s:.1f}x)"
    )
    print(
        f"answers identical to the naive loop: vllm {same}/{n}, transformers {sum(a.text == b.text for a, b in zip(naive, batched))}/{n}"
    )


if __name__ == "__main__":  # vLLM spawns processes
    main(*(int(a) for a in sys.argv[1:2]))
