"""Task adapters behind one protocol (prompt messages, output parsing, per-example scoring), with what they
use: QA metrics, CUAD's document windows and the sandbox that runs generated code."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from breakeven import REPO_ROOT
from breakeven.jsonio import read_json, read_yaml
from breakeven.registry import Registry

TASK_KINDS = Registry(
    "task kind",
    {
        "extraction": "breakeven.tasks.extraction:ExtractionTask",
        "classification": "breakeven.tasks.classification:ClassificationTask",
        "multiple_choice": "breakeven.tasks.classification:MultipleChoiceTask",
        "code": "breakeven.tasks.codegen:CodeTask",
        "span_qa": "breakeven.tasks.span_qa:SpanQATask",
    },
)


class Task(Protocol):
    """What every task adapter provides."""

    metric_names: tuple[str, ...]
    top_logprobs: int
    """First-token candidates per request the task's per-example confidence needs (0: it has none)."""

    def messages(self, example: dict, shots: list[dict]) -> list[dict[str, str]]:
        """Chat messages for one example, with ``shots`` as earlier user/assistant turns."""

    def target_text(self, example: dict) -> str:
        """The reference answer as the model should write it (the LoRA training target)."""

    def requests(self, example: dict, shots: list[dict]) -> list[list[dict[str, str]]]:
        """The conversations one example needs (usually one)."""

    def combine(self, outputs: list[str]) -> str:
        """One answer from the answers to an example's requests."""

    def answer(self, outputs: list[str], candidates: list | None = None) -> dict[str, Any]:
        """The answer fields of an example's prediction row: ``output`` and, for tasks with a confidence,
        ``confidence`` from the requests' first-token ``candidates`` (None where they are missing)."""

    def score_batch(self, outputs: list[str], examples: list[dict]) -> list[dict[str, Any]]:
        """``score`` over a whole cell (tasks that run code score in parallel)."""

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        """Each metric of ``metric_names`` with its bootstrap CI (value, ci_low, ci_high, n)."""

    def cell_notes(self, per_example: list[dict]) -> dict[str, Any]:
        """Task-specific facts about a scored cell for its metrics file (code tasks: how programs ran)."""


def load_prompt(task_name: str, root: Path = REPO_ROOT) -> dict:
    """The prompt file of a task (``prompts/<task>.yaml``: system and user templates)."""
    path = root / "prompts" / f"{task_name}.yaml"
    prompt = read_yaml(path)
    missing = {"system", "user"} - set(prompt or {})
    if missing:
        raise ValueError(f"{path}: missing fields {sorted(missing)}")
    if "{input}" not in prompt["user"]:
        raise ValueError(f"{path}: field 'user' must contain the placeholder {{input}}")
    return prompt


def without_instructions(conversation: list[dict[str, str]]) -> list[dict[str, str]]:
    """The conversation without its system turn (the task's instructions and label list): how a LoRA condition
    with ``instructions: false`` trains and is asked."""
    return [turn for turn in conversation if turn["role"] != "system"]


def build_task(task_cfg: dict, root: Path = REPO_ROOT) -> Task:
    """The adapter for a validated task config."""
    return TASK_KINDS.get(task_cfg["kind"])(task_cfg, load_prompt(task_cfg["name"], root))


def adapter_config(task_cfg: dict, manifest_path: Path) -> dict:
    """The adapter's config, with the label set from the prepared data when the task file lists none."""
    if task_cfg["kind"] == "classification" and not task_cfg.get("labels"):
        return {**task_cfg, "labels": read_json(manifest_path)["labels"]}
    return task_cfg


class BaseTask:
    """Defaults shared by the adapters: a system turn, shots as earlier user/assistant turns, one request per
    example, scored one example at a time, no per-example confidence. Subclasses set ``prompt`` and define
    ``target_text`` and ``score``."""

    prompt: dict
    top_logprobs = 0

    def system_prompt(self) -> str:
        return self.prompt["system"]

    def format_input(self, example: dict) -> str:
        return str(example["input"])

    def user_prompt(self, example: dict) -> str:
        return self.prompt["user"].replace("{input}", self.format_input(example))

    def messages(self, example: dict, shots: list[dict]) -> list[dict[str, str]]:
        turns = [{"role": "system", "content": self.system_prompt()}]
        for shot in shots:
            turns += [
                {"role": "user", "content": self.user_prompt(shot)},
                {"role": "assistant", "content": self.target_text(shot)},
            ]
        return [*turns, {"role": "user", "content": self.user_prompt(example)}]

    def requests(self, example: dict, shots: list[dict]) -> list[list[dict[str, str]]]:
        """The conversations one example needs (several when a long document is read in windows)."""
        return [self.messages(example, shots)]

    def combine(self, outputs: list[str]) -> str:
        """One answer from the answers to an example's requests."""
        return outputs[0]

    def answer(self, outputs: list[str], candidates: list | None = None) -> dict[str, Any]:
        """The answer fields of a prediction row (no confidence)."""
        return {"output": self.combine(outputs)}

    def score_batch(self, outputs: list[str], examples: list[dict]) -> list[dict[str, Any]]:
        return [self.score(output, example) for output, example in zip(outputs, examples)]

    def cell_notes(self, per_example: list[dict]) -> dict[str, Any]:
        return {}
