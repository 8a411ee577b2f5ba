"""Extractive QA over long documents (CUAD): the contract is read in overlapping word windows, one request
per window; the model quotes the answer or says there is none; the windows' answers are aggregated per
question and scored with SQuAD token F1 / exact match and answer detection (precision, recall, F1 of saying an
answer; AUPR and precision at 80% recall of a per-question confidence that an answer exists).

The confidence of a window is the model's probability of not abstaining at its first generated token: one
minus the probability of the first-token candidates that begin "No answer" (text that, case and whitespace
aside, begins the reply: "No", " no", "N") or end the reply at once (a special token: an empty reply, which
scores as no answer); candidates outside the top ``TOP_LOGPROBS`` count as zero. A question's confidence is the largest over its windows, and the answer is the quote of the most
confident window that gave one. A quote that itself begins with "No" shares that first token, so its window's
confidence is understated.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from breakeven.stats.bootstrap import binary_detection_ci, mean_ci, row_groups
from breakeven.tasks import BaseTask
from breakeven.tasks.qa_metrics import exact_match, normalize_answer, ranking_ci, token_f1
from breakeven.tasks.windows import aggregate, windows

NO_ANSWER = "No answer"
ABSTENTION = re.compile(
    "|".join(
        (
            r"^no answer\b",
            r"^(?:none|na|not found|not applicable|not mentioned|not specified|nothing found)$",
            r"^no (?:such |relevant |matching |applicable )*(?:clause|provision|answer|section|text|information)\b",
            r"\bthere (?:is|are) no (?:such |relevant |matching )*(?:clause|provision|answer|mention|information)\b",
            r"\b(?:could|can|did|do)(?: not|nt) (?:find|locate|identify)\b",
            r"\b(?:excerpt|text|passage|contract) (?:does not|doesnt) (?:contain|mention|include|specify|address)\b",
            r"\b(?:excerpt|text|passage|contract) (?:contains|has|includes) no\b",
        )
    )
)
"""Ways of saying there is no answer, matched on the SQuAD-normalised first sentence of an unquoted reply."""
PREAMBLE = re.compile(
    r"^(?:answer|quote|clause|relevant (?:clause|text)|the relevant clause(?: is)?|here is the (?:relevant )?clause)"
    r"\s*:\s*",
    re.IGNORECASE,
)
QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'", "`": "`"}
TOP_LOGPROBS = 10
"""First-token candidates each window's confidence is computed from."""
NO_CONFIDENCE = (
    "the predictions carry no per-question confidence (written by code that did not record token "
    "log-probabilities; rerun the cell)"
)


class SpanQATask(BaseTask):
    """Quote the span of a long context that answers the question, window by window."""

    metric_names = ("token_f1", "exact_match", "detection_f1")
    top_logprobs = TOP_LOGPROBS

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

    def combine(self, outputs: list[str], confidences: list[float] | None = None) -> str:
        """The quote of the most confident window that gave one (the earliest without confidences)."""
        scores = confidences or [1.0] * len(outputs)
        answer, _ = aggregate([(parse_span(o) or None, c) for o, c in zip(outputs, scores)])
        return answer or NO_ANSWER

    @staticmethod
    def window_confidence(candidates: list[tuple[str | None, float]]) -> float:
        """One minus the probability of the first-token candidates that begin the abstention reply or end the
        reply (text None)."""
        reply = NO_ANSWER.casefold()

        def abstains(text: str | None) -> bool:
            return text is None or bool(text.strip()) and reply.startswith(text.strip().casefold())

        abstain = sum(np.exp(lp) for text, lp in candidates if abstains(text))
        return float(np.clip(1.0 - abstain, 0.0, 1.0))

    def answer(self, outputs: list[str], candidates: list | None = None) -> dict[str, Any]:
        """The answer and, where every window has its first-token candidates, the question's confidence (the
        largest window confidence; ``request_confidences`` lists them) -- else ``confidence`` None."""
        if not candidates or any(c is None for c in candidates):
            return {"output": self.combine(outputs), "confidence": None}
        window = [self.window_confidence(c) for c in candidates]
        return {"output": self.combine(outputs, window), "confidence": max(window), "request_confidences": window}

    def score(self, output: str, example: dict) -> dict[str, Any]:
        golds = [a["text"] for a in example["target"]["answers"]]
        predicted = parse_span(output or "")
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
        """Token F1 and exact match, precision/recall/F1 of saying an answer, and the ranking metrics of the
        per-question confidences (each with its bootstrap CI)."""
        truth = np.array([row["has_answer"] for row in per_example], dtype=bool)
        said = np.array([row["predicted_answer"] for row in per_example], dtype=bool)
        groups = row_groups(per_example)
        out = {
            name: mean_ci([row[name] for row in per_example], **bootstrap, groups=groups).as_dict()
            for name in ("token_f1", "exact_match")
        }
        for name in ("precision", "recall", "f1"):
            out[f"detection_{name}"] = binary_detection_ci(truth, said, name, **bootstrap, groups=groups).as_dict()
        return out | self._ranking_metrics(per_example, truth, bootstrap, groups)

    @staticmethod
    def _ranking_metrics(
        per_example: list[dict], truth: np.ndarray, bootstrap: dict, groups: list[str] | None
    ) -> dict[str, dict]:
        """AUPR and precision at 80% recall of the confidences; without a confidence for every question,
        both are NaN with the reason under ``unavailable``."""
        names = {"aupr": "detection_aupr", "precision_at_80_recall": "detection_p_at_80r"}
        confidences = [row.get("confidence") for row in per_example]
        if any(c is None for c in confidences):
            reason = next((r["confidence_unavailable"] for r in per_example if r.get("confidence_unavailable")), None)
            nan = float("nan")
            unavailable = {"value": nan, "ci_low": nan, "ci_high": nan, "n": len(per_example)}
            return {name: {**unavailable, "unavailable": reason or NO_CONFIDENCE} for name in names.values()}
        estimates = ranking_ci(truth, np.array(confidences, dtype=float), **bootstrap, groups=groups)
        return {names[key]: estimate.as_dict() for key, estimate in estimates.items()}


def parse_span(output: str) -> str:
    """The quoted span of a reply, "" when it says there is none: a leading "Answer:"/"Quote:"-style preamble,
    blockquote and bold/code markers and wrapping quotes are removed; an unquoted reply whose first sentence says
    there is no answer ("No answer", "None", "N/A", "There is no such clause", ...) is an abstention."""
    text = PREAMBLE.sub("", output.strip().lstrip(">").strip()).strip()
    for marker in ("**", "__", "`"):
        if len(text) > 2 * len(marker) and text.startswith(marker) and text.endswith(marker):
            text = text[len(marker) : -len(marker)].strip()
    if text[:1] in QUOTES and len(text) > 1 and text.endswith(QUOTES[text[0]]):
        return text[1:-1].strip()
    first_sentence = re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0]
    return "" if ABSTENTION.search(normalize_answer(first_sentence)) else text
