"""A LoRA condition with ``instructions: false`` trains and is asked without the task's system prompt; every other
cell keeps it."""

from __future__ import annotations

import pytest

from breakeven import REPO_ROOT
from breakeven.config import ConfigError, Project, deep_merge
from breakeven.data.sources import load_synthetic
from breakeven.infer.job import cell_requests
from breakeven.jsonio import read_yaml, write_json, write_jsonl
from breakeven.report.fragments import setup_text
from breakeven.tasks import build_task
from breakeven.train.job import conversations


@pytest.fixture(scope="module")
def project() -> Project:
    config = deep_merge(
        read_yaml(REPO_ROOT / "config" / "config.yaml"),
        {"conditions": {"lora_200": {"kind": "lora", "train_size": 200, "instructions": False}}},
    )
    return Project(config)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_synthetic({"generator": "support_emails", "n": 6, "seed": 3})


def test_only_lora_conditions_can_drop_the_instructions(project, default_config):
    assert project.condition("lora_200")["instructions"] is False
    assert project.condition("lora_50")["instructions"] is True
    assert project.condition("base_val")["instructions"] is True  # the gate asks as the prompt cells do
    config = deep_merge(default_config, {"conditions": {"zero_shot": {"instructions": False}}})
    with pytest.raises(ConfigError, match=r"config: field 'conditions.zero_shot.instructions': only a LoRA cell"):
        Project(config)


def test_training_conversations_drop_only_the_system_turn(project, rows):
    task_cfg = project.adapter_config("support_email")
    system = build_task(task_cfg).system_prompt()
    kept, dropped = conversations(task_cfg, rows), conversations(task_cfg, rows, instructions=False)
    for with_system, without in zip(kept, dropped):
        assert with_system["messages"][0] == {"role": "system", "content": system}
        assert without["messages"] == with_system["messages"][1:]
        assert [turn["role"] for turn in without["messages"]] == ["user", "assistant"]


def test_a_cell_without_instructions_asks_the_bare_user_turn(project, rows, tmp_path):
    write_jsonl(tmp_path / "test.jsonl", rows[:4])
    write_jsonl(tmp_path / "fewshot.jsonl", rows[4:])
    write_json(tmp_path / "manifest.json", {})
    write_json(tmp_path / "documents.json", {})
    paths = [tmp_path / name for name in ("test.jsonl", "fewshot.jsonl", "manifest.json", "documents.json")]
    cell = {"task": project.adapter_config("support_email"), "shots": 0, "structured_output": False}
    _, _, asked, _ = cell_requests(cell | {"instructions": True}, *paths)
    _, _, bare, _ = cell_requests(cell | {"instructions": False}, *paths)
    assert all(row[0][0]["role"] == "system" for row in asked)
    assert [[conversation[1:] for conversation in row] for row in asked] == bare


def test_the_papers_condition_table_says_which_cells_drop_the_instructions(project):
    rows = setup_text(project.config, project.tasks, project.models, project.pricing).splitlines()
    dropped = [line for line in rows if "without the system prompt" in line]
    assert len(dropped) == 1 and "lora_200" in dropped[0]


def test_the_papers_setup_names_the_standins_server_and_the_answer_format():
    """The embedded default: the stand-in is served by vLLM, and every system answers support_email under its JSON
    schema (a config choice the paper states)."""
    default = Project(read_yaml(REPO_ROOT / "config" / "config.yaml"))
    text = setup_text(default.config, default.tasks, default.models, default.pricing, default.api_models)
    assert "served by vLLM's OpenAI-compatible server" in text and "transformers serve" not in text
    task_line = next(line for line in text.splitlines() if line.startswith("- **support_email**"))
    assert "constrained to its JSON schema (no optional whitespace) by structured output" in task_line
    unconstrained = {"support_email": default.tasks["support_email"] | {"structured_output": False}}
    assert "structured output" not in setup_text(default.config, unconstrained, default.models, default.pricing)
