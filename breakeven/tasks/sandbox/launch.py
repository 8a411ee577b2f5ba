"""Starting one sandboxed program and making sure nothing of it is left afterwards: under kernel isolation
(:mod:`.bwrap`), or, only where a task's config asks for ``execution.isolation: unsafe-local``, as a plain child
process in a temporary folder with the rlimits and the audit hook alone."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from breakeven.tasks.sandbox.bwrap import TOOL_PATH, as_fresh_uid, sandbox_command
from breakeven.tasks.sandbox.interpreter import interpreter
from breakeven.tasks.sandbox.seccomp import filter_bpf

MARKER = "breakeven-sandbox"
"""Begins the bootstrap's source, so it is in every sandboxed process's command line (tests look for it)."""
REAP_TIMEOUT_S = 10.0
HOST_ENV = {"PATH": TOOL_PATH, "LANG": "C.UTF-8"}


@dataclass
class Started:
    """A running sandbox: its process (stdout and stderr merged) and how to end it; ``reap`` returns True when
    nothing of the program is left, and never raises."""

    proc: subprocess.Popen[bytes]
    reap: Callable[[], bool]


def spawn(argv: list[str], pass_fds: tuple[int, ...], cwd: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=pass_fds,
        start_new_session=True,
    )


def memfd(name: str, data: bytes) -> int:
    """An anonymous in-memory file holding `data`, positioned at its start."""
    fd = os.memfd_create(name)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@dataclass(frozen=True)
class KernelLauncher:
    """bubblewrap; as root through a fresh unprivileged uid (see :mod:`.bwrap`)."""

    as_root: bool

    @property
    def name(self) -> str:
        return "bwrap+uid" if self.as_root else "bwrap"

    def tasks_before(self) -> int:
        """Tasks that RLIMIT_NPROC counts before the program forks: the namespace's init."""
        return 1

    def start(self, python_argv: list[str], pass_fds: tuple[int, ...], disk_mb: int) -> Started:
        python = interpreter()
        sync_read, sync_write = os.pipe()
        seccomp_fd = memfd("breakeven-seccomp", filter_bpf())
        try:
            prefix = as_fresh_uid(python) if self.as_root else []
            argv = [*prefix, *sandbox_command(python, disk_mb, sync_write, seccomp_fd), *python_argv]
            proc = spawn(argv, (*pass_fds, sync_write, seccomp_fd), "/", HOST_ENV)
        except BaseException:
            os.close(sync_read)
            raise
        finally:
            os.close(sync_write)
            os.close(seccomp_fd)
        return Started(proc, lambda: _end_namespace(proc, sync_read))


def _end_namespace(proc: subprocess.Popen[bytes], sync_read: int) -> bool:
    """SIGKILL bwrap (its --die-with-parent chain kills the pid namespace), then wait until the namespace's init,
    the last holder of the sync pipe, has exited."""
    try:
        with suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        return _closed(sync_read, REAP_TIMEOUT_S)
    except Exception:
        return False
    finally:
        os.close(sync_read)


def _closed(fd: int, timeout_s: float) -> bool:
    """True once every writer of the pipe `fd` is gone (end of file) within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable and not os.read(fd, 1 << 12):
            return True
    return False


@dataclass(frozen=True)
class LocalLauncher:
    """unsafe-local: no namespaces, no seccomp; the program writes with the caller's rights, sees the host's
    files and network, and a process that leaves its process group survives it."""

    name: str = "unsafe-local"

    def tasks_before(self) -> int:
        """RLIMIT_NPROC counts every task of the caller's uid (and does not bind root)."""
        return sum(_threads_of(os.getuid()).values())

    def start(self, python_argv: list[str], pass_fds: tuple[int, ...], disk_mb: int) -> Started:
        tmp = os.path.realpath(tempfile.mkdtemp(prefix=f"{MARKER}-"))
        env = {**HOST_ENV, "HOME": tmp, "TMPDIR": tmp}
        try:
            proc = spawn(python_argv, pass_fds, tmp, env)
        except BaseException:
            remove_tree(tmp)
            raise
        return Started(proc, lambda: _end_group(proc, tmp))


def _end_group(proc: subprocess.Popen[bytes], tmp: str) -> bool:
    """SIGKILL the program's process group until it is empty, then delete its folder."""
    try:
        for _ in range(100):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.01)
        return False
    except Exception:
        return False
    finally:
        remove_tree(tmp)


def remove_tree(path: str) -> None:
    """Delete a folder whatever the program did to it (permissions removed, thousands of levels deep: rm works
    iteratively, unlike shutil.rmtree); never raises."""
    with suppress(OSError, subprocess.SubprocessError):
        subprocess.run(["chmod", "-R", "u+rwx", "--", path], capture_output=True, timeout=60, check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", "--", path], capture_output=True, timeout=60, check=False)


def _threads_of(uid: int) -> dict[int, int]:
    """{pid: thread count} of the processes whose real uid is `uid`, read from /proc."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with suppress(OSError, KeyError, ValueError):
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                found[int(pid)] = int(fields["Threads"])
    return found
