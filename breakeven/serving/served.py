"""The generator interface (``generate(conversations, max_new_tokens, batch_size, constraint)``) over a running
vLLM OpenAI server: what a predict job uses when its base model's shared engine serves it. ``batch_size``
requests are in flight at once (the engine's ``max_num_seqs`` of a per-job engine); each request's latency is
the client's, from sending it to its last token, so it holds no wait for earlier requests."""

from __future__ import annotations

import asyncio
import time

from breakeven.infer.base import Generation, prefix_cache_stats
from breakeven.serving.http_load import structured_body


class ServedGenerator:
    """Greedy Chat Completions against ``base_url``, the base model or one adapter (``model``). After each
    ``generate`` call, ``cache_stats`` holds the prompt tokens the server took from its prefix cache (the
    usage's ``prompt_tokens_details.cached_tokens``)."""

    def __init__(self, base_url: str, model: str, engine_start_s: float | None = None) -> None:
        self.base_url, self.model = base_url, model
        self.device = "vllm-server"
        self.engine_start_s = engine_start_s  # the shared engine's start, paid once for all its cells
        self.generate_s: float | None = None
        self.cache_stats: dict | None = None

    def generate(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        batch_size: int,
        constraint: dict | None = None,
        top_logprobs: int = 0,
    ) -> list[Generation]:
        start = time.perf_counter()
        answered = asyncio.run(self._answer_all(conversations, max_new_tokens, batch_size, constraint, top_logprobs))
        self.generate_s = time.perf_counter() - start
        cached = sum(hits for _, hits in answered)
        self.cache_stats = prefix_cache_stats(cached, sum(answer.input_tokens for answer, _ in answered))
        return [answer for answer, _ in answered]

    async def _answer_all(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        batch_size: int,
        constraint: dict | None,
        top_logprobs: int,
    ) -> list[tuple[Generation, int]]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=self.base_url, api_key="loopback", max_retries=0, timeout=3600)
        slots, extra = asyncio.Semaphore(batch_size), structured_body(constraint)
        ranked = {"logprobs": True, "top_logprobs": top_logprobs} if top_logprobs else {}

        async def answer(messages: list[dict]) -> tuple[Generation, int]:
            async with slots:
                start = time.perf_counter()
                response = await client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    max_completion_tokens=max_new_tokens,
                    temperature=0,
                    extra_body=extra,
                    **ranked,
                )
                latency = time.perf_counter() - start
            usage = response.usage
            choice = response.choices[0]
            first = choice.logprobs.content[0].top_logprobs if ranked and choice.logprobs else None
            candidates = [(t.token, t.logprob) for t in first] if first else None
            text = (choice.message.content or "").strip()
            details = usage.prompt_tokens_details
            hits = (details.cached_tokens or 0) if details else 0
            return Generation(text, latency, usage.prompt_tokens, usage.completion_tokens, candidates), hits

        try:
            return list(await asyncio.gather(*(answer(c) for c in conversations)))
        finally:
            await client.close()
