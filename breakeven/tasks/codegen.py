"""Program synthesis (MBPP): the model writes a Python function; it passes when every assert of the task
runs without error inside the sandbox (breakeven.tasks.sandbox: separate process, time/memory limits, no network,
a throw-away directory). pass@1 with greedy decoding."""

from __future__ import annotations

import re
from typing import Any

from breakeven.stats.bootstrap import mean_ci, row_groups
from breakeven.tasks import BaseTask

FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL)


def extract_code(output: str) -> str:
    """The first fenced code block, else the whole answer."""
    match = FENCE.search(output)
    return (match.group(1) if match else output).strip()


class CodeTask(BaseTask):
    """Write a function that passes the task's asserts."""

    metric_names = ("pass_at_1",)

    def __init__(self, cfg: dict, prompt: dict) -> None:
        self.cfg = cfg
        self.prompt = prompt
        self.execution = cfg.get("execution", {})

    def format_input(self, example: dict) -> str:
        tests = "\n".join(example["input"]["test_list"])
        return f"{example['input']['text']}\nYour code should pass these tests:\n{tests}"

    def target_text(self, example: dict) -> str:
        return f"```python\n{example['target'].strip()}\n```"

    def score_batch(self, outputs: list[str], examples: list[dict]) -> list[dict[str, Any]]:
        from breakeven.tasks.sandbox import Limits, run_many

        codes = [extract_code(output or "") for output in outputs]
        limits = Limits(timeout_s=self.execution.get("timeout_s", 10.0), memory_mb=self.execution.get("memory_mb", 512))
        jobs = [
            (code, ex["input"]["test_list"], ex["input"].get("test_setup_code", ""))
            for code, ex in zip(codes, examples)
        ]
        runnable = [i for i, code in enumerate(codes) if code]
        outcomes = dict(
            zip(runnable, run_many([jobs[i] for i in runnable], limits, workers=self.execution.get("workers", 2)))
        )
        results = []
        for i, code in enumerate(codes):
            outcome = outcomes.get(i)
            passed = bool(outcome and outcome.passed)
            results.append(
                {
                    "pass_at_1": float(passed),
                    "parsed": code,
                    "error_class": "empty" if not code else outcome.status,
                    "detail": outcome.detail if outcome else "",
                }
            )
        return results

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        scores = [row["pass_at_1"] for row in per_example]
        return {"pass_at_1": mean_ci(scores, **bootstrap, groups=row_groups(per_example)).as_dict()}
