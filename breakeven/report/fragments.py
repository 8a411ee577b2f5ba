"""Markdown fragments of the paper, every number read from the result tables (nothing typed by hand)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from breakeven.cost.model import hourly_usd
from breakeven.report.base_evaluation import gate_fragment, sweep_fragment
from breakeven.report.cost_inputs import cost_inputs_table
from breakeven.report.figures import serving_latency
from breakeven.report.hypotheses import hypotheses_list, hypotheses_results, variability_table
from breakeven.report.markdown import pipe_table
from breakeven.report.provenance import provenance_text
from breakeven.report.verdict import findings_text, verdicts_text, volume


def money(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def with_ci(row: dict) -> str:
    return f"{row['value']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def header_name(metric: str) -> str:
    return metric.replace("_", " ")


def system_label(row: dict) -> str:
    """The system's name, marked when it is an API stand-in (a local model priced as the API)."""
    return f"{row['system']} (stand-in)" if row.get("standin") is True else str(row["system"])


def results_table(cells: pd.DataFrame, metrics: pd.DataFrame, costs: pd.DataFrame) -> str:
    """Per task: every cell's metrics (the primary one with its CI), latency and cost; the seed column only when
    there are several seeds."""
    keys = ["task", "system", "condition", "seed"]
    cost_columns = ["cost_per_1k", "cost_per_1k_correct", "cost_per_1k_correct_low", "cost_per_1k_correct_high"]
    merged = serving_latency(cells, costs).merge(costs[[*keys, *cost_columns]], on=keys, how="left")
    parts = []
    for task, group in merged.groupby("task"):
        primary = group["primary_metric"].iloc[0]
        values = metrics[metrics["task"] == task].pivot_table(
            index=keys, columns="metric", values="value", dropna=False
        )
        others = [m for m in dict.fromkeys(metrics.loc[metrics["task"] == task, "metric"]) if m != primary]
        seeds = group["seed"].nunique() > 1
        rows = []
        for r in group.to_dict("records"):
            cell = values.loc[tuple(r[k] for k in keys)]
            rows.append(
                [
                    system_label(r),
                    r["condition"],
                    *([r["seed"]] if seeds else []),
                    r["n_train"],
                    with_ci(r),
                    *[number(cell[m]) for m in others],
                    f"{r['latency_p50_s']:.2f} / {r['latency_p95_s']:.2f}",
                    f"{r['seconds_per_query']:.3f}",
                    money(r["cost_per_1k"]),
                    f"{money(r['cost_per_1k_correct'])} [{money(r['cost_per_1k_correct_low'])}, "
                    f"{money(r['cost_per_1k_correct_high'])}]",
                ]
            )
        header = [
            "system",
            "condition",
            *(["seed"] if seeds else []),
            "train n",
            f"{header_name(primary)} [95% CI]",
            *map(header_name, others),
            "latency p50 / p95 (s)",
            "s / query (eval batch)",
            "$ / 1K",
            "$ / 1K correct [95% CI]",
        ]
        caption = (
            f"{task}: test-set results, n = {int(group['n_test'].iloc[0])} examples; CIs from a percentile "
            "bootstrap over examples. Latency: self-hosted cells from the load test at the concurrency their cost "
            "uses (the cost table says which), API cells as measured."
        )
        parts.append(pipe_table(header, rows, caption) + unavailable_notes(metrics[metrics["task"] == task]))
    return "\n".join(parts)


def number(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def unavailable_notes(metrics: pd.DataFrame) -> str:
    """Why a cell's metric has no value ("–" in the table), one line per cell and reason."""
    if "unavailable" not in metrics:
        return ""
    missing = metrics.dropna(subset=["unavailable"])
    notes = [
        f"- {', '.join(map(header_name, group['metric']))} unavailable for {system} · {condition}: {reason}"
        for (system, condition, reason), group in missing.groupby(["system", "condition", "unavailable"], sort=True)
    ]
    return "\n" + "\n".join(notes) + "\n" if notes else ""


def _against(row: dict) -> str:
    text = f"{volume(row['breakeven_daily_volume'])} [{volume(row['ci_low'])}, {volume(row['ci_high'])}]"
    return f"{text} vs {row['api']} · {row['api_condition']}" + (" (reference)" if row["api_reference"] else "")


def cost_table(costs: pd.DataFrame, breakeven: pd.DataFrame, months: int) -> str:
    """Cost structure of each deployment and, for self-hosted ones, the break-even volume (95% CI) against each
    API row."""
    keys = ["task", "system", "condition", "seed"]
    against: dict[tuple, list[str]] = {}
    for r in breakeven.to_dict("records") if not breakeven.empty else []:
        against.setdefault(tuple(r[k] for k in keys), []).append(_against(r))
    rows = [
        [
            r["task"],
            r["system"],
            r["condition"],
            r["deployment"],
            money(r["cost_per_1k"]),
            serving_level(r),
            money(r["cost_per_1k"] * r["eval_seconds_per_query"] / r["seconds_per_query"])
            if r["kind"] != "api" and pd.notna(r.get("eval_seconds_per_query"))
            else "–",
            money(r["error_per_query"] * 1000),
            f"{money(r['train_usd'])} + {money(r['selection_usd'])} + {money(r['engineering_usd'])}",
            money(r["floor_monthly"]),
            "–" if r["kind"] == "api" else "; ".join(against.get(tuple(r[k] for k in keys), ["–"])),
        ]
        for r in costs.to_dict("records")
    ]
    header = [
        "task",
        "system",
        "condition",
        "deployment",
        "$/1K queries",
        "serving concurrency · p95 vs latency target",
        "$/1K at the eval batch",
        "errors $/1K",
        "fixed $: training + selection + engineering",
        "floor $/month",
        "break-even queries/day [95% CI]",
    ]
    return pipe_table(
        header,
        rows,
        f"Cost per 1K queries, expected cost of wrong answers, one-off costs (the cell's training, the gate's and "
        f"the sweep's runs it owes, engineering), always-on floor, and the daily volume above which self-hosting "
        f"is cheaper than each API over {months} months, with its 95% interval over resampled test examples. A "
        "self-hosted row is priced at its serving capacity: the throughput of the highest load-test concurrency "
        "whose p95 latency meets the task's latency target (the column names both); the evaluation batch's figure "
        "is shown beside it. API rows are measured (usage reported by the API, billed at config/pricing.yaml "
        "prices) or, where a task has no API cell, estimated from the local prompts' tokens; a stand-in is a local "
        "model served behind the API path and billed at the named API's prices.",
    )


def serving_level(row: dict) -> str:
    """The load-test level a self-hosted row's cost uses, its p95 latency and the target it was held to."""
    if row["kind"] == "api" or pd.isna(row.get("serving_concurrency")):
        return "–"
    relation = "≤" if str(row["meets_slo"]) == "True" else "> (no level meets it)"
    cap = "; the load test's highest level: capacity at the target may be higher, the cost an upper bound"
    return (
        f"{row['serving_concurrency']:.0f} · {row['serving_latency_p95_s']:.2f} s {relation} "
        f"{row['latency_slo_s']:.2f} s ({row['latency_slo_source']}"
        f"{cap if str(row.get('at_load_test_cap')) == 'True' else ''})"
    )


def data_table(manifests: dict[str, dict]) -> str:
    rows = []
    for task, m in sorted(manifests.items()):
        counts, leakage = m["counts"], m["leakage"]
        train_sizes = ", ".join(str(v) for k, v in counts.items() if k.startswith("train_") and k != "train_full")
        near = next((len(v) for k, v in leakage.items() if k.startswith("near_train_test")), 0)
        rows.append(
            [
                task,
                m["raw_rows"],
                counts["train_full"],
                train_sizes or "–",
                counts["val"],
                counts["test"],
                counts["fewshot"],
                len(leakage["exact_train_test"]),
                near,
            ]
        )
    header = [
        "task",
        "raw rows",
        "train (full)",
        "LoRA train sizes",
        "val",
        "test",
        "few-shot pool",
        "test items duplicated in train",
        "near-duplicates (cosine ≥ 0.9)",
    ]
    return pipe_table(
        header,
        rows,
        "Prepared splits (seeded, stratified) and train/test leakage: exact duplicates "
        "after case/whitespace normalisation, and near-duplicates by TF-IDF cosine of "
        "character 3-5-grams.",
    )


def sensitivity_table(sensitivity: pd.DataFrame) -> str:
    """Break-even of each task's best cell with one assumption halved or doubled."""
    rows = [
        [
            r["task"],
            f"{r['system']} · {r['condition']}",
            r["assumption"],
            f"×{r['factor']:g}",
            volume(r["breakeven_daily_volume"]),
            volume(r["baseline_daily_volume"]),
        ]
        for r in sensitivity.to_dict("records")
    ]
    header = ["task", "cell", "assumption", "scaled", "break-even queries/day", "baseline"]
    return pipe_table(
        header,
        rows,
        "Sensitivity of the break-even volume of each task's best cell to one "
        "assumption at a time (utilisation capped at 100%).",
    )


def paired_text(paired: pd.DataFrame) -> str:
    """Each cell minus its task's reference, with the paired-bootstrap CI and BH-adjusted p-value."""
    if paired.empty:
        return "A single cell per task: no paired comparison.\n"
    rows = [
        [
            r["task"],
            r["system"],
            r["condition"],
            r["seed"],
            r["metric"].replace("_", " "),
            f"{r['difference']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]",
            f"{r['p_value']:.4f}",
            f"{r['p_adjusted_bh']:.4f}",
        ]
        for r in paired.to_dict("records")
    ]
    header = ["task", "system", "condition", "seed", "metric", "difference [95% CI]", "p", "p (BH)"]
    caption = (
        f"Paired bootstrap against the reference cell ({paired_references(paired)}): the metric recomputed on "
        "the same resampled test examples for both cells; basic bootstrap interval, and the two-sided p-value "
        "it implies; p-values adjusted per task (Benjamini-Hochberg)."
    )
    return pipe_table(header, rows, caption)


def paired_references(paired: pd.DataFrame) -> str:
    """Each task's reference, how it was chosen (never on test), and how its examples were resampled."""
    parts = []
    for task, group in paired.groupby("task"):
        first = group.iloc[0]
        groups = first.get("n_groups")
        if pd.notna(groups):
            design = f"resampling whole groups ({int(groups)} groups of {int(first['n'])} examples)"
        elif first["metric"] in ("macro_f1", "weighted_f1"):
            design = "resampling within gold labels, deviations rescaled"
        else:
            design = f"resampling {int(first['n'])} examples"
        parts.append(f"{task}: {first['reference']}, {first['reference_chosen_by']}; {design}")
    return "; ".join(parts)


def error_table(errors: pd.DataFrame) -> str:
    classes = [c for c in errors.columns if c not in ("task", "system", "condition", "seed", "kind")]
    rows = [
        [r["task"], r["system"], r["condition"], r["seed"], *[int(r[c]) for c in classes]]
        for r in errors.to_dict("records")
    ]
    return pipe_table(
        ["task", "system", "condition", "seed", *map(header_name, classes)], rows, "Error classes per cell (counts)."
    )


def api_lines(api_models: dict, pricing: dict) -> list[str]:
    """One line per API system: provider, model id, endpoint, prices, and the stand-in label."""
    lines = []
    for name, api in api_models.items():
        price = pricing["api"][api["pricing"]]
        prices = (
            f"${price['input_per_1m']}/1M input, ${price.get('cached_input_per_1m', price['input_per_1m'])}/1M cached "
            f"input, ${price['output_per_1m']}/1M output tokens{' with the batch discount' if api['batch'] else ''}"
        )
        if api["standin"]:
            lines.append(
                f"- **{api.get('display_name', name)}** (`{name}`): **a stand-in, not a frontier model**: the open "
                f"model `{api['standin']['model']}` served by {STANDIN_SERVERS[api['standin']['server']]} on "
                f"127.0.0.1 and called through the OpenAI SDK ({api['api']}), its measured usage billed at "
                f"`{api['pricing']}` prices ({prices}). "
                "Its accuracy is the small model's; only the request path and the price are the API's."
            )
        else:
            lines.append(
                f"- **{api.get('display_name', name)}** (`{name}`): {api['provider']} `{api['model']}` "
                f"({api['api'] if api['provider'] == 'openai' else 'generateContent'}"
                f"{', Batch API' if api['batch'] else ''}), temperature "
                f"{'0' if api['supports_temperature'] else 'not accepted by the model (omitted)'}; {prices}."
            )
    return lines


STANDIN_SERVERS = {"vllm": "vLLM's OpenAI-compatible server", "transformers": "`transformers serve`"}


def decoding_note(task: dict) -> str:
    """How answers were decoded: greedy, within the token budget, under the task's format where it sets one."""
    note = f"greedy decoding, at most {task['max_new_tokens']} new tokens"
    if not task.get("structured_output"):
        return note + "."
    allowed = "its JSON schema (no optional whitespace)" if task["kind"] == "extraction" else "one of its labels"
    return note + f"; every system's answers constrained to {allowed} by structured output."


def execution_note(task: dict) -> str:
    """Code tasks: how the generated programs were contained, stating it when they ran without kernel isolation."""
    if task["kind"] != "code":
        return ""
    if task.get("execution", {}).get("isolation") == "unsafe-local":
        return (
            " **Generated programs ran without kernel isolation** (`execution.isolation: unsafe-local`): only "
            "resource limits and a Python audit hook contained them."
        )
    return (
        " Each generated program ran in its own bubblewrap sandbox (no network, a read-only root holding only the "
        "interpreter, seccomp, resource limits); its values were compared with the expected ones outside it."
    )


def setup_text(config: dict, tasks: dict, models: dict, pricing: dict, api_models: dict | None = None) -> str:
    """Models, conditions, training and cost assumptions as prose and a table."""
    cond_rows = []
    for name, cond in config["conditions"].items():
        detail = (
            f"{cond.get('shots', 0)} in-context examples"
            if cond["kind"] == "prompt"
            else f"LoRA on {cond['train_size']} examples"
            + (f", overrides {cond['lora']}" if cond.get("lora") else "")
            + ("" if cond.get("instructions", True) else "; trained and asked without the system prompt")
        )
        cond_rows.append([name, cond["kind"], detail])
    model_lines = [
        f"- **{m.get('display_name', name)}** (`{name}`, {m.get('license', 'unknown')} licence), "
        f"LoRA r={m['lora']['r']}, alpha={m['lora']['alpha']}, lr={m['lora']['learning_rate']}, "
        f"{m['lora']['epochs']} epoch(s), batch {m['lora']['batch_size']}, targets `{m['lora']['target_modules']}`."
        for name, m in models.items()
    ]
    task_lines = [
        f"- **{name}**: {t.get('description', '')} Primary metric `{t['primary_metric']}`; {decoding_note(t)}"
        f"{execution_note(t)}"
        for name, t in tasks.items()
    ]
    cost = config["cost"]
    hardware = pricing["hardware"][cost["hardware_profile"]]
    api = pricing["api"][cost["api_reference"]]
    return "\n".join(
        [
            "**Tasks.**",
            "",
            *task_lines,
            "",
            "**Models.**",
            "",
            *model_lines,
            "",
            *(["**API systems.**", "", *api_lines(api_models, pricing), ""] if api_models else []),
            pipe_table(["condition", "kind", "definition"], cond_rows, "Data-constrained conditions."),
            f"**Cost assumptions** (prices read on {pricing['prices_read_on']}, {pricing['currency']}). Local cells ran "
            f"on `{cost['hardware_profile']}` ({hardware.get('description', '')}) at ${hourly_usd(hardware):.4g}/hour, "
            f"billed at {cost['utilisation']:.0%} utilisation with {cost['min_replicas']} always-on replica(s). The API "
            f"reference `{cost['api_reference']}` costs ${api['input_per_1m']}/1M input and ${api['output_per_1m']}/1M "
            f"output tokens{' with its batch discount' if cost['api_batch'] else ''}; API cells bill the usage the "
            "API reports, and where a task has no API cell priced as the reference, its usage is estimated from the "
            f"measured token counts of the `{cost['api_condition']}` prompts. Engineering costs "
            f"${pricing['engineering']['hourly_usd']}/hour for {pricing['engineering']['hours']['prompt']} hours "
            f"(prompting) or {pricing['engineering']['hours']['lora']} hours (LoRA).",
            "",
        ]
    )


def write_fragments(
    out_dir: Path,
    cells: pd.DataFrame,
    metrics: pd.DataFrame,
    errors: pd.DataFrame,
    paired: pd.DataFrame,
    hypotheses: pd.DataFrame,
    variability: pd.DataFrame,
    costs: pd.DataFrame,
    breakeven: pd.DataFrame,
    sensitivity: pd.DataFrame,
    manifests: dict[str, dict],
    run_manifest: dict,
    pricing: dict,
    config: dict,
    tasks: dict,
    models: dict,
    selections: list[dict],
    sweeps: dict[tuple[str, str], pd.DataFrame],
    api_models: dict,
) -> None:
    """Write every fragment the paper template includes."""

    out_dir.mkdir(parents=True, exist_ok=True)
    months = config["cost"]["months"]
    alpha = 1 - config["bootstrap"]["confidence"]
    fragments = {
        "findings.md": findings_text(cells, paired, breakeven, alpha),
        "verdict.md": verdicts_text(cells, paired, breakeven, selections, config["cost"], alpha),
        "cost_inputs.md": cost_inputs_table(pricing, config["cost"], cells, costs, run_manifest["created"][:10]),
        "setup.md": setup_text(config, tasks, models, pricing, api_models),
        "data.md": data_table(manifests),
        "results.md": results_table(cells, metrics, costs),
        "costs.md": cost_table(costs, breakeven, months),
        "sensitivity.md": sensitivity_table(sensitivity),
        "errors.md": error_table(errors),
        "paired.md": paired_text(paired),
        "provenance.md": provenance_text(run_manifest),
        "hypotheses.md": hypotheses_list(config["hypotheses"]),
        "hypotheses_results.md": hypotheses_results(hypotheses),
        "variability.md": variability_table(variability),
        "gate.md": gate_fragment(selections),
        "sweep.md": sweep_fragment(sweeps),
    }
    for name, text in fragments.items():
        (out_dir / name).write_text(text, encoding="utf-8")
