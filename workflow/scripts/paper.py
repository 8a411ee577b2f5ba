"""Assemble the paper from its template, the generated fragments and the figures, then render it."""

from pathlib import Path

from breakeven.report.paper import build_paper
from breakeven.runtime import log_to

log_to(snakemake.log[0])
engine = build_paper(
    template=Path(snakemake.input.template),
    generated=Path(snakemake.input.generated[0]),
    figures=[Path(p) for p in snakemake.input.figures],
    html_out=Path(snakemake.output.html),
    pdf_out=Path(snakemake.output.pdf),
)
print(f"rendered with {engine}")
