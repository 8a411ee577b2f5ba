"""Structured outputs: the answer format a task allows, as one spec both inference backends enforce.

A constraint is ``{"choice": [labels]}`` (classification, multiple choice) or ``{"json": schema}`` (extraction).
vLLM receives it as ``StructuredOutputsParams``; the transformers backend compiles the same grammar with
xgrammar (vLLM's default structured-output engine), so both backends constrain decoding identically: JSON
without optional whitespace (``breakeven.jsonio.COMPACT_SEPARATORS``, vLLM's ``disable_any_whitespace``).
"""

from __future__ import annotations

import json

from breakeven.jsonio import COMPACT_SEPARATORS
from breakeven.tasks.classification import LETTERS

CHOICE_KINDS = ("classification", "multiple_choice")


def field_schema(spec: dict) -> dict:
    """JSON schema of one extraction field (``config/tasks/<task>.yaml`` fields entry)."""
    if spec["type"] == "array":
        schema: dict = {"type": "array", "items": {"type": "string"}}
    else:
        schema = {"type": spec["type"]}
        if "enum" in spec:
            schema["enum"] = list(spec["enum"])
        schema |= {key: spec[key] for key in ("minimum", "maximum") if key in spec}
    if spec.get("nullable"):
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def json_schema(fields: dict) -> dict:
    """An object with exactly the task's fields, every one required."""
    return {
        "type": "object",
        "properties": {name: field_schema(spec) for name, spec in fields.items()},
        "required": list(fields),
        "additionalProperties": False,
    }


def output_constraint(task_cfg: dict) -> dict:
    """The constraint of a task whose config sets ``structured_output: true``.

    ``task_cfg`` is the adapter config with the label set filled in (see ``breakeven.tasks.adapter_config``).
    """
    kind = task_cfg["kind"]
    if kind == "classification":
        return {"choice": list(task_cfg["labels"])}
    if kind == "multiple_choice":
        return {"choice": list(LETTERS[: task_cfg.get("n_options", 4)])}
    if kind == "extraction":
        return {"json": json_schema(task_cfg["fields"])}
    raise ValueError(
        f"config/tasks/{task_cfg['name']}.yaml: field 'structured_output': not supported for kind {kind!r} "
        f"(only {', '.join((*CHOICE_KINDS, 'extraction'))})"
    )


def _ebnf_literal(text: str) -> str:
    escapes = {"\\": r"\\", '"': r"\"", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
    return "".join(escapes.get(ch, f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch) for ch in text)


def choice_grammar(choices: list[str]) -> str:
    """The EBNF grammar vLLM builds from ``StructuredOutputsParams(choice=...)`` (one literal per choice)."""
    return "root ::= " + " | ".join(f'"{_ebnf_literal(c)}"' for c in choices)


def compile_for_xgrammar(constraint: dict, compiler):
    """Compile a constraint with an ``xgrammar.GrammarCompiler`` the way vLLM's xgrammar backend does."""
    if "choice" in constraint:
        return compiler.compile_grammar(choice_grammar(constraint["choice"]))
    schema = json.dumps(constraint["json"])
    return compiler.compile_json_schema(schema, any_whitespace=False, separators=COMPACT_SEPARATORS)
