"""The sandbox for model-written MBPP programs: verdicts, the MBPP reference solutions, hostile programs, and a
host that is unchanged afterwards. Real child processes throughout, no mocks."""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MIRROR

from breakeven import REPO_ROOT
from breakeven.tasks.sandbox import DETAIL_CHARS, MARKER, STATUSES, Limits, isolation, run_many, run_program

FAST = Limits(timeout_s=3.0)
SMALL = Limits(timeout_s=5.0, memory_mb=256)
RIGHT = "\ndef f():\n    return 1\n"
WRONG = "\ndef f():\n    return 2\n"
TESTS = ["assert f() == 1"]

# task_id -> why the reference solution fails upstream. Running all 974 reference solutions (python 3.11, -I -S,
# default Limits, hash randomisation on; repeated runs, and 10 extra runs of every task using sets or dicts)
# found none: every one passes its test_list, so the list is empty and the test below demands exactly that.
KNOWN_UPSTREAM_FAILURES: dict[int, str] = {}


def _untracked() -> set[str]:
    """New files in the checkout per `git status --porcelain` (only those: other sessions may be editing
    tracked files meanwhile; the hostile programs' targets are checked directly)."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in status.splitlines() if line.startswith("??")}


@pytest.fixture(scope="module")
def sandbox_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A world-traversable temporary root for this module's sandboxes, so their leftovers can be told apart."""
    tmp_path_factory.getbasetemp()  # pytest's own temp dirs stay where they are
    root = Path(tempfile.mkdtemp(prefix="breakeven-sandbox-tests-"))
    root.chmod(0o755)
    previous, tempfile.tempdir = tempfile.tempdir, str(root)
    try:
        yield root
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(root)


@pytest.fixture(scope="module")
def untracked_before() -> set[str]:
    """Untracked files of the checkout before the first test of this module ran."""
    return _untracked()


def _sandbox_processes(root: Path) -> list[str]:
    """Live sandbox processes of this module: bootstrap marker in the command line, cwd under `root`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if MARKER.encode() in cmdline and cwd.startswith(str(root)):
            found.append(f"{pid} {cwd}")
    return found


@pytest.fixture(autouse=True)
def no_leftovers(sandbox_root: Path, untracked_before: set[str]) -> Iterator[None]:
    """Every test: no sandbox process and no sandbox directory survives it."""
    yield
    assert _sandbox_processes(sandbox_root) == []
    assert list(sandbox_root.iterdir()) == []


def _never_passes(code: str, tests: list[str] = TESTS, limits: Limits = FAST, status: str | None = None) -> str:
    outcome = run_program(code, tests, limits=limits)
    assert not outcome.passed, outcome
    assert outcome.status in STATUSES and outcome.status != "passed", outcome
    assert status is None or outcome.status == status, outcome
    return outcome.detail


# --- verdicts ---------------------------------------------------------------------------------------------------


def test_correct_program_passes() -> None:
    outcome = run_program("def add(a, b):\n    return a + b", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
    assert outcome.passed and outcome.status == "passed" and outcome.detail == ""
    assert 0 < outcome.duration_s < 5


def test_wrong_program_fails_naming_the_assert() -> None:
    tests = ["assert add(1, 1) == 2", "assert add(1, 2) == 3"]
    outcome = run_program("def add(a, b):\n    return a + b if a == b else a - b", tests)
    assert (outcome.passed, outcome.status) == (False, "failed")
    assert outcome.detail == "assert add(1, 2) == 3 -> AssertionError"


def test_setup_code_runs_before_the_asserts() -> None:
    outcome = run_program("def double(x):\n    return 2 * x", ["assert double(value) == 42"], setup="value = 21")
    assert outcome.passed, outcome


def test_syntax_error() -> None:
    outcome = run_program("def add(a, b)\n    return a + b", ["assert add(1, 2) == 3"])
    assert outcome.status == "syntax_error" and "SyntaxError" in outcome.detail


def test_exception_in_candidate_is_a_failure() -> None:
    assert _never_passes("x = 1 / 0" + RIGHT, status="failed") == "ZeroDivisionError: division by zero"


def test_detail_is_truncated() -> None:
    assert len(_never_passes("raise ValueError('y' * 10**6)", status="failed")) <= DETAIL_CHARS


def test_run_many_keeps_order() -> None:
    jobs = [(f"def f():\n    return {i % 2}", ["assert f() == 1"], "") for i in range(6)]
    assert [outcome.passed for outcome in run_many(jobs, FAST, workers=2)] == [False, True] * 3


def test_os_layers_match_the_detected_mode() -> None:
    """The network namespace leaves only loopback; the uid modes run as a fresh unprivileged uid."""
    mode = isolation()
    if mode == "audit-only":
        pytest.skip("no OS isolation available here (unshare/setpriv missing or not permitted)")
    tests = ["assert [name for _, name in socket.if_nameindex()] == ['lo']"]
    if "uid" in mode.split("+"):
        tests.append(f"assert os.getuid() not in (0, {os.getuid()})")
    outcome = run_program("import os, socket", tests)
    assert outcome.passed, outcome


def test_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREAKEVEN_TEST_SECRET", "s3cr3t")
    tests = [
        "assert sorted(os.environ) == ['HOME', 'LANG', 'PATH', 'TMPDIR']",
        "assert os.environ['HOME'] == os.environ['TMPDIR'] == os.getcwd()",
    ]
    outcome = run_program("import os", tests)
    assert outcome.passed, outcome


@pytest.mark.slow
def test_mbpp_reference_solutions_pass() -> None:
    """All 974 reference solutions pass their asserts under the default limits (about 20 s on 2 cores)."""
    path = MIRROR / "mbpp" / "mbpp.jsonl"
    if not path.is_file():
        pytest.skip(f"no MBPP in the data mirror: {path} is absent (set BREAKEVEN_DATA_MIRROR)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 974
    outcomes = run_many([(row["code"], row["test_list"], row["test_setup_code"]) for row in rows], workers=2)
    failing = {row["task_id"]: f"{o.status}: {o.detail}" for row, o in zip(rows, outcomes, strict=True) if not o.passed}
    assert set(failing) == set(KNOWN_UPSTREAM_FAILURES), failing


# --- hostile programs ---------------------------------------------------------------------------------------------

FAKES = {
    "sys_exit_before_asserts": "import sys" + RIGHT + "sys.exit(0)",
    "os_exit_before_asserts": "import os" + RIGHT + "os._exit(0)",
    "exit_inside_a_test": "import sys\ndef f():\n    sys.exit(0)",
    "fake_verdicts_on_every_fd": "import os"
    + WRONG
    + (
        "for fd in range(64):\n    for line in (b'passed\\n', b'0' * 32 + b' passed \\n'):\n"
        "        try:\n            os.write(fd, line)\n        except OSError:\n            pass\nos._exit(0)"
    ),
    "patched_assertion_error": "import builtins" + WRONG + "builtins.AssertionError = type('Fake', (Exception,), {})",
    "patched_runner_builtins": "import builtins, os"
    + WRONG
    + (
        "builtins.exec = builtins.compile = lambda *a, **k: None\nos.write = lambda fd, data: len(data)\n"
        "os._exit = lambda code: None"
    ),
    "cleared_builtins": "import builtins" + WRONG + "builtins.__dict__.clear()",
    "swallowing_hooks": "import atexit, os, sys"
    + WRONG
    + ("sys.excepthook = lambda *a: None\natexit.register(os._exit, 0)"),
}


@pytest.mark.parametrize("code", FAKES.values(), ids=FAKES.keys())
def test_cannot_fake_a_pass(code: str) -> None:
    _never_passes(code)


def test_infinite_loop_times_out() -> None:
    outcome = run_program("while True:\n    pass" + RIGHT, TESTS, limits=Limits(timeout_s=1.0))
    assert outcome.status == "timeout" and 1.0 <= outcome.duration_s < 3.0, outcome


BOMBS = {
    "fork_loop": ("import os\nwhile True:\n    os.fork()", None),
    "multiprocessing": ("import multiprocessing as mp\nfor _ in range(50):\n    mp.Process(target=id).start()", None),
    "bytearray": ("x = bytearray(10**10)", "memory"),
    "growing_list": ("x = []\nwhile True:\n    x.append(' ' * 10**6)", "memory"),
}


@pytest.mark.parametrize(("code", "status"), BOMBS.values(), ids=BOMBS.keys())
def test_bombs_are_contained(code: str, status: str | None) -> None:
    _never_passes(code + RIGHT, limits=SMALL, status=status)


def test_process_budget_is_exact_and_reaped() -> None:
    """max_processes=2 allows exactly two forks; the children (sleeping 30 s) die with the run."""
    if isolation() == "audit-only" and os.geteuid() == 0:
        pytest.skip("RLIMIT_NPROC does not bind root without the OS layer")
    code = (
        "import os, time\nmade = 0\nfor _ in range(5):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        "    made += 1"
    )
    outcome = run_program(code, ["assert made == 2, made"], limits=Limits(timeout_s=5.0, max_processes=2))
    assert outcome.passed and outcome.duration_s < 5.0, outcome


EXECS = {
    "subprocess_run": "import subprocess\nsubprocess.run(['ls'], check=True)",
    "os_system": "import os\nassert os.system('ls') == 0",
    "os_popen": "import os\nos.popen('ls').read()",
    "os_execv": "import os\nos.execv('/bin/ls', ['ls'])",
    "posix_spawn": "import os\nos.waitpid(os.posix_spawn('/bin/ls', ['ls'], {}), 0)",
    "signal_parent": "import os\nos.kill(os.getppid(), 0)",
    "ctypes": "import ctypes\nctypes.CDLL(None).system(b'ls')",
}


@pytest.mark.parametrize("code", EXECS.values(), ids=EXECS.keys())
def test_no_commands_or_signals(code: str) -> None:
    _never_passes(code + RIGHT, status="failed")


@pytest.fixture
def canaries(tmp_path: Path) -> Iterator[list[Path]]:
    """Canary files (and their directories) outside the sandbox: in a tmp dir and in the checkout itself."""
    in_repo = REPO_ROOT / f".sandbox-canary-{uuid.uuid4().hex}"
    files = [tmp_path / "canary-dir" / "canary.txt", in_repo / "canary.txt"]
    for path in files:
        path.parent.mkdir()
        path.write_text("alive")
    try:
        yield files
    finally:
        shutil.rmtree(in_repo, ignore_errors=True)


ATTACKS = {
    "os_remove": "import os\nos.remove({file!r})",
    "os_unlink_relative": "import os\nos.unlink(os.path.relpath({file!r}))",
    "shutil_rmtree": "import shutil\nshutil.rmtree({dir!r})",
    "os_rename": "import os\nos.rename({file!r}, {file!r} + '.moved')",
    "truncate_by_open": "open({file!r}, 'w').close()",
    "append": "open({file!r}, 'a').write('pwned')",
    "os_open_trunc": "import os\nos.close(os.open({file!r}, os.O_WRONLY | os.O_TRUNC))",
    "symlink_then_write": "import os\nos.symlink({file!r}, 'link')\nopen('link', 'w').write('pwned')",
    "chmod": "import os\nos.chmod({file!r}, 0)",
    "rm_via_shell": "import os\nassert os.system('rm -rf {dir}') == 0",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_files_outside_the_sandbox_are_untouchable(attack: str, canaries: list[Path]) -> None:
    for path in canaries:
        _never_passes(attack.format(file=str(path), dir=str(path.parent)) + RIGHT, status="failed")
        assert path.read_text() == "alive" and not Path(f"{path}.moved").exists()


def test_cannot_write_to_the_real_home() -> None:
    target = Path.home() / f".breakeven_canary_{uuid.uuid4().hex}"
    try:
        _never_passes(f"open({str(target)!r}, 'w').write('pwned')" + RIGHT, status="failed")
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_own_home_is_the_sandbox_and_writable() -> None:
    code = "import os\nwith open(os.path.expanduser('~/notes.txt'), 'w') as fh:\n    fh.write('ok')"
    outcome = run_program(code, ["assert open('notes.txt').read() == 'ok'"])
    assert outcome.passed, outcome


@pytest.mark.parametrize(
    "code",
    [
        "import os\nsecret = os.environ['BREAKEVEN_TEST_SECRET']",
        "import os\nsecret = open(f'/proc/{os.getppid()}/environ').read()\nassert 's3cr3t' in secret",
        f"source = open({str(REPO_ROOT / 'pyproject.toml')!r}).read()",
        f"import os\nfiles = os.listdir({str(REPO_ROOT)!r})",
    ],
    ids=["environ", "parent_proc_environ", "repo_file", "repo_listing"],
)
def test_secrets_and_repo_are_unreadable(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BREAKEVEN_TEST_SECRET", "s3cr3t")
    _never_passes(code + RIGHT, status="failed")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on 127.0.0.1 that must never see a connection."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server


CONNECTS = {
    "create_connection": "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')",
    "raw_socket": "import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))",
    "urllib": "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)",
    "dns": "import socket\nsocket.getaddrinfo('example.com', 80)",
}


@pytest.mark.parametrize("code", CONNECTS.values(), ids=CONNECTS.keys())
def test_no_network(code: str, listener: socket.socket) -> None:
    _never_passes(code.format(port=listener.getsockname()[1]) + RIGHT, status="failed")
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_output_flood_is_truncated() -> None:
    """200 MB of output neither crashes the run nor lands in the caller's memory; the verdict stands."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    flood = "for _ in range(200):\n    print('x' * 10**6)"
    assert run_program(flood + RIGHT, TESTS).passed
    _never_passes(flood + WRONG, status="failed")
    _never_passes("while True:\n    print('x' * 10**6)" + RIGHT, limits=Limits(timeout_s=1.0), status="timeout")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB


def test_file_size_is_capped() -> None:
    _never_passes(
        "open('big', 'wb').write(b'x' * 2_000_000)" + RIGHT, limits=Limits(max_file_bytes=1_000_000), status="failed"
    )


def test_host_unchanged(sandbox_root: Path, untracked_before: set[str]) -> None:
    """Last: after everything above, no new file in the checkout or $HOME, nothing left running."""
    assert _untracked() == untracked_before
    assert _sandbox_processes(sandbox_root) == []
    assert not list(Path.home().glob(".breakeven_canary_*"))
    assert not list(REPO_ROOT.glob(".sandbox-canary-*"))
