"""Run candidate programs against their asserts: one sandbox per program, the verdict from :mod:`.judge`."""

from __future__ import annotations

import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from breakeven.tasks.sandbox.bootstrap import SETUP_FAILED
from breakeven.tasks.sandbox.bwrap import TOOL_PATH
from breakeven.tasks.sandbox.interpreter import PYTHON_FLAGS, interpreter
from breakeven.tasks.sandbox.judge import DETAIL_CHARS, Judge, Stage, plan
from breakeven.tasks.sandbox.launch import KernelLauncher, LocalLauncher, memfd
from breakeven.tasks.sandbox.seccomp import filter_bpf

STATUSES = ("passed", "failed", "timeout", "memory", "syntax_error", "killed", "sandbox_error")
ISOLATIONS = ("kernel", "unsafe-local")
BOOTSTRAP = Path(__file__).with_name("bootstrap.py").read_text(encoding="utf-8")

Launcher = KernelLauncher | LocalLauncher


class IsolationUnavailable(RuntimeError):
    """Kernel isolation cannot be had here; the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Limits:
    """Per-program resource limits."""

    timeout_s: float = 10.0  # wall time per program; then the whole sandbox is killed
    memory_mb: int = 512  # address space (RLIMIT_AS)
    max_processes: int = 0  # extra processes or threads the program may start; 0: fork fails (RLIMIT_NPROC)
    max_output_bytes: int = 1_000_000  # stdout+stderr kept (the tail), the rest is read and dropped
    max_file_bytes: int = 10_000_000  # largest file the program may write (RLIMIT_FSIZE)
    max_open_files: int = 64  # RLIMIT_NOFILE
    max_value_bytes: int = 1_000_000  # one result line (a returned value as JSON); larger fails
    disk_mb: int = 32  # size of each private tmpfs (/tmp, /var/tmp, /dev/shm, the working directory)


@dataclass(frozen=True)
class Outcome:
    """The verdict on one program; ``status`` is one of :data:`STATUSES`."""

    passed: bool
    status: str
    detail: str
    duration_s: float
    judged_by_scorer: int = 0  # asserts whose value the scorer compared
    judged_in_sandbox: int = 0  # asserts that ran whole inside the sandbox


def run_program(
    code: str, tests: list[str], setup: str = "", limits: Limits = Limits(), isolation: str = "kernel"
) -> Outcome:
    """Run candidate `code`, then `setup`, then each assert in `tests`, in a sandbox of its own."""
    return _run_one(launcher(isolation), code, tests, setup, limits)


def run_many(
    jobs: list[tuple[str, list[str], str]], limits: Limits = Limits(), workers: int = 2, isolation: str = "kernel"
) -> list[Outcome]:
    """run_program over many (code, tests, setup) jobs with at most `workers` sandboxes at once, in order."""
    chosen = launcher(isolation)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: _run_one(chosen, *job, limits), jobs))


def launcher(isolation: str) -> Launcher:
    """The launcher of an ``execution.isolation`` setting; IsolationUnavailable when ``kernel`` cannot be had."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"unknown isolation {isolation!r}; expected one of {list(ISOLATIONS)}")
    return kernel_launcher() if isolation == "kernel" else LocalLauncher()


@cache
def kernel_launcher() -> KernelLauncher:
    """bubblewrap, once a probe program has run through it with this interpreter (only success is cached)."""
    try:
        filter_bpf()
    except (ImportError, RuntimeError, OSError) as err:
        raise _unavailable(f"the seccomp filter cannot be built ({err}); it needs pyseccomp and libseccomp") from err
    chosen = KernelLauncher(as_root=os.geteuid() == 0)
    for tool in ("bwrap", "setpriv") if chosen.as_root else ("bwrap",):
        if shutil.which(tool, path=TOOL_PATH) is None:
            raise _unavailable(f"`{tool}` is not installed (looked in {TOOL_PATH})")
    probe = _run_one(
        chosen, "import collections, heapq, itertools, math, re, sys", _probe_tests(), "", Limits(timeout_s=30)
    )
    if not probe.passed:
        raise _unavailable(f"bubblewrap could not run a program here ({probe.status}: {probe.detail})")
    return chosen


def _probe_tests() -> list[str]:
    return [f"assert sys.version == {sys.version!r}", f"assert sys.prefix == {sys.base_prefix!r}"]


def _unavailable(what: str) -> IsolationUnavailable:
    return IsolationUnavailable(
        f"Code tasks run model-written programs under kernel isolation, which is not available here: {what}. "
        "Install bubblewrap, util-linux (setpriv) and libseccomp (Debian/Ubuntu: `apt-get install bubblewrap "
        "util-linux libseccomp2`; Fedora/RHEL: `dnf install bubblewrap util-linux libseccomp`) and pyseccomp "
        "(`pip install -r requirements.lock`), and allow user namespaces (`sysctl user.max_user_namespaces` > 0; "
        "Debian kernels: `kernel.unprivileged_userns_clone=1`; Ubuntu 24.04+: an AppArmor profile for bwrap; on a "
        "cluster node, ask its admins). Or, accepting the risk, set `execution.isolation: unsafe-local` in the "
        "task's config: the programs then run without it, and the paper says so."
    )


def _run_one(chosen: Launcher, code: str, tests: list[str], setup: str, limits: Limits) -> Outcome:
    """One program's Outcome; whatever goes wrong with it is its own sandbox_error, never the batch's."""
    start = time.monotonic()
    stages = [plan(test) for test in tests]
    try:
        status, detail, clean = _run(chosen, code, stages, setup, limits)
    except Exception as err:  # one program must never fail the batch, whatever went wrong with it
        status, detail, clean = "sandbox_error", f"{type(err).__name__}: {err}", True
    detail = detail if clean else f"{detail} (processes left behind)"
    by_scorer = sum(stage.kind == "value" for stage in stages)
    elapsed = time.monotonic() - start
    return Outcome(status == "passed", status, detail[:DETAIL_CHARS], elapsed, by_scorer, len(stages) - by_scorer)


def _run(chosen: Launcher, code: str, stages: list[Stage], setup: str, limits: Limits) -> tuple[str, str, bool]:
    """Start, watch and end one sandbox; (status, detail, nothing left behind)."""
    job = {
        "code": code,
        "setup": setup,
        "stages": [{"kind": stage.kind, "source": stage.source} for stage in stages],
        "limits": _rlimits(limits, chosen.tasks_before()),
        "may_fork": limits.max_processes > 0,
        "max_value_bytes": limits.max_value_bytes,
    }
    judge = Judge(stages)
    job_fd = memfd("breakeven-job", json.dumps(job).encode())
    result_read, result_write = os.pipe()
    try:
        python = [interpreter().executable, *PYTHON_FLAGS, "-c", BOOTSTRAP, str(job_fd), str(result_write)]
        started = chosen.start(python, (job_fd, result_write), limits.disk_mb)
    except BaseException:
        os.close(result_read)
        raise
    finally:
        os.close(job_fd)
        os.close(result_write)
    with started.proc:
        try:
            output, timed_out = _collect(started.proc, result_read, judge, limits)
        finally:
            os.close(result_read)
            clean = started.reap()
    return (*_classify(judge, timed_out, started.proc.returncode, output, limits), clean)


def _rlimits(limits: Limits, tasks_before: int) -> dict[str, int]:
    return {
        "RLIMIT_AS": limits.memory_mb * 2**20,
        "RLIMIT_CPU": math.ceil(limits.timeout_s) + 1,
        "RLIMIT_NPROC": tasks_before + 1 + limits.max_processes,
        "RLIMIT_FSIZE": limits.max_file_bytes,
        "RLIMIT_NOFILE": limits.max_open_files,
        "RLIMIT_CORE": 0,
    }


def _collect(proc: subprocess.Popen[bytes], result_fd: int, judge: Judge, limits: Limits) -> tuple[bytes, bool]:
    """Feed result lines to the judge and keep the output's tail until the judge decides, both pipes close or
    the deadline passes; (output tail, timed out)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + limits.timeout_s
    output, pending = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "output")
        selector.register(result_fd, selectors.EVENT_READ, "result")
        while judge.outcome is None and selector.get_map() and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                elif key.data == "output":
                    output += chunk
                    del output[: max(0, len(output) - limits.max_output_bytes)]
                else:
                    pending = _feed_lines(judge, pending + chunk, limits.max_value_bytes)
        timed_out = judge.outcome is None and bool(selector.get_map())
    return bytes(output), timed_out


def _feed_lines(judge: Judge, pending: bytearray, max_line: int) -> bytearray:
    """Give the judge every complete line; what is left is the start of the next one."""
    *lines, rest = pending.split(b"\n")
    for line in lines:
        judge.feed(bytes(line))
    if len(rest) > max_line + 4096:
        judge.reject(f"a result line exceeded {max_line} bytes")
    return bytearray(rest)


def _classify(judge: Judge, timed_out: bool, returncode: int, output: bytes, limits: Limits) -> tuple[str, str]:
    """(status, detail): the judge's verdict, else what ended the program before it had one."""
    if judge.outcome is not None:
        return judge.outcome
    if timed_out:
        return "timeout", f"no verdict within {limits.timeout_s:g}s"
    last = _last_line(output)
    if b"MemoryError" in output:
        return "memory", last
    if returncode == SETUP_FAILED or last.startswith("bwrap:"):
        return "sandbox_error", last
    number = -returncode if returncode < 0 else returncode - 128 if 128 < returncode <= 192 else None
    if number is not None:
        name = _signal_name(number)
        return ("timeout" if name == "SIGXCPU" else "killed"), f"killed by {name}"
    return "failed", f"exited with code {returncode} before the asserts finished {last}".strip()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(output: bytes) -> str:
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""
