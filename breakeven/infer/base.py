"""The result type every inference backend returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Generation:
    """One answer.

    ``latency_s`` is the wall time of the call that produced it (a batch, for batched backends): what a
    request in that batch waited. ``input_tokens``/``output_tokens`` count prompt and generated tokens
    (output up to and including the end-of-turn token). ``first_logprobs``, when the caller asks for
    ``top_logprobs``, holds the most likely first tokens as ``(decoded text, log-probability)`` pairs, most
    likely first (text None for a special token, such as the end of the turn): what a task's per-example
    confidence is computed from (CUAD's answer detection).
    """

    text: str
    latency_s: float
    input_tokens: int
    output_tokens: int
    first_logprobs: list[tuple[str | None, float]] | None = None


def prefix_cache_stats(cached: int, total: int) -> dict:
    """A cell's prefix-cache record: prompt tokens served from the cache, prompt tokens, and their ratio."""
    return {"cached_prompt_tokens": cached, "prompt_tokens": total, "hit_rate": cached / total if total else 0.0}
