"""Loopback OpenAI-compatible servers for a local model folder, on a free 127.0.0.1 port, started, awaited and
stopped (by PID) by whoever needs them: ``transformers serve`` and vLLM's OpenAI server (Chat Completions and the
Responses API, JSON-schema structured output, LoRA adapters with ``--enable-lora``). The stand-in API and the
serving stage's engines use them."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from breakeven.infer.vllm_engine import VLLM_STRUCTURED_OUTPUTS, engine_env, max_lora_rank, saved_dtype, vllm_python
from breakeven.runtime import gpu_count

PR_SET_PDEATHSIG = 1
"""prctl option: the signal a process receives when its parent dies (linux/prctl.h)."""
SUPERVISOR = 'trap "kill -9 0" TERM; "$@" & wait $!'
"""The shell every server runs under, leading a process group of its own: a SIGTERM (from whoever stops the
server, or from the kernel when the process that started it dies, even by SIGKILL) kills the whole group, vLLM's
engine-core processes included, which outlive a killed API server otherwise."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen | None, timeout_s: float, log_path: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early (with the server's log) if the process exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text()[-3000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"the server exited with code {process.returncode} before it was ready\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not become ready within {timeout_s:.0f} s")


@contextmanager
def transformers_server(model_dir: Path, log_path: Path, timeout_s: float = 600) -> Iterator[str]:
    """``transformers serve <model_dir>`` pinned to that model; yields its base URL (``http://127.0.0.1:<port>/v1``)."""
    port = free_port()
    with _serving(
        [
            sys.executable,
            "-c",
            "import sys; from transformers.cli.transformers import main; sys.exit(main())",
            "serve",
            str(model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        port,
        log_path,
        timeout_s,
    ) as url:
        yield url


@dataclass(frozen=True)
class VLLMServer:
    """What one vLLM OpenAI server serves: a base model folder under ``name`` and LoRA adapters by name."""

    model_dir: Path
    name: str
    adapters: dict[str, Path] = field(default_factory=dict)
    max_num_seqs: int = 16
    max_loras: int = 1
    cached_tokens_in_usage: bool = False
    """Each answer's usage reports the prompt tokens served from the prefix cache (the shared engine records its
    hit rate so). Off for the stand-in API: its usage is billed at the named API's prices, and vLLM caches any
    16-token block where OpenAI discounts only prefixes of 1,024 tokens and more, so vLLM's hits would price the
    stand-in below the API it stands for."""

    def command(self, python: str, port: int) -> list[str]:
        """The server's command line: greedy-ready, seeded, the weights' own dtype, prefix caching, eager on CPU
        (torch.compile's warm-up cost more than it saved there), structured output without optional whitespace (as
        every backend constrains it), LoRA slots and adapters when there are adapters."""
        command = [
            python,
            "-m",
            "vllm.entrypoints.openai.api_server",
            *("--model", str(self.model_dir), "--served-model-name", self.name),
            *("--host", "127.0.0.1", "--port", str(port), "--seed", "0"),
            *("--dtype", saved_dtype(self.model_dir), "--max-num-seqs", str(self.max_num_seqs)),
            "--enable-prefix-caching",
        ]
        if self.cached_tokens_in_usage:
            command.append("--enable-prompt-tokens-details")
        if gpu_count() == 0:
            command.append("--enforce-eager")
        command += ["--structured-outputs-config", json.dumps(VLLM_STRUCTURED_OUTPUTS)]
        if self.adapters:
            rank = max(max_lora_rank(path) for path in self.adapters.values())
            command += ["--enable-lora", "--max-lora-rank", str(rank)]
            command += ["--max-loras", str(min(self.max_loras, len(self.adapters)))]
            command += ["--max-cpu-loras", str(len(self.adapters)), "--lora-modules"]
            command += [f"{name}={path}" for name, path in self.adapters.items()]
        return command


@contextmanager
def vllm_server(server: VLLMServer, log_path: Path, timeout_s: float = 900) -> Iterator[str]:
    """vLLM's OpenAI-compatible server (``.venv-vllm`` where vllm does not import here); yields its base URL."""
    port = free_port()
    python = vllm_python() or Path(sys.executable)
    with _serving(server.command(str(python), port), port, log_path, timeout_s, engine_env(os.environ)) as url:
        yield url


def standin_server(system: dict, model_dir: Path, log_path: Path):
    """The stand-in API's server (``standin.server`` of its config): vLLM's OpenAI server, or ``transformers
    serve``; served under the folder's path, the model id its requests name."""
    if system["standin"]["server"] == "vllm":
        server = VLLMServer(model_dir, str(model_dir), max_num_seqs=system["concurrency"])
        return vllm_server(server, log_path)
    return transformers_server(model_dir, log_path)


@contextmanager
def _serving(
    command: list[str], port: int, log_path: Path, timeout_s: float, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``command`` (a server on ``port``, in ``env``, else this process's environment) until the block ends;
    yields its ``/v1`` base URL once healthy."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", SUPERVISOR, "server", *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
    # a job cancelled with SIGTERM unwinds through `finally`, so the server never outlives it
    previous = signal.signal(signal.SIGTERM, _exit) if threading.current_thread() is threading.main_thread() else None
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", process, timeout_s, log_path)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        _stop(process)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_with_parent() -> None:
    """In the supervisor before it starts (Linux): ask the kernel for a SIGTERM when its parent dies."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen, grace_s: float = 30) -> None:
    """SIGTERM the supervisor (which kills its group), and SIGKILL the group if anything is left after ``grace_s``."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the group is gone
    process.wait()


def _exit(signum, frame) -> None:
    raise SystemExit(128 + signum)
