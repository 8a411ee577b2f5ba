"""Our transformers backend vs lm-evaluation-harness, side by side in one run: the same 300 BANKING77 test rows
(the first of the published file), the same chat prompt (the 77-intent system prompt, the query as the user
turn), SmolLM2-135M, greedy, 16 new tokens, batch 16, the same threads, one after the other. Goal: >= 2x
lm-eval's examples/s. The answers and the rendered prompts are compared.

lm-eval (``bench/requirements-lm-eval.lock``, pinned) lives in a venv of its own, ``.venv-lm-eval``, made here on
first use (``pip install --no-deps``); a ``.pth`` file lets it import the project venv's model stack, so both
sides run the same torch and transformers. It runs offline: the rows are a local CSV, the model a local folder.
``python -m bench.lm_eval_harness [n_rows]``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from bench.workloads import banking77_rows, banking77_task, banking77_zero_shot, smollm2
from breakeven import REPO_ROOT

N_ROWS, BATCH_SIZE, MAX_NEW_TOKENS, THREADS = 300, 16, 16, 2
GOAL = 2.0
VENV = REPO_ROOT / ".venv-lm-eval"
LOCK = REPO_ROOT / "bench" / "requirements-lm-eval.lock"
TASK = "breakeven_banking77"
TASK_YAML = """\
task: {task}
dataset_path: csv
dataset_kwargs:
  data_files:
    test: {rows}
test_split: test
output_type: generate_until
doc_to_text: "{{{{text}}}}"
doc_to_target: "{{{{category}}}}"
generation_kwargs:
  until: ["<|im_end|>"]
  do_sample: false
  max_gen_toks: {max_new_tokens}
metric_list:
  - metric: bypass
"""


def lm_eval_python() -> Path:
    """The lm-eval venv's interpreter, built (or rebuilt when the lock changed) from the pinned lock."""
    python, marker = VENV / "bin" / "python", VENV / ".installed"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if marker.exists() and marker.read_text() == digest:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "zz-breakeven-model-stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(LOCK)], check=True)
    marker.write_text(digest)
    return python


def write_task(folder: Path, rows: list[dict]) -> None:
    """The rows as a CSV and an lm-eval task over it (``folder`` is the task's include path)."""
    with open(folder / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows([row["input"], row["target"]] for row in rows)
    text = TASK_YAML.format(task=TASK, rows=folder / "rows.csv", max_new_tokens=MAX_NEW_TOKENS)
    (folder / f"{TASK}.yaml").write_text(text)


def run_lm_eval(model_dir: Path, rows: list[dict], system: str) -> dict:
    """lm-eval's wall time for the task (model loaded beforehand), its answers and its rendered prompts."""
    python = lm_eval_python()
    with tempfile.TemporaryDirectory(prefix="lm-eval-") as tmp:
        folder = Path(tmp)
        write_task(folder, rows)
        spec = {"model_dir": str(model_dir), "batch_size": BATCH_SIZE, "threads": THREADS}
        spec |= {"task_dir": str(folder), "task": TASK, "system": system}
        (folder / "spec.json").write_text(json.dumps(spec))
        env = os.environ | {
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "HF_HOME": str(folder / "hf"),  # the CSV's dataset cache stays in the temporary folder
            "OMP_NUM_THREADS": str(THREADS),
            "TOKENIZERS_PARALLELISM": "false",
        }
        driver = REPO_ROOT / "bench" / "lm_eval_driver.py"
        command = [str(python), str(driver), str(folder / "spec.json"), str(folder / "out.json")]
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        return json.loads((folder / "out.json").read_text())


def main(n_rows: int = N_ROWS) -> None:
    from transformers import AutoTokenizer

    from breakeven.infer.hf import HFGenerator
    from breakeven.runtime import set_threads

    set_threads(THREADS)
    model_dir, rows, task = smollm2(), banking77_rows(n_rows), banking77_task()
    print(
        f"vs lm-evaluation-harness: {n_rows} BANKING77 test rows, zero-shot chat prompt, greedy, "
        f"{MAX_NEW_TOKENS} tokens, batch {BATCH_SIZE}, {THREADS} threads (load average {os.getloadavg()[0]:.1f})"
    )
    theirs = run_lm_eval(model_dir, rows, task.system_prompt())
    print(
        f"  {'lm-eval 0.4.13 (hf, generate_until)':<44} {theirs['wall_s']:8.1f} s  {n_rows / theirs['wall_s']:7.2f} examples/s"
    )
    prompts = banking77_zero_shot(n_rows)
    generator = HFGenerator(model_dir)
    start = time.perf_counter()
    ours = generator.generate(prompts, MAX_NEW_TOKENS, BATCH_SIZE)
    wall = time.perf_counter() - start
    print(f"  {'breakeven transformers backend':<44} {wall:8.1f} s  {n_rows / wall:7.2f} examples/s")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rendered = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]
    same_prompts = sum(a == b for a, b in zip(rendered, theirs["contexts"]))
    same_answers = sum(a.text == b.strip() for a, b in zip(ours, theirs["responses"]))
    ratio = theirs["wall_s"] / wall
    print(
        f"  ratio {ratio:.2f}x lm-eval's examples/s (goal >= {GOAL:.0f}x: {'met' if ratio >= GOAL else 'missed'}); "
        f"prompts identical {same_prompts}/{n_rows}, answers identical {same_answers}/{n_rows}, "
        f"prefix-cache hit rate {generator.cache_stats['hit_rate']:.0%}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
