"""Verdicts decided in the scorer's process, never in the candidate's.

Each assert of a task becomes a :class:`Stage`. ``assert <expr> == <literal>`` (nearly all of MBPP) is a
``value`` stage: the sandbox evaluates ``<expr>`` and returns it as plain data, the literal is read here with
:func:`ast.literal_eval` and never enters the sandbox, and the two are compared here as rebuilt builtin objects
(so an object whose ``__eq__`` is always true, a patched ``AssertionError`` or a swallowed exception changes
nothing). Any other assert is an ``assert`` stage and runs whole inside the sandbox, which reports whether it
raised. The sandbox's lines are the candidate's claims: a program passes only when every stage has a result in
order and each one holds; lines that are malformed, repeated or out of range are ignored.
"""

from __future__ import annotations

import ast
import json
import reprlib
from dataclasses import dataclass
from typing import Any

DETAIL_CHARS = 500


@dataclass(frozen=True)
class Stage:
    """One assert: ``source`` is what the sandbox runs (the expression, or the whole assert)."""

    kind: str  # "value" (judged here) or "assert" (judged in the sandbox)
    source: str
    test: str
    expected: Any = None


def plan(test: str) -> Stage:
    """The stage of one assert: a value stage when it reads ``assert <expr> == <literal>``."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return Stage("assert", test, test)
    node = tree.body[0] if len(tree.body) == 1 else None
    compare = node.test if isinstance(node, ast.Assert) else None
    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq)):
        return Stage("assert", test, test)
    try:
        expected = ast.literal_eval(compare.comparators[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Stage("assert", test, test)
    source = ast.get_source_segment(test, compare.left) or ast.unparse(compare.left)
    return Stage("value", f"({source})", test, expected)


def decode(data: Any) -> Any:
    """Builtin objects from :func:`breakeven.tasks.sandbox.bootstrap.encode`'s tagged JSON; ValueError (or
    TypeError for unhashable set members and keys) when it is anything else."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict) and len(data) == 1:
        ((tag, body),) = data.items()
        if tag in _BUILDERS:
            return _BUILDERS[tag](body)
    raise ValueError(f"not plain data: {type(data).__name__}")


def _items(body: Any) -> list:
    if not isinstance(body, list):
        raise ValueError("a container's items must be a list")
    return [decode(item) for item in body]


def _pairs(body: Any) -> dict:
    pairs = _items(body)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise ValueError("a dict must be a list of [key, value] pairs")
    return {key: value for key, value in pairs}


def _hex(body: Any) -> bytes:
    if not isinstance(body, str):
        raise ValueError("bytes must be a hex string")
    return bytes.fromhex(body)


def _complex(body: Any) -> complex:
    if not (isinstance(body, list) and len(body) == 2 and all(type(part) in (int, float) for part in body)):
        raise ValueError("a complex must be [real, imag]")
    return complex(*body)


_BUILDERS = {
    "tuple": lambda body: tuple(_items(body)),
    "set": lambda body: set(_items(body)),
    "frozenset": lambda body: frozenset(_items(body)),
    "dict": _pairs,
    "bytes": _hex,
    "bytearray": lambda body: bytearray(_hex(body)),
    "complex": _complex,
}


def _text(value: Any) -> str:
    return value[:DETAIL_CHARS] if isinstance(value, str) else "(no description)"


class Judge:
    """Reads the sandbox's result lines for one program and decides its (status, detail) in ``outcome``."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.results: dict[int, dict] = {}
        self.checked = 0
        self.outcome: tuple[str, str] | None = None

    def feed(self, line: bytes) -> None:
        """One result line; decides the outcome as soon as it is known."""
        if self.outcome is not None:
            return
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return
        if isinstance(message, dict):
            self._dispatch(message)

    def reject(self, reason: str) -> None:
        """Fail the program for what it did to the result channel (e.g. an oversized line)."""
        if self.outcome is None:
            self.outcome = ("failed", reason)

    def _dispatch(self, message: dict) -> None:
        stage = message.get("stage")
        if "syntax_error" in message or "sandbox_error" in message:
            status = "syntax_error" if "syntax_error" in message else "sandbox_error"
            self.outcome = (status, _text(message[status]))
        elif stage in ("candidate", "setup") and "error" in message:
            detail = _text(message["error"])
            self.outcome = (_failure_status(message), detail if stage == "candidate" else f"setup -> {detail}")
        elif type(stage) is int and 0 <= stage < len(self.stages):
            self.results.setdefault(stage, message)
            self._advance()
        elif message.get("done") is True:
            self._advance()
            if self.outcome is None:
                self.outcome = ("failed", f"{self.stages[self.checked].test} -> no result")

    def _advance(self) -> None:
        while self.checked in self.results:
            stage = self.stages[self.checked]
            status, reason = _check(stage, self.results[self.checked])
            if status != "passed":
                self.outcome = (status, f"{stage.test} -> {reason}"[:DETAIL_CHARS])
                return
            self.checked += 1
        if self.checked == len(self.stages):
            self.outcome = ("passed", "")


def _failure_status(message: dict) -> str:
    return "memory" if message.get("memory") is True else "failed"


def _check(stage: Stage, message: dict) -> tuple[str, str]:
    """("passed", "") or (status, reason) for one stage's result."""
    if "error" in message:
        return _failure_status(message), _text(message["error"])
    if stage.kind == "assert":
        return ("passed", "") if message.get("ok") is True else ("failed", "no verdict")
    if "value" not in message:
        return "failed", "no value"
    try:
        actual = decode(message["value"])
        equal = actual == stage.expected
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        return "failed", f"returned something that is not plain data ({err})"
    return ("passed", "") if equal is True else ("failed", f"AssertionError (got {reprlib.repr(actual)})")
