"""Pin each task's hub dataset to the commit its revision points at now, in place in the task config (the
comment on the line keeps the ref it came from and the date): ``python -m breakeven.data.pin [task ...]``
(all tasks with a hub source when none is named). Needs the network; a revision that is a commit stays."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from breakeven import REPO_ROOT
from breakeven.data.provenance import COMMIT, hub_repo, resolved_commit
from breakeven.jsonio import read_yaml

REVISION_LINE = re.compile(r"^(?P<lead>\s+revision:\s*)(?P<value>\S+)(?P<rest>.*)$", re.MULTILINE)


def pin_task(path: Path, resolve: Callable[[str, str], str] = resolved_commit) -> str | None:
    """Write the commit of a task config's hub revision into the file; returns it (None: no hub source)."""
    source = read_yaml(path)["source"]
    if source["kind"] != "dataset":
        return None
    revision = source.get("revision")
    if revision and COMMIT.fullmatch(revision):
        return revision
    commit = resolve(hub_repo(source), revision or "main")
    if not COMMIT.fullmatch(commit or ""):
        raise ValueError(f"{path}: the hub answered {commit!r} for {revision!r}, not a commit sha")
    text = path.read_text(encoding="utf-8")
    if len(REVISION_LINE.findall(text)) != 1:
        raise ValueError(f"{path}: expected one 'revision:' line under 'source' to rewrite")

    def pinned(match: re.Match) -> str:
        was = match["rest"].strip().lstrip("#").strip()
        return f"{match['lead']}{commit}   # {revision or 'main'} on {date.today().isoformat()}" + (
            f"; {was}" if was else ""
        )

    path.write_text(REVISION_LINE.sub(pinned, text), encoding="utf-8")
    return commit


def main(tasks: list[str], root: Path = REPO_ROOT) -> None:
    paths = [root / "config" / "tasks" / f"{t}.yaml" for t in tasks] or sorted(
        (root / "config" / "tasks").glob("*.yaml")
    )
    for path in paths:
        commit = pin_task(path)
        print(f"{path.stem}: {commit or 'no hub source'}")


if __name__ == "__main__":
    main(sys.argv[1:])
