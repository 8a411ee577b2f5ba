"""On a CUDA machine with unsloth and vllm installed: train one support-email LoRA cell with Unsloth (and with peft
for comparison), then answer test prompts with the vLLM backend through the adapter, printing timings.

    python -m bench.gpu_check [train_size] [n_test]

Model: BREAKEVEN_BENCH_MODEL or resources/models/smollm2-135m (``snakemake resources/models/smollm2-135m``),
else the tiny random Llama. Outputs go to a temporary folder; nothing under results/ is touched.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.predict_throughput import bench_model
from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.sources import load_synthetic
from breakeven.jsonio import read_yaml, write_json, write_jsonl
from breakeven.tasks import build_task
from breakeven.train.job import run_training


def main(train_size: int = 200, n_test: int = 64) -> None:
    import torch

    from breakeven.infer.constraints import output_constraint
    from breakeven.infer.vllm_engine import VLLMGenerator

    if not torch.cuda.is_available():
        raise SystemExit("bench.gpu_check needs a CUDA device (torch sees none)")
    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    model_dir, work = bench_model(), Path(tempfile.mkdtemp(prefix="gpu-check-"))
    rows = load_synthetic({"generator": "support_emails", "n": train_size + 50 + n_test, "seed": 21})
    for name, part in (("train", rows[:train_size]), ("val", rows[train_size : train_size + 50])):
        write_jsonl(work / f"{name}.jsonl", part)
    write_json(work / "documents.json", {})
    write_json(work / "manifest.json", {})
    model = project.models["smollm2-135m"]
    print(f"{torch.cuda.get_device_name(0)}; model {model_dir}; {train_size} train examples; work dir {work}")
    adapters = {}
    for backend in ("unsloth", "peft"):
        cell = {
            "lora": project.lora_params("smollm2-135m", "support_email", "lora_200"),
            "max_seq_length": 1024,
            "task": project.adapter_config("support_email"),
            "model": {key: model[key] for key in ("name", "source", "response_markers")},
            "training": project.config["training"] | {"backend": backend},
        }
        start = time.perf_counter()
        info = run_training(
            cell, model_dir, work / "train.jsonl", work / "val.jsonl", work / "manifest.json",
            work / "documents.json", 0, work / backend, work / f"{backend}-checkpoints", 4,
        )  # fmt: skip
        adapters[backend] = work / backend
        print(
            f"train {backend:<8} {time.perf_counter() - start:7.1f} s job, {info['train_seconds']:7.1f} s training, "
            f"{info['steps']} steps, val loss {info['val_loss']:.4f}, {info['gpu_hours']:.4f} GPU-h"
        )
    task = build_task(project.adapter_config("support_email"))
    prompts = [task.messages(row, []) for row in rows[-n_test:]]
    for constraint in (None, output_constraint(project.adapter_config("support_email"))):
        engine = VLLMGenerator(model_dir, adapters["unsloth"])
        start = time.perf_counter()
        answers = engine.generate(prompts, 96, 16, constraint)
        print(
            f"vllm + unsloth adapter, {'json schema' if constraint else 'free text'}: engine start "
            f"{engine.engine_start_s:.1f} s, generation {engine.generate_s:.2f} s ({n_test / engine.generate_s:.1f} "
            f"examples/s), job {time.perf_counter() - start:.1f} s; first answer {answers[0].text[:120]!r}"
        )


if __name__ == "__main__":  # vLLM spawns processes
    main(*(int(a) for a in sys.argv[1:3]))
