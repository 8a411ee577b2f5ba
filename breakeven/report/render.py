"""Render the paper, a Quarto markdown (.qmd) file, to self-contained HTML and to PDF.

If ``quarto`` is on PATH it renders both outputs. Otherwise the pandoc binary bundled
with pypandoc writes the HTML and a typst source, which the ``typst`` package compiles
to PDF.

The qmd stays within a subset that both engines render alike:

- YAML front matter: ``title``, ``subtitle``, ``author``, ``date``, ``abstract``; a
  ``format:`` block is read by Quarto and ignored by pandoc;
- headings, paragraphs, bullet lists, inline code, bold and italics;
- pipe tables (up to about 10 columns) followed by a ``: caption`` line;
- images ``![caption](figures/x.png){width=90%}``, with paths relative to the qmd's
  folder and inside it.

No code cells, shortcodes, cross-references or math.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Literal

import pypandoc
import typst

Engine = Literal["quarto", "pandoc+typst"]

# Pandoc gives pipe tables relative column widths (from the dashes) when a source line is
# longer than --columns; a large value keeps the widths automatic.
_PANDOC_COMMON = ["--from=markdown", "--standalone", "--columns=10000"]

_HTML_STYLE = """<style>
body { max-width: 60em; }
table { border-collapse: collapse; margin: 1em auto; }
th, td { border: 1px solid #999; padding: 0.25em 0.6em; }
img { max-width: 100%; height: auto; }
</style>
"""

# Small, ragged, hyphenated text and ruled cells keep tables of ~10 numeric columns legible
# within the page width; cells at pandoc's default alignment go left rather than centred.
_TYPST_STYLE = """#set table(stroke: 0.5pt + luma(120), inset: (x: 4pt, y: 3pt))
#show table: set text(size: 8pt, hyphenate: true)
#show table: set par(justify: false)
#show table.cell: set align(left)
"""


def render_paper(
    qmd: Path,
    html_out: Path,
    pdf_out: Path,
    *,
    engine: Engine | None = None,
    keep_source: Path | None = None,
) -> Engine:
    """Render ``qmd`` to ``html_out`` and ``pdf_out``; return the engine used.

    ``engine`` defaults to quarto when it is on PATH, else pandoc+typst. When
    ``keep_source`` is given, the intermediate typst source is written there.
    Raises RuntimeError naming the qmd and the engine if rendering fails.
    """
    chosen: Engine = engine or ("quarto" if shutil.which("quarto") else "pandoc+typst")
    qmd = qmd.resolve()
    for out in (html_out, pdf_out, keep_source):
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "quarto":
        _render_quarto(qmd, html_out, pdf_out, keep_source)
    else:
        _render_pandoc_typst(qmd, html_out, pdf_out, keep_source)
    return chosen


def _failure(qmd: Path, engine: Engine, detail: str) -> RuntimeError:
    """Build the error raised when ``engine`` cannot render ``qmd``."""
    return RuntimeError(f"{engine} failed to render {qmd}:\n{detail.strip()}")


def _render_quarto(qmd: Path, html_out: Path, pdf_out: Path, keep_source: Path | None) -> None:
    """Render with ``quarto render`` next to the qmd, then move the outputs."""
    _quarto(qmd, "--to", "html", "--embed-resources")
    shutil.move(qmd.with_suffix(".html"), html_out)
    keep = ["-M", "keep-typ:true"] if keep_source is not None else []
    _quarto(qmd, "--to", "typst", *keep)
    shutil.move(qmd.with_suffix(".pdf"), pdf_out)
    if keep_source is not None:
        shutil.move(qmd.with_suffix(".typ"), keep_source)


def _quarto(qmd: Path, *args: str) -> None:
    """Run ``quarto render`` on ``qmd`` with ``args``."""
    cmd = ["quarto", "render", qmd.name, *args]
    proc = subprocess.run(cmd, cwd=qmd.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        raise _failure(qmd, "quarto", proc.stderr)


def _render_pandoc_typst(qmd: Path, html_out: Path, pdf_out: Path, keep_source: Path | None) -> None:
    """Render HTML with pandoc, and PDF with pandoc's typst output and the typst package.

    Everything is produced in memory; the outputs are written only once both succeed.
    """
    html = _pandoc(qmd, "--to=html5", "--embed-resources", f"-Vheader-includes={_HTML_STYLE}")
    source = _pandoc(qmd, "--to=typst", f"-Vheader-includes={_TYPST_STYLE}")
    if keep_source is not None:
        keep_source.write_text(source, encoding="utf-8")
    try:
        # Compiled from memory, the source resolves image paths against ``root``; only
        # typst's embedded fonts are used, so the PDF does not depend on the machine.
        pdf = typst.compile(source.encode(), root=str(qmd.parent), ignore_system_fonts=True)
    except typst.TypstError as err:
        raise _failure(qmd, "pandoc+typst", f"typst: {err}") from err
    html_out.write_text(html, encoding="utf-8")
    pdf_out.write_bytes(pdf)


def _pandoc(qmd: Path, *args: str) -> str:
    """Run the bundled pandoc on ``qmd`` and return its output.

    Pandoc only warns when an image cannot be fetched; that is treated as an error.
    """
    resources = f"--resource-path={qmd.parent}"
    cmd = [pypandoc.get_pandoc_path(), str(qmd), *_PANDOC_COMMON, resources, *args]
    proc = subprocess.run(cmd, capture_output=True, encoding="utf-8")
    if proc.returncode != 0 or "Could not fetch resource" in proc.stderr:
        raise _failure(qmd, "pandoc+typst", f"pandoc: {proc.stderr}")
    return proc.stdout
