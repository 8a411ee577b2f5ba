"""The shared engine of a base model: one vLLM OpenAI-compatible server with every LoRA adapter of the model's
cells, run by a Snakemake service job for as long as its predict and capacity jobs run.

The service job writes its pid to the address file at once and the server's address once it answers; its
consumers wait for that and the server's health, then take the engine in turn (an exclusive lock beside the
file), so each predict or capacity job measures the engine alone. Snakemake terminates the job (SIGTERM) when the
last consumer is done; the server stops with it. ``python -m breakeven.serving.engine SPEC ADDRESS LOG``; SPEC is
the rule's JSON."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from breakeven.jsonio import read_json, write_json
from breakeven.providers.server import VLLMServer, vllm_server
from breakeven.runtime import claim_gpu

BASE_NAME = "base"
"""The name the base model (no adapter) is served under."""
HEALTH_CHECK_S = 10
"""How often the service job checks that its server still answers."""


def adapter_name(task: str, condition: str, seed: int | str) -> str:
    """The name a cell's adapter is served under (unique among one base model's cells)."""
    return f"{task}.{condition}.seed{seed}"


def served_model(task: str, condition: str, seed: int | str, has_adapter: bool) -> str:
    """What a cell's requests name: its adapter, or the base model."""
    return adapter_name(task, condition, seed) if has_adapter else BASE_NAME


@dataclass(frozen=True)
class Engine:
    """A running shared engine, as its address file describes it."""

    url: str
    models: tuple[str, ...]
    start_s: float


def serve(spec: dict, address: Path, log_path: Path) -> None:
    """Start the server, publish its address (or why it failed), and serve until terminated."""
    adapters = {name: Path(path) for name, path in spec["adapters"].items()}
    server = VLLMServer(
        Path(spec["model_dir"]),
        BASE_NAME,
        adapters,
        spec["max_num_seqs"],
        spec["max_loras"],
        cached_tokens_in_usage=True,
    )
    start = time.perf_counter()
    try:
        with vllm_server(server, log_path, spec["timeout_s"]) as url:
            info = {"pid": os.getpid(), "url": url, "models": [BASE_NAME, *adapters]}
            write_json(address, info | {"start_s": time.perf_counter() - start})
            while healthy(url):  # until Snakemake's SIGTERM unwinds the server's context, or the server dies
                time.sleep(HEALTH_CHECK_S)
            raise RuntimeError(f"the shared engine at {url} stopped answering (see {log_path})")
    except (RuntimeError, TimeoutError, OSError) as err:
        write_json(address, {"pid": os.getpid(), "error": f"{type(err).__name__}: {str(err)[:300]}"})
        raise


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (the engine runs on this node: a service group is one job)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def healthy(url: str) -> bool:
    """Whether the server at ``url`` (its ``/v1`` base) answers its health check."""
    try:
        with urllib.request.urlopen(f"{url.removesuffix('/v1')}/health", timeout=30) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def wait_for_engine(address: Path, timeout_s: float) -> Engine:
    """The engine once its address file names it and it answers its health check. The service job writes its pid
    at once (Snakemake waits only seconds for a consumer's input) and the address when the server is up; consumers
    start with it, after Snakemake removed a previous run's file, and give up as soon as the engine's process is
    gone (Snakemake stops a failed group's shell jobs, not its scripts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            info = read_json(address)
            if "error" in info:
                raise RuntimeError(f"{address}: the shared engine failed to start: {info['error']}")
            if not _alive(info["pid"]):
                raise RuntimeError(f"{address}: the shared engine (pid {info['pid']}) exited (see its log)")
            if "url" in info and healthy(info["url"]):
                return Engine(info["url"], tuple(info["models"]), info["start_s"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass  # not written yet (or a stale file Snakemake is about to remove)
        time.sleep(1)
    raise TimeoutError(f"{address}: the shared engine did not answer within {timeout_s:.0f} s (see its log)")


@contextmanager
def engine_session(address: Path, model: str, timeout_s: float) -> Iterator[Engine]:
    """The engine, held exclusively by this job (other consumers wait their turn); ``model`` must be served."""
    engine = wait_for_engine(address, timeout_s)
    if model not in engine.models:
        raise ValueError(f"{address}: the shared engine serves {list(engine.models)}, not {model!r}")
    with open(address.with_name(address.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not healthy(engine.url):  # it may have died while this job waited its turn
                raise RuntimeError(f"{address}: the shared engine at {engine.url} no longer answers (see its log)")
            yield engine
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def main(spec: str, address: str, log_path: str) -> None:
    claim_gpu()  # one device per engine when the local executor runs several GPU jobs at once
    serve(json.loads(spec), Path(address), Path(log_path))


if __name__ == "__main__":
    main(*sys.argv[1:4])
