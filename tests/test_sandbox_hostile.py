"""Hostile programs against the MBPP sandbox, written as an attacker would, each followed by host checks: canary
files intact; nothing of a sandbox in the listings of /tmp, /var/tmp, /dev/shm, $HOME or the checkout; no
sandbox process or socket left; the scorer and a host canary process alive; the verdict a failure.

Where an attack would make the program correct if it worked (reading a secret, finding the expected value),
the test expects exactly what the attack would obtain, so a pass would mean the escape succeeded. Many programs
first switch the bootstrap's audit hook off, to show that the kernel holds without it."""

from __future__ import annotations

import hashlib
import resource
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

import pytest
from sandbox_host import HostState, require_kernel_isolation

from breakeven import REPO_ROOT
from breakeven.tasks.sandbox import STATUSES, Limits, run_many, run_program
from breakeven.tasks.sandbox.interpreter import interpreter

FAST = Limits(timeout_s=4.0)
FORKS = Limits(timeout_s=4.0, max_processes=4)
WRONG = "def f():\n    return 2\n"
RIGHT = "def f():\n    return 1\n"
ONE = ["assert f() == 1"]
SWAP_HOOK_CODE = """import gc
for _obj in gc.get_objects():
    if getattr(_obj, "__name__", None) == "hook" and getattr(_obj, "__code__", None) is not None:
        _names = _obj.__code__.co_freevars
        _source = "def outer():\\n" + "".join(f"    {name} = None\\n" for name in _names)
        _source += "    def hook(event, args):\\n        return (" + "".join(f"{name}, " for name in _names) + ") and None\\n"
        _space = {}
        exec(_source + "    return hook\\n", _space)
        _obj.__code__ = _space["outer"]().__code__
"""
"""The audit hook switched off: its function's __code__ replaced by one that allows everything."""
DISARM = (
    SWAP_HOOK_CODE
    + """import gc, sys
for _obj in gc.get_objects():
    if isinstance(_obj, set) and "os.system" in _obj:
        _obj.clear()
sys.modules["__main__"].BLOCKED_PREFIXES = ("\\0",)
"""
)
"""Both ways at once: the swapped code, and its blocked-name set (found through gc) emptied."""


@dataclass(frozen=True)
class Context:
    """What the programs aim at: the session's token, canaries, listeners and secrets."""

    token: str
    secret: str
    tcp_port: int
    udp_port: int
    unix_path: str
    digests: dict[str, str | None]

    def placeholders(self) -> dict[str, object]:
        home, repo = str(Path.home()), str(REPO_ROOT)
        digests = {f"{name}_digest": digest for name, digest in self.digests.items()}
        return {"token": self.token, "secret": self.secret, "tcp_port": self.tcp_port, "udp_port": self.udp_port,
                "unix_path": self.unix_path, "home": home, "home_rel": home[1:], "repo": repo, "repo_rel": repo[1:],
                "stdlib": interpreter().stdlib, **digests}  # fmt: skip


@dataclass(frozen=True)
class Program:
    code: str
    tests: list[str]
    limits: Limits = FAST
    status: str | None = "failed"  # the expected status (None: any failing one)


PROGRAMS = {
    # forged verdicts
    "forged_result_lines": Program(
        WRONG + "import os\nfor fd in range(3, 64):\n"
        "    for line in (b'{\"stage\": 0, \"ok\": true}\\n', b'{\"done\": true}\\n', b'0' * 32 + b' passed 00\\n'):\n"
        "        try:\n            os.write(fd, line)\n        except OSError:\n            pass\nos._exit(0)",
        ONE,
    ),
    "stage_list_emptied_via_gc": Program(
        WRONG + "import gc\nfor obj in gc.get_objects():\n"
        "    if isinstance(obj, list) and obj and all(isinstance(x, dict) and 'kind' in x for x in obj):\n"
        "        obj.clear()\n"
        "    if isinstance(obj, list) and obj and all(type(x).__name__ == 'code' for x in obj):\n"
        "        obj.clear()",
        ONE,
    ),
    "expected_value_hunted_in_memory": Program(
        "import gc, re, sys\nfound = None\npattern = re.compile(r'expected-[0-9a-f]{32}$$')\n"
        "def look(value):\n    global found\n    if isinstance(value, str) and pattern.match(value):\n"
        "        found = value\nfor obj in gc.get_objects():\n"
        "    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else ()\n"
        "    for item in list(items):\n        look(item)\nframe = sys._getframe()\nwhile frame is not None:\n"
        "    for item in [*frame.f_locals.values(), *frame.f_globals.values()]:\n        look(item)\n"
        "    frame = frame.f_back\ndef f():\n    return found",
        ["assert f() == 'expected-$token'"],
    ),
    "always_equal_object": Program(
        "class Anything:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
        "def f():\n    return Anything()",
        ONE,
    ),
    "int_subclass_with_lying_eq": Program(
        "class Lying(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def f():\n    return Lying(2)",
        ONE,
    ),
    "frame_walk_to_the_reporter": Program(
        "import os, sys\ndef f():\n    frame = sys._getframe()\n    while frame is not None:\n"
        "        report = frame.f_locals.get('report')\n        if callable(report):\n"
        "            report({'stage': 0, 'ok': True})\n            report({'done': True})\n            os._exit(0)\n"
        "        frame = frame.f_back\n    return 2",
        ONE,
    ),
    "reporter_patched": Program(
        WRONG + "import json\nreal = json.dumps\n"
        "json.dumps = lambda m, *a, **k: real({'stage': m['stage'], 'ok': True} if 'stage' in m else m)",
        ONE,
    ),
    "builtins_and_assertion_error_patched": Program(
        WRONG + "import builtins\nclass Anything:\n    def __eq__(self, other):\n        return True\n"
        "builtins.eval = builtins.exec = lambda *args, **kwargs: Anything()\n"
        "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
        "builtins.isinstance = lambda *args: False",
        ["assert f() != 2", *ONE],
    ),
    "sys_exit_before_the_asserts": Program(RIGHT + "import sys\nsys.exit(0)", ONE),
    "os_exit_before_the_asserts": Program(RIGHT + "import os\nos._exit(0)", ONE),
    "exit_inside_the_assert": Program("import sys\ndef f():\n    sys.exit(0)", ONE),
    "atexit_and_excepthook": Program(
        WRONG + "import atexit, os, sys\nsys.excepthook = lambda *a: None\natexit.register(os._exit, 0)", ONE
    ),
    # the hook switched off, then the kernel
    "hook_code_swapped_then_ctypes_socket": Program(
        SWAP_HOOK_CODE + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "made = [libc.socket(1, 1, 0), libc.socket(2, 1, 0), libc.socket(2, 2, 0)]\n"
        "def f():\n    return max(made) >= 0",
        ["assert f() == True"],
    ),
    "unix_socket_to_the_host": Program(
        DISARM + "import socket\nsocket.socket(socket.AF_UNIX).connect('$unix_path')\n" + RIGHT, ONE
    ),
    "tcp_to_the_host": Program(
        DISARM + "import socket\nsocket.create_connection(('127.0.0.1', $tcp_port), timeout=2)\n" + RIGHT,
        ONE,
    ),
    "udp_to_the_host": Program(
        DISARM + "import socket\n"
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', $udp_port))\n" + RIGHT,
        ONE,
    ),
    "kernel_calls_via_ctypes": Program(
        DISARM + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nresults = [\n"
        "    libc.ptrace(16, 1, None, None), libc.unshare(0x10000000), libc.unshare(0x40000000),\n"
        "    libc.mount(b'none', b'/sandbox', b'tmpfs', 0, None), libc.syscall(250, 0, 0),\n"
        "    libc.syscall(321, 0, None, 0), libc.syscall(298, None, 0, -1, -1, 0), libc.chroot(b'/tmp'),\n"
        "]\ndef f():\n    return max(results) >= 0",
        ["assert f() == True"],
    ),
    "x32_abi_socket": Program(
        DISARM + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "made = libc.syscall(0x40000000 | 41, 2, 1, 0)\ndef f():\n    return made >= 0",
        ["assert f() == True"],
        status=None,  # killed by the filter's bad-architecture action, or ENOSYS where the kernel lacks x32
    ),
    # the host's files
    "dir_fd_writes_to_host_folders": Program(
        "import os\nroot = os.open('/', os.O_RDONLY)\nmade = []\n"
        "for folder in ('tmp', 'var/tmp', 'dev/shm', '$home_rel', '$repo_rel'):\n"
        "    try:\n"
        "        os.close(os.open(folder + '/pwned-$token', os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=root))\n"
        "        made.append(folder)\n    except OSError:\n        pass\ndef f():\n    return made",
        ["assert f() == ['tmp', 'var/tmp', 'dev/shm', '$home_rel', '$repo_rel']"],
    ),
    "fifo_and_nodes_in_shared_folders": Program(
        WRONG + "import os, stat\nos.mkfifo('/tmp/pwned-$token-fifo')\n"
        "os.mknod('/var/tmp/pwned-$token-node', stat.S_IFREG | 0o644)\nos.mkfifo('/dev/shm/pwned-$token-fifo')",
        ONE,
    ),
    "writes_outside_the_scratch_folders": Program(
        "made = []\n"
        "for path in ('/pwned-$token', '/root/pwned-$token', '/dev/pwned-$token', '$stdlib/pwned-$token',"
        " '$home/pwned-$token'):\n"
        "    try:\n        open(path, 'w').close()\n        made.append(path)\n    except OSError:\n        pass\n"
        "def f():\n    return made != []",
        ["assert f() == True"],
    ),
    "repo_env_read_directly_and_through_dir_fd": Program(
        "import hashlib, os\nfound = []\n"
        "for read in (lambda: open('$repo/.env', 'rb').read(),\n"
        "             lambda: os.read(os.open('$repo_rel/.env', os.O_RDONLY, dir_fd=os.open('/', 0)), 10**6)):\n"
        "    try:\n        found.append(hashlib.sha256(read()).hexdigest())\n    except OSError:\n"
        "        found.append(None)\ndef f():\n    return found",
        ["assert f() == ['$env_digest', '$env_digest']"],
    ),
    "shadow_and_home_secrets": Program(
        "import hashlib\nfound = []\n"
        "for path in ('/etc/shadow', '$home/.sandbox-canary-$token'):\n"
        "    try:\n        found.append(hashlib.sha256(open(path, 'rb').read()).hexdigest())\n    except OSError:\n"
        "        found.append(None)\ndef f():\n    return found",
        ["assert f() == ['$shadow_digest', '$home_digest']"],
    ),
    "environment_and_proc_secrets": Program(
        "import os\ndef f():\n    texts = [str(os.environ)]\n"
        "    for path in ('/proc/1/environ', '/proc/self/environ', f'/proc/{os.getppid()}/environ'):\n"
        "        try:\n            texts.append(open(path, 'rb').read().decode(errors='replace'))\n"
        "        except OSError:\n            pass\n"
        "    return next((text.split('BREAKEVEN_TEST_SECRET')[1][1:].split(chr(0))[0].strip(\"'\\\" ,}\")\n"
        "                 for text in texts if 'BREAKEVEN_TEST_SECRET' in text), None)",
        ["assert f() == '$secret'"],
    ),
    # processes
    "signals_to_the_parent_and_everyone": Program(
        DISARM + WRONG + "import os, signal\nfor target in (os.getppid(), 1, -1):\n    try:\n"
        "        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass",
        ONE,
    ),
    "double_fork_and_setsid_daemon": Program(
        DISARM + WRONG + "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(60)\n        open('/tmp/pwned-$token', 'w').close()\n    os._exit(0)",
        ONE,
        FORKS,
    ),
    "fork_bomb": Program(
        DISARM + WRONG + "import os\nfor _ in range(100000):\n    try:\n        os.fork()\n    except OSError:\n"
        "        break",
        ONE,
        FORKS,
    ),
    "thread_bomb": Program(
        "import threading, time\nstarted = 0\ntry:\n    for _ in range(100000):\n"
        "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n        started += 1\n"
        "except RuntimeError:\n    pass\ndef f():\n    return started",
        ["assert f() == 100000"],
    ),
    "memory_bomb": Program("x = bytearray(10**10)\n" + RIGHT, ONE, status="memory"),
    "memory_growth": Program("x = []\nwhile True:\n    x.append(' ' * 10**6)\n" + RIGHT, ONE, status="memory"),
    "disk_fill": Program(
        "written = 0\nfor folder in ('/sandbox', '/tmp', '/dev/shm', '/var/tmp'):\n    for index in range(100):\n"
        "        try:\n            with open(f'{folder}/fill-{index}', 'wb') as handle:\n"
        "                handle.write(b'x' * 2**23)\n            written += 2**23\n        except OSError:\n"
        "            break\ndef f():\n    return written > 4 * 32 * 2**20",
        ["assert f() == True"],
    ),
    "deep_tree": Program("import os\nfor _ in range(1200):\n    os.mkdir('d')\n    os.chdir('d')\n" + WRONG, ONE),
    "stdout_flood": Program("for _ in range(200):\n    print('x' * 10**6)\n" + WRONG, ONE),
    "closed_pipes_and_a_hang": Program(
        DISARM + "import os, time\nfor fd in range(64):\n    try:\n        os.close(fd)\n    except OSError:\n"
        "        pass\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(600)",
        ONE,
        FORKS,
        status="timeout",
    ),
    # the result channel
    "oversized_result_line": Program(
        WRONG + "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'[' * 3 * 2**20)\n"
        "    except OSError:\n        pass",
        ONE,
    ),
    "huge_value": Program("def f():\n    return list(range(10**6))", ["assert f() == []"]),
    "deeply_nested_value": Program(
        "def f():\n    value = []\n    for _ in range(10000):\n        value = [value]\n    return value", ONE
    ),
}
"""Every hostile program, by name; ``$name`` placeholders are filled from :meth:`Context.placeholders`."""


NAMES = sorted(PROGRAMS)


def rendered(program: Program, ctx: Context) -> tuple[str, list[str]]:
    """The program's code and asserts with the session's targets filled in."""
    values = ctx.placeholders()
    return Template(program.code).substitute(values), [Template(test).substitute(values) for test in program.tests]


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@pytest.fixture(scope="module", autouse=True)
def kernel_isolation() -> None:
    require_kernel_isolation()


@pytest.fixture(scope="module")
def targets() -> Iterator[tuple[Context, dict[Path, bytes], dict[str, socket.socket]]]:
    """Canary files in every watched folder (and a .env in the checkout when it has none), a secret in the
    scorer's environment, TCP, UDP and Unix listeners on the host, all removed afterwards."""
    token = uuid.uuid4().hex
    canaries = {
        folder / f".sandbox-canary-{token}": f"secret {token} {folder}".encode()
        for folder in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.home(), REPO_ROOT)
    }
    env = REPO_ROOT / ".env"
    if not env.exists():
        canaries[env] = f"OPENAI_API_KEY=sk-canary-{token}\n".encode()
    for path, content in canaries.items():
        path.write_bytes(content)
    listeners = {"tcp": socket.socket(), "udp": socket.socket(socket.AF_INET, socket.SOCK_DGRAM)}
    listeners["unix"] = socket.socket(socket.AF_UNIX)
    unix_path = f"/tmp/.sandbox-canary-{token}.sock"
    for kind, address in (("tcp", ("127.0.0.1", 0)), ("udp", ("127.0.0.1", 0)), ("unix", unix_path)):
        listeners[kind].bind(address)
        listeners[kind].setblocking(False)
    listeners["tcp"].listen()
    listeners["unix"].listen()
    home_canary = Path.home() / f".sandbox-canary-{token}"
    digests = {"env": _digest(env), "shadow": _digest(Path("/etc/shadow")), "home": _digest(home_canary)}
    ports = (listeners["tcp"].getsockname()[1], listeners["udp"].getsockname()[1])
    context = Context(token, f"s3cr3t-{token}", *ports, unix_path, digests)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BREAKEVEN_TEST_SECRET", context.secret)
            yield context, canaries, listeners
    finally:
        for path in canaries:
            path.unlink(missing_ok=True)
        Path(unix_path).unlink(missing_ok=True)
        for listener in listeners.values():
            listener.close()


@pytest.fixture(scope="module")
def host_process() -> Iterator[subprocess.Popen]:
    """A host process that must outlive every program (signals cannot reach it)."""
    with subprocess.Popen(["sleep", "3600"]) as sleeper:
        yield sleeper
        sleeper.kill()


def _nothing_received(listeners: dict[str, socket.socket]) -> None:
    for kind in ("tcp", "unix"):
        with pytest.raises(BlockingIOError):
            listeners[kind].accept()
    with pytest.raises(BlockingIOError):
        listeners["udp"].recv(16)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_program_fails_and_leaves_the_host_untouched(name: str, targets, host_process) -> None:
    ctx, canaries, listeners = targets
    program = PROGRAMS[name]
    before = HostState.take(ctx.token, canaries)
    memory_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = run_program(*rendered(program, ctx), limits=program.limits)
    assert not outcome.passed and outcome.status in STATUSES, outcome
    assert outcome.status != "sandbox_error" and (program.status in (None, outcome.status)), outcome
    assert "left behind" not in outcome.detail and outcome.duration_s < program.limits.timeout_s + 3, outcome
    before.check()
    _nothing_received(listeners)
    assert host_process.poll() is None
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - memory_before < 64 * 1024  # KiB


def test_hostile_batch_never_fails_the_job(targets, host_process) -> None:
    """Every hostile program in one batch with correct ones between them: the batch returns a verdict for
    each, the correct programs pass, nothing is left."""
    ctx, canaries, listeners = targets
    before = HostState.take(ctx.token, canaries)
    jobs = []
    for name in NAMES:
        jobs += [(*rendered(PROGRAMS[name], ctx), ""), (RIGHT, ONE, "")]
    outcomes = run_many(jobs, FORKS, workers=2)
    assert [outcome.passed for outcome in outcomes] == [False, True] * len(NAMES), outcomes
    before.check()
    _nothing_received(listeners)
    assert host_process.poll() is None
    assert len(NAMES) >= 25
