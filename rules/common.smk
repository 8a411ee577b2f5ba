# Config validation, wildcard constraints, paths and input functions shared by every stage.
import functools
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from breakeven.config import BASE_CONDITION, Project
from breakeven.report.console import failure_message, success_message
from breakeven.report.manifest import run_inputs
from breakeven.runtime import prepare_job_environment
from breakeven.serving.engine import adapter_name
from breakeven.storage import export_for_jobs

prepare_job_environment()
export_for_jobs(workflow.storage_settings, workflow.storage_provider_settings)

# Validates config.yaml (+ overrides) and every task/model/pricing file against config/schemas/ with
# snakemake.utils.validate; any error stops the run before a job starts, naming the file and field.
PROJECT = Project(config, source=" + ".join(map(str, workflow.configfiles)) or "config")
config = PROJECT.config
# Files of the checkout are local() inputs: under a default storage provider they are read in place, never
# looked for in the bucket.
PRICING = local(str(PROJECT.root / "config" / "pricing.yaml"))
PAPER_TEMPLATE = local(str(PROJECT.root / "report" / "paper.qmd"))
# every file the run reads besides its config and data, hashed in the run manifest (local() as above)
RUN_INPUTS = [
    local(str(path))
    for path in run_inputs(
        PROJECT.root, list(PROJECT.tasks), PROJECT.models | PROJECT.served_models, list(PROJECT.api_models)
    )
]
RESULTS = f"results/{PROJECT.run}"
LOGS = f"logs/{PROJECT.run}"
API_CACHE = "results/cache/api"  # shared by every run: the same request is never paid twice
CELLS = PROJECT.cells()
LORA_CONDITIONS = [name for name, cond in PROJECT.conditions.items() if cond["kind"] == "lora"]
GATE = config["base_selection"]
SWEEP = config["sweep"]
PUBLISH = config["publish"]
SERVING = config["serving"]
# vllm: one OpenAI server per base model (a service job) answers the grid's cells. Cells whose results feed a
# checkpoint upstream of training keep per-job engines: the generated conditions (the gate's base_val, the sweep
# points) and, with the gate on, the gate's zero-shot test cell (the engine's adapters wait for the gate's decision;
# served by the engine, that cell was planned without one and waited for it until engine_timeout_s).
GATE_INPUTS = [PROJECT.contamination_condition] if GATE["enabled"] and GATE["gate"] else []
SHARED_ENGINE = config["inference"]["backend"] == "vllm" and SERVING["shared_engine"]
SERVED_CONDITIONS = [name for name in config["conditions"] if name not in GATE_INPUTS] if SHARED_ENGINE else []
OWN_ENGINE_CONDITIONS = [name for name in PROJECT.conditions if name not in SERVED_CONDITIONS]


def _alternatives(names):
    return "|".join(re.escape(name) for name in sorted(names)) or "(?!)"


wildcard_constraints:
    task=_alternatives(PROJECT.tasks),
    model=_alternatives([*PROJECT.models, *PROJECT.served_models, *PROJECT.api_models]),
    api_model=_alternatives(PROJECT.api_models),
    condition=_alternatives(PROJECT.conditions),
    lora_condition=_alternatives(LORA_CONDITIONS),
    seed=r"\d+",
    n=r"\d+",
    split="val|test",


def cell_path(stage, cell, ext):
    return f"{RESULTS}/{stage}/{cell.task}/{cell.system}/{cell.condition}/seed{cell.seed}{ext}"


def base_val_metrics(task):
    return {m: f"{RESULTS}/metrics/{task}/{m}/{BASE_CONDITION}/seed{config['seeds'][0]}.json" for m in PROJECT.models}


@functools.cache
def gated(task):
    """Whether the base-model gate skips this task's LoRA cells: the select_base checkpoint's decision (its params
    hold the thresholds, so an edited threshold reruns it first). Read through the output's ``open()``, which
    fetches the bucket's copy under a storage provider. Cached: several input functions ask."""
    if not (GATE["enabled"] and GATE["gate"]):
        return False
    with checkpoints.select_base.get(task=task).output.selection.open() as handle:
        return json.load(handle)["gated"]


def metric_files():
    gated_tasks = {task for task in PROJECT.tasks if gated(task)}
    return [
        cell_path("metrics", cell, ".json")
        for cell in CELLS
        if not (cell.kind == "lora" and cell.task in gated_tasks)
    ]


def capacity_files():
    """The capacity table of every local cell (the gate's dropped LoRA cells left out)."""
    gated_tasks = {task for task in PROJECT.tasks if gated(task)}
    return [
        cell_path("serving", cell, ".csv")
        for cell in CELLS
        if cell.kind != "api" and not (cell.kind == "lora" and cell.task in gated_tasks)
    ]


def selection_files():
    return expand(f"{RESULTS}/baseline/{{task}}/selection.json", task=PROJECT.tasks) if GATE["enabled"] else []


def sweep_tables():
    if not SWEEP["enabled"]:
        return []
    tasks = [task for task in PROJECT.tasks if not gated(task)]
    return expand(f"{RESULTS}/sweep/{{model}}/{{task}}/sweep.csv", model=PROJECT.models, task=tasks)


def selection_metric_files():
    """The gate's and the sweep's metric files: training runs and val scoring the decision cost (the TCO)."""
    seed = config["seeds"][0]
    gate = [path for task in PROJECT.tasks for path in base_val_metrics(task).values()] if GATE["enabled"] else []
    sweep = [
        f"{RESULTS}/metrics/{task}/{model}/{name}/seed{seed}.json"
        for task in PROJECT.tasks
        if SWEEP["enabled"] and not gated(task)
        for model in PROJECT.models
        for name in PROJECT.conditions
        if PROJECT.condition(name).get("sweep")
    ]
    return {"gate": gate, "sweep": sweep}


def final_outputs():
    outputs = [f"{config['paper_dir']}/paper.html", f"{config['paper_dir']}/paper.pdf"]
    if GATE["enabled"]:
        outputs.append(f"{RESULTS}/baseline/base-model-evaluation.md")
    return outputs


def eval_path(wildcards):
    """The prepared examples a cell is scored on: the test split, or a val/test slice for generated cells."""
    return f"{RESULTS}/prepared/{wildcards.task}/{PROJECT.eval_file(wildcards.task, wildcards.condition)}"


def prompt_file(wildcards):
    return local(str(PROJECT.root / "prompts" / f"{wildcards.task}.yaml"))


def train_input(wildcards):
    n = PROJECT.train_size(wildcards.task, wildcards.lora_condition)
    files = {
        "model": f"resources/models/{wildcards.model}",
        "prompt": prompt_file(wildcards),
        "train": f"{RESULTS}/prepared/{wildcards.task}/train_{n}.jsonl",
        "val": f"{RESULTS}/prepared/{wildcards.task}/val.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
        "documents": f"resources/raw/{wildcards.task}/documents.json",
    }
    template = PROJECT.models[wildcards.model].get("training_chat_template")
    if template:
        files["training_template"] = str(PROJECT.root / "config" / "chat_templates" / f"{template}.jinja")
    if SWEEP["enabled"] and not PROJECT.condition(wildcards.lora_condition).get("sweep"):
        files["choice"] = f"{RESULTS}/sweep/{wildcards.model}/{wildcards.task}/choice.json"
    return files


def train_params(wildcards):
    """Only this cell's slice of the config, so editing one condition reruns only its cells."""
    model = PROJECT.models[wildcards.model]
    return {
        "lora": PROJECT.lora_params(wildcards.model, wildcards.task, wildcards.lora_condition),
        "lora_pinned": sorted(PROJECT.condition(wildcards.lora_condition).get("lora", {})),
        "instructions": PROJECT.condition(wildcards.lora_condition)["instructions"],
        "max_seq_length": PROJECT.tasks[wildcards.task]["max_seq_length"],
        "task": PROJECT.adapter_config(wildcards.task),
        "model": {key: model[key] for key in ("name", "source", "response_markers") if key in model}
        | ({"chat_template_kwargs": model["chat_template_kwargs"]} if model.get("training_chat_template") else {}),
        "training": config["training"],
    }


def checkpoint_dir(wildcards):
    """Resumable checkpoints, outside the adapter folder (Snakemake deletes a failed job's outputs)."""
    return (
        f"{RESULTS}/checkpoints/{wildcards.model}/{wildcards.task}/{wildcards.lora_condition}/seed{wildcards.seed}"
    )


def adapter_dir(wildcards):
    """The trained adapter, or the published one when ``publish.pull`` names this cell."""
    return adapter_path(wildcards.model, wildcards.task, wildcards.condition, wildcards.seed)


def adapter_path(model, task, condition, seed):
    key = f"{model}/{task}/{condition}/seed{seed}"
    return f"{RESULTS}/{'hub_adapters' if key in PUBLISH['pull'] else 'adapters'}/{key}"


def published_adapters():
    """Receipts of the adapters to push (trained LoRA cells of tasks the gate keeps; pulled ones are already out)."""
    if not PUBLISH["enabled"]:
        return []
    if not PUBLISH["namespace"]:
        raise ValueError("config publish.namespace: set the hub user or organisation to publish adapters to")
    keys = [f"{c.system}/{c.task}/{c.condition}/seed{c.seed}" for c in CELLS if c.kind == "lora" and not gated(c.task)]
    return [f"{RESULTS}/published/{key}.json" for key in keys if key not in PUBLISH["pull"]]


def predict_input(wildcards):
    files = {
        "model": f"resources/models/{wildcards.model}",
        "prompt": prompt_file(wildcards),
        "test": eval_path(wildcards),
        "fewshot": f"{RESULTS}/prepared/{wildcards.task}/fewshot.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
        "documents": f"resources/raw/{wildcards.task}/documents.json",
    }
    if PROJECT.condition(wildcards.condition)["kind"] == "lora":
        files["adapter"] = adapter_dir(wildcards)
    return files


def predict_params(wildcards):
    return {
        "task": PROJECT.adapter_config(wildcards.task),
        "max_new_tokens": PROJECT.tasks[wildcards.task]["max_new_tokens"],
        "shots": PROJECT.condition(wildcards.condition).get("shots", 0),
        "instructions": PROJECT.condition(wildcards.condition)["instructions"],
        "structured_output": PROJECT.tasks[wildcards.task]["structured_output"],
        "inference": config["inference"],
    }


def engine_address(wildcards):
    return f"{RESULTS}/serving/engines/{wildcards.model}.json"


def served_input(wildcards):
    """A cell answered by its base model's shared engine: its predict inputs and the engine (ancient: the engine
    running for another cell is no reason to rerun this one)."""
    return predict_input(wildcards) | {"engine": ancient(engine_address(wildcards))}


def served_adapters(wildcards):
    """Name -> adapter folder of every LoRA cell the model's shared engine serves."""
    return {
        adapter_name(cell.task, cell.condition, cell.seed): adapter_path(cell.system, cell.task, cell.condition, cell.seed)
        for cell in CELLS
        if cell.system == wildcards.model and cell.kind == "lora" and not gated(cell.task)
    }


def engine_spec(wildcards):
    """The shared engine's command-line spec (JSON): the model, its adapters, batch and LoRA slots."""
    return json.dumps(
        {
            "model_dir": f"resources/models/{wildcards.model}",
            "adapters": served_adapters(wildcards),
            "max_num_seqs": max(config["inference"]["batch_size"], SERVING["max_concurrency"]),
            "max_loras": SERVING["max_loras"],
            "timeout_s": SERVING["engine_timeout_s"],
        },
        sort_keys=True,
    )


LOAD_BUDGET = ("max_concurrency", "requests_per_level", "seconds_per_level")


def capacity_params(wildcards):
    """The cell's prediction slice and the load test's budget."""
    return predict_params(wildcards) | {"serving": {key: SERVING[key] for key in LOAD_BUDGET}}


def predict_api_input(wildcards):
    files = {
        "prompt": prompt_file(wildcards),
        "test": f"{RESULTS}/prepared/{wildcards.task}/test.jsonl",
        "fewshot": f"{RESULTS}/prepared/{wildcards.task}/fewshot.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
        "documents": f"resources/raw/{wildcards.task}/documents.json",
    }
    standin = PROJECT.api_models[wildcards.api_model]["standin"]
    if standin:
        files["model"] = f"resources/models/{standin['model']}"
    return files


def predict_api_params(wildcards):
    """The API system, its prices and the task's prompting slice: what the cell's requests depend on."""
    system = PROJECT.api_models[wildcards.api_model]
    return {
        "task": PROJECT.adapter_config(wildcards.task),
        "structured_output": PROJECT.tasks[wildcards.task]["structured_output"],
        "max_new_tokens": PROJECT.tasks[wildcards.task]["max_new_tokens"],
        "shots": PROJECT.condition(wildcards.condition).get("shots", 0),
        "system": system,
        "price": PROJECT.pricing["api"][system["pricing"]],
    }


def predict_api_threads(wildcards):
    """A stand-in generates on this machine; a real API only waits on the network."""
    return 2 if PROJECT.api_models[wildcards.api_model]["standin"] else 1


def score_input(wildcards):
    prefix = f"{RESULTS}/predictions/{wildcards.task}/{wildcards.model}/{wildcards.condition}/seed{wildcards.seed}"
    files = {
        "predictions": f"{prefix}.jsonl",
        "run": f"{prefix}.run.json",
        "prompt": prompt_file(wildcards),
        "test": eval_path(wildcards),
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
    }
    if PROJECT.condition(wildcards.condition)["kind"] == "lora":
        files["adapter"] = adapter_dir(wildcards)
    return files


def score_params(wildcards):
    return {
        "task": PROJECT.adapter_config(wildcards.task),
        "kind": "api" if wildcards.model in PROJECT.api_models else PROJECT.condition(wildcards.condition)["kind"],
        "bootstrap": config["bootstrap"],
        "group_field": PROJECT.group_field(wildcards.task),
    }


def select_base_input(wildcards):
    prefix = f"{RESULTS}/metrics/{wildcards.task}"
    test_condition = PROJECT.contamination_condition
    return {
        "val_metrics": list(base_val_metrics(wildcards.task).values()),
        "val_predictions": [
            f"{RESULTS}/predictions/{wildcards.task}/{m}/{BASE_CONDITION}/seed{config['seeds'][0]}.jsonl"
            for m in PROJECT.models
        ],
        "test_metrics": [
            f"{prefix}/{m}/{test_condition}/seed{config['seeds'][0]}.json" for m in PROJECT.models if test_condition
        ],
        "train": f"{RESULTS}/prepared/{wildcards.task}/train_full.jsonl",
        "test": f"{RESULTS}/prepared/{wildcards.task}/test.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
        "documents": f"resources/raw/{wildcards.task}/documents.json",
        "prompt": prompt_file(wildcards),
    }


def sweep_points():
    return {name: cond["lora"] for name, cond in PROJECT.conditions.items() if cond.get("sweep")}
