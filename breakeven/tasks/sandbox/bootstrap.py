# breakeven-sandbox bootstrap: the program that runs inside the sandbox (stdlib only).
"""Started as ``python -I -S -B -u -c <this file> JOB_FD RESULT_FD``: read the job (JSON) from JOB_FD and close
it, set the resource limits, install the audit hook, run the candidate and the task's setup code, then run each
stage and write one JSON line per stage to RESULT_FD:

- a ``value`` stage (the left side of ``assert <expr> == <literal>``) reports the value of ``<expr>`` as plain
  data (:func:`encode`); the scorer compares it with the literal, which never enters this process;
- an ``assert`` stage (any other assert) reports ``ok`` when it raised nothing.

Nothing here is trusted by the scorer: once the candidate runs it can change anything in this process, so every
line is only the candidate's claim about its own values. The kernel (bubblewrap, seccomp, rlimits) is the
boundary; the audit hook is a second layer that turns the obvious attempts into clear errors.
"""

from __future__ import annotations

import json
import os
import resource
import sys

MAX_DEPTH = 100
SETUP_FAILED = 113
"""Exit code when the sandbox could not be set up (the runner reports it as a sandbox error)."""
BLOCKED_EVENTS = {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.Popen", "os.kill", "os.killpg"}
BLOCKED_PREFIXES = ("socket.", "ctypes.")


class Unrepresentable(Exception):
    """A value that is not plain data (builtin scalars and containers)."""


def encode(value: object, depth: int = 0) -> object:
    """``value`` as JSON-ready data, tagged so that the scorer rebuilds the same builtin types; subclasses of
    builtins (Counter, OrderedDict, namedtuple) become their builtin base, anything else is refused."""
    if depth > MAX_DEPTH:
        raise Unrepresentable(f"nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    for kind, tag in ((tuple, "tuple"), (frozenset, "frozenset"), (set, "set")):
        if isinstance(value, kind):
            return {tag: [encode(item, depth + 1) for item in value]}
    for kind, tag in ((bytes, "bytes"), (bytearray, "bytearray")):
        if isinstance(value, kind):
            return {tag: bytes(value).hex()}
    if isinstance(value, complex):
        return {"complex": [value.real, value.imag]}
    raise Unrepresentable(f"a {type(value).__name__} is not plain data")


def describe(err: BaseException) -> str:
    try:
        text = str(err)
        return f"{type(err).__name__}: {text}" if text else type(err).__name__
    except BaseException:
        return "unprintable exception"


def failure(err: BaseException) -> dict:
    return {"error": describe(err), "memory": isinstance(err, MemoryError)}


class Reporter:
    """Writes one JSON line per message to the result pipe, each at most ``max_bytes``."""

    def __init__(self, fd: int, max_bytes: int) -> None:
        self.fd, self.max_bytes = fd, max_bytes

    def __call__(self, message: dict) -> None:
        try:
            data = json.dumps(message).encode() + b"\n"
        except (ValueError, RecursionError) as err:  # e.g. an int past sys.get_int_max_str_digits()
            data = json.dumps({"stage": message.get("stage"), "error": f"unrepresentable: {describe(err)}"}).encode()
            data += b"\n"
        if len(data) > self.max_bytes:
            error = f"value too large ({len(data)} bytes > {self.max_bytes})"
            data = json.dumps({"stage": message.get("stage"), "error": error}).encode() + b"\n"
        while data:
            data = data[os.write(self.fd, data) :]


def set_limits(limits: dict[str, int]) -> None:
    """soft = hard, so the program cannot raise them again."""
    for name, value in limits.items():
        limit = getattr(resource, name)
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def install_audit_hook(may_fork: bool) -> None:
    blocked = BLOCKED_EVENTS | (set() if may_fork else {"os.fork", "os.forkpty"})

    def hook(event: str, args: tuple) -> None:
        if event in blocked or event.startswith(BLOCKED_PREFIXES):
            raise PermissionError(f"sandbox: {event} is not allowed")

    sys.addaudithook(hook)


def compile_job(job: dict, report: Reporter) -> tuple | None:
    """(candidate, setup, stages) as code objects; None (after reporting why) when one does not compile."""
    try:
        program = compile(job["code"], "<candidate>", "exec", dont_inherit=True)
    except BaseException as err:
        report({"syntax_error": describe(err)})
        return None
    try:
        setup = compile(job["setup"], "<setup>", "exec", dont_inherit=True)
        modes = {"value": "eval", "assert": "exec"}
        stages = [compile(s["source"], "<test>", modes[s["kind"]], dont_inherit=True) for s in job["stages"]]
    except BaseException as err:
        report({"sandbox_error": f"invalid setup or test: {describe(err)}"})
        return None
    return program, setup, stages


def run(job: dict, report: Reporter, exec=exec, eval=eval, BaseException=BaseException) -> None:
    """The candidate, its setup, then every stage; one message each (the scorer stops at the first failure).
    The builtins it calls are bound here, so replacing them in ``builtins`` does not reach the stages."""
    compiled = compile_job(job, report)
    if compiled is None:
        return
    program, setup, stages = compiled
    namespace = {"__name__": "candidate"}
    install_audit_hook(job["may_fork"])
    for label, code in (("candidate", program), ("setup", setup)):
        try:
            exec(code, namespace)
        except BaseException as err:
            report({"stage": label, **failure(err)})
            return
    for index, (stage, code) in enumerate(zip(job["stages"], stages)):
        try:
            result = eval(code, namespace)
            report(
                {"stage": index, "value": encode(result)} if stage["kind"] == "value" else {"stage": index, "ok": True}
            )
        except BaseException as err:
            report({"stage": index, **failure(err)})
    report({"done": True})


def main(job_fd: int, result_fd: int) -> None:
    try:
        with open(job_fd, "rb") as handle:
            job = json.loads(handle.read())
        set_limits(job["limits"])
    except BaseException as err:
        os.write(2, f"sandbox setup failed: {describe(err)}\n".encode())
        os._exit(SETUP_FAILED)
    run(job, Reporter(result_fd, job["max_value_bytes"]))
    os._exit(0)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
