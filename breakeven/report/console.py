"""What the console says when a run ends: where the paper is and its headline finding, or which cell failed and
where its log is."""

from __future__ import annotations

import re
from pathlib import Path

BLOCK = r"(?P<rule>\w+):\n(?P<body>(?:[ \t]+.*\n?)+)"
JOB_BLOCK = re.compile(r"^(?:local)?rule " + BLOCK, re.M)
ERROR_BLOCK = re.compile(r"^Error in rule " + BLOCK, re.M)


def success_message(paper_dir: str, findings: Path) -> str:
    """The paper's paths and the findings paragraph (markdown emphasis removed), when the fragment is here."""
    if not Path(paper_dir, "paper.html").exists():
        return "Breakeven finished: the requested targets are built (the paper was not among them)."
    lines = [f"Breakeven finished. The paper: {paper_dir}/paper.html and {paper_dir}/paper.pdf"]
    if findings.exists():
        headline = re.sub(r"\*\*|`", "", findings.read_text(encoding="utf-8")).strip()
        lines += ["", "Headline:", *(f"  {line}" for line in headline.splitlines() if line.strip())]
    return "\n".join(lines)


def failure_message(snakemake_logs: list[str] | str | None) -> str:
    """One line per failed job from Snakemake's log (``onerror``'s ``log``: its path, a list of them in
    Snakemake 9): the rule, the cell (its wildcards) and the job's own log."""
    paths = [snakemake_logs] if isinstance(snakemake_logs, str) else list(snakemake_logs or [])
    snakemake_log = ", ".join(paths) or None
    text = "".join(Path(p).read_text(encoding="utf-8", errors="replace") for p in paths if Path(p).is_file())
    started = {fields.get("jobid"): fields for fields in map(_fields, JOB_BLOCK.finditer(text))}
    failures = []
    for match in ERROR_BLOCK.finditer(text):
        fields = _fields(match)
        cell = started.get(fields.get("jobid"), {}).get("wildcards", "no wildcards")
        log = fields.get("log", "no log").replace(" (check log file(s) for error details)", "")
        failures.append(f"  {match['rule']} [{cell}]\n    log: {log}")
    if not failures:
        return f"Breakeven failed; Snakemake's log: {snakemake_log}"
    return "\n".join(["Breakeven failed in:", *failures, f"Snakemake's log: {snakemake_log}"])


def _fields(block: re.Match) -> dict[str, str]:
    """The ``key: value`` lines of a job block of Snakemake's log (the job's start, or its error)."""
    pairs = (line.strip().partition(":") for line in block["body"].splitlines())
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}
