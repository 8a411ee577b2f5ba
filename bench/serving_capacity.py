"""Serving capacity of vLLM on CPU, side by side in one run on the same model and support-email prompts: the
OpenAI-compatible server (automatic prefix caching on) under a closed-loop load test at concurrency 1 and 16 (the
serving stage's code), and
the evaluation batch the predictions time (the offline engine, max_num_seqs 16, every prompt submitted at once).
Prints throughput, p95 latency and the self-hosted cost per query each implies at the demo's hardware price and
utilisation, and the ratios: throughput at 16 vs 1, and each serving cost vs the eval-batch figure.

Prompts: five-shot support_email (``bench.workloads``), 96 new tokens. Model: SmolLM2-135M (``bench.workloads``).
``python -m bench.serving_capacity [requests_per_level]``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from bench.workloads import five_shot_emails, smollm2
from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.cost.model import hourly_usd, self_cost_per_query
from breakeven.jsonio import read_yaml

CONCURRENCY, REQUESTS, MAX_NEW_TOKENS = 16, 48, 96


async def level(base_url: str, prompts: list[list[dict]], concurrency: int, requests: int):
    from openai import AsyncOpenAI

    from breakeven.serving.capacity import LoadBudget
    from breakeven.serving.http_load import closed_loop

    client = AsyncOpenAI(base_url=base_url, api_key="loopback", max_retries=0, timeout=600)
    try:
        budget = LoadBudget(concurrency, requests, seconds_per_level=600)
        return await closed_loop(client, "base", prompts, MAX_NEW_TOKENS, concurrency, budget, {})
    finally:
        await client.close()


def main(requests: int = REQUESTS) -> None:
    import numpy as np

    from breakeven.infer.vllm_engine import VLLMGenerator
    from breakeven.providers.server import VLLMServer, vllm_server

    project = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    cost = project.config["cost"]
    hourly = hourly_usd(project.pricing["hardware"][cost["hardware_profile"]])
    model_dir, prompts = smollm2(), five_shot_emails(requests)
    print(
        f"Serving capacity, model {model_dir}, {requests} five-shot support-email prompts per level, "
        f"max_new_tokens={MAX_NEW_TOKENS}, greedy (load average {os.getloadavg()[0]:.1f})"
    )
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        with vllm_server(VLLMServer(model_dir, "base", max_num_seqs=CONCURRENCY), Path(tmp) / "server.log") as url:
            asyncio.run(level(url, prompts[:2], 1, 2))  # warm-up
            for concurrency in (1, CONCURRENCY):
                timings, wall = asyncio.run(level(url, prompts, concurrency, requests))
                p95 = float(np.percentile([t.latency_s for t in timings], 95))
                rows[f"server, concurrency {concurrency}"] = (wall / len(timings), p95)
    engine = VLLMGenerator(model_dir)
    answers = engine.generate(prompts, MAX_NEW_TOKENS, CONCURRENCY)
    p95 = float(np.percentile([a.latency_s for a in answers], 95))
    rows[f"eval batch (offline, {CONCURRENCY} seqs)"] = (engine.generate_s / len(prompts), p95)  # p95: queue included
    costs = {}
    for label, (seconds, p95) in rows.items():
        costs[label] = self_cost_per_query(seconds, hourly, cost["utilisation"]) * 1000
        print(f"{label:<34} {1 / seconds:6.2f} queries/s  p95 {p95:6.1f} s  ${costs[label]:.4f} / 1K queries")
    one, many, batch = rows.values()
    print(f"throughput at concurrency {CONCURRENCY} vs 1: {one[0] / many[0]:.1f}x")
    cost_one, cost_many, cost_batch = costs.values()
    print(
        f"cost per query vs the eval batch: concurrency 1 {cost_one / cost_batch:.2f}x, "
        f"concurrency {CONCURRENCY} {cost_many / cost_batch:.2f}x ({cost['hardware_profile']} at ${hourly}/h, "
        f"utilisation {cost['utilisation']})"
    )


if __name__ == "__main__":  # vLLM spawns processes
    main(*(int(a) for a in sys.argv[1:2]))
