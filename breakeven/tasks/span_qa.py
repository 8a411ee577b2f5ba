"""Extractive QA over long documents (CUAD): the contract is read in overlapping word windows, one request
per window; the model quotes the answer or says there is none; the windows' answers are aggregated per
question and scored with SQuAD token F1 / exact match and answer detection (precision, recall, F1, AUPR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from breakeven.stats.bootstrap import binary_detection_ci, mean_ci, row_groups
from breakeven.tasks import BaseTask
from breakeven.tasks.qa_metrics import answer_detection, exact_match, normalize_answer, token_f1
from breakeven.tasks.windows import aggregate, windows

NO_ANSWER = "No answer"


class SpanQATask(BaseTask):
    """Quote the span of a long context that answers the question, window by window."""

    metric_names = ("token_f1", "exact_match", "detection_f1")

    def __init__(self, cfg: dict, prompt: dict) -> None:
        self.cfg = cfg
        self.prompt = prompt
        self.chunking = cfg["chunking"]

    def _windows(self, context: str) -> list[tuple[int, int]]:
        return windows(
            context, None, self.chunking["window"], self.chunking["stride"], self.chunking.get("max_windows")
        )

    def _user(self, question: str, excerpt: str) -> dict[str, str]:
        return {
            "role": "user",
            "content": self.prompt["user"].replace("{question}", question).replace("{input}", excerpt),
        }

    def _answer_window(self, example: dict) -> str:
        """The first window that holds a whole located answer (else the first window)."""
        context = example["input"]["context"]
        spans = self._windows(context)
        located = [a for a in example["target"]["answers"] if a["start"] >= 0]
        for start, end in spans:
            if any(start <= a["start"] and a["start"] + len(a["text"]) <= end for a in located):
                return context[start:end]
        return context[spans[0][0] : spans[0][1]]

    def _shot_turns(self, shots: list[dict]) -> list[dict[str, str]]:
        turns = []
        for shot in shots:
            turns += [
                self._user(shot["input"]["question"], self._answer_window(shot)),
                {"role": "assistant", "content": self.target_text(shot)},
            ]
        return turns

    def messages(self, example: dict, shots: list[dict]) -> list[dict[str, str]]:
        """The training conversation: the answer window of the example and its quote as the target."""
        return [
            {"role": "system", "content": self.prompt["system"]},
            *self._shot_turns(shots),
            self._user(example["input"]["question"], self._answer_window(example)),
        ]

    def target_text(self, example: dict) -> str:
        window = self._answer_window(example)
        inside = [a["text"] for a in example["target"]["answers"] if a["text"] and a["text"] in window]
        return inside[0] if inside else NO_ANSWER

    def requests(self, example: dict, shots: list[dict]) -> list[list[dict[str, str]]]:
        """One conversation per window of the contract (the shots precede each)."""
        context, question = example["input"]["context"], example["input"]["question"]
        prefix = [{"role": "system", "content": self.prompt["system"]}, *self._shot_turns(shots)]
        return [[*prefix, self._user(question, context[a:b])] for a, b in self._windows(context)]

    def combine(self, outputs: list[str]) -> str:
        answer, _ = aggregate([(None if self._is_no_answer(o) else o.strip(), 1.0) for o in outputs])
        return answer or NO_ANSWER

    @staticmethod
    def _is_no_answer(output: str) -> bool:
        return not output.strip() or normalize_answer(output).startswith(normalize_answer(NO_ANSWER))

    def score(self, output: str, example: dict) -> dict[str, Any]:
        golds = [a["text"] for a in example["target"]["answers"]]
        predicted = "" if self._is_no_answer(output or "") else output.strip()
        has_answer = not example["target"]["is_impossible"]
        f1 = token_f1(predicted, golds)
        if not predicted:
            error = "correct" if not has_answer else "missed_answer"
        elif not has_answer:
            error = "spurious_answer"
        else:
            error = "correct" if f1 == 1.0 else ("partially_correct" if f1 > 0 else "wrong_span")
        return {
            "token_f1": f1,
            "exact_match": exact_match(predicted, golds),
            "has_answer": has_answer,
            "predicted_answer": bool(predicted),
            "parsed": predicted,
            "error_class": error,
        }

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        truth = np.array([row["has_answer"] for row in per_example], dtype=bool)
        said = np.array([row["predicted_answer"] for row in per_example], dtype=bool)
        detection = answer_detection(truth.tolist(), said.astype(float).tolist(), threshold=0.5)
        groups = row_groups(per_example)
        out = {
            name: mean_ci([row[name] for row in per_example], **bootstrap, groups=groups).as_dict()
            for name in ("token_f1", "exact_match")
        }
        for name in ("precision", "recall", "f1"):
            out[f"detection_{name}"] = binary_detection_ci(truth, said, name, **bootstrap, groups=groups).as_dict()
        out["detection_aupr"] = {
            "value": detection["aupr"],
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "n": len(per_example),
        }
        return out
