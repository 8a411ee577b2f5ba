"""Assemble the paper: the template, its generated fragments and figures in one folder, then render."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from breakeven.report.render import Engine, render_paper

INCLUDE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")


def expand_includes(text: str, base: Path) -> str:
    """Inline Quarto ``{{< include path >}}`` shortcodes (pandoc has no shortcodes); a missing file raises."""

    def inline(match: re.Match) -> str:
        path = base / match.group(1)
        if not path.exists():
            raise FileNotFoundError(f"paper: included file {match.group(1)} not found in {base}")
        return path.read_text(encoding="utf-8").rstrip("\n")

    return INCLUDE.sub(inline, text)


def build_paper(template: Path, generated: Path, figures: list[Path], html_out: Path, pdf_out: Path) -> Engine:
    """Render ``template`` with ``_generated/`` fragments and ``figures/`` beside it."""
    html_out.parent.mkdir(parents=True, exist_ok=True)
    pdf_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="paper-") as tmp:
        build = Path(tmp)
        shutil.copytree(generated, build / "_generated")
        (build / "figures").mkdir()
        for figure in figures:
            shutil.copy2(figure, build / "figures" / figure.name)
        qmd = build / template.name
        qmd.write_text(expand_includes(template.read_text(encoding="utf-8"), build), encoding="utf-8")
        return render_paper(qmd, html_out, pdf_out)
