"""Structured extraction: the model answers with one JSON object; each field is scored against the label.

Per example: ``field_f1`` is the mean over the configured fields of the field score (1/0 for exact-match
fields after normalisation, set-F1 for list fields; a missing key counts as null); ``strict_all_correct`` is 1
when every field scores 1; ``valid_json`` is 1 when the output holds a JSON object. Unparseable output scores
0 on everything and is classified, never raised.
"""

from __future__ import annotations

import json
import re
from typing import Any

from breakeven.jsonio import COMPACT_SEPARATORS
from breakeven.stats.bootstrap import mean_ci, row_groups
from breakeven.tasks import BaseTask

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def normalise(value: Any) -> Any:
    """Case-, whitespace- and trailing-punctuation-insensitive form of a scalar."""
    if isinstance(value, str):
        text = re.sub(r"\s+", " ", value.casefold()).strip().strip(".!?;:,").strip()
        return text or None
    return value


def extract_json_object(text: str) -> dict | None:
    """The first JSON object in ``text`` (code fences and surrounding prose allowed), else None."""
    fenced = FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    candidates.append(text)
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for start in (m.start() for m in re.finditer(r"\{", candidate)):
            try:
                obj, _ = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def set_f1(predicted: Any, gold: list) -> float:
    """F1 between two sets of normalised strings; two empty sets agree."""
    if predicted is None:
        predicted = []
    if not isinstance(predicted, list):
        predicted = [predicted]
    pred = {normalise(str(x)) for x in predicted if x is not None and str(x).strip()}
    ref = {normalise(str(x)) for x in gold}
    if not pred and not ref:
        return 1.0
    overlap = len(pred & ref)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def coerce(value: Any, spec: dict) -> Any:
    """Integers written as strings ("3") count as integers; everything else is kept as written."""
    if spec["type"] == "integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def field_score(value: Any, gold: Any, spec: dict) -> float:
    if spec["match"] == "set_f1":
        return set_f1(value, gold)
    value = coerce(value, spec)
    if isinstance(value, bool) or (spec["type"] == "integer" and not isinstance(value, (int, type(None)))):
        return 0.0
    return float(normalise(value) == normalise(gold))


class ExtractionTask(BaseTask):
    """JSON extraction scored field by field."""

    metric_names = ("field_f1", "strict_all_correct", "valid_json")

    def __init__(self, cfg: dict, prompt: dict) -> None:
        self.cfg = cfg
        self.prompt = prompt
        self.fields: dict[str, dict] = cfg["fields"]
        if not self.fields:
            raise ValueError(f"task {cfg['name']}: an extraction task needs 'fields'")

    def target_text(self, example: dict) -> str:
        target = {name: example["target"].get(name) for name in self.fields}
        return json.dumps(target, ensure_ascii=False, separators=COMPACT_SEPARATORS)

    def score(self, output: str, example: dict) -> dict[str, Any]:
        parsed = extract_json_object(output or "")
        if parsed is None:
            error = "empty" if not (output or "").strip() else "invalid_json"
            fields = {name: 0.0 for name in self.fields}
            return self._result(fields, valid=False, parsed=None, error=error)
        fields = {
            name: field_score(parsed.get(name), example["target"].get(name), spec) for name, spec in self.fields.items()
        }
        if all(score == 1.0 for score in fields.values()):
            error = "correct"
        elif not any(fields.values()):
            error = "all_fields_wrong"
        else:
            error = "partially_correct"
        return self._result(fields, valid=True, parsed=parsed, error=error)

    def metrics(self, per_example: list[dict], bootstrap: dict) -> dict[str, dict]:
        """Every metric is a mean of per-example scores, with its bootstrap CI."""
        groups = row_groups(per_example)
        return {
            name: mean_ci([row[name] for row in per_example], **bootstrap, groups=groups).as_dict()
            for name in self.metric_names
        }

    def _result(self, fields: dict[str, float], valid: bool, parsed: dict | None, error: str) -> dict[str, Any]:
        return {
            "field_f1": sum(fields.values()) / len(fields),
            "strict_all_correct": float(all(score == 1.0 for score in fields.values())),
            "valid_json": float(valid),
            "fields": fields,
            "parsed": parsed,
            "error_class": error,
        }
