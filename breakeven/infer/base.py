"""The result type every inference backend returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Generation:
    """One answer.

    ``latency_s`` is the wall time of the call that produced it (a batch, for batched backends): what a
    request in that batch waited. ``input_tokens``/``output_tokens`` count prompt and generated tokens
    (output up to and including the end-of-turn token).
    """

    text: str
    latency_s: float
    input_tokens: int
    output_tokens: int
