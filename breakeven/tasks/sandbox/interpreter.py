"""The project's own interpreter as the sandbox sees it: the real executable behind the venv's ``python``, its
standard library and the shared libraries they load, nothing else (no site-packages, no venv, no repository)."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import cache

PYTHON_FLAGS = ("-I", "-S", "-B", "-u")
"""Isolated mode (no environment variables, no user site), no site module, no .pyc writes, unbuffered."""


@dataclass(frozen=True)
class Interpreter:
    executable: str
    stdlib: str
    files: tuple[str, ...]
    """Everything the sandbox binds read-only: the executable, the stdlib folder, the shared libraries."""

    @property
    def hidden(self) -> str:
        """The base installation's site-packages inside the stdlib folder, covered by an empty folder."""
        return os.path.join(self.stdlib, "site-packages")


@cache
def interpreter() -> Interpreter:
    """This process's interpreter (``sys.executable`` with symlinks resolved, so the venv's python is the same
    binary) and what it needs to start and import any stdlib module."""
    executable = os.path.realpath(sys.executable)
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    extensions = sorted(glob.glob(os.path.join(stdlib, "lib-dynload", "*.so")))
    libraries = shared_libraries([executable, *extensions])
    return Interpreter(executable, stdlib, tuple(dict.fromkeys([executable, stdlib, *libraries])))


def shared_libraries(objects: list[str]) -> list[str]:
    """The shared libraries (and the dynamic loader) that ``ldd`` resolves for `objects`; empty where ldd is
    missing (the sandbox's start-up probe then names what failed to load)."""
    try:
        listing = subprocess.run(["ldd", *objects], capture_output=True, text=True, check=False, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({os.path.abspath(path) for path in re.findall(r"(/\S+) \(0x[0-9a-f]+\)", listing)})
