"""Config validation names the file and field; the grid of cells follows the config."""

from __future__ import annotations

import pytest

from breakeven.config import ConfigError, Project, deep_merge


def test_default_config_validates_and_fills_defaults(default_config):
    project = Project(default_config)
    assert project.run == "default"
    assert project.tasks["support_email"]["split"]["seed"] == 0
    assert project.models["smollm2-135m"]["lora"]["r"] == 16
    assert project.train_sizes("support_email") == [50, 200]


def test_cells_cover_conditions_and_seeds(default_config):
    config = deep_merge(default_config, {"seeds": [0, 1]})
    cells = Project(config).cells()
    lora = [c for c in cells if c.kind == "lora"]
    prompt = [c for c in cells if c.kind == "prompt"]
    assert len(lora) == 2 * 2 and len(prompt) == 2
    assert {c.seed for c in prompt} == {0}


def test_wrong_type_names_field(default_config):
    default_config["bootstrap"] = {"n_resamples": "many"}
    with pytest.raises(ConfigError, match=r"field 'bootstrap.n_resamples'.*not of type 'integer'"):
        Project(default_config, source="config/config.yaml")


def test_unknown_key_is_rejected(default_config):
    default_config["inferenc"] = {}
    with pytest.raises(ConfigError, match=r"config/config.yaml: .*'inferenc' was unexpected"):
        Project(default_config, source="config/config.yaml")


def test_unknown_task_lists_known_ones(default_config):
    default_config["tasks"] = ["support_emails"]
    with pytest.raises(ConfigError, match=r"unknown task 'support_emails'.*known: .*support_email"):
        Project(default_config)


def test_unknown_model(default_config):
    default_config["models"] = ["gpt-2"]
    with pytest.raises(ConfigError, match=r"field 'models': unknown model 'gpt-2'"):
        Project(default_config)


def test_task_override_is_validated_with_the_task_file_named(default_config):
    default_config["task_overrides"] = {"support_email": {"test_sample_size": 0}}
    with pytest.raises(
        ConfigError, match=r"support_email.yaml \(with config task_overrides\): field 'test_sample_size'"
    ):
        Project(default_config)


def test_condition_lora_override_keys_are_checked(default_config):
    default_config["conditions"]["lora_50"]["lora"] = {"rank": 8}
    with pytest.raises(ConfigError, match=r"conditions.lora_50.lora': unknown keys \['rank'\]"):
        Project(default_config)


def test_lora_params_overlay_condition_on_model(default_config):
    default_config["conditions"]["lora_50"]["lora"] = {"r": 8}
    project = Project(default_config)
    assert project.lora_params("smollm2-135m", "support_email", "lora_50")["r"] == 8
    assert project.lora_params("smollm2-135m", "support_email", "lora_200")["r"] == 16


def test_task_lora_overrides_sit_between_model_and_condition(default_config):
    default_config["task_overrides"] = {"support_email": {"lora": {"learning_rate": 1e-4, "r": 4}}}
    default_config["conditions"]["lora_50"]["lora"] = {"r": 8}
    project = Project(default_config)
    assert project.lora_params("smollm2-135m", "support_email", "lora_50") | {} == {
        **project.models["smollm2-135m"]["lora"],
        "learning_rate": 1e-4,
        "r": 8,
    }


def test_unknown_pricing_key(default_config):
    default_config["cost"] = {"hardware_profile": "tpu-v9"}
    with pytest.raises(ConfigError, match=r"field 'cost.hardware_profile': 'tpu-v9' is not in config/pricing.yaml"):
        Project(default_config)


def test_train_sizes_are_capped(default_config):
    default_config["task_overrides"] = {"support_email": {"training_cap": 50}}
    project = Project(default_config)
    assert project.train_sizes("support_email") == [50]
    assert project.train_size("support_email", "lora_200") == 50


def test_overrides_of_unselected_tasks_are_ignored_but_typos_are_not(default_config):
    default_config["task_overrides"] = {"banking77": {"test_sample_size": 10}}
    assert list(Project(default_config).tasks) == ["support_email"]
    default_config["task_overrides"] = {"bankin77": {"test_sample_size": 10}}
    with pytest.raises(ConfigError, match=r"field 'task_overrides': no such tasks \['bankin77'\]"):
        Project(default_config)


def test_api_systems_run_the_prompt_conditions_of_every_task(default_config):
    project = Project(deep_merge(default_config, {"api_models": ["standin-api", "gpt-5.4-mini"]}))
    api = [c for c in project.cells() if c.kind == "api"]
    assert {(c.system, c.condition) for c in api} == {
        (s, c) for s in ("standin-api", "gpt-5.4-mini") for c in ("zero_shot", "five_shot")
    }
    assert project.api_models["gpt-5.4-mini"]["key_env"] == "OPENAI_API_KEY"
    assert "smollm2-135m" in project.served_models


def test_unknown_api_model_is_named(default_config):
    with pytest.raises(ConfigError, match="unknown api_model 'gpt-9'"):
        Project(deep_merge(default_config, {"api_models": ["gpt-9"]}))


def test_reference_chosen_on_test_is_rejected(default_config):
    default_config["statistics"] = {"reference": "best_lora"}
    with pytest.raises(ConfigError, match=r"'statistics.reference': 'best_lora' is neither lowest_val_loss"):
        Project(default_config, source="config/config.yaml")
    default_config["statistics"] = {"reference": "lora_200", "reference_system": "gpt"}
    with pytest.raises(ConfigError, match=r"'statistics.reference_system': 'gpt' is not an open model"):
        Project(default_config, source="config/config.yaml")


def test_reference_system_defaults_to_the_first_model(default_config):
    project = Project(default_config)
    assert project.config["statistics"]["reference"] == "lowest_val_loss"
    assert project.reference_system == "smollm2-135m"


def test_clustered_group_field_defaults_to_the_document_key(default_config):
    default_config["tasks"] = ["cuad", "support_email"]
    project = Project(default_config)
    assert project.group_field("cuad") == "contract" and project.group_field("support_email") is None
    default_config["task_overrides"] = {"support_email": {"group_field": "customer"}}
    assert Project(default_config).group_field("support_email") == "customer"
