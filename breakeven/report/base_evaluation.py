"""The base-model gate in words: the run's base-model-evaluation.md and the paper's gate and sweep fragments."""

from __future__ import annotations

import pandas as pd

from breakeven.report.markdown import pipe_table
from breakeven.selection.gate import DECISION_TEXT, DEPLOY, FINE_TUNE

NEXT_STEPS = {
    DEPLOY: "Deploy the primary candidate zero-shot; fine-tune only for the error classes below, and re-check "
    "on the test split before shipping.",
    FINE_TUNE: "LoRA fine-tune the primary candidate (the grid's LoRA conditions), compare with the API "
    "baselines, and keep the backup candidate in reserve.",
    "full_pipeline": "Fine-tune with the largest train set, review the failure classes (format vs content), "
    "and consider a stronger or domain-adapted candidate.",
}


def _rate(entry: dict) -> str:
    rate = entry["pass_rate"]
    return f"{rate['rate']:.0%} ({rate['passes']}/{rate['n']}; 95% CI {rate['ci_low']:.0%}–{rate['ci_high']:.0%})"


def _card(value: object) -> str:
    return "–" if value in (None, "") else str(value)


def candidates_table(selection: dict) -> str:
    rows = [
        [
            c["model"],
            _card(c.get("parameters_b")),
            _card(c.get("license")),
            _card(c.get("context_length")),
            _card(c.get("release_date")),
            _rate(c),
            f"{c['primary_value']:.3f}",
            _card(c.get("domain_notes")),
        ]
        for c in selection["candidates"]
    ]
    header = ["model", "params (B)", "license", "context", "released", "val pass rate", "primary metric", "domain fit"]
    return pipe_table(header, rows, f"{selection['task']}: base-model candidates, zero-shot on the val slice")


def contamination_line(candidate: dict) -> str:
    check = candidate["contamination"]
    if check is None:
        return f"- {candidate['model']}: not checked (the run has no zero-shot test condition)."
    verdict = "FLAGGED: inspect for test-set contamination" if check["flagged"] else "not flagged"
    return (
        f"- {candidate['model']}: zero-shot test pass rate {check['test']['rate']:.0%} vs chance "
        f"{check['chance']:.0%} (+{check['above_chance']:.0%}, margin {check['margin']:.0%}): {verdict}; "
        f"test − val = {check['test_minus_val']:+.0%}."
    )


def failures_section(candidate: dict) -> list[str]:
    lines = [f"Failures of {candidate['model']} by error class:", ""]
    for cls, info in candidate["failures"].items():
        lines.append(f"- **{cls}**: {info['count']}")
        for example in info["examples"]:
            text = example["output"].replace("\n", " ").replace("`", "'")[:160] or "(empty)"
            lines.append(f"    - `{example['id']}`: `{text}`")
    return lines if candidate["failures"] else [f"{candidate['model']} passed every val example.", ""]


def base_model_document(run: str, selections: list[dict]) -> str:
    """base-model-evaluation.md: per task, candidates, choice and rationale, decision, failures, next steps."""
    lines = [f"# Base-model evaluation (run `{run}`)", ""]
    lines += [
        "Each candidate base model answers the first examples of the task's val split zero-shot (the same",
        "prompt as the benchmark); an example passes when the task's scorer marks it correct. The decision uses",
        "the primary (best) candidate's pass rate.",
        "",
    ]
    for selection in selections:
        primary = next(c for c in selection["candidates"] if c["model"] == selection["primary"])
        lines += [f"## {selection['task']}", "", candidates_table(selection)]
        lines += [
            f"**Selected:** {selection['primary']} (backup: {selection['backup'] or 'none — one candidate'}).",
            "",
            f"**Pass rate:** {_rate(primary)}. **Decision:** {selection['decision']} — "
            f"{DECISION_TEXT[selection['decision']]}.",
            "",
            f"**Rationale:** {selection['rationale']}",
            "",
            f"**Gating:** {'LoRA cells skipped for this task' if selection['gated'] else 'LoRA cells run'}.",
            "",
            "**Contamination check** (chance = answering every test example with the most frequent training answer):",
            "",
            *[contamination_line(c) for c in selection["candidates"]],
            "",
            *failures_section(primary),
            "",
            f"**Next steps:** {NEXT_STEPS[selection['decision']]}",
            "",
        ]
    return "\n".join(lines)


def gate_fragment(selections: list[dict]) -> str:
    """The paper's base-model gate table and which cells it gated."""
    if not selections:
        return "The base-model gate was not run.\n"
    rows = [
        [
            s["task"],
            s["primary"],
            s["backup"] or "–",
            _rate(next(c for c in s["candidates"] if c["model"] == s["primary"])),
            s["decision"].replace("_", " "),
            "yes" if any((c["contamination"] or {}).get("flagged") for c in s["candidates"]) else "no",
            "LoRA cells skipped" if s["gated"] else "–",
        ]
        for s in selections
    ]
    header = ["task", "primary", "backup", "val pass rate", "decision", "contamination flag", "gated"]
    text = pipe_table(header, rows, "Base-model gate: zero-shot pass rate of the best candidate on the val slice")
    gated = [s["task"] for s in selections if s["gated"]]
    if gated:
        text += (
            f"\nThe gate skipped the LoRA cells of {', '.join(gated)}: the base model already passes at least the "
            "configured sufficiency threshold zero-shot.\n"
        )
    return text


def sweep_fragment(tables: dict[tuple[str, str], pd.DataFrame]) -> str:
    """The paper's sweep tables: every grid point's val metric, the chosen point first."""
    if not tables:
        return "No hyperparameter sweep was run; LoRA cells use the configured hyperparameters.\n"
    parts = []
    for (model, task), table in sorted(tables.items()):
        keys = [
            c for c in table.columns if c not in {"point", "metric", "value", "ci_low", "ci_high", "n_val", "val_loss"}
        ]
        rows = [
            [
                *(f"{r[k]:g}" if isinstance(r[k], float) else r[k] for k in keys),
                f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
                "–" if pd.isna(r["val_loss"]) else f"{r['val_loss']:.3f}",
                "chosen" if i == 0 else "",
            ]
            for i, r in enumerate(table.to_dict("records"))
        ]
        metric = table["metric"].iloc[0]
        caption = f"Sweep, {model} on {task}: {metric} on {int(table['n_val'].iloc[0])} val examples (never test)"
        parts.append(pipe_table([*keys, metric, "val loss", ""], rows, caption))
    return "\n".join(parts)
