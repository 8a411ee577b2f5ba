"""Structured output for API requests: a JSON schema built from the task config (a label enum for label
tasks, the field schema for extraction). Label answers come back as ``{"answer": <label>}`` and are unwrapped
so the task's own parser sees the same text a free-form answer would give."""

from __future__ import annotations

import json

from breakeven.infer.constraints import field_schema

ANSWER_KEY = "answer"


def output_schema(task_cfg: dict) -> dict | None:
    """The JSON schema answers must follow, or None when the task's answers are free-form (code, spans)."""
    kind = task_cfg["kind"]
    if kind == "extraction":
        fields = task_cfg["fields"]
        properties = {name: field_schema(spec) for name, spec in fields.items()}
        return {"type": "object", "properties": properties, "required": list(fields), "additionalProperties": False}
    if kind == "classification":
        labels = list(task_cfg["labels"])
    elif kind == "multiple_choice":
        labels = [chr(ord("A") + i) for i in range(task_cfg["n_options"])]
    else:
        return None
    return {
        "type": "object",
        "properties": {ANSWER_KEY: {"type": "string", "enum": labels}},
        "required": [ANSWER_KEY],
        "additionalProperties": False,
    }


def unwrap(text: str, schema: dict | None) -> str:
    """The label of a ``{"answer": ...}`` reply (the text unchanged for other schemas or unparsable replies)."""
    if not schema or list(schema.get("properties", {})) != [ANSWER_KEY]:
        return text
    try:
        return str(json.loads(text)[ANSWER_KEY])
    except (ValueError, KeyError, TypeError):
        return text
