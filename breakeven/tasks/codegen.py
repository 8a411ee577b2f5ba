"""Program synthesis (MBPP): the model writes a Python function; it passes when every assert of the task holds,
run in the sandbox (breakeven.tasks.sandbox: kernel isolation per program, values compared outside it). pass@1
with greedy decoding."""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

from breakeven.stats.bootstrap import mean_ci, row_groups
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
        """Every non-empty program in its own sandbox; each row has the verdict, its reason and how many of the
        asserts the scorer judged (value compared here) and the sandbox judged (run whole inside)."""
        from breakeven.tasks.sandbox import Limits, run_many

        codes = [extract_code(output or "") for output in outputs]
        limits = Limits(timeout_s=self.execution.get("timeout_s", 10.0), memory_mb=self.execution.get("memory_mb", 512))
        jobs = [
            (code, ex["input"]["test_list"], ex["input"].get("test_setup_code", ""))
            for code, ex in zip(codes, examples)
        ]
        runnable = [i for i, code in enumerate(codes) if code]
        batch = run_many([jobs[i] for i in runnable], limits, self.execution.get("workers", 2), self.isolation)
        outcomes = dict(zip(runnable, batch))
        return [_row(code, outcomes.get(i)) for i, code in enumerate(codes)]

    @property
    def isolation(self) -> str:
        return self.execution.get("isolation", "kernel")

    def cell_notes(self, per_example: list[dict]) -> dict[str, Any]:
        """How the cell's programs ran: the isolation, and how many asserts were judged each way."""
        return {
            "execution": {
                "isolation": self.isolation,
                "asserts_judged_by_scorer": sum(row["judged_by_scorer"] for row in per_example),
                "asserts_judged_in_sandbox": sum(row["judged_in_sandbox"] for row in per_example),
            }
        }

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        scores = [row["pass_at_1"] for row in per_example]
        return {"pass_at_1": mean_ci(scores, **bootstrap, groups=row_groups(per_example)).as_dict()}


def _row(code: str, outcome: Any) -> dict[str, Any]:
    """One example's scores; an empty answer never reaches the sandbox."""
    if outcome is None:
        return {"pass_at_1": 0.0, "parsed": code, "error_class": "empty", "verdict": "empty", "detail": "",
                "judged_by_scorer": 0, "judged_in_sandbox": 0}  # fmt: skip
    return {
        "pass_at_1": float(outcome.passed),
        "parsed": code,
        "error_class": outcome.status,
        "verdict": outcome.status,
        "detail": outcome.detail,
        "judged_by_scorer": outcome.judged_by_scorer,
        "judged_in_sandbox": outcome.judged_in_sandbox,
    }
