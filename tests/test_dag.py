"""The DAG of the embedded default, the linter, and config errors that stop a run before any job."""

from __future__ import annotations

import re
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
        "fetch_model": 1,  # the stand-in model, which the stand-in API serves too
        "make_raw": 1,
        "prepare": 1,
        "train_subset": 2,
        "eval_slice": 1,
        "train": 2,
        "predict_local": 5,
        "capacity": 4,  # every local cell of the grid (not the gate's val cell)
        "predict_api": 2,
        "score": 7,
        "select_base": 1,
        "base_model_report": 1,
        "summarize": 1,
        "tco": 1,
        "figures": 1,
        "run_manifest": 1,
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


def test_fixed_cost_counts_sweep_and_gate_cells_in_the_tco_inputs(tmp_path):
    """The tco job reads the gate's val cells and every sweep point's cell (the training runs the decision took),
    and every test cell's metrics (their per-example scores, latency and tokens feed the break-even interval)."""
    result = dry_run(tmp_path, "--configfile", str(REPO_ROOT / "config" / "smoke.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    tco = (result.stdout + result.stderr).split("rule tco:")[1].split("output:")[0]
    metrics = "results/smoke/metrics/support_email/smollm2-135m"
    for condition in ("base_val", "sweep_r-8_learning_rate-0.0001", "sweep_r-16_learning_rate-0.0003", "lora_200"):
        assert f"{metrics}/{condition}/seed0.json" in tco
    assert "results/smoke/metrics/support_email/standin-api/five_shot/seed0.json" in tco


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
        "fetch_model": 1,
        "make_raw": 7,
        "prepare": 7,
        "train_subset": 14,
        "eval_slice": 7,
        "train": 14,
        "predict_local": 35,
        "capacity": 28,
        "predict_api": 14,
        "score": 49,
        "select_base": 7,
        "base_model_report": 1,
        "summarize": 1,
        "tco": 1,
        "figures": 1,
        "run_manifest": 1,
        "paper_tables": 1,
        "paper": 1,
        "all": 1,
    }


def test_production_grid(tmp_path):
    """config/production.yaml: 3 open models x 7 tasks x (2 prompt + 2 LoRA x 3 seeds) cells, on its own, plus
    the base-model gate (one val cell per model and task) and the 3 x 2 sweep (one cell per point)."""
    production = str(REPO_ROOT / "config" / "production.yaml")
    result = dry_run(tmp_path, "--configfile", production, "--replace-workflow-config")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs["fetch_model"] == 3 and jobs["make_raw"] == 7 and jobs["prepare"] == 7
    sweep = 3 * 7 * 6
    assert jobs["train"] == 3 * 7 * 2 * 3 + sweep
    # the grid's cells through each base model's shared engine; the gate's and the sweep's with their own
    assert jobs["engine"] == 3 and jobs["predict_served"] == jobs["capacity_served"] == 3 * 7 * (2 + 2 * 3)
    assert jobs["predict_local"] == 3 * 7 + sweep and "capacity" not in jobs
    assert jobs["predict_api"] == 2 * 7 * 2
    assert jobs["score"] == jobs["predict_local"] + jobs["predict_served"] + jobs["predict_api"]
    assert jobs["select_base"] == 7 and jobs["sweep_select"] == 3 * 7
    assert "/lora_50/" not in result.stdout and "/lora_200/" not in result.stdout  # the demo config is replaced
    assert "results/production/metrics/cuad/qwen3-8b/lora_full/seed2.json" in result.stdout
    overlay = str(REPO_ROOT / "config" / "per-job-engines.yaml")
    per_job = dry_run(tmp_path, "--configfile", production, overlay, "--replace-workflow-config")
    jobs = planned_jobs(per_job.stdout + per_job.stderr)  # the Slurm overlay: an engine per job, no service
    assert "engine" not in jobs and jobs["capacity"] == 3 * 7 * (2 + 2 * 3)
    assert jobs["predict_local"] == 3 * 7 * (2 + 2 * 3) + 3 * 7 + sweep


def test_vllm_grid_has_one_engine_per_base_model_in_a_group_with_its_cells(tmp_path):
    """inference.backend vllm: one engine (service) job per base model; the grid's predict and capacity jobs of
    that model are its consumers, in its group; the gate's val cell keeps an engine of its own."""
    override = tmp_path / "vllm.yaml"
    override.write_text("models: [smollm2-135m, tiny-random-llama]\ninference: {backend: vllm}\n")
    result = dry_run(tmp_path, "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    jobs = planned_jobs(out)
    assert jobs["engine"] == 2 and jobs["predict_served"] == jobs["capacity_served"] == 2 * 4
    assert jobs["predict_local"] == 2 and "capacity" not in jobs  # base_val, one per model
    groups = sorted(re.findall(r"Group job (engine_\S+) ", out))
    assert groups == ["engine_smollm2-135m", "engine_tiny-random-llama"]
    (tmp_path / "own.yaml").write_text("serving: {shared_engine: false}\n")
    off = dry_run(tmp_path, "--configfile", str(override), str(tmp_path / "own.yaml"))
    jobs = planned_jobs(off.stdout + off.stderr)
    assert "engine" not in jobs and jobs["predict_local"] == 2 * 5 and jobs["capacity"] == 2 * 4


def test_gated_vllm_grid_plans_the_gates_test_cell_with_its_own_engine(tmp_path):
    """With the gate on, the engine's adapters wait for the gate's decision, which reads the zero-shot test cell:
    served by the shared engine, that cell was planned without one and waited for it until engine_timeout_s. It
    starts its own engine, as the gate's val cell does; the other cells follow the gate (tests/test_vllm.py)."""
    override = tmp_path / "gated.yaml"
    override.write_text("inference: {backend: vllm}\nbase_selection: {gate: true}\n")
    result = dry_run(tmp_path, "--configfile", str(override))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    jobs = planned_jobs(out)
    assert "predict_served" not in jobs and "engine" not in jobs
    assert jobs["predict_local"] == 2  # the gate's base_val and its zero-shot test cell
    assert "predict smollm2-135m · support_email · zero_shot · seed 0 (progress" in out
