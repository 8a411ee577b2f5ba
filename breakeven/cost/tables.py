"""Cost tables from measured cells: cost per query and per correct answer, TCO over volumes, break-even."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from breakeven.cost.model import (
    HOURS_PER_MONTH,
    Deployment,
    api_cost_per_query,
    breakeven_daily_volume,
    error_cost_per_query,
    hourly_usd,
    self_cost_per_query,
)
from breakeven.cost.overhead import selection_device_hours

KEYS = ["task", "system", "condition", "seed", "kind"]
UPPER_BOUND = "an upper bound: the load test's highest concurrency met the latency target, so capacity may be higher"
"""The note of a break-even priced at the load test's highest level (a lower cost breaks even sooner)."""
METRIC = ["primary_metric", "value", "ci_low", "ci_high"]

SERVING_COLUMNS = (
    "seconds_per_query",
    "eval_seconds_per_query",
    "serving_concurrency",
    "serving_latency_p50_s",
    "serving_latency_p95_s",
    "latency_slo_s",
    "latency_slo_source",
    "meets_slo",
    "at_load_test_cap",
)
"""A self-hosted row's serving figures (from ``at_latency_slo``): the seconds per query its cost uses and the eval
batch's, the load-test level chosen, that level's latency, the latency target with where it came from, and
whether the chosen level is the load test's highest (capacity at the target may then be higher)."""


def at_latency_slo(cells: pd.DataFrame, capacity: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """The cells with each local cell's ``seconds_per_query`` taken from its serving capacity: the throughput of
    the highest load-test concurrency whose p95 latency meets the task's target (``cost.latency_slo_s``; null: the
    API reference's measured p95 on the task, its api_condition cell first, else ``cost.latency_slo_fallback_s``).
    Where no level meets it, the lowest level (``meets_slo`` false). Where the highest level tested meets it
    (``at_load_test_cap``), the capacity at the target is at least that level's: the cost is an upper bound.
    The eval batch's figure stays as ``eval_seconds_per_query``; a cell without a capacity table keeps it."""
    keys = ["task", "system", "condition", "seed"]
    tables = {key: table.sort_values("concurrency") for key, table in capacity.groupby(keys)} if len(capacity) else {}
    api = cells[(cells["kind"] == "api") & (cells["api_pricing"] == cost["api_reference"])]
    api = api.assign(_order=(api["condition"] != cost["api_condition"]).astype(int)).sort_values("_order")
    rows = []
    for cell in cells[cells["kind"] != "api"].to_dict("records"):
        table = tables.get(tuple(cell[k] for k in keys))
        if table is None:
            continue
        measured = api[api["task"] == cell["task"]]
        if cost["latency_slo_s"] is not None:
            slo, source = cost["latency_slo_s"], "config"
        elif not measured.empty:
            slo, source = measured["latency_p95_s"].iloc[0], f"{measured['system'].iloc[0]} measured p95"
        else:
            slo, source = cost["latency_slo_fallback_s"], "fallback: no measured API reference"
        meeting = table[table["latency_p95_s"] <= slo]
        level = meeting.iloc[-1] if not meeting.empty else table.iloc[0]
        rows.append(
            {
                **{k: cell[k] for k in keys},
                "seconds_per_query": level["requests_per_example"] / level["queries_per_s"],
                "serving_concurrency": int(level["concurrency"]),
                "serving_latency_p50_s": level["latency_p50_s"],
                "serving_latency_p95_s": level["latency_p95_s"],
                "latency_slo_s": slo,
                "latency_slo_source": source,
                "meets_slo": not meeting.empty,
                "at_load_test_cap": bool(not meeting.empty and level["concurrency"] == table["concurrency"].max()),
            }
        )
    serving = pd.DataFrame(rows, columns=[*keys, "seconds_per_query", *SERVING_COLUMNS[2:]])
    merged = cells.rename(columns={"seconds_per_query": "eval_seconds_per_query"}).merge(serving, on=keys, how="left")
    merged["seconds_per_query"] = merged["seconds_per_query"].fillna(merged["eval_seconds_per_query"])
    return merged


def deployments(cells: pd.DataFrame, pricing: dict, cost: dict, selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cell, self-hosted or API, plus an estimated row for the API reference of each task that has
    no measured cell priced as it: per-query, error, fixed (training, selection, engineering) and floor costs.
    ``selection`` holds the gate's and the sweep's runs (:func:`breakeven.cost.overhead.selection_runs`)."""
    hourly = hourly_usd(pricing["hardware"][cost["hardware_profile"]])
    rows = [
        _self_hosted_row(cell, hourly, pricing, cost, selection)
        for cell in cells[cells["kind"] != "api"].to_dict("records")
    ]
    rows += _measured_api_rows(cells, pricing)
    rows += _estimated_api_rows(cells, pricing, cost)
    table = pd.DataFrame(rows)
    table["fixed"] = table["train_usd"] + table["selection_usd"] + table["engineering_usd"]
    table["error_per_query"] = error_cost_per_query(table["value"], cost["error_usd"])
    table["cost_per_1k"] = table["per_query"] * 1000
    table["cost_per_1k_correct"] = table["cost_per_1k"] / table["value"].where(table["value"] > 0)
    # the metric's CI bounds give the cost's (a higher metric means a lower cost per correct answer)
    table["cost_per_1k_correct_low"] = table["cost_per_1k"] / table["ci_high"].where(table["ci_high"] > 0)
    table["cost_per_1k_correct_high"] = table["cost_per_1k"] / table["ci_low"].where(table["ci_low"] > 0)
    return table


def _self_hosted_row(cell: dict, hourly: float, pricing: dict, cost: dict, selection: pd.DataFrame | None) -> dict:
    """A local cell: its seconds per query (the one time input) at the hardware's hourly rate; fixed costs are
    its own training, the selection runs it owes, and the engineering hours of its kind."""
    engineering = pricing["engineering"]
    selection_hours = selection_device_hours(selection, cell["task"], cell["system"], cell["kind"])
    return {
        **{k: cell[k] for k in KEYS},
        "deployment": "self-hosted",
        "pricing": None,
        "hourly_usd": hourly,
        **{k: cell.get(k) for k in SERVING_COLUMNS},
        "per_query": self_cost_per_query(cell["seconds_per_query"], hourly, cost["utilisation"]),
        "train_usd": cell["train_device_hours"] * hourly,
        "selection_usd": selection_hours * hourly,
        "engineering_usd": engineering["hours"][cell["kind"]] * engineering["hourly_usd"],
        "floor_monthly": cost["min_replicas"] * hourly * HOURS_PER_MONTH,
        **{k: cell[k] for k in METRIC},
    }


def _api_row(pricing: dict, per_query: float) -> dict:
    """The cost fields every API row shares: no hardware, no training, only prompt engineering."""
    engineering = pricing["engineering"]
    return {
        "hourly_usd": float("nan"),
        "seconds_per_query": float("nan"),
        "per_query": per_query,
        "train_usd": 0.0,
        "selection_usd": 0.0,
        "engineering_usd": engineering["hours"]["prompt"] * engineering["hourly_usd"],
        "floor_monthly": 0.0,
    }


def _measured_api_rows(cells: pd.DataFrame, pricing: dict) -> list[dict]:
    """API cells: per-query cost from their measured mean usage (cached input and batch discount included)."""
    rows = []
    for cell in cells[cells["kind"] == "api"].to_dict("records"):
        price = pricing["api"][cell["api_pricing"]]
        per_query = api_cost_per_query(
            cell["input_tokens_mean"],
            cell["output_tokens_mean"],
            price,
            bool(cell["api_batch"]),
            cached_tokens=cell["cached_tokens_mean"],
        )
        label = "api (measured" + (", batch" if cell["api_batch"] else "") + ")"
        if cell["standin"]:
            label = f"api stand-in (measured usage, priced as {cell['api_pricing']})"
        rows.append(
            {
                **{k: cell[k] for k in KEYS},
                "deployment": label,
                "pricing": cell["api_pricing"],
                **_api_row(pricing, per_query),
                **{k: cell[k] for k in METRIC},
            }
        )
    return rows


def estimate_source(cells: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """The local prompt cells whose measured tokens stand for the API reference's usage where it has no cell."""
    return cells[(cells["condition"] == cost["api_condition"]) & (cells["kind"] == "prompt")]


def _estimated_api_rows(cells: pd.DataFrame, pricing: dict, cost: dict) -> list[dict]:
    """The fallback when the API reference has no measured cell on a task: its usage estimated from the
    api_condition cells' measured tokens (the local prompts are the prompts the API would get)."""
    name = cost["api_reference"]
    price = pricing["api"][name]
    api_cells = cells[cells["kind"] == "api"]
    measured = set(api_cells.loc[api_cells["api_pricing"] == name, "task"]) if not api_cells.empty else set()
    rows = []
    for task, group in estimate_source(cells, cost).groupby("task"):
        if task in measured:
            continue
        per_query = api_cost_per_query(
            group["input_tokens_mean"].mean(), group["output_tokens_mean"].mean(), price, cost["api_batch"]
        )
        rows.append(
            {
                "task": task,
                "system": name,
                "condition": cost["api_condition"],
                "seed": 0,
                "kind": "api",
                "deployment": "api (usage estimated)",
                "pricing": name,
                **_api_row(pricing, per_query),
                "primary_metric": group["primary_metric"].iloc[0],
                "value": float("nan"),
                "ci_low": float("nan"),
                "ci_high": float("nan"),
            }
        )
    return rows


def deployment(row: dict) -> Deployment:
    return Deployment(row["per_query"], row["fixed"], row["floor_monthly"], row["error_per_query"])


def tco_grid(table: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """TCO over the horizon of every deployment at each configured daily volume (errors priced in)."""
    rows = [
        {
            **{k: row[k] for k in KEYS},
            "daily_volume": volume,
            "tco": float(deployment(row).tco(volume, cost["months"])),
        }
        for row in table.to_dict("records")
        for volume in cost["daily_volumes"]
    ]
    return pd.DataFrame(rows)


def reference_rows(table: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """Each task's API reference: the api_reference-priced row on api_condition (measured when it exists, else
    estimated; a measured row on another condition when that is all there is), indexed by task."""
    api = table[(table["kind"] == "api") & (table["pricing"] == cost["api_reference"])]
    api = api.assign(_order=(api["condition"] != cost["api_condition"]).astype(int)).sort_values(
        "_order", kind="stable"
    )
    return api.drop_duplicates("task").drop(columns="_order").set_index("task")


def breakeven(table: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """Break-even daily volume of each self-hosted cell against each API row of its task; ``api_reference``
    marks the rows against the task's configured reference (:func:`reference_rows`)."""
    api, refs = table[table["kind"] == "api"], reference_rows(table, cost)
    rows = []
    for row in table[table["kind"] != "api"].to_dict("records"):
        for ref in api[api["task"] == row["task"]].to_dict("records"):
            is_reference = row["task"] in refs.index and _same(ref, refs.loc[row["task"]])
            rows.append(_breakeven_row(row, ref, cost) | {"api_reference": is_reference})
    return pd.DataFrame(rows)


def _same(row: dict, ref: pd.Series) -> bool:
    return all(row[k] == ref[k] for k in ("system", "condition", "seed", "pricing"))


def reference_breakeven(table: pd.DataFrame, cost: dict) -> pd.DataFrame:
    """Break-even against each task's API reference only."""
    rows = breakeven(table, cost)
    return rows[rows["api_reference"]].reset_index(drop=True) if not rows.empty else rows


def _breakeven_row(row: dict, ref: dict, cost: dict) -> dict:
    volume = breakeven_daily_volume(deployment(row), deployment(ref), cost["months"])
    note = ""
    if str(row.get("at_load_test_cap")) == "True":
        note = UPPER_BOUND
    if volume is None:
        note = "the API costs less per query, errors included: self-hosting never breaks even"
        if np.isnan(row["error_per_query"] + ref["error_per_query"]):
            note = "an accuracy is unknown, so the error cost cannot be priced"
    return {
        **{k: row[k] for k in ("task", "system", "condition", "seed", "kind")},
        "api": ref["system"],
        "api_condition": ref["condition"],
        "api_seed": ref["seed"],
        "api_deployment": ref["deployment"],
        "self_per_query": row["per_query"],
        "api_per_query": ref["per_query"],
        "self_error_per_query": row["error_per_query"],
        "api_error_per_query": ref["error_per_query"],
        "breakeven_daily_volume": float("nan") if volume is None else volume,
        "note": note,
    }


def best_local(table: pd.DataFrame) -> pd.DataFrame:
    """Each task's self-hosted cell with the highest primary metric (the cell sensitivity and curves follow)."""
    local = table[table["kind"] != "api"]
    return local.loc[local.groupby("task")["value"].idxmax()]


SENSITIVITY = {
    "API token price": ("api_price", (0.5, 2.0)),
    "hardware hourly rate": ("hardware_price", (0.5, 2.0)),
    "engineering hours": ("engineering", (0.5, 2.0)),
    "utilisation": ("utilisation", (0.5, 2.0)),
}
"""Each assumption the break-even rests on, and the factors it is scaled by (utilisation is capped at 1)."""


def _scaled(pricing: dict, cost: dict, what: str, factor: float) -> tuple[dict, dict]:
    pricing, cost = copy.deepcopy(pricing), dict(cost)
    if what == "api_price":
        price = pricing["api"][cost["api_reference"]]
        for key in ("input_per_1m", "cached_input_per_1m", "output_per_1m"):
            if key in price:
                price[key] *= factor
    elif what == "hardware_price":
        profile = pricing["hardware"][cost["hardware_profile"]]
        pricing["hardware"][cost["hardware_profile"]] = {"kind": "rented", "hourly_usd": hourly_usd(profile) * factor}
    elif what == "engineering":
        pricing["engineering"]["hours"] = {k: v * factor for k, v in pricing["engineering"]["hours"].items()}
    else:
        cost["utilisation"] = min(1.0, cost["utilisation"] * factor)
    return pricing, cost


def sensitivity(cells: pd.DataFrame, pricing: dict, cost: dict, selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """Break-even volume of each task's best self-hosted cell against its API reference when one assumption is
    halved or doubled."""
    best = best_local(cells)[["task", "system", "condition", "seed"]]

    def best_breakeven(pricing: dict, cost: dict) -> pd.DataFrame:
        return reference_breakeven(deployments(cells, pricing, cost, selection), cost).merge(
            best, on=["task", "system", "condition", "seed"]
        )

    base = best_breakeven(pricing, cost).set_index("task")["breakeven_daily_volume"]
    rows = []
    for label, (what, factors) in SENSITIVITY.items():
        for factor in factors:
            for row in best_breakeven(*_scaled(pricing, cost, what, factor)).to_dict("records"):
                rows.append(
                    {
                        "task": row["task"],
                        "system": row["system"],
                        "condition": row["condition"],
                        "assumption": label,
                        "factor": factor,
                        "breakeven_daily_volume": row["breakeven_daily_volume"],
                        "baseline_daily_volume": base[row["task"]],
                    }
                )
    return pd.DataFrame(rows)
