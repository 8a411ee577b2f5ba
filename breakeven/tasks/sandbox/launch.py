"""Starting one sandboxed program and making sure nothing of it is left afterwards: under kernel isolation
(:mod:`.bwrap`), or, only where a task's config asks for ``execution.isolation: unsafe-local``, as a plain child
process in a temporary folder with the rlimits and the audit hook alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from breakeven.tasks.sandbox.bwrap import TOOL_PATH, as_uid, fresh_uid, sandbox_command
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
        """Tasks that RLIMIT_NPROC counts before the program forks: none (its user namespace is its own)."""
        return 0

    def start(self, python_argv: list[str], pass_fds: tuple[int, ...], disk_mb: int) -> Started:
        python = interpreter()
        uid = fresh_uid() if self.as_root else os.getuid()
        info_read, info_write = os.pipe()
        fds = {"info": info_write, "seccomp": memfd("breakeven-seccomp", filter_bpf())}
        try:
            argv = [*(as_uid(python, uid) if self.as_root else []), *sandbox_command(python, disk_mb, fds)]
            proc = spawn([*argv, *python_argv], (*pass_fds, *fds.values()), "/", HOST_ENV)
        except BaseException:
            os.close(info_read)
            raise
        finally:
            for fd in fds.values():
                os.close(fd)
        return Started(proc, lambda: _end_namespace(proc, uid, info_read))


def _end_namespace(proc: subprocess.Popen[bytes], uid: int, info_read: int) -> bool:
    """SIGKILL the namespace's init, the interpreter (bwrap reported its pid on the info pipe): the kernel kills
    everything in its pid namespace, then each bwrap above reaps its child and exits. True once the bwrap we
    started has exited that way; never raises."""
    try:
        init = _namespace_init(info_read)
        if init is not None and proc.poll() is None:
            _kill_if_owned(init, uid)
        try:
            proc.wait(timeout=REAP_TIMEOUT_S)
            return True
        except subprocess.TimeoutExpired:
            proc.kill()  # set-up never got as far as the namespace: end the chain from the top
            proc.wait()
            return False
    except Exception:
        return False
    finally:
        os.close(info_read)


def _namespace_init(info_read: int) -> int | None:
    """The host pid of the namespace's init from bwrap's --info-fd JSON, if it was written."""
    os.set_blocking(info_read, False)
    data = b""
    with suppress(BlockingIOError):
        while chunk := os.read(info_read, 1 << 12):
            data += chunk
    with suppress(ValueError):
        pid = json.loads(data).get("child-pid")
        return pid if isinstance(pid, int) and pid > 1 else None
    return None


def _kill_if_owned(pid: int, uid: int) -> None:
    """SIGKILL `pid` through a pidfd, once /proc confirms it still runs as the sandbox's `uid`."""
    with suppress(ProcessLookupError, PermissionError):
        pidfd = os.pidfd_open(pid)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            if int(status.split("\nUid:")[1].split()[0]) == uid:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        finally:
            os.close(pidfd)


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
