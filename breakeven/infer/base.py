"""The interface every inference backend implements (``Generator``) and the result type it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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


@runtime_checkable
class Generator(Protocol):
    """What a predict or load-test job calls: the transformers backend, the vLLM backend, and the shared engine's
    client. ``device`` names where it runs; after each ``generate`` call ``cache_stats`` holds its prefix-cache
    record (``prefix_cache_stats``), or None without a prefix cache."""

    device: str
    cache_stats: dict | None

    def generate(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        batch_size: int,
        constraint: dict | None = None,
        top_logprobs: int = 0,
    ) -> list[Generation]: ...
