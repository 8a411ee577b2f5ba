"""The DAG of the embedded default, the linter, and config errors that stop a run before any job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workflow_cli import planned_jobs, run_workflow

from breakeven import REPO_ROOT


def dry_run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return run_workflow(workdir, "-n", *args, timeout=300)


def test_default_dag_lists_the_whole_grid(tmp_path):
    result = dry_run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert planned_jobs(result.stdout + result.stderr) == {
        "fetch_model": 2,  # the stand-in model and the stand-in API's tiny random Llama
        "make_raw": 1,
        "prepare": 1,
        "train_subset": 2,
        "train": 2,
        "predict_local": 4,
        "predict_api": 2,
        "score": 6,
        "summarize": 1,
        "tco": 1,
        "figures": 1,
        "paper_tables": 1,
        "paper": 1,
        "all": 1,
    }


def test_smoke_config_writes_to_its_own_namespace(tmp_path):
    result = dry_run(tmp_path, "--configfile", str(REPO_ROOT / "config" / "smoke.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "results/smoke/metrics/support_email/smollm2-135m/lora_200/seed0.json" in out
    assert "results/default/" not in out and "report/paper.html" not in out.replace("results/smoke/report/", "")


def test_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "-s", str(REPO_ROOT / "Snakefile")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_wrong_type_stops_before_any_job(tmp_path):
    result = dry_run(tmp_path, "--config", "bootstrap={'n_resamples': 'many'}")
    assert result.returncode != 0
    assert "field 'bootstrap.n_resamples': 'many' is not of type 'integer'" in result.stdout + result.stderr
    assert "Job stats" not in result.stdout + result.stderr


def test_unknown_task_stops_before_any_job(tmp_path):
    result = dry_run(tmp_path, "--config", "tasks=['banking78']")
    assert result.returncode != 0
    assert "field 'tasks': unknown task 'banking78'" in result.stdout + result.stderr


def test_malformed_task_file_names_file_and_field(tmp_path):
    override = tmp_path / "bad.yaml"
    override.write_text("task_overrides:\n  support_email:\n    split: {train: 'seventy'}\n")
    result = dry_run(tmp_path, "--configfile", str(override))
    assert result.returncode != 0
    assert (
        "config/tasks/support_email.yaml (with config task_overrides): field 'split.train'"
        in result.stdout + result.stderr
    )


def test_all_seven_tasks_list_the_full_grid(tmp_path):
    tasks = "['support_email','banking77','ledgar','fpb','medmcqa','mbpp','cuad']"
    result = dry_run(tmp_path, "--config", f"tasks={tasks}", "data_mirror=/nonexistent/mirror")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert planned_jobs(result.stdout + result.stderr) == {
        "fetch_model": 2,
        "make_raw": 7,
        "prepare": 7,
        "train_subset": 14,
        "train": 14,
        "predict_local": 28,
        "predict_api": 14,
        "score": 42,
        "summarize": 1,
        "tco": 1,
        "figures": 1,
        "paper_tables": 1,
        "paper": 1,
        "all": 1,
    }
