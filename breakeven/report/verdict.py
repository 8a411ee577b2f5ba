"""The decision per task, in words. The paired test ranks the cells (each against its task's reference cell,
BH-adjusted); the break-even against the configured API reference prices them; the base-model gate says what
was expected before any fine-tuning. Nothing is decided on overlapping confidence intervals."""

from __future__ import annotations

import math

import pandas as pd

from breakeven.cost.model import error_cost_threshold
from breakeven.cost.tables import UPPER_BOUND
from breakeven.selection.gate import DECISION_TEXT, DEPLOY

KEYS = ["task", "system", "condition", "seed"]
REFERENCE, BETTER, TIED, WORSE = "reference", "better", "tied", "worse"


def label(row) -> str:
    return f"{row['system']} · {row['condition']}" + (f" · seed {row['seed']}" if row["kind"] == "lora" else "")


def with_ci(value: float, low: float, high: float) -> str:
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def volume(value: float | None) -> str:
    if value is None or math.isnan(value) or math.isinf(value):
        return "never"
    return f"{value:,.0f}"


def standing(cells: pd.DataFrame, paired: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """A task's cells against the paired test's reference (the one cell the paired table has no row for):
    better / worse where the BH-adjusted p is below ``alpha``, tied otherwise."""
    columns = {"difference": "difference", "ci_low": "diff_low", "ci_high": "diff_high", "p_adjusted_bh": "p_bh"}
    table = cells.merge(paired[KEYS + list(columns)].rename(columns=columns), on=KEYS, how="left")
    is_reference = table["p_bh"].isna()
    if is_reference.sum() != 1:
        found = ", ".join(label(r) for r in table[is_reference].to_dict("records")) or "none"
        raise ValueError(f"paired.csv: expected one reference cell without a row per task, found {found}")
    significant = table["p_bh"] < alpha
    status = [
        REFERENCE if ref else (BETTER if diff > 0 else WORSE) if sig else TIED
        for ref, sig, diff in zip(is_reference, significant, table["difference"])
    ]
    return table.assign(status=status)


def top(table: pd.DataFrame) -> pd.DataFrame:
    """The cells the paired test cannot place below another: those significantly better than the reference
    if any, else the reference and the cells tied with it."""
    better = table[table["status"] == BETTER]
    return better if not better.empty else table[table["status"].isin([REFERENCE, TIED])]


def _p(row: dict) -> str:
    return (
        f"{row['difference']:+.3f} [{row['diff_low']:+.3f}, {row['diff_high']:+.3f}], BH-adjusted p = {row['p_bh']:.4f}"
    )


def _reference_first(column: pd.Series) -> pd.Series:
    """Sort key: on equal scores the paired test's reference comes first (the status column)."""
    return column != REFERENCE if column.name == "status" else column


def best_sentence(table: pd.DataFrame, alpha: float) -> str:
    """Which cell is best by the paired test, and why."""
    leaders = top(table).sort_values(["value", "status"], ascending=[False, True], key=_reference_first)
    best = leaders.iloc[0].to_dict()
    metric = best["primary_metric"]
    reference = table[table["status"] == REFERENCE].iloc[0].to_dict()
    line = f"the best cell by the paired test is {label(best)} with {metric} {with_ci(best['value'], best['ci_low'], best['ci_high'])}"
    if best["status"] == BETTER:
        line += f", significantly better than the reference {label(reference)} ({_p(best)})"
    else:
        worse = (table["status"] == WORSE).sum()
        line += (
            f": no cell is significantly better (BH-adjusted p < {alpha:g} needed); {worse} of "
            f"{len(table) - 1} other cells are significantly worse"
        )
    others = [label(r) for r in leaders.to_dict("records") if label(r) != label(best)]
    if others:
        line += f"; the paired test does not separate it from {', '.join(others)}"
    return line


def reference_row(breakeven: pd.DataFrame, cell: dict) -> dict | None:
    """The cell's break-even row against the configured API reference (None: no such row)."""
    if breakeven.empty:
        return None
    match = breakeven[breakeven["api_reference"].astype(bool)]
    match = match[(match[KEYS] == pd.Series({k: cell[k] for k in KEYS})).all(axis=1)]
    return match.iloc[0].to_dict() if not match.empty else None


def breakeven_text(row: dict) -> str:
    text = f"{volume(row['breakeven_daily_volume'])} queries/day (95% CI {volume(row['ci_low'])} – {volume(row['ci_high'])}"
    if 0 < row["never_share"] < 1:
        text += f"; never in {row['never_share']:.0%} of resamples"
    if row.get("note") == UPPER_BOUND:
        text += f"; {UPPER_BOUND}"
    return text + ")"


def findings_text(cells: pd.DataFrame, paired: pd.DataFrame, breakeven: pd.DataFrame, alpha: float) -> str:
    """Headline per task: the best cell by the paired test, and the break-even of the best self-hosted one
    against the configured API reference."""
    lines = []
    for task, group in cells.groupby("task"):
        table = standing(group, paired[paired["task"] == task], alpha)
        line = f"On **{task}**, {best_sentence(table, alpha)}."
        local = local_option(table, breakeven)
        row = reference_row(breakeven, local) if local else None
        if row:
            line += (
                f" Self-hosting {label(local)} breaks even with {row['api']} · {row['api_condition']} (the "
                f"configured API reference) at {breakeven_text(row)}."
            )
        lines.append(line)
    return "\n\n".join(lines) + "\n"


def local_option(table: pd.DataFrame, breakeven: pd.DataFrame) -> dict | None:
    """The self-hosted cell to deploy: among the local cells the paired test puts on top, the one that breaks
    even soonest (prompting before LoRA on a tie); without one there, the best-scoring local cell."""
    local = table[table["kind"] != "api"]
    if local.empty:
        return None
    leaders = top(table)
    pool = leaders[leaders["kind"] != "api"] if (leaders["kind"] != "api").any() else local.nlargest(1, "value")

    def order(row: dict) -> tuple:
        found = reference_row(breakeven, row)
        volume = found["breakeven_daily_volume"] if found else math.nan
        return (math.inf if math.isnan(volume) else volume, row["kind"] != "prompt", -row["value"])

    return min(pool.to_dict("records"), key=order)


def standing_text(row: dict) -> str:
    if row["status"] == REFERENCE:
        return "the paired test's reference"
    return f"{_p(row)} against the reference"


def score_text(row: dict) -> str:
    return f"{label(row)} scores {with_ci(row['value'], row['ci_low'], row['ci_high'])} ({standing_text(row)})"


def action(cell: dict) -> str:
    return f"fine-tune ({label(cell)})" if cell["kind"] == "lora" else f"deploy the base model ({label(cell)})"


def gate_clause(selection: dict | None) -> str:
    if not selection:
        return ""
    primary = next(c for c in selection["candidates"] if c["model"] == selection["primary"])["pass_rate"]
    text = (
        f"The base-model gate gave {selection['primary']} a zero-shot val pass rate of {primary['rate']:.0%} "
        f"(95% CI {primary['ci_low']:.0%}–{primary['ci_high']:.0%}): {DECISION_TEXT[selection['decision']]}. "
    )
    return text + ("It skipped the LoRA cells. " if selection["gated"] else "")


def gate_agreement(selection: dict | None, chosen: dict | None) -> str:
    """Where the verdict self-hosts, whether it bears out the gate's call."""
    if not selection or chosen is None:
        return ""
    if selection["decision"] == DEPLOY and chosen["kind"] == "lora":
        return " Unlike the gate's call, fine-tuning pays here."
    if selection["decision"] != DEPLOY and chosen["kind"] == "prompt":
        return " Unlike the gate's call, the base model needs no fine-tuning here."
    return " This bears out the gate's call."


def _api_cell(table: pd.DataFrame, row: dict) -> dict | None:
    match = table[
        (table["system"] == row["api"])
        & (table["condition"] == row["api_condition"])
        & (table["seed"] == row["api_seed"])
        & (table["kind"] == "api")
    ]
    return match.iloc[0].to_dict() if not match.empty else None


def verdict_sentence(table: pd.DataFrame, local: dict, api: dict | None, row: dict) -> tuple[str, dict | None]:
    """The verdict and the self-hosted cell it deploys (None: prompt the API)."""
    leaders = {label(r) for r in top(table).to_dict("records")}
    local_top, api_top = label(local) in leaders, api is not None and label(api) in leaders
    be, finite = breakeven_text(row), not math.isnan(row["breakeven_daily_volume"])
    reference = f"{row['api']} · {row['api_condition']}"
    if api is None:
        if finite:
            return f"{action(local)} from {be}; below it, prompt the API (the verdict weighs cost only)", local
        return f"prompt the API: self-hosting {label(local)} never breaks even (the verdict weighs cost only)", None
    if api_top and local_top:
        if finite:
            return f"prompt the API below {be}, {action(local)} above it: the paired test does not separate them", local
        return (
            "prompt the API: the paired test does not separate it from the best local cell, and it costs less "
            "per query at every volume",
            None,
        )
    if api_top:
        cheaper = f"; self-hosting {label(local)} would cost less from {be}, at lower accuracy" if finite else ""
        return (
            f"prompt the API: the paired test puts {reference} among the best cells and no self-hosted cell{cheaper}",
            None,
        )
    if local_top and finite:
        return f"{action(local)}: the paired test puts it above the API, and it costs less from {be}", local
    if local_top:
        threshold = error_cost_threshold(row["self_per_query"], row["api_per_query"], local["value"], api["value"])
        pays = f"a wrong answer costs more than ${threshold:,.4f}" if threshold is not None else "errors cost enough"
        return f"{action(local)} if {pays}: the paired test puts it above the API, which costs less per query", local
    best = ", ".join(sorted(leaders))
    return f"prompt the API: the paired test puts {best} on top, no self-hosted cell", None


def task_verdict(table: pd.DataFrame, breakeven: pd.DataFrame, selection: dict | None, cost: dict) -> str:
    """One paragraph: the gate, the paired test, the break-even, and the verdict with its numbers."""
    task = table["task"].iloc[0]
    local = local_option(table, breakeven)
    row = reference_row(breakeven, local) if local else None
    if row is None:
        return f"**{task}.** {gate_clause(selection)}No self-hosted cell and API reference to weigh.\n"
    api = _api_cell(table, row)
    scores = score_text(local) + (
        f"; {score_text(api)}"
        if api
        else f"; the API reference {row['api']}'s accuracy was not measured (usage estimated)"
    )
    errors = f" Each wrong answer is priced at ${cost['error_usd']:g}." if cost["error_usd"] else ""
    sentence, chosen = verdict_sentence(table, local, api, row)
    return (
        f"**{task}.** {gate_clause(selection)}By the paired test, {scores}.{errors} "
        f"**Verdict: {sentence}.**{gate_agreement(selection, chosen)}\n"
    )


def verdicts_text(
    cells: pd.DataFrame, paired: pd.DataFrame, breakeven: pd.DataFrame, selections: list[dict], cost: dict, alpha: float
) -> str:
    """The verdict paragraph of every task."""
    by_task = {s["task"]: s for s in selections}
    parts = [
        task_verdict(
            standing(group, paired[paired["task"] == task], alpha),
            breakeven[breakeven["task"] == task],
            by_task.get(task),
            cost,
        )
        for task, group in cells.groupby("task")
    ]
    return "\n".join(parts)
