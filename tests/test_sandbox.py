"""The sandbox for model-written MBPP programs: verdicts, the judge, what the kernel isolation looks like from
inside, no silent weakening, the MBPP reference solutions, the metrics file and the paper. Real sandboxes
throughout, no mocks; the attacks are in test_sandbox_hostile.py."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import MIRROR
from sandbox_host import leftover_pids, leftover_processes, require_kernel_isolation

from breakeven import REPO_ROOT
from breakeven.report.fragments import setup_text
from breakeven.score.cell import score_cell
from breakeven.tasks.codegen import CodeTask
from breakeven.tasks.sandbox import (
    DETAIL_CHARS,
    STATUSES,
    IsolationUnavailable,
    Limits,
    bootstrap,
    kernel_launcher,
    run_many,
    run_program,
    runner,
)
from breakeven.tasks.sandbox.bwrap import uids_used
from breakeven.tasks.sandbox.interpreter import interpreter
from breakeven.tasks.sandbox.judge import decode, plan
from breakeven.tasks.sandbox.seccomp import DENIED

FAST = Limits(timeout_s=5.0)
RIGHT = "\ndef f():\n    return 1\n"
WRONG = "\ndef f():\n    return 2\n"
TESTS = ["assert f() == 1"]
NAMESPACES = ("mnt", "pid", "net", "ipc", "uts", "user")
DISARM = (
    "import gc, sys\nfor _obj in gc.get_objects():\n    if isinstance(_obj, set) and 'os.system' in _obj:\n"
    "        _obj.clear()\nsys.modules['__main__'].BLOCKED_PREFIXES = ('\\0',)\n"
)
"""Switches the bootstrap's audit hook off (its blocked-name set found through gc), as an attacker would."""

# task_id -> why the reference solution fails upstream. Running all 974 reference solutions through the sandbox
# (python 3.11.7 of the project's venv, default limits but a 60 s timeout, hash randomisation on) found none.
KNOWN_UPSTREAM_FAILURES: dict[int, str] = {}


@pytest.fixture(autouse=True)
def kernel_isolation() -> None:
    require_kernel_isolation()


@pytest.fixture(autouse=True)
def nothing_left() -> None:
    yield
    assert leftover_processes() == []


def _fails(code: str, tests: list[str] = TESTS, limits: Limits = FAST, status: str = "failed") -> str:
    outcome = run_program(code, tests, limits=limits)
    assert (outcome.passed, outcome.status) == (False, status), outcome
    return outcome.detail


# --- verdicts ---------------------------------------------------------------------------------------------------


def test_correct_program_passes() -> None:
    outcome = run_program("def add(a, b):\n    return a + b", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
    assert (outcome.passed, outcome.status, outcome.detail) == (True, "passed", "")
    assert (outcome.judged_by_scorer, outcome.judged_in_sandbox) == (2, 0)


def test_wrong_value_fails_naming_the_assert_and_the_value() -> None:
    tests = ["assert add(1, 1) == 2", "assert add(1, 2) == 3"]
    detail = _fails("def add(a, b):\n    return a + b if a == b else a - b", tests)
    assert detail == "assert add(1, 2) == 3 -> AssertionError (got -1)"


def test_python_equality_of_builtins_is_kept() -> None:
    """The scorer compares rebuilt builtins exactly as `==` would in the program: 1 == 1.0 == True, a list is
    not a tuple, a Counter is a dict, a set equals a frozenset, a namedtuple is a tuple."""
    code = (
        "import collections\nPoint = collections.namedtuple('Point', 'x y')\n"
        "def g(kind):\n    return {'int': 1, 'counter': collections.Counter('aab'), 'set': frozenset({1, 2}),"
        " 'point': Point(1, 2), 'list': [1, 2], 'bytes': bytearray(b'ab'), 'nested': {(1, 'a'): [1.5, None]}}[kind]"
    )
    passing = [
        "assert g('int') == 1.0",
        "assert g('int') == True",
        "assert g('counter') == {'a': 2, 'b': 1}",
        "assert g('set') == {2, 1}",
        "assert g('point') == (1, 2)",
        "assert g('bytes') == b'ab'",
        "assert g('nested') == {(1, 'a'): [1.5, None]}",
    ]
    assert run_program(code, passing).passed
    assert not run_program(code, ["assert g('list') == (1, 2)"]).passed


def test_setup_code_runs_before_the_asserts() -> None:
    outcome = run_program("def double(x):\n    return 2 * x", ["assert double(value) == 42"], setup="value = 21")
    assert outcome.passed, outcome


def test_asserts_of_other_shapes_run_whole_in_the_sandbox() -> None:
    tests = ["assert f() != 2", "assert f() == abs(-1)", "assert isinstance(f(), int)"]
    outcome = run_program(RIGHT, tests)
    assert outcome.passed and (outcome.judged_by_scorer, outcome.judged_in_sandbox) == (0, 3), outcome
    assert _fails(WRONG, ["assert f() != 2"]) == "assert f() != 2 -> AssertionError"


def test_syntax_error() -> None:
    assert "SyntaxError" in _fails("def add(a, b)\n    return a + b", status="syntax_error")


def test_invalid_test_is_a_sandbox_error() -> None:
    assert "invalid setup or test" in _fails(RIGHT, ["assert f( =="], status="sandbox_error")


def test_exception_in_candidate_is_a_failure() -> None:
    assert _fails("x = 1 / 0" + RIGHT) == "ZeroDivisionError: division by zero"


def test_detail_is_truncated() -> None:
    assert len(_fails("raise ValueError('y' * 10**6)")) <= DETAIL_CHARS


def test_run_many_keeps_order() -> None:
    jobs = [(f"def f():\n    return {i % 2}", ["assert f() == 1"], "") for i in range(6)]
    assert [outcome.passed for outcome in run_many(jobs, FAST, workers=2)] == [False, True] * 3


def test_infinite_loop_times_out() -> None:
    outcome = run_program("while True:\n    pass" + RIGHT, TESTS, limits=Limits(timeout_s=1.0))
    assert outcome.status == "timeout" and 1.0 <= outcome.duration_s < 3.0, outcome


def test_process_budget_is_exact() -> None:
    """max_processes=2 allows exactly two forks (RLIMIT_NPROC binds: the program's uid is not root's)."""
    code = DISARM + (
        "import os, time\nmade = 0\nfor _ in range(5):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        "    made += 1"
    )
    outcome = run_program(code, ["assert made == 2"], limits=Limits(timeout_s=5.0, max_processes=2))
    assert outcome.passed and outcome.duration_s < 5.0, outcome


# --- the judge ----------------------------------------------------------------------------------------------------


def test_plan_splits_value_asserts_from_the_rest() -> None:
    value = plan("assert  f(1, [2]) == (3, 'x'), 'message'")
    assert (value.kind, value.source, value.expected) == ("value", "(f(1, [2]))", (3, "x"))
    for other in ["assert f() == g()", "assert f() != 1", "assert f() == 1 == g()", "assert f(", "x = 1", "assert f()"]:
        assert plan(other).kind == "assert", other


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -(10**30), 1.5, math.inf, "é", b"\x00\xff", bytearray(b"x"), 1 + 2j, [1, (2, 3)], (), {1, 2},
     frozenset({"a"}), {(1, 2): {"k": [None]}, frozenset(): set()}],
)  # fmt: skip
def test_encode_then_decode_rebuilds_the_value(value: object) -> None:
    rebuilt = decode(json.loads(json.dumps(bootstrap.encode(value))))
    assert rebuilt == value and type(rebuilt) is type(value)


@pytest.mark.parametrize(
    "data", [{"object": 1}, {"tuple": 1}, {"dict": [[1]]}, {"set": [[1]]}, {"bytes": "zz"}, {"a": 1, "b": 2}]
)
def test_decode_rejects_anything_else(data: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode(data)


# --- what the program sees ------------------------------------------------------------------------------------------


def _top_level() -> set[str]:
    """What / holds inside: the top folders of the interpreter's files, /dev and the scratch folders."""
    return {Path(path).parts[1] for path in interpreter().files} | {"dev", "sandbox", "tmp", "var"}


def test_the_programs_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """uid 65534, a hostname of its own, no /proc, a read-only root holding only the interpreter, a minimal
    environment, and the project's own interpreter without any installed package."""
    monkeypatch.setenv("BREAKEVEN_TEST_SECRET", "s3cr3t")
    code = "import importlib.util, os, sys"
    tests = [
        "assert (os.getuid(), os.getgid()) == (65534, 65534)",
        "assert os.uname().nodename == 'sandbox'",
        "assert os.path.exists('/proc') == False",
        f"assert sorted(os.listdir('/')) == {sorted(_top_level())!r}",
        "assert dict(os.environ) == {'HOME': '/sandbox', 'TMPDIR': '/tmp', 'PATH': '/usr/bin:/bin', 'LANG': 'C.UTF-8', 'PWD': '/sandbox'}",
        "assert os.getcwd() == '/sandbox'",
        f"assert (sys.executable, sys.version, sys.prefix) == {(os.path.realpath(sys.executable), sys.version, sys.base_prefix)!r}",
        "assert [importlib.util.find_spec(name) for name in ('yaml', 'numpy', 'pip', 'breakeven')] == [None] * 4",
        "assert os.access('/', os.W_OK) == False",
    ]
    outcome = run_program(code, tests)
    assert outcome.passed, outcome


def test_every_namespace_is_new() -> None:
    """Seen from the host while the program sleeps: its mount, pid, network, ipc, uts and user namespaces are
    not the scorer's, and it runs as a fresh unprivileged uid, without capabilities, with no_new_privs and a
    seccomp filter."""
    seen: dict[str, str] = {}

    def watch() -> None:
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            for pid in leftover_pids():
                with contextlib.suppress(OSError):
                    status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
                    if not status["Name"].startswith("python"):
                        continue  # bwrap, still setting the sandbox up
                    seen.update({key: status[key].split()[0] for key in ("Uid", "CapEff", "NoNewPrivs", "Seccomp")})
                    seen.update({kind: os.readlink(f"/proc/{pid}/ns/{kind}") for kind in NAMESPACES})
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    outcome = run_program("import time\ntime.sleep(3)" + RIGHT, TESTS)
    watcher.join()
    assert outcome.passed and set(seen) == {*NAMESPACES, "Uid", "CapEff", "NoNewPrivs", "Seccomp"}, (outcome, seen)
    assert all(seen[kind] != os.readlink(f"/proc/self/ns/{kind}") for kind in NAMESPACES), seen
    assert int(seen["Uid"]) in uids_used()
    assert (seen["CapEff"], seen["NoNewPrivs"], seen["Seccomp"]) == ("0000000000000000", "1", "2")  # 2: filter


def test_resource_limits_are_set_and_cannot_be_raised() -> None:
    limits = Limits(timeout_s=3.0, memory_mb=256, max_file_bytes=1_000_000, max_open_files=32, max_processes=1)
    expected = {"AS": 256 * 2**20, "CPU": 4, "FSIZE": 1_000_000, "NOFILE": 32, "NPROC": 2, "CORE": 0}
    code = (
        "import resource\nnames = " + repr(sorted(expected)) + "\n"
        "limits = {name: resource.getrlimit(getattr(resource, 'RLIMIT_' + name)) for name in names}\n"
        "try:\n    resource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n    raised = True\nexcept ValueError:\n"
        "    raised = False"
    )
    tests = [
        f"assert limits == { ({name: (value, value) for name, value in expected.items()})!r}",
        "assert raised == False",
    ]
    assert run_program(code, tests, limits=limits).passed
    big = "open('big', 'wb').write(b'x' * 2_000_000)" + RIGHT
    assert "File too large" in _fails(big, limits=Limits(max_file_bytes=1_000_000))


def test_own_scratch_folders_are_writable() -> None:
    code = "import os\nfor folder in ('/sandbox', '/tmp', '/var/tmp', '/dev/shm'):\n    open(folder + '/f', 'w').write('ok')"
    assert run_program(code, ["assert open('/dev/shm/f').read() + open('f').read() == 'okok'"]).passed


SYSCALLS = {
    "socket": "libc.socket(2, 1, 0)",
    "socketpair": "libc.socketpair(1, 1, 0, pair)",
    "ptrace": "libc.ptrace(0, 0, None, None)",
    "unshare": "libc.unshare(0x04000000)",
    "setns": "libc.setns(0, 0)",
    "mount": "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
    "chroot": "libc.chroot(b'/tmp')",
    "personality": "libc.personality(0xFFFFFFFF)",
    "keyctl": "libc.syscall(250, 0, 0)",
    "bpf": "libc.syscall(321, 0, None, 0)",
    "perf_event_open": "libc.syscall(298, None, 0, -1, -1, 0)",
    "io_uring_setup": "libc.syscall(425, 1, pair)",
}
"""A denied call each, through ctypes (syscall numbers for x86_64 where libc has no wrapper)."""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the raw syscall numbers are x86_64's")
def test_seccomp_denies_each_listed_call() -> None:
    """With the audit hook switched off, every listed call fails with EPERM (the kernel's filter, not Python)."""
    assert set(SYSCALLS) <= set(DENIED)
    calls = "".join(f"    {name!r}: lambda: {call},\n" for name, call in SYSCALLS.items())
    code = DISARM + (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\npair = (ctypes.c_int * 64)()\n"
        f"calls = {{\n{calls}}}\nresults = {{}}\nfor name, call in calls.items():\n    ctypes.set_errno(0)\n"
        "    results[name] = ctypes.get_errno() if call() == -1 else 'allowed'\n"
    )
    outcome = run_program(code, [f"assert results == {dict.fromkeys(SYSCALLS, errno.EPERM)!r}"])
    assert outcome.passed, outcome


# --- no silent weakening -----------------------------------------------------------------------------------------


@pytest.fixture
def no_bubblewrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A machine without bwrap: the launcher looks for its tools in an empty folder."""
    monkeypatch.setattr(runner, "TOOL_PATH", str(tmp_path))
    kernel_launcher.cache_clear()
    yield
    kernel_launcher.cache_clear()


def code_task(isolation: str) -> CodeTask:
    execution = {"timeout_s": 5, "isolation": isolation}
    return CodeTask({"name": "mbpp", "kind": "code", "execution": execution}, {"system": "s", "user": "{input}"})


def example(i: int) -> dict:
    return {"id": str(i), "input": {"text": "f", "test_list": TESTS, "test_setup_code": ""}, "target": RIGHT}


def test_without_kernel_isolation_scoring_stops_naming_what_is_missing(no_bubblewrap: None) -> None:
    with pytest.raises(IsolationUnavailable) as raised:
        run_program(RIGHT, TESTS)
    message = str(raised.value)
    for needed in ("`bwrap` is not installed", "apt-get install bubblewrap", "execution.isolation: unsafe-local"):
        assert needed in message
    with pytest.raises(IsolationUnavailable):
        code_task("kernel").score_batch([RIGHT], [example(0)])


def test_unsafe_local_runs_only_when_asked(no_bubblewrap: None) -> None:
    rows = code_task("unsafe-local").score_batch([RIGHT, WRONG], [example(0), example(1)])
    assert [(row["pass_at_1"], row["verdict"]) for row in rows] == [(1.0, "passed"), (0.0, "failed")]
    deep = "import os\nfor _ in range(1200):\n    os.mkdir('d')\n    os.chdir('d')" + RIGHT
    outcome = run_program(deep, TESTS, isolation="unsafe-local")
    assert outcome.passed and "left behind" not in outcome.detail, outcome


def test_unknown_isolation_is_rejected() -> None:
    from breakeven.config import ConfigError, validated
    from breakeven.jsonio import read_yaml

    task = read_yaml(REPO_ROOT / "config" / "tasks" / "mbpp.yaml")
    assert validated(task, "task", "mbpp.yaml")["execution"]["isolation"] == "kernel"
    task["execution"] = {"isolation": "none"}
    with pytest.raises(ConfigError, match="mbpp.yaml: field 'execution.isolation': 'none' is not one of"):
        validated(task, "task", "mbpp.yaml")
    with pytest.raises(ValueError, match="unknown isolation 'none'"):
        run_program(RIGHT, TESTS, isolation="none")


# --- the metrics file and the paper ------------------------------------------------------------------------------


def test_metrics_file_has_each_verdict_and_the_judged_counts() -> None:
    examples = [example(i) for i in range(3)]
    predictions = [
        {"id": str(i), "output": output, "latency_s": 0.1, "input_tokens": 5, "output_tokens": 5}
        for i, output in enumerate([f"```python{RIGHT}```", WRONG, ""])
    ]
    cell = score_cell(code_task("kernel"), examples, predictions, {"n_resamples": 200, "confidence": 0.95, "seed": 0})
    verdicts = [(row["verdict"], row["detail"]) for row in cell["per_example"]]
    assert verdicts == [("passed", ""), ("failed", "assert f() == 1 -> AssertionError (got 2)"), ("empty", "")]
    assert cell["execution"] == {"isolation": "kernel", "asserts_judged_by_scorer": 2, "asserts_judged_in_sandbox": 0}


def test_paper_states_how_generated_code_ran(default_config: dict) -> None:
    from breakeven.config import Project

    project = Project({**default_config, "tasks": ["mbpp"]})
    text = setup_text(project.config, project.tasks, project.models, project.pricing)
    assert "own bubblewrap sandbox" in text and "without kernel isolation" not in text
    mbpp = project.tasks["mbpp"]
    unsafe = {"mbpp": {**mbpp, "execution": {**mbpp["execution"], "isolation": "unsafe-local"}}}
    text = setup_text(project.config, unsafe, project.models, project.pricing)
    assert "**Generated programs ran without kernel isolation** (`execution.isolation: unsafe-local`)" in text


# --- the MBPP reference solutions ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_mbpp_reference_solutions_pass() -> None:
    """All 974 reference solutions pass through the sandbox (about 90 s on 2 shared cores). The timeout is 60 s
    rather than the default 10 s: task 123 (amicable numbers up to 9,999) needs 3 to 12 s of CPU, depending on
    the machine's load, and a verdict must not depend on it."""
    path = MIRROR / "mbpp" / "mbpp.jsonl"
    if not path.is_file():
        pytest.skip(f"no MBPP in the data mirror: {path} is absent (set BREAKEVEN_DATA_MIRROR)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 974
    start = time.monotonic()
    jobs = [(row["code"], row["test_list"], row["test_setup_code"]) for row in rows]
    outcomes = run_many(jobs, Limits(timeout_s=60.0), workers=2)
    failing = {row["task_id"]: f"{o.status}: {o.detail}" for row, o in zip(rows, outcomes, strict=True) if not o.passed}
    assert set(failing) == set(KNOWN_UPSTREAM_FAILURES), failing
    assert sum(o.judged_by_scorer for o in outcomes) == 2919 and sum(o.judged_in_sandbox for o in outcomes) == 3
    assert all(o.status in STATUSES for o in outcomes) and time.monotonic() - start < 600
