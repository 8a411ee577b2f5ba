"""Tests for breakeven.report.render (pandoc+typst engine; quarto is not exercised)."""

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import typst
from PIL import Image

from breakeven.report import render
from breakeven.report.render import render_paper

TITLE = "Breakeven Render Test"
CELLS = ["101.25", "202.5", "303.75", "0.0421", "12345", "98.76"]

FRONT_MATTER = f"""---
title: "{TITLE}"
author: "Ada Lovelace"
date: "2025-01-31"
abstract: |
  A **short** abstract.
format:
  html:
    embed-resources: true
  typst: {{}}
---
"""

BODY = f"""
# Results

Speed-ups with `inline code`, **bold** and *italics*.

- first point
- second point

| Model | Tokens/s | Cost | Ratio | Break-even | Score |
|-------|---------:|-----:|------:|-----------:|------:|
| a | {" | ".join(CELLS[:5])} |
| b | 1.5 | 2.5 | 3.5 | 4.5 | {CELLS[5]} |

: Throughput per model.

![Break-even curve.](figures/curve.png){{width=90%}}
"""

WIDE_TABLE = """
| Configuration name | Parameters | Tokens per s | Cost per 1k | Break-even tokens | Speed-up | Memory GB | Latency ms | Energy J | Score |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| distilled-small-v2-quantised | 1300000000 | 512.3047 | 0.003127 | 225000000 | 4.1532 | 3.1047 | 3.2106 | 321.9048 | 0.79012 |
| baseline-large-unquantised | 7000000000 | 123.4512 | 0.012345 | 1500000000 | 1.0000 | 14.2031 | 12.3407 | 1234.5012 | 0.81234 |

: A ten-column table.
"""


def _write_paper(folder: Path, body: str) -> Path:
    """Write a qmd with ``body`` and a matplotlib figure into ``folder``."""
    (folder / "figures").mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([1, 2, 3], [3, 1, 2], label="cost")
    ax.set_xlabel("tokens (millions)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "figures" / "curve.png", dpi=100)
    plt.close(fig)
    qmd = folder / "paper.qmd"
    qmd.write_text(FRONT_MATTER + body)
    return qmd


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, Path]:
    """Render the test paper with pandoc+typst, keeping the typst source."""
    qmd = _write_paper(tmp_path / "paper", BODY)
    out = tmp_path / "out"
    paths = {"qmd": qmd, "html": out / "p.html", "pdf": out / "p.pdf", "typ": out / "p.typ"}
    engine = render_paper(qmd, paths["html"], paths["pdf"], engine="pandoc+typst", keep_source=paths["typ"])
    assert engine == "pandoc+typst"
    return paths


def test_html_is_self_contained(rendered: dict[str, Path]) -> None:
    html = rendered["html"].read_text()
    assert TITLE in html
    assert "<table" in html
    for cell in CELLS:
        assert f">{cell}<" in html
    assert "Throughput per model." in html
    assert "data:image/png;base64," in html
    assert "figures/curve.png" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_pdf_has_pages(rendered: dict[str, Path]) -> None:
    pdf = rendered["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1


def test_typst_source_has_content(rendered: dict[str, Path]) -> None:
    source = rendered["typ"].read_text()
    assert f"title: [{TITLE}]" in source
    assert "#table(" in source and "Throughput per model." in source
    assert all(f"[{cell}]" in source for cell in CELLS)
    assert 'image("figures/curve.png", width: 90.0%)' in source


def test_no_intermediates_next_to_qmd(rendered: dict[str, Path]) -> None:
    files = {p.relative_to(rendered["qmd"].parent) for p in rendered["qmd"].parent.rglob("*")}
    assert files == {Path("paper.qmd"), Path("figures"), Path("figures/curve.png")}


def test_default_engine_without_quarto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    qmd = _write_paper(tmp_path, BODY)
    assert render_paper(qmd, tmp_path / "p.html", tmp_path / "p.pdf") == "pandoc+typst"


def test_missing_image_raises(tmp_path: Path) -> None:
    qmd = _write_paper(tmp_path, BODY.replace("curve.png", "missing.png"))
    with pytest.raises(RuntimeError, match=r"pandoc\+typst failed to render .*paper\.qmd"):
        render_paper(qmd, tmp_path / "p.html", tmp_path / "p.pdf", engine="pandoc+typst")
    assert not (tmp_path / "p.html").exists() and not (tmp_path / "p.pdf").exists()


def test_wide_table_fits_page(tmp_path: Path) -> None:
    qmd = _write_paper(tmp_path, WIDE_TABLE)
    source = tmp_path / "p.typ"
    render_paper(qmd, tmp_path / "p.html", tmp_path / "p.pdf", engine="pandoc+typst", keep_source=source)
    assert "columns: 10," in source.read_text(), "column widths should be automatic"
    png = tmp_path / "page-{p}.png"
    typst.compile(source.read_bytes(), output=str(png), root=str(tmp_path), format="png")
    page = Image.open(tmp_path / "page-1.png").convert("L")
    margin = page.crop((page.width * 92 // 100, 0, page.width, page.height))
    assert margin.getextrema() == (255, 255), "table runs into the right margin"


def test_pdf_page_image(rendered: dict[str, Path]) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed")
    prefix = rendered["pdf"].with_name("page")
    cmd = ["pdftoppm", "-png", "-r", "80", "-singlefile", str(rendered["pdf"]), str(prefix)]
    subprocess.run(cmd, check=True)
    assert Image.open(prefix.with_suffix(".png")).size[0] > 500
