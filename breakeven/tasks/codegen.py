"""Program synthesis (MBPP): the model writes a Python function; it passes when every assert of the task
runs without error inside the sandbox (breakeven.tasks.sandbox: separate process, time/memory limits, no network,
a throw-away directory). pass@1 with greedy decoding."""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

from breakeven.stats.bootstrap import mean_ci
from breakeven.tasks import BaseTask

FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
DEFINES = re.compile(r"^\s*(?:async\s+def|def|class)\s", re.MULTILINE)
CODE_START = re.compile(r"^\s*(?:(?:async\s+)?def\s|class\s|import\s|from\s+\S+\s+import\s|@\w)")


def extract_code(output: str) -> str:
    """The code of an answer: the first fenced block that defines a function or class (else the first block,
    whatever its language tag); without a fence, the lines from the first ``def``/``class``/``import``/decorator
    on, less trailing prose that does not parse; else the whole answer. Dedented, with Unix line ends."""
    text = output.replace("\r\n", "\n")
    blocks = FENCE.findall(text)
    if blocks:
        code = next((block for block in blocks if DEFINES.search(block)), blocks[0])
    else:
        code = _unfenced(text)
    return textwrap.dedent(code.strip("\n")).strip()


def _unfenced(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() != "```"]
    start = next((i for i, line in enumerate(lines) if CODE_START.match(line)), None)
    if start is None:
        return text
    code = textwrap.dedent("\n".join(lines[start:]))
    kept = code.splitlines()
    while len(kept) > 1 and not _parses("\n".join(kept)):
        kept.pop()
    return "\n".join(kept) if _parses("\n".join(kept)) else code


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


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
        return {"pass_at_1": mean_ci([row["pass_at_1"] for row in per_example], **bootstrap).as_dict()}
