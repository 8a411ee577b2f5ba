"""Concurrency and rate limits, and retries with exponential backoff and jitter that honour Retry-After.

The SDKs' own retries are switched off (``max_retries=0`` for openai, one attempt for google-genai), so
every attempt passes through here and is counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_random_exponential

from breakeven.providers import TransientError

T = TypeVar("T")


class wait_retry_after(wait_base):
    """The server's Retry-After when it sent one (capped), else full-jitter exponential backoff."""

    def __init__(self, base_s: float, max_s: float) -> None:
        self.backoff = wait_random_exponential(multiplier=base_s, max=max_s)
        self.max_s = max_s

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_s)
        return self.backoff(retry_state)


@dataclass
class Counters:
    """What the limiter saw: attempts sent upstream, and retries among them."""

    attempts: int = 0
    retries: int = 0


class Limiter:
    """At most ``concurrency`` requests in flight, ``rpm`` requests and ``tpm`` tokens per minute."""

    def __init__(
        self,
        concurrency: int,
        rpm: int | None = None,
        tpm: int | None = None,
        max_attempts: int = 6,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.requests = AsyncLimiter(rpm, 60) if rpm else None
        self.tokens = AsyncLimiter(tpm, 60) if tpm else None
        self.tpm = tpm
        self.max_attempts = max_attempts
        self.wait = wait_retry_after(backoff_base_s, backoff_max_s)
        self.counters = Counters()

    async def _admit(self, tokens: int) -> None:
        if self.requests is not None:
            await self.requests.acquire()
        if self.tokens is not None:
            await self.tokens.acquire(min(tokens, self.tpm))

    async def call(self, send: Callable[[], Awaitable[T]], tokens: int = 0) -> tuple[T, int]:
        """``send()`` under the limits, retried on :class:`TransientError`; returns its result and the attempts.

        The backoff sleeps happen outside the concurrency slot, so a throttled request leaves room for others.
        The last error is re-raised with the attempts made as its ``attempts`` attribute.
        """
        attempts = 0
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.max_attempts),
            wait=self.wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with self.semaphore:
                        await self._admit(tokens)
                        attempts += 1
                        self.counters.attempts += 1
                        if attempts > 1:
                            self.counters.retries += 1
                        result = await send()
        except Exception as err:
            err.attempts = attempts
            raise
        return result, attempts
