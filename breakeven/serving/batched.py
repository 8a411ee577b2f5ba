"""Load test of an in-process generator (the transformers backend): ``concurrency`` clients in a closed loop against
static batching. Each round, the waiting requests form one batch and all get their answers when it ends, so a
request waits in no queue and its latency is the batch's wall time; the time to first token is that of a
one-token pass over the level's first batch (its prefill)."""

from __future__ import annotations

import itertools
import time

from breakeven.infer.base import Generator
from breakeven.serving.capacity import EngineTimes, LoadBudget, RequestTiming, level_row


def batched_levels(
    generator: Generator,
    conversations: list[list[dict]],
    max_new_tokens: int,
    budget: LoadBudget,
    constraint: dict | None,
) -> list[dict]:
    """One row per level of ``budget``, each through ``generator.generate`` (the predictions' interface), after an
    untimed one-token warm-up (a serving engine is warm)."""
    generator.generate(conversations[:1], 1, 1, constraint)
    return [
        batched_level(generator, conversations, max_new_tokens, level, budget, constraint) for level in budget.levels()
    ]


def batched_level(
    generator: Generator,
    conversations: list[list[dict]],
    max_new_tokens: int,
    concurrency: int,
    budget: LoadBudget,
    constraint: dict | None,
) -> dict:
    """Rounds of ``concurrency`` requests (the cell's prompts in order, cycled) until the level's request or time
    cap; the wall time covers every round."""
    prompts = itertools.cycle(conversations)
    rounds, start = [], time.perf_counter()  # (the round's wall time, its answers)
    while sum(len(answers) for _, answers in rounds) < budget.requests(concurrency) and (
        not rounds or time.perf_counter() - start < budget.seconds_per_level
    ):
        batch = [next(prompts) for _ in range(concurrency)]
        round_start = time.perf_counter()
        answers = generator.generate(batch, max_new_tokens, concurrency, constraint)
        rounds.append((time.perf_counter() - round_start, answers))
    wall = time.perf_counter() - start
    hit_rate = (generator.cache_stats or {}).get("hit_rate")  # the prefix cache, if it has one
    probe_start = time.perf_counter()
    generator.generate(list(itertools.islice(itertools.cycle(conversations), concurrency)), 1, concurrency, constraint)
    ttft = time.perf_counter() - probe_start
    timings = [
        RequestTiming(latency, min(ttft, latency), a.input_tokens, a.output_tokens)
        for latency, answers in rounds
        for a in answers
    ]
    inference = sum(t.latency_s for t in timings) / len(timings)
    return level_row(concurrency, timings, wall, EngineTimes(0.0, inference, hit_rate))
