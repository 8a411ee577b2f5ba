"""Score one cell's predictions: per-example scores, metrics with CIs, error classes, latency and tokens."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from breakeven.tasks import Task

REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry, (but )?i|i can(no|')t|i cannot|i won'?t|i am (not able|unable)|"
    r"i'?m (not able|unable)|as an ai\b|i must decline|unfortunately,? i (can|am))",
    re.IGNORECASE,
)
"""Openings of a declined answer; a wrong answer that starts like this is classed ``refusal``."""


def example_group(example: dict, field: str) -> str:
    """The group an example belongs to: its input's ``field`` (the rows of one document share it)."""
    inputs = example["input"]
    if not isinstance(inputs, dict) or field not in inputs:
        raise ValueError(f"example {example['id']!r}: group_field {field!r} is not a field of its input")
    return str(inputs[field])


def score_cell(
    task: Task, examples: list[dict], predictions: list[dict], bootstrap: dict, group_field: str | None = None
) -> dict:
    """Metrics of one cell; every test example must have exactly one prediction. With ``group_field`` each
    per-example row carries its ``group``, and the CIs resample whole groups."""
    by_id = {p["id"]: p for p in predictions}
    missing = [e["id"] for e in examples if e["id"] not in by_id]
    if missing:
        raise ValueError(f"predictions lack {len(missing)} test examples (first: {missing[:3]})")
    outputs = ["" if by_id[e["id"]].get("error") else by_id[e["id"]]["output"] for e in examples]
    per_example = []
    for example, output, scores in zip(examples, outputs, task.score_batch(outputs, examples)):
        if by_id[example["id"]].get("error"):
            scores["error_class"] = by_id[example["id"]].get("error_class", "generation_error")
        elif by_id[example["id"]].get("truncated") and scores["error_class"] != "correct":
            scores["error_class"] = "truncated"  # an API answer cut at the output budget
        elif scores["error_class"] not in ("correct", "empty") and REFUSAL.match(output.strip()):
            scores["error_class"] = "refusal"
        group = {"group": example_group(example, group_field)} if group_field else {}
        prediction = by_id[example["id"]]
        per_example.append(
            {"id": example["id"], **group, **scores, **example_usage(prediction), **_confidence(prediction)}
        )
    return {
        "metrics": task.metrics(per_example, bootstrap),
        "field_accuracy": _field_accuracy(per_example),
        "error_classes": dict(Counter(row["error_class"] for row in per_example)),
        "usage": usage(predictions),
        **task.cell_notes(per_example),
        "per_example": per_example,
    }


def _confidence(prediction: dict) -> dict:
    """A prediction's per-example confidence (and why it is missing), where its task records one; an example
    that got no answer (an API error) ranks last."""
    if "confidence" not in prediction:
        return {}
    if prediction.get("error"):
        return {"confidence": 0.0}
    return {key: prediction[key] for key in ("confidence", "confidence_unavailable") if key in prediction}


USAGE_KEYS = ("latency_s", "input_tokens", "output_tokens", "cached_tokens")
"""Per-example measurements the cost model resamples with the scores (cached tokens: API cells only)."""


def example_usage(prediction: dict) -> dict:
    return {key: prediction[key] for key in USAGE_KEYS if key in prediction}


def _field_accuracy(per_example: list[dict]) -> dict[str, float]:
    fields = per_example[0].get("fields") or {} if per_example else {}
    return {name: float(np.mean([row["fields"][name] for row in per_example])) for name in fields}


def usage(predictions: list[dict]) -> dict[str, float]:
    """Latency percentiles and mean token counts of a cell's predictions (API cells: also the mean cached
    input tokens and the mean measured cost)."""
    latency = np.array([p["latency_s"] for p in predictions], dtype=float)
    stats = {
        "latency_p50_s": float(np.percentile(latency, 50)),
        "latency_p95_s": float(np.percentile(latency, 95)),
        "input_tokens_mean": float(np.mean([p["input_tokens"] for p in predictions])),
        "output_tokens_mean": float(np.mean([p["output_tokens"] for p in predictions])),
    }
    if predictions and "cost_usd" in predictions[0]:
        stats["cached_tokens_mean"] = float(np.mean([p["cached_tokens"] for p in predictions]))
        stats["cost_usd_mean"] = float(np.mean([p["cost_usd"] for p in predictions]))
    return stats
