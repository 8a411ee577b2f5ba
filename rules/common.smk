# Config validation, wildcard constraints, paths and input functions shared by every stage.
import sys

sys.path.insert(0, workflow.basedir)

from breakeven.config import Project
from breakeven.runtime import prepare_job_environment

prepare_job_environment()

# Validates config.yaml (+ overrides) and every task/model/pricing file against config/schemas/ with
# snakemake.utils.validate; any error stops the run before a job starts, naming the file and field.
PROJECT = Project(config, source=" + ".join(map(str, workflow.configfiles)) or "config")
config = PROJECT.config
PRICING = str(PROJECT.root / "config" / "pricing.yaml")
PAPER_TEMPLATE = str(PROJECT.root / "report" / "paper.qmd")
RESULTS = f"results/{PROJECT.run}"
LOGS = f"logs/{PROJECT.run}"
CELLS = PROJECT.cells()
LORA_CONDITIONS = [name for name, cond in config["conditions"].items() if cond["kind"] == "lora"]


def _alternatives(names):
    return "|".join(sorted(names)) or "(?!)"


wildcard_constraints:
    task=_alternatives(PROJECT.tasks),
    model=_alternatives(PROJECT.models),
    condition=_alternatives(config["conditions"]),
    lora_condition=_alternatives(LORA_CONDITIONS),
    seed=r"\d+",
    n=r"\d+",


def cell_path(stage, cell, ext):
    return f"{RESULTS}/{stage}/{cell.task}/{cell.system}/{cell.condition}/seed{cell.seed}{ext}"


def metric_files():
    return [cell_path("metrics", cell, ".json") for cell in CELLS]


def final_outputs():
    return [f"{config['paper_dir']}/paper.html", f"{config['paper_dir']}/paper.pdf"]


def prompt_file(wildcards):
    return str(PROJECT.root / "prompts" / f"{wildcards.task}.yaml")


def train_input(wildcards):
    n = PROJECT.train_size(wildcards.task, wildcards.lora_condition)
    return {
        "model": f"resources/models/{wildcards.model}",
        "prompt": prompt_file(wildcards),
        "train": f"{RESULTS}/prepared/{wildcards.task}/train_{n}.jsonl",
        "val": f"{RESULTS}/prepared/{wildcards.task}/val.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
        "documents": f"resources/raw/{wildcards.task}/documents.json",
    }


def train_params(wildcards):
    """Only this cell's slice of the config, so editing one condition reruns only its cells."""
    model = PROJECT.models[wildcards.model]
    return {
        "lora": PROJECT.lora_params(wildcards.model, wildcards.task, wildcards.lora_condition),
        "max_seq_length": PROJECT.tasks[wildcards.task]["max_seq_length"],
        "task": PROJECT.adapter_config(wildcards.task),
        "model": {key: model[key] for key in ("name", "source", "response_markers") if key in model},
        "training": config["training"],
    }


def checkpoint_dir(wildcards):
    """Resumable checkpoints, outside the adapter folder (Snakemake deletes a failed job's outputs)."""
    return (
        f"{RESULTS}/checkpoints/{wildcards.model}/{wildcards.task}/{wildcards.lora_condition}/seed{wildcards.seed}"
    )


def adapter_dir(wildcards):
    return f"{RESULTS}/adapters/{wildcards.model}/{wildcards.task}/{wildcards.condition}/seed{wildcards.seed}"


def predict_input(wildcards):
    files = {
        "model": f"resources/models/{wildcards.model}",
        "prompt": prompt_file(wildcards),
        "test": f"{RESULTS}/prepared/{wildcards.task}/test.jsonl",
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
        "structured_output": PROJECT.tasks[wildcards.task]["structured_output"],
        "inference": config["inference"],
    }


def score_input(wildcards):
    prefix = f"{RESULTS}/predictions/{wildcards.task}/{wildcards.model}/{wildcards.condition}/seed{wildcards.seed}"
    files = {
        "predictions": f"{prefix}.jsonl",
        "run": f"{prefix}.run.json",
        "prompt": prompt_file(wildcards),
        "test": f"{RESULTS}/prepared/{wildcards.task}/test.jsonl",
        "manifest": f"{RESULTS}/prepared/{wildcards.task}/manifest.json",
    }
    if PROJECT.condition(wildcards.condition)["kind"] == "lora":
        files["adapter"] = adapter_dir(wildcards)
    return files


def score_params(wildcards):
    return {
        "task": PROJECT.adapter_config(wildcards.task),
        "kind": PROJECT.condition(wildcards.condition)["kind"],
        "bootstrap": config["bootstrap"],
    }
