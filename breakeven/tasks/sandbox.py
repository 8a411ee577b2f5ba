"""Run untrusted, model-written programs (MBPP candidates) against their asserts in a sandboxed child process.

Each program runs in a fresh ``python -I -S -B -u`` started with :mod:`subprocess`, in a throw-away temporary
directory (deleted afterwards), with a minimal environment (PATH, LANG; HOME and TMPDIR inside the directory),
stdin at /dev/null and stdout/stderr read into a bounded buffer. Isolation layers, strongest first:

1. OS, detected once (:func:`isolation` names the mode in use):

   - ``netns+uid`` / ``netns+uid+readcap`` (as root): ``unshare --net`` (a network namespace with no usable
     interface) and ``setpriv`` to a fresh unprivileged uid per run. The uid cannot write the host's files
     (world-writable places such as /tmp aside, which the audit hook covers), signal its processes, or start
     more than ``Limits.max_processes`` extra processes (RLIMIT_NPROC is exact for a fresh uid), and every
     process it owns is killed after the run. ``+readcap`` grants CAP_DAC_READ_SEARCH, used only when the
     interpreter is unreadable otherwise (a pyenv under /root): it lets the child read any file at the OS
     level, so reads are then guarded by the audit hook alone.
   - ``userns+netns`` (not root): ``unshare --user --map-root-user --net``: no network; the child writes with
     the caller's own rights, so the audit hook is the only write guard.
   - ``audit-only``: no OS layer; the Python-level guards below are all there is, and RLIMIT_NPROC does not
     bind root.

2. Resource limits, set by the bootstrap before the candidate runs with soft = hard so they cannot be raised:
   RLIMIT_AS, RLIMIT_CPU (a bit above the timeout), RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE (64),
   RLIMIT_CORE (0). After ``timeout_s`` of wall time, and in any case once the run ends, the whole process
   group (``start_new_session``) is SIGKILLed and the group is checked to be empty.

3. An audit hook (:func:`sys.addaudithook`; best effort: it sees Python APIs only, and its path helpers live in
   the same interpreter): no sockets, no ctypes, no ``os.system`` / ``os.exec*`` / ``os.posix_spawn`` /
   ``subprocess.Popen`` / ``os.kill``, no ``os.fork`` unless ``max_processes > 0``; opening for writing,
   removing, renaming, linking, chmod-ing only inside the sandbox directory (and /dev/null); no reads under the
   repository, $HOME, the caller's cwd, $BREAKEVEN_DATA_MIRROR (when set) or /proc (the interpreter's stdlib
   stays readable). Blocking sockets by audit event covers ``socket.socket``, ``create_connection``,
   ``getaddrinfo`` and the ``_socket`` module underneath, which replacing module attributes would not.

Verdict: ``passed`` only when the bootstrap itself reports it after the last assert, on a private pipe, in a line
tagged with a per-run nonce. The nonce reaches the child in a file deleted before the candidate runs, and the
runner keeps it and every builtin it relies on (exec, compile, os.write, os._exit, exception classes) in
function locals. So early exits (``sys.exit``, ``os._exit``), printed or fd-written fake verdicts, monkeypatched
builtins or ``AssertionError`` (the assert statement raises the real one anyway), swallowed exceptions and
atexit tricks all end as not passed. A setup or test that does not compile is a ``sandbox_error`` (the task's
fault, not the candidate's). Candidates run with ``__name__ == "candidate"``, so ``__main__`` demo blocks are
skipped.

Threat model: sloppy or naive generated code, not an attacker who targets this harness. Not contained: code
that walks interpreter frames (``sys._getframe().f_back.f_locals``) can read the nonce and forge a pass;
objects whose ``__eq__`` always returns True pass ``==`` asserts; code that monkeypatches ``posixpath`` can
fool the audit hook's path checks (the OS layer still holds); disk use is capped per file only.
"""

from __future__ import annotations

import itertools
import marshal
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from breakeven import REPO_ROOT

STATUSES = ("passed", "failed", "timeout", "memory", "syntax_error", "killed", "sandbox_error")
MARKER = "breakeven-sandbox"
"""Appears in every sandbox process's command line (tests look for leftovers with it)."""
DETAIL_CHARS = 500
SETUP_FAILED = 113
"""Exit code of a bootstrap that could not set up the sandbox."""

_PYTHON_FLAGS = ("-I", "-S", "-B", "-u")
_SETPRIV = ("setpriv", "--reuid={uid}", "--regid={uid}", "--clear-groups", "--no-new-privs")
_READCAP = "dac_read_search"
_MODES: dict[str, tuple[str, ...]] = {
    "netns+uid": ("unshare", "--net", "--", *_SETPRIV, "--inh-caps=-all", "--bounding-set=-all", "--"),
    "netns+uid+readcap": (
        "unshare",
        "--net",
        "--",
        *_SETPRIV,
        f"--inh-caps=-all,+{_READCAP}",
        f"--ambient-caps=-all,+{_READCAP}",
        f"--bounding-set=-all,+{_READCAP}",
        "--",
    ),
    "userns+netns": ("unshare", "--user", "--map-root-user", "--net", "--"),
    "audit-only": (),
}
_UID_MODES = frozenset({"netns+uid", "netns+uid+readcap"})
_UIDS = itertools.count(3_000_000_000 + secrets.randbelow(1 << 20) * 1024)
"""Fresh uids, one per run (unassigned on any sane system; the random start keeps concurrent callers apart)."""

_BOOTSTRAP = r"""# breakeven-sandbox bootstrap: limits and audit hook, then the candidate, its setup and each assert.
def _main(compile=compile, exec=exec, str=str, type=type, isinstance=isinstance, any=any,
          BaseException=BaseException, MemoryError=MemoryError, PermissionError=PermissionError):
    import marshal, os, resource, sys
    write, exit_, getcwd, readlink, realpath, join, fsdecode = (
        os.write, os._exit, os.getcwd, os.readlink, os.path.realpath, os.path.join, os.fsdecode)
    try:
        with open("payload", "rb") as handle:
            job = marshal.loads(handle.read())
        os.unlink("payload")
        for name, value in job["limits"].items():
            limit = getattr(resource, name)
            hard = resource.getrlimit(limit)[1]
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
    except BaseException as err:
        write(2, f"sandbox setup failed: {err!r}\n".encode())
        exit_(113)  # SETUP_FAILED
    nonce, fd, denied = job["nonce"], job["result_fd"], job["denied"]
    writable, readable = (getcwd(), "/dev/null"), [realpath(p) for p in sys.path if p]
    blocked = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "os.kill", "os.killpg"}
    blocked |= set() if job["may_fork"] else {"os.fork", "os.forkpty"}
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    paths = {"os.remove": ((0, 1),), "os.rmdir": ((0, 1),), "os.mkdir": ((0, 2),), "os.chmod": ((0, 2),),
             "os.chown": ((0, 3),), "os.utime": ((0, 3),), "os.truncate": ((0, -1),), "os.chflags": ((0, -1),),
             "os.setxattr": ((0, -1),), "os.removexattr": ((0, -1),), "os.rename": ((0, 2), (1, 3)),
             "os.link": ((0, 2), (1, 3)), "os.symlink": ((1, 2),), "shutil.rmtree": ((0, 1),)}

    def under(path, roots):
        return any(path == root or path.startswith(root + "/") for root in roots)

    def check(path, dir_fd, writing):
        if isinstance(path, int):
            return
        base = readlink(f"/proc/self/fd/{dir_fd}") if isinstance(dir_fd, int) and dir_fd >= 0 else getcwd()
        real = realpath(join(base, fsdecode("." if path is None else path)))
        if under(real, writable) or not writing and (under(real, readable) or not under(real, denied)):
            return
        raise PermissionError(f"sandbox: {'writing' if writing else 'reading'} {real} is not allowed")

    def hook(event, args):
        if event in blocked or event.startswith(("socket.", "ctypes.")):
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "open":
            check(args[0], None, isinstance(args[2], int) and args[2] & write_flags)
        elif event in ("os.listdir", "os.scandir"):
            check(args[0], None, False)
        for index, fd_index in paths.get(event, ()):
            check(args[index], args[fd_index] if fd_index >= 0 else None, True)

    def report(status, detail):
        data = f"{nonce} {status} {detail[:500].encode('utf-8', 'replace').hex()}\n".encode()
        while data:
            data = data[write(fd, data):]

    def describe(err):
        try:
            name, text = type(err).__name__, str(err)
            return f"{name}: {text}" if text else name
        except BaseException:
            return "unprintable exception"

    def compiled(source, label):
        return compile(source, label, "exec", dont_inherit=True, optimize=0)

    try:
        program = compiled(job["code"], "<candidate>")
    except BaseException as err:
        report("syntax_error", describe(err))
        exit_(0)
    try:
        stages = [("setup", compiled(job["setup"], "<setup>"))]
        stages += [(test, compiled(test, "<test>")) for test in job["tests"]]
    except BaseException as err:
        report("sandbox_error", f"invalid setup or test: {describe(err)}")
        exit_(0)
    sys.addaudithook(hook)
    namespace = {"__name__": "candidate"}
    for label, code in [("", program), *stages]:
        try:
            exec(code, namespace)
            continue
        except MemoryError:
            status, detail = "memory", "MemoryError"
        except BaseException as err:
            status, detail = "failed", describe(err)
        namespace.clear()
        report(status, f"{label} -> {detail}" if label else detail)
        exit_(0)
    report("passed", "")
    exit_(0)


globals().pop("_main")()
"""


@dataclass(frozen=True)
class Limits:
    """Per-program resource limits."""

    timeout_s: float = 10.0  # wall time per program
    memory_mb: int = 512  # address space (RLIMIT_AS)
    max_processes: int = 0  # extra processes the program may start; 0: fork fails
    max_output_bytes: int = 1_000_000  # stdout+stderr kept (the tail), the rest is read and dropped
    max_file_bytes: int = 10_000_000  # largest file the program may write (RLIMIT_FSIZE)


@dataclass(frozen=True)
class Outcome:
    """The verdict on one program; ``status`` is one of :data:`STATUSES`."""

    passed: bool
    status: str
    detail: str
    duration_s: float


def run_program(code: str, tests: list[str], setup: str = "", limits: Limits = Limits()) -> Outcome:
    """Run candidate `code`, then `setup`, then each assert in `tests`, in a separate sandboxed process."""
    start = time.monotonic()
    try:
        status, detail = _run(code, tests, setup, limits)
    except (OSError, subprocess.SubprocessError) as err:
        status, detail = "sandbox_error", f"{type(err).__name__}: {err}"
    return Outcome(status == "passed", status, detail[:DETAIL_CHARS], time.monotonic() - start)


def run_many(jobs: list[tuple[str, list[str], str]], limits: Limits = Limits(), workers: int = 2) -> list[Outcome]:
    """run_program over many (code, tests, setup) jobs with at most `workers` concurrent sandboxes, in order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: run_program(*job, limits=limits), jobs))


@cache
def isolation() -> str:
    """The OS isolation mode (a key of ``_MODES``): the first that can start the interpreter and import the
    stdlib here; uid modes are tried only as root, ``audit-only`` is the fallback."""
    candidates = [mode for mode in _MODES if mode not in _UID_MODES or os.geteuid() == 0]
    return next((mode for mode in candidates if _works(mode)), "audit-only")


def _works(mode: str) -> bool:
    probe = [*_wrapper(mode, next(_UIDS)), sys.executable, *_PYTHON_FLAGS, "-c", "import collections, heapq, re"]
    try:
        done = subprocess.run(
            probe, cwd="/", env=_env("/"), stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _wrapper(mode: str, uid: int | None) -> list[str]:
    return [part.format(uid=uid) for part in _MODES[mode]]


def _env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8"}


def _run(code: str, tests: list[str], setup: str, limits: Limits) -> tuple[str, str]:
    """Spawn, watch and clean up one sandbox; (status, detail)."""
    mode = isolation()
    uid = next(_UIDS) if mode in _UID_MODES else None
    nonce = secrets.token_hex(16)
    tmp = os.path.realpath(tempfile.mkdtemp(prefix=f"{MARKER}-"))
    read_fd, write_fd = os.pipe()
    try:
        if uid is not None:
            os.chown(tmp, uid, uid)
        payload = {
            "nonce": nonce,
            "result_fd": write_fd,
            "code": code,
            "setup": setup,
            "tests": list(tests),
            "limits": _rlimits(limits, mode),
            "may_fork": limits.max_processes > 0,
            "denied": _denied(),
        }
        Path(tmp, "payload").write_bytes(marshal.dumps(payload))
        try:
            proc = subprocess.Popen(
                [*_wrapper(mode, uid), sys.executable, *_PYTHON_FLAGS, "-c", _BOOTSTRAP],
                cwd=tmp,
                env=_env(tmp),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        with proc:
            try:
                output, verdict, timed_out = _collect(proc, read_fd, nonce, limits)
            finally:
                clean = _reap(proc, uid)
    finally:
        os.close(read_fd)
        _remove(tmp)
    status, detail = _classify(verdict, timed_out, proc.returncode, output, limits)
    return status, detail if clean else f"{detail} (processes left behind)"


def _rlimits(limits: Limits, mode: str) -> dict[str, int]:
    """Resource limits for the bootstrap. RLIMIT_NPROC counts every task of the user: under a fresh uid or user
    namespace only the child's own, otherwise also the caller's (so the budget sits above the current count)."""
    alone = mode in _UID_MODES or mode == "userns+netns"
    running = 0 if alone else sum(_processes_of(os.getuid()).values())
    return {
        "RLIMIT_AS": limits.memory_mb * 2**20,
        "RLIMIT_CPU": math.ceil(limits.timeout_s) + 1,
        "RLIMIT_NPROC": running + 1 + limits.max_processes,
        "RLIMIT_FSIZE": limits.max_file_bytes,
        "RLIMIT_NOFILE": 64,
        "RLIMIT_CORE": 0,
    }


def _denied() -> list[str]:
    """Roots the candidate may not read: the checkout, $HOME, the caller's cwd, the data mirror and /proc."""
    roots = [REPO_ROOT, Path.home(), Path.cwd(), Path("/proc"), os.environ.get("BREAKEVEN_DATA_MIRROR")]
    return sorted({os.path.realpath(root) for root in roots if root} - {"/"})


def _collect(
    proc: subprocess.Popen[bytes], result_fd: int, nonce: str, limits: Limits
) -> tuple[bytes, tuple[str, str] | None, bool]:
    """Read output and result pipes into bounded tail buffers until both close, a verdict arrives or the
    deadline passes; (output tail, verdict, timed out)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + limits.timeout_s
    output_fd = proc.stdout.fileno()
    tails = {output_fd: bytearray(), result_fd: bytearray()}
    verdict = None
    with selectors.DefaultSelector() as selector:
        for fd in tails:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() and verdict is None and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                tail = tails[key.fd]
                tail += chunk
                if len(tail) > limits.max_output_bytes:
                    del tail[: len(tail) - limits.max_output_bytes]
                if key.fd == result_fd and nonce.encode() in tail:
                    verdict = _parse_verdict(bytes(tail), nonce)
        timed_out = verdict is None and bool(selector.get_map())
    return bytes(tails[output_fd]), verdict, timed_out


def _parse_verdict(result: bytes, nonce: str) -> tuple[str, str] | None:
    """The bootstrap's (status, detail) from its nonce-tagged line, if complete."""
    for line in result.split(b"\n")[:-1]:
        _, found, rest = line.rpartition(nonce.encode())
        fields = rest.decode("ascii", "replace").split(" ")
        if found and len(fields) == 3 and fields[1] in STATUSES:
            with suppress(ValueError):
                return fields[1], bytes.fromhex(fields[2]).decode("utf-8", "replace")
    return None


def _classify(
    verdict: tuple[str, str] | None, timed_out: bool, returncode: int, output: bytes, limits: Limits
) -> tuple[str, str]:
    """(status, detail) of a run: the bootstrap's verdict, else what killed or ended the process."""
    if verdict is not None:
        return verdict
    if timed_out:
        return "timeout", f"no verdict within {limits.timeout_s:g}s"
    last = _last_line(output)
    if b"MemoryError" in output:
        return "memory", last
    if returncode == SETUP_FAILED:
        return "sandbox_error", last
    if returncode < 0:
        name = _signal_name(-returncode)
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


def _reap(proc: subprocess.Popen[bytes], uid: int | None) -> bool:
    """SIGKILL the sandbox's process group (and every process of its fresh uid) and wait for them;
    True when the group is verifiably empty."""
    _kill(proc.pid, uid)
    proc.wait()
    for _ in range(100):
        if not _alive(proc.pid, uid):
            return True
        _kill(proc.pid, uid)
        time.sleep(0.01)
    return False


def _kill(pgid: int, uid: int | None) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    for pid in _processes_of(uid) if uid is not None else ():
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pgid: int, uid: int | None) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return uid is not None and bool(_processes_of(uid))
    return True


def _processes_of(uid: int) -> dict[int, int]:
    """{pid: thread count} of the processes whose real uid is `uid`, read from /proc."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with suppress(OSError, KeyError, ValueError):
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                found[int(pid)] = int(fields["Threads"])
    return found


def _remove(tmp: str) -> None:
    """Delete the workspace, first restoring permissions the program may have removed (never through links)."""
    os.chmod(tmp, 0o700)
    for root, dirs, _ in os.walk(tmp):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                with suppress(OSError):
                    os.chmod(path, 0o700)
    shutil.rmtree(tmp, ignore_errors=True)
