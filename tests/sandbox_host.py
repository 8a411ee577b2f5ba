"""Host-side checks for the sandbox tests: what a sandboxed program must never leave or change on the host."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from breakeven import REPO_ROOT
from breakeven.tasks.sandbox import MARKER, IsolationUnavailable, kernel_launcher
from breakeven.tasks.sandbox.bwrap import uids_used

WATCHED = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.home(), REPO_ROOT]
"""Folders whose listings must not gain anything of a sandbox (other sessions on a shared machine write to
/tmp and $HOME meanwhile, so new entries count when they carry the test's token or a sandbox uid)."""


def require_kernel_isolation() -> None:
    """Skip, saying why, where bubblewrap cannot run here (the message names what is missing)."""
    try:
        kernel_launcher()
    except IsolationUnavailable as err:
        pytest.skip(str(err))


def untracked() -> set[str]:
    """Untracked files of the checkout (`git status --porcelain`)."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout
    return {line for line in status.splitlines() if line.startswith("??")}


def _listing(folder: Path) -> dict[str, int]:
    """{name: owner uid} of a folder's entries (empty when it cannot be read)."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name: entry.stat(follow_symlinks=False).st_uid for entry in entries}
    except OSError:
        return {}


def _descendants(root: int) -> set[int]:
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            parents[int(pid)] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def leftover_pids() -> list[int]:
    """Live processes of a fresh uid this process handed out."""
    used, found = uids_used(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0]) in used:
                found.append(int(pid))
        except (OSError, IndexError):
            continue
    return found


def leftover_processes() -> list[str]:
    """Live processes of this test session's sandboxes: any process of a fresh uid this process handed out,
    or a descendant of this process that carries the sandbox marker in its command line."""
    used, mine, found = uids_used(), _descendants(os.getpid()), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = Path(f"/proc/{pid}/status").read_text().split("\nUid:")[1].split()[0]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(uid) in used or (int(pid) in mine and MARKER.encode() in cmdline):
            found.append(f"{pid} uid={uid} {cmdline[:80]!r}")
    return found


def sandbox_sockets() -> list[str]:
    """Host sockets (TCP/UDP, v4/v6) owned by a fresh uid of this session."""
    used, found = uids_used(), []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        try:
            rows = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        found += [f"{table}: {row.strip()}" for row in rows if int(row.split()[7]) in used]
    return found


@dataclass
class HostState:
    """What the host looked like before a program ran; :meth:`check` asserts nothing of it changed."""

    token: str
    canaries: dict[Path, bytes]
    listings: dict[Path, dict[str, int]] = field(default_factory=dict)
    repo_untracked: set[str] = field(default_factory=set)

    @classmethod
    def take(cls, token: str, canaries: dict[Path, bytes]) -> HostState:
        return cls(token, canaries, {folder: _listing(folder) for folder in WATCHED}, untracked())

    def check(self) -> None:
        for path, content in self.canaries.items():
            assert path.read_bytes() == content, f"canary {path} changed"
        for folder, before in self.listings.items():
            new = {name: uid for name, uid in _listing(folder).items() if name not in before}
            bad = [name for name, uid in new.items() if self.token in name or uid in uids_used() or uid == 65534]
            assert bad == [], f"{folder} gained {bad}"
        assert untracked() == self.repo_untracked
        assert leftover_processes() == []
        assert sandbox_sockets() == []
