"""Kernel isolation with bubblewrap: the command line that starts one sandboxed program.

Every program gets new mount, pid, ipc, uts, network, cgroup and user namespaces; a root that holds only the
interpreter (read-only, :mod:`.interpreter`), a minimal /dev (read-only) and private, size-capped tmpfs folders
for /tmp, /var/tmp, /dev/shm and the working directory; uid 65534 inside, no capabilities, no new privileges,
no further user namespaces, a new session, an empty environment and the :mod:`.seccomp` filter. The interpreter is
the pid namespace's init: when it dies the kernel kills everything else in the namespace before its parent, the
bwrap monitor, can reap it, so a reaped bwrap means nothing is left. Should the scorer die, ``--die-with-parent``
takes the whole chain down with it.

Run by root, the sandbox is started by an unprivileged fresh uid per program (``setpriv``), so RLIMIT_NPROC
binds (the kernel exempts root from it) and the host sees no root process. That uid cannot traverse a private
folder such as /root, where the interpreter may live (pyenv); a first bwrap, still root and only a mount
namespace, therefore covers each such folder with a tmpfs that holds nothing but read-only binds of the
interpreter's files. Run by any other user, the sandbox runs as that user's uid mapped into the user namespace.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import threading
from pathlib import PurePosixPath

from breakeven.tasks.sandbox.interpreter import Interpreter

WORKDIR = "/sandbox"
SANDBOX_UID = 65534
SCRATCH = (("/tmp", "1777"), ("/var/tmp", "1777"), ("/dev/shm", "1777"), (WORKDIR, "0700"))
ENV = {"HOME": WORKDIR, "TMPDIR": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
TOOL_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
UID_BASE = 2_000_000_000 + secrets.randbelow(1 << 15) * 4096
"""Start of this process's fresh uids, one per program: unassigned on any sane system, below 2**31 (bwrap
writes uid maps as signed ints); the random start keeps concurrent scorers apart."""
_next_uid = [UID_BASE]
_uid_lock = threading.Lock()


def fresh_uid() -> int:
    with _uid_lock:
        _next_uid[0] += 1
        return _next_uid[0] - 1


def uids_used() -> range:
    """Every fresh uid this process has handed out so far."""
    return range(UID_BASE, _next_uid[0])


def sandbox_command(python: Interpreter, disk_mb: int, fds: dict[str, int]) -> list[str]:
    """bwrap's arguments up to (and including) the ``--`` before the interpreter's command line; `fds` holds
    the ``info`` and ``seccomp`` descriptors. The interpreter is the pid namespace's init (``--as-pid-1``), so
    bwrap reaps it itself and leaves no orphan behind."""
    binds = [arg for path in python.files for arg in ("--ro-bind", path, path)]
    hide = ["--perms", "0555", "--tmpfs", python.hidden] if os.path.isdir(python.hidden) else []
    size = str(disk_mb * 2**20)
    scratch = [arg for path, mode in SCRATCH for arg in ("--size", size, "--perms", mode, "--tmpfs", path)]
    env = [arg for name, value in ENV.items() for arg in ("--setenv", name, value)]
    return [
        _tool("bwrap"),
        *("--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1", "--die-with-parent", "--new-session"),
        *("--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox", "--cap-drop", "ALL"),
        "--clearenv",
        *env,
        *binds,
        *hide,
        *("--dev", "/dev", *scratch, "--remount-ro", "/dev", "--chdir", WORKDIR, "--remount-ro", "/"),
        *("--info-fd", str(fds["info"]), "--seccomp", str(fds["seccomp"]), "--"),
    ]


def as_uid(python: Interpreter, uid: int) -> list[str]:
    """For root: the staging bwrap and setpriv that start the sandbox as `uid` (a :func:`fresh_uid`)."""
    setpriv = [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
    setpriv += ["--inh-caps=-all", "--bounding-set=-all", "--"]
    return [_tool("bwrap"), "--dev-bind", "/", "/", "--die-with-parent", *staging_binds(python), "--", *setpriv]


def staging_binds(python: Interpreter) -> list[str]:
    """Cover each folder that others may not traverse on the way to an interpreter file with a tmpfs holding
    only read-only binds of those files (and world-traversable folders leading to them)."""
    args: list[str] = []
    covered: set[str] = set()
    for path in python.files:
        private = _first_private_ancestor(path)
        if private is None:
            continue
        if private not in covered:
            covered.add(private)
            args += ["--perms", "0755", "--tmpfs", private]
        for folder in _between(private, path):
            if folder not in covered:
                covered.add(folder)
                args += ["--perms", "0755", "--dir", folder]
        args += ["--ro-bind", path, path]
    return args


def _first_private_ancestor(path: str) -> str | None:
    for folder in reversed(PurePosixPath(path).parents[:-1]):  # from the top, without "/"
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return str(folder)
    return None


def _between(top: str, path: str) -> list[str]:
    """The folders strictly between `top` and `path`, from the top."""
    parents = [str(folder) for folder in reversed(PurePosixPath(path).parents)]
    return parents[parents.index(top) + 1 :]


def _tool(name: str) -> str:
    found = shutil.which(name, path=TOOL_PATH)
    if found is None:
        raise FileNotFoundError(name)
    return found
