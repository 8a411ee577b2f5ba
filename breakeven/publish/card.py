"""The model card of a published adapter: base model and revision, task and data provenance, train size,
hyperparameters, metrics with their confidence intervals, and the base model's licence."""

from __future__ import annotations

from huggingface_hub import EvalResult, ModelCard, ModelCardData

HYPERPARAMETERS = ("r", "alpha", "dropout", "target_modules", "learning_rate", "epochs", "batch_size", "grad_accum")


def card_data(model: dict, task: str, cell: dict) -> ModelCardData:
    """The card's YAML metadata (what the hub indexes): base model, licence, library and model-index results."""
    source = model["source"]
    metrics = cell["metrics"]
    return ModelCardData(
        base_model=source.get("repo_id", model["name"]),
        license=(model.get("license") or "other").lower(),
        library_name="peft",
        pipeline_tag="text-generation",
        tags=["lora", "breakeven", task],
        model_name=repo_name(model["name"], task, cell["condition"], cell["seed"]),
        eval_results=[
            EvalResult(
                task_type="text-generation",
                dataset_type=task,
                dataset_name=task,
                dataset_split="test",
                metric_type=name,
                metric_value=round(float(estimate["value"]), 4),
                metric_name=f"{name} (95% CI {estimate['ci_low']:.3f}-{estimate['ci_high']:.3f}, n={estimate['n']})",
            )
            for name, estimate in metrics.items()
        ],
    )


def repo_name(model: str, task: str, condition: str, seed: int) -> str:
    """The adapter's repository name: one repository per cell."""
    return f"{model}-{task}-{condition}-seed{seed}".replace("_", "-")


def model_card(model: dict, task: str, cell: dict, provenance: dict) -> ModelCard:
    """The whole card: metadata plus a body that states what the adapter is and how it was measured."""
    training, source = cell["training"], model["source"]
    lora = training["lora"]
    revision = source.get("revision") or "—"
    rows = "\n".join(
        f"| {name} | {e['value']:.3f} | [{e['ci_low']:.3f}, {e['ci_high']:.3f}] | {e['n']} |"
        for name, e in cell["metrics"].items()
    )
    hyper = "\n".join(f"| {key} | {lora[key]} |" for key in HYPERPARAMETERS if key in lora)
    data = ", ".join(f"{key}: {value}" for key, value in provenance.items())
    body = f"""
# {repo_name(model["name"], task, cell["condition"], cell["seed"])}

A LoRA adapter for **{source.get("repo_id", model["name"])}** (revision `{revision}`), trained with
Breakeven on the task **{task}**, condition `{cell["condition"]}`, seed {cell["seed"]}.

- Base model licence: {model.get("license") or "not stated"} (the adapter inherits the base model's terms).
- Training data: {training["n_train"]} examples ({data}); train file sha256 `{training.get("train_sha256", "—")}`.
- Training: backend {training["backend"]} on {training["device"]}, {training["steps"]} steps,
  {training["train_seconds"]:.0f} s; best val loss {_number(training.get("best_val_loss"))}.

## Hyperparameters

| key | value |
|---|---|
{hyper}

## Test metrics (95% bootstrap CIs over test examples)

| metric | value | 95% CI | n |
|---|---|---|---|
{rows}

Primary metric: `{cell["primary_metric"]}`.
"""
    return ModelCard.from_template(card_data(model, task, cell), template_str="---\n{{ card_data }}\n---\n" + body)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
