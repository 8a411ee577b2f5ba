"""The capacity job's entry point: load-test one local cell (its model, adapter and prompts) against the engine its
predictions use, and write its capacity table (one row per concurrency level)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pandas as pd

from breakeven.infer import GENERATORS
from breakeven.infer.job import cell_requests
from breakeven.providers.server import VLLMServer, vllm_server
from breakeven.serving.batched import batched_levels
from breakeven.serving.capacity import LoadBudget, capacity_table
from breakeven.serving.engine import BASE_NAME, engine_session, served_model
from breakeven.serving.http_load import served_levels


def run_capacity(
    cell: dict,
    keys: dict,
    model_dir: Path,
    adapter_dir: Path | None,
    test_path: Path,
    fewshot_path: Path,
    manifest_path: Path,
    documents_path: Path,
    out_csv: Path,
    engine_address: Path | None = None,
    engine_timeout_s: float | None = None,
    server_log: Path | None = None,
) -> pd.DataFrame:
    """The capacity table of the cell ``keys`` names (task, system, condition, seed). transformers: the generator
    in this process, batched; vllm: the shared engine at ``engine_address`` (waited for up to
    ``engine_timeout_s``, then held alone), else a vLLM server of this job's own."""
    _, _, requests, constraint = cell_requests(cell, test_path, fewshot_path, manifest_path, documents_path)
    conversations = [c for group in requests for c in group]
    budget, max_tokens = LoadBudget.from_config(cell["serving"]), cell["max_new_tokens"]
    backend = cell["inference"]["backend"]
    if backend == "transformers":
        generator = GENERATORS.get(backend)(model_dir, adapter_dir, prefix_cache=cell["inference"]["prefix_cache"])
        rows = batched_levels(generator, conversations, max_tokens, budget, constraint)
    else:
        served = served_model(keys["task"], keys["condition"], keys["seed"], adapter_dir is not None)
        with ExitStack() as stack:
            if engine_address is not None:
                url = stack.enter_context(engine_session(engine_address, served, engine_timeout_s)).url
            else:
                adapters = {served: adapter_dir} if adapter_dir else {}
                server = VLLMServer(model_dir, BASE_NAME, adapters, max_num_seqs=budget.max_concurrency)
                url = stack.enter_context(vllm_server(server, server_log or out_csv.with_suffix(".server.log")))
            rows = served_levels(url, served, conversations, max_tokens, budget, constraint)
    per_example = len(conversations) / len(requests)
    table = capacity_table(keys, "vllm-server" if backend == "vllm" else backend, per_example, rows)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_csv, index=False)
    return table
