"""Concurrency and rate limits, retries with exponential backoff and jitter that honour Retry-After, a time budget
per request, and a circuit breaker that pauses the whole cell while the provider refuses every request.

The SDKs' own retries are switched off (``max_retries=0`` for openai, one attempt for google-genai), so
every attempt passes through here and is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_any, stop_before_delay
from tenacity.wait import wait_base, wait_random_exponential

from breakeven.providers import TransientError

T = TypeVar("T")
log = logging.getLogger(__name__)
CHARS_PER_TOKEN = 4
"""OpenAI's rule of thumb for English text; the output budget, not the prompt, dominates most estimates."""
COUNTDOWN_EVERY_S = 10.0
"""How often a paused cell logs the time left before it asks again."""


def _chars(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_chars(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_chars(v) for v in value)
    return 0


def token_estimate(*prompt_fields, budget: int) -> int:
    """Tokens a request may consume: the text in its prompt fields (any nesting) plus its output budget."""
    return math.ceil(sum(_chars(field) for field in prompt_fields) / CHARS_PER_TOKEN) + int(budget)


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
    """What the limiter saw: attempts sent upstream, retries among them, estimated tokens admitted, pauses."""

    attempts: int = 0
    retries: int = 0
    tokens: int = 0
    pauses: int = 0
    paused_s: float = 0.0


class CircuitBreaker:
    """Opens after ``after`` failed attempts in a row (any requests): every request then waits out a cooldown
    (the server's Retry-After, else doubling from ``base_s`` up to ``max_s``), then one probe goes first; its
    success closes the breaker, its failure opens it again for longer."""

    def __init__(self, after: int, base_s: float, max_s: float, counters: Counters) -> None:
        self.after, self.base_s, self.max_s, self.counters = after, base_s, max_s, counters
        self.streak = 0
        self.successes = 0
        self.cooldown = base_s
        self.open_until = 0.0
        self.opened_at: float | None = None
        self.probe: asyncio.Future | None = None
        self.next_countdown = 0.0

    def success(self) -> None:
        """An answer arrived: close the breaker and let every waiting request go."""
        if self.opened_at is not None:
            paused = time.monotonic() - self.opened_at
            self.counters.paused_s += paused
            log.info("the provider answers again; resuming after %.0f s paused", paused)
        self.streak, self.cooldown, self.opened_at, self.open_until = 0, self.base_s, None, 0.0
        self.successes += 1
        self.settle(self.probe)

    def failure(self, error: TransientError, probe: asyncio.Future | None) -> None:
        """A refused attempt: the breaker opens after ``after`` in a row, and again (for longer) when the probe
        (``probe``: the attempt's probe ticket, if it was the probe) fails."""
        self.streak += 1
        idle = self.probe is None and time.monotonic() >= self.open_until
        if (probe is not None and probe is self.probe) or (self.streak >= self.after and idle):
            self._open(error)

    def _open(self, error: TransientError) -> None:
        """Open (or, after a failed probe, reopen for twice as long); the first opening is logged, then the
        countdown speaks."""
        pause = min(max(error.retry_after or 0.0, self.cooldown), self.max_s)
        self.cooldown = min(self.cooldown * 2, self.max_s)
        self.open_until = time.monotonic() + pause
        if self.opened_at is None:
            self.opened_at = time.monotonic()
            self.counters.pauses += 1
            self.next_countdown = time.monotonic() + COUNTDOWN_EVERY_S
            log.warning(
                "the provider refused %d attempts in a row (last: %s): pausing every request of the cell, "
                "resuming in %.1f s",
                self.streak,
                error,
                pause,
            )

    def settle(self, probe: asyncio.Future | None) -> None:
        """That probe is over (whatever its outcome): wake the requests waiting for it."""
        if probe is not None and not probe.done():
            probe.set_result(None)
        if probe is self.probe:
            self.probe = None

    async def admit(self, deadline: float) -> asyncio.Future | None:
        """Wait while the breaker is open (until ``deadline`` at most); the probe ticket when this attempt is
        the one probe sent after a pause, else None."""
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise TransientError("retry time budget spent while the provider refused every request")
            if self.open_until > now:
                await self._countdown(deadline)
            elif self.probe is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self.probe), timeout=deadline - now)
            elif self.opened_at is not None:
                self.probe = asyncio.get_running_loop().create_future()
                return self.probe
            else:
                return None

    async def _countdown(self, deadline: float) -> None:
        """Sleep while the breaker is open, logging the time left every COUNTDOWN_EVERY_S (one waiter logs)."""
        while (left := min(self.open_until, deadline) - time.monotonic()) > 0:
            if time.monotonic() >= self.next_countdown:
                self.next_countdown = time.monotonic() + COUNTDOWN_EVERY_S
                log.warning("paused while the provider refuses requests: asking again in %.1f s", left)
            await asyncio.sleep(min(left, 1.0))


class Limiter:
    """At most ``concurrency`` requests in flight, ``rpm`` requests and ``tpm`` tokens per minute.

    A request is retried on :class:`TransientError` until it succeeds, until ``retry_budget_s`` have passed since
    its first attempt, or, while the provider answers other requests, after ``max_attempts`` attempts. While the
    provider answers none (an outage), the count is not spent: the circuit breaker pauses the whole cell and
    only the time budget bounds the wait.
    """

    def __init__(
        self,
        concurrency: int,
        rpm: int | None = None,
        tpm: int | None = None,
        max_attempts: int = 6,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 60.0,
        retry_budget_s: float = 600.0,
        breaker_after: int = 5,
    ) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.requests = AsyncLimiter(rpm, 60) if rpm else None
        self.tokens = AsyncLimiter(tpm, 60) if tpm else None
        self.tpm = tpm
        self.max_attempts = max_attempts
        self.retry_budget_s = retry_budget_s
        self.wait = wait_retry_after(backoff_base_s, backoff_max_s)
        self.counters = Counters()
        self.breaker = CircuitBreaker(breaker_after, backoff_base_s, backoff_max_s, self.counters)

    async def _admit(self, tokens: int) -> None:
        if self.requests is not None:
            await self.requests.acquire()
        if self.tokens is not None:
            await self.tokens.acquire(min(tokens, self.tpm))
        self.counters.tokens += tokens

    async def _attempt(self, send: Callable[[], Awaitable[T]], tokens: int, deadline: float, sent: list[int]) -> T:
        """One attempt: wait out an open breaker, take a slot and the rate budget, send; tell the breaker."""
        probe = await self.breaker.admit(deadline)
        try:
            async with self.semaphore:
                await self._admit(tokens)
                sent[0] += 1
                self.counters.attempts += 1
                if sent[0] > 1:
                    self.counters.retries += 1
                result = await send()
        except TransientError as err:
            self.breaker.failure(err, probe)
            raise
        except Exception:
            self.breaker.success()  # an answer, if not the one wanted: the provider is up
            raise
        else:
            self.breaker.success()
        finally:
            self.breaker.settle(probe)
        return result

    async def call(self, send: Callable[[], Awaitable[T]], tokens: int = 0) -> tuple[T, int]:
        """``send()`` under the limits and the retry policy; returns its result and the attempts sent.

        The backoff sleeps and breaker pauses happen outside the concurrency slot, so a throttled request
        leaves room for others. The last error is re-raised with the attempts sent as its ``attempts``.
        """
        sent = [0]
        successes_before = self.breaker.successes
        deadline = time.monotonic() + self.retry_budget_s

        def count_spent(state: RetryCallState) -> bool:
            # the count bounds a request that fails while others get answers; in an outage only time does
            return sent[0] >= self.max_attempts and self.breaker.successes > successes_before

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_any(stop_before_delay(self.retry_budget_s), count_spent),
            wait=self.wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    result = await self._attempt(send, tokens, deadline, sent)
        except Exception as err:
            err.attempts = sent[0]
            raise
        return result, sent[0]
