"""The sandbox that runs untrusted, model-written programs (MBPP candidates) against their asserts.

The kernel is the boundary (:mod:`.bwrap`: namespaces, a read-only root holding only the project's interpreter,
private tmpfs folders, :mod:`.seccomp`, rlimits, a wall timeout that kills the whole pid namespace); the
verdict is decided outside the candidate's process (:mod:`.judge`); :mod:`.bootstrap` is what runs inside;
:mod:`.runner` runs one program or a batch, and no program can fail the batch. Without kernel isolation a run
stops with :class:`IsolationUnavailable` unless the caller asks for ``isolation="unsafe-local"``.
"""

from breakeven.tasks.sandbox.judge import DETAIL_CHARS
from breakeven.tasks.sandbox.launch import MARKER
from breakeven.tasks.sandbox.runner import (
    ISOLATIONS,
    STATUSES,
    IsolationUnavailable,
    Limits,
    Outcome,
    kernel_launcher,
    launcher,
    run_many,
    run_program,
)

__all__ = [
    "DETAIL_CHARS",
    "ISOLATIONS",
    "MARKER",
    "STATUSES",
    "IsolationUnavailable",
    "Limits",
    "Outcome",
    "kernel_launcher",
    "launcher",
    "run_many",
    "run_program",
]
