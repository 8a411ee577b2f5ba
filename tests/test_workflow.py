"""The workflow end to end on the tiny random model: train -> predict -> score -> TCO -> paper, then the DAG's
rerun behaviour (nothing to do on a second run; one changed hyperparameter reruns only its cell)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import MIRROR
from workflow_cli import planned_jobs, run_workflow

from breakeven import REPO_ROOT
from breakeven.jsonio import read_json, read_jsonl, read_yaml

pytestmark = pytest.mark.slow

E2E_CONFIG = {
    "run": "e2e",
    "paper_dir": "paper",
    "models": ["tiny-random-llama"],
    "api_models": ["standin-tiny"],
    "conditions": {"lora_50": {"train_size": 8}, "lora_200": {"train_size": 16}},
    "task_overrides": {
        "support_email": {"test_sample_size": 12, "val_sample_size": 8, "fewshot_pool": 10, "max_new_tokens": 24}
    },
    "inference": {"batch_size": 4},
    "serving": {"max_concurrency": 2, "requests_per_level": 2, "seconds_per_level": 1},
    "bootstrap": {"n_resamples": 200},
    "hypotheses": [
        {**hypothesis, "worse_system": "standin-tiny"} if "worse_system" in hypothesis else hypothesis
        for hypothesis in read_yaml(REPO_ROOT / "config" / "config.yaml")["hypotheses"]
    ],
}


def snakemake(workdir: Path, *args: str, config: str = "e2e.yaml") -> subprocess.CompletedProcess:
    return run_workflow(workdir, "--configfile", str(workdir / config), *args)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("e2e")
    (workdir / "e2e.yaml").write_text(yaml.safe_dump(E2E_CONFIG))
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    console = result.stdout + result.stderr
    assert "Breakeven finished. The paper: paper/paper.html and paper/paper.pdf" in console
    assert "Headline:\n  On support_email, the best cell by the paired test is" in console
    assert "train tiny-random-llama · support_email · lora_50 · seed 0 (progress: logs/e2e/train/" in console
    return workdir


def test_outputs_of_every_stage(e2e):
    results = e2e / "results" / "e2e"
    metrics = sorted((results / "metrics" / "support_email" / "tiny-random-llama").glob("*/seed0.json"))
    assert sorted(p.parent.name for p in metrics) == ["base_val", "five_shot", "lora_200", "lora_50", "zero_shot"]
    cell = read_json(results / "metrics/support_email/tiny-random-llama/lora_200/seed0.json")
    assert cell["training"]["n_train"] == 16 and cell["training"]["steps"] == 4
    assert cell["run"]["n"] == 12 and len(cell["per_example"]) == 12
    five_shot = read_json(results / "metrics/support_email/tiny-random-llama/five_shot/seed0.json")
    assert five_shot["run"]["prefix_cache"]["hit_rate"] > 0.5  # the system prompt and the shots, prefilled once
    for estimate in cell["metrics"].values():
        assert estimate["ci_low"] <= estimate["value"] <= estimate["ci_high"]
    assert sum(cell["error_classes"].values()) == 12
    adapter = results / "adapters/tiny-random-llama/support_email/lora_200/seed0"
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0

    costs = pd.read_csv(results / "tco" / "costs.csv")
    assert set(costs["kind"]) == {"prompt", "lora", "api"}
    assert (costs["per_query"] > 0).all()
    # self-hosted cells priced at their serving capacity, held to the stand-in API's measured p95
    local = costs[costs["kind"] != "api"]
    assert set(local["serving_concurrency"]) <= {1, 2} and local["latency_slo_s"].notna().all()
    assert (
        set(local["latency_slo_source"]) == {"standin-tiny measured p95"}
        and local["eval_seconds_per_query"].gt(0).all()
    )
    tables = sorted((results / "serving" / "support_email" / "tiny-random-llama").glob("*/seed0.csv"))
    assert sorted(p.parent.name for p in tables) == ["five_shot", "lora_200", "lora_50", "zero_shot"]
    for path in tables:
        table = pd.read_csv(path)
        assert list(table["concurrency"]) == [1, 2] and table["requests"].between(table["concurrency"], 2).all()
        assert (table["latency_p50_s"] <= table["latency_p95_s"]).all() and (table["queries_per_s"] > 0).all()
    paired = pd.read_csv(results / "summary" / "paired.csv")
    assert len(paired) == 5 and paired["p_adjusted_bh"].between(0, 1).all()
    assert paired["reference_chosen_by"].str.startswith("the LoRA cell of tiny-random-llama with the lowest").all()
    sensitivity = pd.read_csv(results / "tco" / "sensitivity.csv")
    assert set(sensitivity["assumption"]) == {
        "API token price",
        "hardware hourly rate",
        "engineering hours",
        "utilisation",
    }
    assert (results / "figures" / "data_efficiency.png").stat().st_size > 10_000
    breakeven = pd.read_csv(results / "tco" / "breakeven.csv")
    assert len(breakeven) == 4 * 2 and (breakeven["api"] == "standin-tiny").all()  # against each API cell
    reference = breakeven[breakeven["api_reference"]]  # the stand-in is priced as cost.api_reference
    assert len(reference) == 4 and set(reference["api_condition"]) == {"five_shot"}
    finite = reference.dropna(subset=["breakeven_daily_volume"])
    assert (finite["ci_low"] <= finite["breakeven_daily_volume"]).all()
    assert (finite["breakeven_daily_volume"] <= finite["ci_high"]).all()
    local = costs[costs["kind"] != "api"]
    assert (local["selection_usd"] > 0).all()  # the gate's base_val cell is part of every local cell's fixed cost
    assert len(pd.read_csv(results / "tco" / "error_cost.csv")) > 1
    assert (results / "figures" / "error_cost.png").stat().st_size > 10_000

    html = (e2e / "paper" / "paper.html").read_text()
    assert "data:image/png;base64" in html and "lora_200" in html and "five_shot" in html
    assert "Paired bootstrap against the reference cell" in html
    assert "the configured API reference" in html and "Verdict:" in html and "Inputs of the cost model" in html
    assert "Base-model gate" in html and "No hyperparameter sweep was run" in html
    assert "Pre-registered hypotheses" in html and "H1" in html and "seeded resamples of the test" in html
    hypotheses = pd.read_csv(results / "summary" / "hypotheses.csv")
    assert set(hypotheses["hypothesis"]) == {"H1", "H2", "H3", "H4"}
    assert hypotheses.set_index("hypothesis").loc["H4", "system"] == "tiny-random-llama vs standin-tiny"
    assert set(hypotheses["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    significant = hypotheses["p_adjusted_bh"] < 0.05
    assert (hypotheses.loc[~significant, "verdict"] == "inconclusive").all()
    assert "verdict rests on the adjusted p" in html
    manifest = read_json(results / "run_manifest.json")
    assert len(manifest["git_commit"]) == 40 and manifest["packages"]["torch"] and manifest["prices_read_on"]
    assert "Serving capacity: throughput against p95 latency" in html and "latency target" in html
    for figure in ("metric_ci", "latency", "capacity"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 10_000
    selection = read_json(results / "baseline/support_email/selection.json")
    assert selection["primary"] == "tiny-random-llama" and selection["decision"] == "full_pipeline"
    assert not selection["gated"] and selection["candidates"][0]["pass_rate"]["n"] == 8
    document = (results / "baseline" / "base-model-evaluation.md").read_text()
    assert "## support_email" in document and "**Next steps:**" in document
    assert "standin-tiny (stand-in)" in html and "a stand-in, not a frontier model" in html
    assert (e2e / "paper" / "paper.pdf").read_bytes().startswith(b"%PDF")
    for log in ("train/support_email/tiny-random-llama/lora_200/seed0.log", "paper.log"):
        assert (e2e / "logs" / "e2e" / log).exists()


def test_api_cells_through_the_standin(e2e):
    """The stand-in API cells: same rows as local cells plus measured cost, priced as gpt-5.4-mini, and the TCO
    uses their measured cost instead of the estimate."""
    results = e2e / "results" / "e2e"
    for condition in ("zero_shot", "five_shot"):
        rows = read_jsonl(results / f"predictions/support_email/standin-tiny/{condition}/seed0.jsonl")
        assert len(rows) == 12 and all(r["cost_usd"] > 0 and r["model_version"] for r in rows)
        cell = read_json(results / f"metrics/support_email/standin-tiny/{condition}/seed0.json")
        assert cell["kind"] == "api" and cell["run"]["standin"] and cell["run"]["failed"] == 0
        assert cell["usage"]["cost_usd_mean"] == pytest.approx(sum(r["cost_usd"] for r in rows) / 12)
    costs = pd.read_csv(results / "tco" / "costs.csv")
    api = costs[costs["kind"] == "api"]
    assert set(api["deployment"]) == {"api stand-in (measured usage, priced as gpt-5.4-mini)"}
    assert len(api) == 2 and api["value"].notna().all()
    assert list((e2e / "results" / "cache" / "api").rglob("*.json"))


def test_report_zip(e2e):
    """Snakemake's own report builds from the run, grouped by stage with captions, the paper first."""
    result = snakemake(e2e, "--report", "report.zip")
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(e2e / "report.zip") as archive:
        names = archive.namelist()
        page = archive.read(next(n for n in names if n.endswith("report.html"))).decode()
    for produced in ("paper.html", "accuracy_vs_cost.png", "tco.png", "breakeven.csv", "paired.csv"):
        assert any(n.endswith(produced) for n in names), produced
    for category in ("1. Findings", "2. Accuracy", "3. Cost", "4. Latency", "5. Base-model gate"):
        assert category in page
    assert "Start with" in page and "daily volume from which each self-hosted cell" in page


def test_second_run_has_nothing_to_do(e2e):
    result = snakemake(e2e, "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize("change", [{"lora": {"r": 2}}, {"instructions": False}], ids=["hyperparameter", "prompt"])
def test_changing_one_condition_reruns_only_its_cell(e2e, change):
    changed = dict(E2E_CONFIG, conditions={"lora_50": {"train_size": 8, **change}, "lora_200": {"train_size": 16}})
    (e2e / "changed.yaml").write_text(yaml.safe_dump(changed))
    result = snakemake(e2e, "-n", config="changed.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    assert jobs == {
        "train": 1,
        "predict_local": 1,
        "capacity": 1,
        "score": 1,
        "summarize": 1,
        "tco": 1,
        "figures": 1,
        "run_manifest": 1,
        "paper_tables": 1,
        "paper": 1,
        "all": 1,
    }
    assert "lora_50" in result.stdout + result.stderr
    assert "condition=lora_200" not in result.stdout + result.stderr


@pytest.mark.skipif(not (MIRROR / "banking77").exists(), reason=f"no BANKING77 mirror at {MIRROR}")
def test_banking77_from_the_mirror_reaches_the_paper(tmp_path):
    config = dict(
        E2E_CONFIG,
        run="banking",
        tasks=["banking77"],
        data_mirror=str(MIRROR),
        task_overrides={
            "banking77": {
                "test_sample_size": 16,
                "val_sample_size": 8,
                "fewshot_pool": 10,
                "max_new_tokens": 8,
                "max_seq_length": 4096,
            }
        },
    )  # the tiny tokenizer spends many tokens on the 77 labels
    (tmp_path / "e2e.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path)
    assert result.returncode == 0, result.stderr[-5000:]
    manifest = read_json(tmp_path / "results/banking/prepared/banking77/manifest.json")
    assert manifest["raw_rows"] == 10003 + 3080 and len(manifest["labels"]) == 77
    assert manifest["counts"]["test"] == 16
    cells = pd.read_csv(tmp_path / "results/banking/summary/cells.csv")
    assert set(cells["task"]) == {"banking77"} and set(cells["primary_metric"]) == {"weighted_f1"}
    html = (tmp_path / "paper" / "paper.html").read_text()
    assert "banking77: test-set results" in html and "weighted_f1" in html


SWEEP = {"enabled": True, "train_size": 8, "val_examples": 8, "grid": {"r": [2, 4], "learning_rate": [1e-3, 3e-3]}}


def test_gate_skips_lora_cells_then_the_sweep_feeds_the_final_cells(tmp_path):
    """Constructed thresholds make the gate say "deploy": no LoRA job runs. With the gate off, the 2x2 sweep
    runs on the val slice, the final cells train with its choice, and a wider grid reruns only what depends on
    the sweep."""
    gated = dict(E2E_CONFIG, sweep=SWEEP, base_selection={"gate": True, "sufficient": 0.0, "fine_tune": 0.0})
    (tmp_path / "gated.yaml").write_text(yaml.safe_dump(gated))
    result = snakemake(tmp_path, config="gated.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    results = tmp_path / "results" / "e2e"
    assert read_json(results / "baseline/support_email/selection.json")["gated"]
    assert not (results / "adapters").exists() and not (results / "sweep").exists()
    assert "The gate skipped the LoRA cells of support_email" in (tmp_path / "paper" / "paper.html").read_text()

    swept = dict(E2E_CONFIG, sweep=SWEEP)
    (tmp_path / "swept.yaml").write_text(yaml.safe_dump(swept))
    result = snakemake(tmp_path, config="swept.yaml")
    assert result.returncode == 0, result.stderr[-5000:]
    choice = read_json(results / "sweep/tiny-random-llama/support_email/choice.json")
    table = pd.read_csv(results / "sweep/tiny-random-llama/support_email/sweep.csv")
    assert len(table) == 4 and set(table["n_val"]) == {8} and table["point"].iloc[0] == choice["point"]
    for condition in ("lora_50", "lora_200"):
        info = read_json(results / f"adapters/tiny-random-llama/support_email/{condition}/seed0/train_info.json")
        assert info["sweep_choice"] == choice["point"]
        assert {key: info["lora"][key] for key in choice["chosen"]} == choice["chosen"]
    assert "Sweep, tiny-random-llama on support_email" in (tmp_path / "paper" / "paper.html").read_text()
    # the LoRA cells' fixed cost counts the 4 sweep points (training + val scoring) and the gate's val cell
    owed = [read_json(p) for p in (results / "metrics/support_email/tiny-random-llama").glob("*/seed0.json")]
    hours = sum(
        c["run"]["wall_s"] / 3600 + (c["training"] or {}).get("device_hours", 0.0)
        for c in owed
        if c["condition"].startswith("sweep_") or c["condition"] == "base_val"
    )
    costs = pd.read_csv(results / "tco" / "costs.csv").set_index("condition")
    assert costs.loc["lora_50", "selection_usd"] == pytest.approx(hours * costs.loc["lora_50", "hourly_usd"])

    wider = dict(swept, sweep=dict(SWEEP, grid={"r": [2, 4, 8], "learning_rate": [1e-3, 3e-3]}))
    (tmp_path / "wider.yaml").write_text(yaml.safe_dump(wider))
    result = snakemake(tmp_path, "-n", config="wider.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    # two new points + the two final cells that depend on the choice; prompt cells and old points stay
    assert jobs["train"] == 4 and jobs["predict_local"] == 4 and jobs["sweep_select"] == 1
    assert "condition=zero_shot" not in result.stdout and "condition=base_val" not in result.stdout
