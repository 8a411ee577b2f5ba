"""Load and validate the run config, the task/model/pricing files, and enumerate the cells of the grid.

Every file is checked against its JSON schema in ``config/schemas/`` with ``snakemake.utils.validate``
(which also fills in the schema defaults); a failure raises :class:`ConfigError` naming the file and field.
"""

from __future__ import annotations

import copy
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from breakeven import REPO_ROOT
from breakeven.jsonio import read_yaml
from breakeven.providers.options import option_problems

MIRROR_ENV = "BREAKEVEN_DATA_MIRROR"
"""Environment variable naming the local dataset mirror when the config's data_mirror is unset."""
ADAPTER_KEYS = ("name", "kind", "primary_metric", "fields", "labels", "n_options", "execution", "chunking")
"""The task keys a task adapter reads (prompting, parsing, scoring): what train/predict/score receive."""
PREPARE_KEYS = (
    "name",
    "kind",
    "split",
    "fewshot_pool",
    "test_sample_size",
    "val_sample_size",
    "training_cap",
    "labels",
)
"""The task keys that shape the prepared splits."""


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the file and the field."""


def schema_path(name: str) -> Path:
    return REPO_ROOT / "config" / "schemas" / f"{name}.schema.yaml"


def validated(data: Any, schema: str, source: str) -> dict:
    """Return a copy of ``data`` validated against ``schema`` with defaults filled in."""
    data = copy.deepcopy(data)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        validate(data, str(schema_path(schema)))
    except (WorkflowError, jsonschema.ValidationError) as err:
        raise ConfigError(f"{source}: {_describe(err)}") from err
    return data


def _describe(err: Exception) -> str:
    # snakemake wraps the jsonschema error in a WorkflowError raised while handling it
    found = err if isinstance(err, jsonschema.ValidationError) else err.__context__
    if not isinstance(found, jsonschema.ValidationError):
        return str(err)
    field = ".".join(str(part) for part in found.absolute_path) or "<top level>"
    return f"field '{field}': {found.message}"


def lora_keys() -> set[str]:
    """The LoRA hyperparameter names the model schema allows."""
    return set(read_yaml(schema_path("model"))["properties"]["lora"]["properties"])


def deep_merge(base: dict, override: dict) -> dict:
    """Recursively overlay ``override`` on a copy of ``base``."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass(frozen=True)
class Cell:
    """One (task, system, condition, seed) of the grid."""

    task: str
    system: str
    condition: str
    seed: int
    kind: str  # "prompt", "lora", or "api" (an API system on a prompt condition)


BASE_CONDITION = "base_val"
"""The generated condition of the base-model gate: zero-shot on the first val examples."""


def sweep_point_name(point: dict) -> str:
    """A readable condition name for one sweep point, e.g. ``sweep_r-8_learning_rate-0.0003``."""
    return "sweep_" + "_".join(
        f"{key}-{value:g}" if isinstance(value, float) else f"{key}-{value}" for key, value in point.items()
    )


class Project:
    """The validated run config with its task, model and pricing files."""

    def __init__(self, config: dict, root: Path = REPO_ROOT, source: str = "config") -> None:
        self.root = root
        self.config = validated(config, "config", source)
        self.pricing = self._load("pricing", root / "config" / "pricing.yaml")
        self.tasks = {name: self._load_task(name) for name in self.config["tasks"]}
        self.models = {name: self._load_model(name) for name in self.config["models"]}
        self.api_models = {name: self._load_api_model(name, source) for name in self.config["api_models"]}
        self.served_models = {
            api["standin"]["model"]: self.models.get(api["standin"]["model"])
            or self._load_model(api["standin"]["model"])
            for api in self.api_models.values()
            if api["standin"]
        }
        self._check_conditions(source)
        self._check_cost(source)
        self.conditions = self.config["conditions"] | self._generated_conditions()
        self._check_selection(source)
        self._check_hypotheses(source)
        self._check_statistics(source)

    def _load(self, schema: str, path: Path, overrides: dict | None = None) -> dict:
        data = deep_merge(read_yaml(path) or {}, overrides or {})
        label = str(path) if not overrides else f"{path} (with config task_overrides)"
        return validated(data, schema, label)

    def _existing(self, kind: str, folder: Path, name: str, suffix: str = ".yaml") -> Path:
        path = folder / f"{name}{suffix}"
        if not path.exists():
            known = sorted(p.stem for p in folder.glob(f"*{suffix}"))
            raise ConfigError(
                f"config: field '{kind}s': unknown {kind} {name!r} (no {path}); known: {', '.join(known)}"
            )
        return path

    def _load_task(self, name: str) -> dict:
        path = self._existing("task", self.root / "config" / "tasks", name)
        self._existing("task", self.root / "prompts", name)
        task = self._load("task", path, self.config["task_overrides"].get(name))
        if task["name"] != name:
            raise ConfigError(f"{path}: field 'name': {task['name']!r} must equal the file name {name!r}")
        return task

    def _load_model(self, name: str) -> dict:
        path = self._existing("model", self.root / "config" / "models", name)
        model = self._load("model", path)
        if model["name"] != name:
            raise ConfigError(f"{path}: field 'name': {model['name']!r} must equal the file name {name!r}")
        for key in ("chat_template", "training_chat_template"):
            if model.get(key):
                self._existing(key, self.root / "config" / "chat_templates", model[key], ".jinja")
        return model

    def _load_api_model(self, name: str, source: str) -> dict:
        path = self._existing("api_model", self.root / "config" / "api_models", name)
        api = self._load("api_model", path)
        if api["name"] != name:
            raise ConfigError(f"{path}: field 'name': {api['name']!r} must equal the file name {name!r}")
        if name in self.config["models"]:
            raise ConfigError(f"{source}: field 'api_models': {name!r} is also an open model's name")
        if api["pricing"] not in self.pricing["api"]:
            known = ", ".join(sorted(self.pricing["api"]))
            raise ConfigError(
                f"{path}: field 'pricing': {api['pricing']!r} is not in config/pricing.yaml api ({known})"
            )
        if not api["standin"] and not api["key_env"]:
            raise ConfigError(f"{path}: field 'key_env': required unless the system is a stand-in")
        if api["standin"] and api["provider"] != "openai":
            raise ConfigError(f"{path}: field 'provider': a stand-in is served OpenAI-compatible (provider: openai)")
        if api["batch"] and api["provider"] != "openai":
            raise ConfigError(f"{path}: field 'batch': the Batch API mode is OpenAI's (provider: openai)")
        if api["logprobs"] and (api["provider"], api["api"]) != ("openai", "chat_completions"):
            raise ConfigError(f"{path}: field 'logprobs': read from Chat Completions only (api: chat_completions)")
        if api["request_options"]:
            problems = option_problems(api["provider"], api["api"], api["request_options"])
            if problems:
                fields = "; ".join(f"field 'request_options.{field}': {why}" for field, why in problems)
                raise ConfigError(f"{path}: {fields}")
        return api

    def local_model(self, name: str) -> dict:
        """An open model's config: a listed model, or one served by a stand-in API system."""
        return self.models.get(name) or self.served_models[name]

    def _check_conditions(self, source: str) -> None:
        # overrides of known but unselected tasks are fine (a smoke overlay combined with other tasks)
        known = {p.stem for p in (self.root / "config" / "tasks").glob("*.yaml")}
        unknown_override = set(self.config["task_overrides"]) - known
        if unknown_override:
            raise ConfigError(f"{source}: field 'task_overrides': no such tasks {sorted(unknown_override)}")
        allowed = lora_keys()
        for task in self.tasks.values():
            bad = set(task["lora"]) - allowed
            if bad:
                raise ConfigError(f"config/tasks/{task['name']}.yaml: field 'lora': unknown keys {sorted(bad)}")
        for name, cond in self.config["conditions"].items():
            if cond["kind"] == "lora" and "train_size" not in cond:
                raise ConfigError(f"{source}: field 'conditions.{name}.train_size' is required for kind 'lora'")
            if cond["kind"] == "prompt" and not cond["instructions"]:
                raise ConfigError(f"{source}: field 'conditions.{name}.instructions': only a LoRA cell can drop them")
            bad = set(cond.get("lora", {})) - allowed
            if bad:
                raise ConfigError(
                    f"{source}: field 'conditions.{name}.lora': unknown keys {sorted(bad)}; valid: {sorted(allowed)}"
                )

    def _check_cost(self, source: str) -> None:
        cost = self.config["cost"]
        for field, table in (("hardware_profile", "hardware"), ("api_reference", "api")):
            if cost[field] not in self.pricing[table]:
                raise ConfigError(
                    f"{source}: field 'cost.{field}': {cost[field]!r} is not in config/pricing.yaml "
                    f"'{table}' (known: {', '.join(sorted(self.pricing[table]))})"
                )
        api_condition = self.config["conditions"].get(cost["api_condition"])
        if api_condition is None or api_condition["kind"] != "prompt":
            raise ConfigError(
                f"{source}: field 'cost.api_condition': {cost['api_condition']!r} is not a prompt condition"
            )

    def _check_hypotheses(self, source: str) -> None:
        for i, hypothesis in enumerate(self.config["hypotheses"]):
            for side in ("better", "worse"):
                if hypothesis[side] not in self.config["conditions"]:
                    raise ConfigError(
                        f"{source}: field 'hypotheses.{i}.{side}': {hypothesis[side]!r} is not a condition "
                        f"(known: {', '.join(self.config['conditions'])})"
                    )

    def _check_statistics(self, source: str) -> None:
        stats = self.config["statistics"]
        if stats["reference"] != "lowest_val_loss" and stats["reference"] not in self.config["conditions"]:
            raise ConfigError(
                f"{source}: field 'statistics.reference': {stats['reference']!r} is neither lowest_val_loss nor a "
                f"condition (known: {', '.join(self.config['conditions'])}); the reference is never chosen on test"
            )
        if stats["reference_system"] is not None and stats["reference_system"] not in self.config["models"]:
            raise ConfigError(
                f"{source}: field 'statistics.reference_system': {stats['reference_system']!r} is not an open model "
                f"of this run (known: {', '.join(self.config['models'])})"
            )

    @property
    def reference_system(self) -> str:
        """The open model whose cell is each task's paired-test reference (default: the first listed)."""
        return self.config["statistics"]["reference_system"] or self.config["models"][0]

    def group_field(self, task: str) -> str | None:
        """The input field grouping a task's examples for clustered resampling (default: its document key)."""
        cfg = self.tasks[task]
        return cfg.get("group_field") or cfg["source"].get("document_key")

    def _check_selection(self, source: str) -> None:
        gate, sweep = self.config["base_selection"], self.config["sweep"]
        if gate["fine_tune"] > gate["sufficient"]:
            raise ConfigError(f"{source}: field 'base_selection.fine_tune' must not exceed 'sufficient'")
        name = gate["contamination_condition"]
        cond = self.config["conditions"].get(name)
        if gate["enabled"] and cond is not None and (cond["kind"] != "prompt" or cond.get("shots", 0) != 0):
            raise ConfigError(
                f"{source}: field 'base_selection.contamination_condition': {name!r} is not a zero-shot prompt condition"
            )
        bad = set(sweep["grid"]) - lora_keys()
        if sweep["enabled"] and bad:
            raise ConfigError(f"{source}: field 'sweep.grid': unknown LoRA keys {sorted(bad)}")

    def _generated_conditions(self) -> dict[str, dict]:
        """The gate's val condition and one LoRA condition per sweep point; each scores a val slice."""
        generated = {}
        gate, sweep = self.config["base_selection"], self.config["sweep"]
        if gate["enabled"]:
            generated[BASE_CONDITION] = {
                "kind": "prompt",
                "shots": 0,
                "instructions": True,
                "eval": {"split": "val", "n": gate["val_examples"]},
            }
        for point in self.sweep_points():
            generated[sweep_point_name(point)] = {
                "kind": "lora",
                "train_size": sweep["train_size"],
                "lora": point,
                "instructions": sweep["instructions"],
                "sweep": True,
                "eval": {"split": "val", "n": sweep["val_examples"]},
            }
        return generated

    @property
    def contamination_condition(self) -> str | None:
        """The zero-shot test condition of the gate's chance check (None: the run has no such condition)."""
        name = self.config["base_selection"]["contamination_condition"]
        return name if name in self.config["conditions"] else None

    def sweep_points(self) -> list[dict]:
        """Every combination of the sweep grid (none when the sweep is off)."""
        sweep = self.config["sweep"]
        if not sweep["enabled"]:
            return []
        keys = list(sweep["grid"])
        return [dict(zip(keys, values)) for values in itertools.product(*(sweep["grid"][k] for k in keys))]

    @property
    def run(self) -> str:
        return self.config["run"]

    def condition(self, name: str) -> dict:
        return self.conditions[name]

    def eval_file(self, task: str, condition: str) -> str:
        """The prepared file (relative to the run's prepared/<task>/) a condition is scored on."""
        slice_ = self.condition(condition).get("eval")
        return f"{slice_['split']}_first{slice_['n']}.jsonl" if slice_ else "test.jsonl"

    def adapter_config(self, task: str) -> dict:
        """The slice of a task's config its adapter needs (so unrelated edits rerun nothing downstream)."""
        return {key: self.tasks[task][key] for key in ADAPTER_KEYS if key in self.tasks[task]}

    def mirror_for(self, task: str) -> str | None:
        """The local mirror folder a dataset task reads instead of the hub (None: hub, or not a dataset)."""
        if self.tasks[task]["source"]["kind"] != "dataset":
            return None
        return self.config["data_mirror"] or os.environ.get(MIRROR_ENV)

    def prepare_config(self, task: str) -> dict:
        return {key: self.tasks[task][key] for key in PREPARE_KEYS if key in self.tasks[task]}

    def train_sizes(self, task: str) -> list[int]:
        """Distinct effective LoRA train sizes of a task (each capped by its training_cap)."""
        cap = self.tasks[task]["training_cap"]
        return sorted({min(c["train_size"], cap) for c in self.conditions.values() if c["kind"] == "lora"})

    def train_size(self, task: str, condition: str) -> int:
        return min(self.condition(condition)["train_size"], self.tasks[task]["training_cap"])

    def lora_params(self, model: str, task: str, condition: str) -> dict:
        """LoRA hyperparameters of one cell: the model's, overlaid with the task's, then the condition's."""
        merged = deep_merge(self.models[model]["lora"], self.tasks[task]["lora"])
        return deep_merge(merged, self.condition(condition).get("lora", {}))

    def prompt_conditions(self) -> list[str]:
        return [name for name, cond in self.config["conditions"].items() if cond["kind"] == "prompt"]

    def cells(self) -> list[Cell]:
        """Every (task, system, condition, seed) cell; prompt conditions run once, with the first seed; API
        systems run the prompt conditions only."""
        seeds = self.config["seeds"]
        cells = []
        for task in self.tasks:
            for model in self.models:
                for name, cond in self.config["conditions"].items():
                    for seed in seeds if cond["kind"] == "lora" else seeds[:1]:
                        cells.append(Cell(task, model, name, seed, cond["kind"]))
            for api in self.api_models:
                cells += [Cell(task, api, name, seeds[0], "api") for name in self.prompt_conditions()]
        return cells
