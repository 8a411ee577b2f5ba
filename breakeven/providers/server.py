"""The offline stand-in API: ``transformers serve`` (OpenAI-compatible Chat Completions and Responses) on a
free 127.0.0.1 port, serving a local model folder; started, awaited and stopped by whoever needs it."""

from __future__ import annotations

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
from pathlib import Path


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
            raise RuntimeError(f"the stand-in server exited with code {process.returncode} before it was ready\n{tail}")
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
    command = [
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
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    # a job cancelled with SIGTERM unwinds through `finally`, so the server never outlives it
    previous = signal.signal(signal.SIGTERM, _exit) if threading.current_thread() is threading.main_thread() else None
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", process, timeout_s, log_path)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit(signum, frame) -> None:
    raise SystemExit(128 + signum)
