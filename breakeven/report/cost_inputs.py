"""The cost model's inputs as one table: every value the TCO and the break-even use, with its source and date."""

from __future__ import annotations

import pandas as pd

from breakeven.cost.model import hourly_usd
from breakeven.report.markdown import pipe_table

NO_SOURCE = "not recorded in config/pricing.yaml"
OWNED = {
    "purchase_usd": ("purchase price", "${:,.2f}"),
    "life_years": ("amortised over", "{:g} years"),
    "power_w": ("power draw", "{:g} W"),
    "usd_per_kwh": ("electricity", "${:g}/kWh"),
    "overhead": ("overhead on power", "×{:g}"),
}
API = {
    "input_per_1m": "${:g}/1M input tokens",
    "cached_input_per_1m": "${:g}/1M cached input tokens",
    "output_per_1m": "${:g}/1M output tokens",
    "batch_discount": "{:.0%} batch discount",
}


def _api_rows(pricing: dict, names: list[str]) -> list[list[str]]:
    rows = []
    for name in names:
        entry = pricing["api"][name]
        source = entry.get("source", NO_SOURCE) + (f" ({entry['note']})" if entry.get("note") else "")
        date = entry.get("read_on", pricing["prices_read_on"])
        rows += [
            [f"API price `{name}`", fmt.format(entry[key]), source, date] for key, fmt in API.items() if key in entry
        ]
    return rows


def _hardware_rows(pricing: dict, name: str) -> list[list[str]]:
    profile, date = pricing["hardware"][name], pricing["prices_read_on"]
    source = profile.get("source", NO_SOURCE)
    if profile.get("kind", "rented") == "rented":
        return [[f"hardware `{name}` (rented)", f"${profile['hourly_usd']:g}/hour", source, date]]
    rows = [
        [f"hardware `{name}` (owned): {what}", fmt.format(profile[key]), source, date]
        for key, (what, fmt) in OWNED.items()
    ]
    derived = "purchase / (life × 8,760 h) + power/1000 × $/kWh × overhead"
    return [*rows, [f"hardware `{name}`: hourly rate", f"${hourly_usd(profile):.4f}/hour", f"derived: {derived}", date]]


def _config_rows(cost: dict, run_date: str) -> list[list[str]]:
    rows = [
        ("utilisation", f"{cost['utilisation']:.0%}", "share of paid machine time spent serving"),
        ("min_replicas", str(cost["min_replicas"]), "always-on machines, the monthly floor"),
        ("months", str(cost["months"]), "TCO horizon"),
        ("error_usd", f"${cost['error_usd']:g}", "cost of one wrong answer"),
        ("api_batch", str(cost["api_batch"]), "estimated API rows priced with the batch discount"),
    ]
    return [[f"`cost.{key}`: {what}", value, "run config (an assumption)", run_date] for key, value, what in rows]


def _engineering_rows(pricing: dict) -> list[list[str]]:
    engineering = pricing["engineering"]
    source = engineering.get("source", NO_SOURCE)
    rows = [["engineering rate", f"${engineering['hourly_usd']:g}/hour", source, pricing["prices_read_on"]]]
    rows += [
        [f"engineering hours ({kind})", f"{hours:g} h", source, pricing["prices_read_on"]]
        for kind, hours in engineering["hours"].items()
    ]
    return rows


def _span(values: pd.Series, unit: str, digits: str = ".3g") -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    low, high = values.min(), values.max()
    text = f"{low:{digits}}" if low == high else f"{low:{digits}}–{high:{digits}}"
    return f"{text} {unit}".strip()


def _measured_rows(cells: pd.DataFrame, costs: pd.DataFrame, run_date: str) -> list[list[str]]:
    """The measured inputs, as their range over the cells (each cell's value is in the results and cost tables)."""
    local = costs[costs["kind"] != "api"]
    rows = [
        (
            "seconds per query (self-hosted)",
            _span(local["seconds_per_query"], "s"),
            "generation wall time / test examples",
        ),
        (
            "input tokens per query",
            _span(cells["input_tokens_mean"], "tokens", ".0f"),
            "local tokenizer; API: as reported",
        ),
        (
            "output tokens per query",
            _span(cells["output_tokens_mean"], "tokens", ".0f"),
            "local tokenizer; API: as reported",
        ),
        (
            "training device-hours",
            _span(local["train_usd"] / local["hourly_usd"], "h"),
            "each adapter's train_info.json",
        ),
        (
            "selection device-hours",
            _span(local["selection_usd"] / local["hourly_usd"], "h"),
            "the gate's val cells and the sweep's points a cell owes (training + scoring)",
        ),
        (
            "accuracy (primary metric)",
            _span(cells["value"], ""),
            "test set; its resamples give the break-even interval",
        ),
    ]
    return [[what, value, f"measured: {source}", run_date] for what, value, source in rows]


def cost_inputs_table(pricing: dict, cost: dict, cells: pd.DataFrame, costs: pd.DataFrame, run_date: str) -> str:
    """Every input of the cost model: prices (dated by config/pricing.yaml), assumptions, measurements."""
    names = sorted({cost["api_reference"], *costs["pricing"].dropna()})
    rows = [
        *_api_rows(pricing, names),
        *_hardware_rows(pricing, cost["hardware_profile"]),
        *_engineering_rows(pricing),
        *_config_rows(cost, run_date),
        *_measured_rows(cells, costs, run_date),
    ]
    return pipe_table(
        ["input", "value", "source", "date"],
        rows,
        f"Inputs of the cost model ({pricing['currency']}); prices read on {pricing['prices_read_on']}, the run's "
        f"assumptions and measurements dated by its manifest.",
    )
