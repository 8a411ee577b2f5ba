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
    date = pricing["prices_read_on"]
    return [
        [
            f"API price `{name}`",
            fmt.format(pricing["api"][name][key]),
            pricing["api"][name].get("source", NO_SOURCE),
            date,
        ]
        for name in names
        for key, fmt in API.items()
        if key in pricing["api"][name]
    ]


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
        ("min_replicas", str(cost["min_replicas"]), "always-on machines (the monthly floor)"),
        ("months", str(cost["months"]), "TCO horizon"),
        ("error_usd", f"${cost['error_usd']:g}", "cost of one wrong answer"),
        ("api_batch", str(cost["api_batch"]), "estimated API rows priced with the batch discount"),
    ]
    return [[f"`cost.{key}` ({what})", value, "run config (an assumption)", run_date] for key, value, what in rows]


def _engineering_rows(pricing: dict) -> list[list[str]]:
    engineering = pricing["engineering"]
    source = engineering.get("source", NO_SOURCE)
    rows = [["engineering rate", f"${engineering['hourly_usd']:g}/hour", source, pricing["prices_read_on"]]]
    rows += [
        [f"engineering hours ({kind})", f"{hours:g} h", source, pricing["prices_read_on"]]
        for kind, hours in engineering["hours"].items()
    ]
    return rows


MEASURED = [
    ("seconds per query (self-hosted)", "per cell", "evaluation run: generation wall time / test examples"),
    ("tokens per query", "per cell", "measured: local tokenizer counts, API usage as the API reported it"),
    ("training device-hours", "per LoRA cell", "the adapter's train_info.json"),
    (
        "selection device-hours",
        "per task and model",
        "the gate's val cells and the sweep's points (training + scoring)",
    ),
    ("accuracy (primary metric)", "per cell", "test-set score; its resamples give the break-even interval"),
]


def cost_inputs_table(pricing: dict, cost: dict, costs: pd.DataFrame, run_date: str) -> str:
    """Every input of the cost model: prices (dated by config/pricing.yaml), assumptions, measurements."""
    names = sorted({cost["api_reference"], *costs["pricing"].dropna()})
    rows = [
        *_api_rows(pricing, names),
        *_hardware_rows(pricing, cost["hardware_profile"]),
        *_engineering_rows(pricing),
        *_config_rows(cost, run_date),
        *[[what, value, source, f"measured in this run ({run_date})"] for what, value, source in MEASURED],
    ]
    return pipe_table(
        ["input", "value", "source", "date"],
        rows,
        f"Inputs of the cost model ({pricing['currency']}); prices read on {pricing['prices_read_on']}.",
    )
