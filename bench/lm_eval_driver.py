"""Run under the lm-eval venv by ``bench.lm_eval_harness``: the BANKING77 task through lm-evaluation-harness's
``hf`` backend (``generate_until``, the model's chat template, the system instruction), timing the evaluation
apart from the model load. ``python bench/lm_eval_driver.py SPEC.json OUT.json``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    torch.set_num_threads(spec["threads"])
    model = HFLM(pretrained=spec["model_dir"], batch_size=spec["batch_size"], device="cpu", dtype="float32")
    tasks = TaskManager(include_path=spec["task_dir"])
    start = time.perf_counter()
    results = simple_evaluate(
        model=model,
        tasks=[spec["task"]],
        apply_chat_template=True,
        system_instruction=spec["system"],
        log_samples=True,
        task_manager=tasks,
    )
    wall = time.perf_counter() - start
    samples = sorted(results["samples"][spec["task"]], key=lambda sample: sample["doc_id"])
    answer = {
        "wall_s": wall,
        "responses": [sample["resps"][0][0] for sample in samples],
        "contexts": [sample["arguments"][0][0] for sample in samples],
    }
    Path(out_path).write_text(json.dumps(answer))


if __name__ == "__main__":
    main(*sys.argv[1:3])
