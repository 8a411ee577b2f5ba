"""The console at the end of a run: a failed job is named with its cell and log; success names the paper."""

from __future__ import annotations

from pathlib import Path

from workflow_cli import run_workflow

from breakeven.report.console import success_message


def test_console_names_the_failed_cell_and_its_log(tmp_path):
    """A real failure through the real Snakefile: BANKING77 from a mirror folder that does not exist."""
    result = run_workflow(
        tmp_path,
        "--config",
        "tasks=['banking77']",
        f"data_mirror={tmp_path / 'no-such-mirror'}",
        "--until",
        "make_raw",
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Breakeven failed in:\n  make_raw [task=banking77]\n    log: logs/make_raw/banking77.log" in out
    assert "Snakemake's log: " in out and ".snakemake/log/" in out


def test_console_success_names_the_paper_and_headline(tmp_path):
    findings = tmp_path / "findings.md"
    findings.write_text("On **support_email**, the best cell is `smollm2` · lora_200.\n\nSecond task.\n")
    assert "the paper was not among them" in success_message(str(tmp_path), findings)
    (tmp_path / "paper.html").write_text("<html></html>")
    message = success_message(str(tmp_path), findings)
    assert f"The paper: {tmp_path}/paper.html and {tmp_path}/paper.pdf" in message
    assert "Headline:\n  On support_email, the best cell is smollm2 · lora_200.\n  Second task." in message
    assert "Headline" not in success_message(str(tmp_path), Path(tmp_path / "absent.md"))
