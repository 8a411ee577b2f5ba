"""Break-even with uncertainty: every resample of a task's test examples gives each deployment an accuracy
(the primary metric), a per-query cost (self-hosted: the measured seconds per query scaled by the resample's
mean latency; API: the resample's mean token cost) and so a break-even volume; its percentiles are the
interval. The same resamples serve every cell of a task (one seed), so the comparison is paired; they follow the
task's resampling design (breakeven.analysis.paired.resampling_design: whole groups where examples carry one,
within gold labels for F1 metrics)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from breakeven.analysis.paired import metric_samples, resampling_design, task_labels
from breakeven.cost.model import Deployment, api_cost_per_query, breakeven_volumes, error_cost_per_query
from breakeven.cost.tables import best_local, deployment, reference_rows
from breakeven.stats.bootstrap import mean_samples

KEYS = ("task", "system", "condition", "seed")
ERROR_USD_GRID = np.concatenate([[0.0], np.geomspace(1e-5, 10.0, 37)])
"""Costs of one wrong answer (USD) the break-even curve is drawn over: 0, then 1e-5 to 10 on a log grid."""


@dataclass(frozen=True)
class Resampled:
    """One deployment on every resample: per-query cost and accuracy (NaN where unmeasured)."""

    per_query: np.ndarray
    accuracy: np.ndarray


@dataclass(frozen=True)
class Resampler:
    """The shared resamples of one task: example order, labels for F1 metrics, optional groups and strata."""

    order: list[str]
    labels: list[str]
    n_resamples: int
    seed: int
    groups: list | None = None
    strata: list | None = None

    def _kw(self) -> dict:
        return {key: keys for key, keys in (("groups", self.groups), ("strata", self.strata)) if keys is not None}

    def means(self, values: np.ndarray) -> np.ndarray:
        return mean_samples(values, self.n_resamples, self.seed, **self._kw())

    def metric(self, cell: dict) -> np.ndarray:
        return metric_samples(cell, self.order, self.labels, self.n_resamples, self.seed, **self._kw())


def per_example(cell: dict, order: list[str], key: str) -> np.ndarray:
    """One measurement of every example, in ``order`` (cached tokens default to 0 where none were reported)."""
    rows = {row["id"]: row for row in cell["per_example"]}
    missing = [i for i in order if key not in rows[i] and key != "cached_tokens"]
    if missing:
        raise ValueError(
            f"metrics of {' · '.join(str(cell[k]) for k in KEYS)}: field 'per_example.{key}' missing "
            f"(example {missing[0]}); rescore the cell with this version"
        )
    return np.array([rows[i].get(key, 0.0) for i in order], dtype=float)


def resampler(task_cells: list[dict], labels: list[str], bootstrap: dict) -> Resampler:
    order = sorted(row["id"] for row in task_cells[0]["per_example"])
    for cell in task_cells:
        if sorted(row["id"] for row in cell["per_example"]) != order:
            raise ValueError(f"{' · '.join(str(cell[k]) for k in KEYS)} was not scored on the task's test examples")
    design = resampling_design(task_cells[0], order)
    return Resampler(order, labels, bootstrap["n_resamples"], bootstrap["seed"], design["groups"], design["strata"])


def _local(row: dict, cell: dict, sampler: Resampler) -> Resampled:
    latency = per_example(cell, sampler.order, "latency_s")
    scale = sampler.means(latency) / latency.mean() if latency.mean() > 0 else np.ones(sampler.n_resamples)
    return Resampled(row["per_query"] * scale, sampler.metric(cell))


def _api(cells: list[dict], price: dict, batch: bool, sampler: Resampler) -> np.ndarray:
    """Per-query cost on every resample from per-example tokens (averaged over ``cells`` per example)."""
    tokens = {
        key: np.mean([per_example(cell, sampler.order, key) for cell in cells], axis=0)
        for key in ("input_tokens", "output_tokens", "cached_tokens")
    }
    cost = api_cost_per_query(tokens["input_tokens"], tokens["output_tokens"], price, batch, tokens["cached_tokens"])
    return sampler.means(cost)


def resample_task(table: pd.DataFrame, cells: list[dict], pricing: dict, cost: dict, sampler: Resampler) -> dict:
    """Every deployment row of one task on the task's resamples, keyed by (task, system, condition, seed)."""
    by_key = {tuple(c[k] for k in KEYS): c for c in cells}
    out = {}
    for row in table.to_dict("records"):
        key = tuple(row[k] for k in KEYS)
        if row["kind"] != "api":
            out[key] = _local(row, by_key[key], sampler)
        elif key in by_key:
            cell = by_key[key]
            price = pricing["api"][row["pricing"]]
            out[key] = Resampled(_api([cell], price, bool(cell["run"].get("batch")), sampler), sampler.metric(cell))
        else:  # the estimate: the api_condition prompt cells' tokens billed at the reference's prices
            source = [c for c in cells if c["kind"] == "prompt" and c["condition"] == row["condition"]]
            per_query = _api(source, pricing["api"][row["pricing"]], cost["api_batch"], sampler)
            out[key] = Resampled(per_query, np.full(sampler.n_resamples, np.nan))
    return out


def resampled_costs(table: pd.DataFrame, cells: list[dict], pricing: dict, cost: dict, bootstrap: dict) -> dict:
    """Every deployment row on its task's resamples, keyed by (task, system, condition, seed)."""
    labels, out = task_labels(cells), {}
    for task, rows in table.groupby("task"):
        task_cells = [c for c in cells if c["task"] == task]
        out |= resample_task(rows, task_cells, pricing, cost, resampler(task_cells, labels[task], bootstrap))
    return out


def _resampled_deployment(row: dict, samples: Resampled, error_usd: float) -> Deployment:
    return Deployment(
        samples.per_query, row["fixed"], row["floor_monthly"], error_cost_per_query(samples.accuracy, error_usd)
    )


def interval(volumes: np.ndarray, confidence: float) -> dict:
    """Percentile interval of resampled break-even volumes ("never" counts as infinitely far) and the share of
    resamples in which self-hosting never breaks even."""
    never = np.isnan(volumes)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.where(never, np.inf, volumes), [alpha, 1 - alpha], method="inverted_cdf")
    return {"ci_low": float(low), "ci_high": float(high), "never_share": float(never.mean())}


def breakeven_intervals(
    rows: pd.DataFrame, table: pd.DataFrame, samples: dict, cost: dict, confidence: float
) -> pd.DataFrame:
    """The break-even table with each row's interval over the resamples."""
    by_key = {tuple(r[k] for k in KEYS): r for r in table.to_dict("records")}
    extra = []
    for r in rows.to_dict("records"):
        self_key = tuple(r[k] for k in KEYS)
        api_key = (r["task"], r["api"], r["api_condition"], r["api_seed"])
        volumes = breakeven_volumes(
            _resampled_deployment(by_key[self_key], samples[self_key], cost["error_usd"]),
            _resampled_deployment(by_key[api_key], samples[api_key], cost["error_usd"]),
            cost["months"],
        )
        extra.append(interval(volumes, confidence))
    return pd.concat([rows.reset_index(drop=True), pd.DataFrame(extra)], axis=1)


def error_cost_curve(table: pd.DataFrame, samples: dict, cost: dict, confidence: float) -> pd.DataFrame:
    """Per task, the break-even of the best self-hosted cell against the API reference over the cost of one
    wrong answer (ERROR_USD_GRID), with its interval."""
    refs, rows = reference_rows(table, cost), []
    for best in best_local(table).to_dict("records"):
        if best["task"] not in refs.index:
            continue
        ref = refs.loc[best["task"]].to_dict() | {"task": best["task"]}
        self_key, api_key = (tuple(best[k] for k in KEYS), tuple(ref[k] for k in KEYS))
        for error_usd in ERROR_USD_GRID:
            point = breakeven_volumes(_with_error(best, error_usd), _with_error(ref, error_usd), cost["months"])
            volumes = breakeven_volumes(
                _resampled_deployment(best, samples[self_key], error_usd),
                _resampled_deployment(ref, samples[api_key], error_usd),
                cost["months"],
            )
            rows.append(
                {
                    **{k: best[k] for k in KEYS},
                    "api": ref["system"],
                    "api_condition": ref["condition"],
                    "error_usd": error_usd,
                    "breakeven_daily_volume": float(point),
                    **interval(volumes, confidence),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            *KEYS,
            "api",
            "api_condition",
            "error_usd",
            "breakeven_daily_volume",
            "ci_low",
            "ci_high",
            "never_share",
        ],
    )


def _with_error(row: dict, error_usd: float) -> Deployment:
    return deployment(row | {"error_per_query": float(error_cost_per_query(row["value"], error_usd))})
