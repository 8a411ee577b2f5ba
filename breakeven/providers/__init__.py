"""Predict stage, API systems: provider clients behind one interface, a content-addressed response cache, rate
limits and retries, the OpenAI Batch API, and the loopback stand-in server."""

from __future__ import annotations

from dataclasses import dataclass

from breakeven.registry import Registry

CLIENTS = Registry(
    "API provider",
    {
        "openai": "breakeven.providers.openai_client:OpenAIClient",
        "gemini": "breakeven.providers.gemini_client:GeminiClient",
    },
)


@dataclass(frozen=True)
class Reply:
    """A provider's answer to one request, with the usage it reports (what the request is billed for).

    ``first_logprobs``: where requested and returned, the first token's most likely candidates as
    ``(token, log-probability)`` pairs. ``truncated``: the answer stopped at the output budget (Responses ``status: incomplete``, Chat Completions
    ``finish_reason: length``, Gemini ``MAX_TOKENS``); reasoning tokens count against that budget.
    """

    text: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    model_version: str | None
    first_logprobs: list[tuple[str, float]] | None = None
    truncated: bool = False


class TransientError(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection, a body the SDK or we cannot read)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """A failure retrying cannot fix (bad request, authentication, unknown model)."""


class MissingKeyError(RuntimeError):
    """The environment variable holding an API key is unset."""
