"""Figures of the paper (matplotlib, Agg backend): accuracy vs cost, and TCO vs daily volume."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from breakeven.cost.tables import deployment  # noqa: E402


def pareto_front(costs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Indices of points no other point beats on both cost (lower) and score (higher), by cost."""
    order = np.lexsort((-scores, costs))
    front, best = [], -np.inf
    for index in order:
        if scores[index] > best:
            front.append(index)
            best = scores[index]
    return np.array(front, dtype=int)


def _panels(frame: pd.DataFrame):
    """One axes per task, side by side, with its task name."""
    tasks = sorted(frame["task"].unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(6.5 * len(tasks), 4.2), squeeze=False)
    return fig, list(zip(axes[0], tasks))


def _save(fig, out: str) -> None:
    fig.tight_layout()
    fig.savefig(out, dpi=150)
    plt.close(fig)


def _label(row: dict) -> str:
    return f"{row['system']} · {row['condition']}"


def accuracy_vs_cost(costs: pd.DataFrame, out: str) -> None:
    """Primary metric (95% CI) vs cost per 1K queries, one panel per task, Pareto front drawn."""
    fig, panels = _panels(costs)
    for ax, task in panels:
        local = costs[(costs["task"] == task) & (costs["kind"] != "api")].reset_index(drop=True)
        yerr = np.vstack([local["value"] - local["ci_low"], local["ci_high"] - local["value"]])
        ax.errorbar(local["cost_per_1k"], local["value"], yerr=yerr, fmt="o", capsize=3, color="tab:blue")
        for row in local.to_dict("records"):
            ax.annotate(
                _label(row), (row["cost_per_1k"], row["value"]), textcoords="offset points", xytext=(5, 4), fontsize=7
            )
        front = pareto_front(local["cost_per_1k"].to_numpy(), local["value"].to_numpy())
        ax.step(
            local["cost_per_1k"].iloc[front],
            local["value"].iloc[front],
            where="post",
            color="tab:blue",
            alpha=0.4,
            label="Pareto front (self-hosted)",
        )
        for row in costs[(costs["task"] == task) & (costs["kind"] == "api")].to_dict("records"):
            if np.isnan(row["value"]):
                ax.axvline(
                    row["cost_per_1k"], linestyle="--", color="tab:red", label=f"{row['system']} cost (usage estimated)"
                )
                continue
            err = [[row["value"] - row["ci_low"]], [row["ci_high"] - row["value"]]]
            ax.errorbar(row["cost_per_1k"], row["value"], yerr=err, fmt="s", capsize=3, color="tab:red")
            ax.annotate(
                _label(row) + (" (stand-in)" if "stand-in" in row["deployment"] else ""),
                (row["cost_per_1k"], row["value"]),
                textcoords="offset points",
                xytext=(5, -9),
                fontsize=7,
                color="tab:red",
            )
        ax.set_xscale("log")
        ax.set_xlabel("cost per 1K queries (USD, log scale)")
        metric = str(costs.loc[costs["task"] == task, "primary_metric"].iloc[0])
        ax.set_ylabel(f"{metric} (95% CI)")
        ax.set_title(f"{task}: {metric} vs cost")
        ax.legend(fontsize=7, loc="best")
    _save(fig, out)


def tco_curves(costs: pd.DataFrame, breakeven: pd.DataFrame, months: int, out: str) -> None:
    """TCO over the horizon (errors priced in) vs daily volume (log-log) for each deployment, break-even volumes
    marked."""
    volumes = np.logspace(1, 7, 200)
    fig, panels = _panels(costs)
    for ax, task in panels:
        for row in costs[costs["task"] == task].to_dict("records"):
            style = {"linestyle": "--", "color": "tab:red"} if row["kind"] == "api" else {}
            ax.plot(volumes, [deployment(row).tco(v, months) for v in volumes], label=_label(row), **style)
        marks = breakeven[(breakeven["task"] == task) & breakeven["breakeven_daily_volume"].notna()]
        for row in marks.to_dict("records"):
            ax.axvline(row["breakeven_daily_volume"], color="grey", linewidth=0.6, alpha=0.6)
            if row["api_reference"]:
                ax.axvspan(row["ci_low"], min(row["ci_high"], volumes[-1]), color="grey", alpha=0.08)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("queries per day (log scale)")
        ax.set_ylabel(f"{months}-month TCO (USD, log scale)")
        ax.set_title(f"{task}: {months}-month TCO; grey lines = break-even volumes")
        ax.legend(fontsize=7, loc="upper left")
    _save(fig, out)


def examples_used(row: dict) -> int:
    """Labelled examples a cell used: its LoRA train set, or its in-context shots."""
    return int(row["n_train"]) if row["kind"] == "lora" else int(row["shots"])


def data_efficiency(cells: pd.DataFrame, out: str) -> None:
    """Primary metric (95% CI) against the labelled examples used, per task and system (symlog x)."""
    fig, panels = _panels(cells)
    for ax, task in panels:
        group = cells[cells["task"] == task].assign(used=lambda f: [examples_used(r) for r in f.to_dict("records")])
        for system, rows in group.groupby("system"):
            rows = rows.sort_values("used")
            yerr = np.vstack([rows["value"] - rows["ci_low"], rows["ci_high"] - rows["value"]])
            ax.errorbar(rows["used"], rows["value"], yerr=yerr, marker="o", capsize=3, label=system)
            for row in rows.to_dict("records"):
                ax.annotate(
                    row["condition"],
                    (row["used"], row["value"]),
                    textcoords="offset points",
                    xytext=(5, -10),
                    fontsize=7,
                )
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel("labelled examples used (in context or for LoRA; symlog scale)")
        ax.set_ylabel(f"{group['primary_metric'].iloc[0]} (95% CI)")
        ax.set_title(f"{task}: data efficiency")
        ax.legend(fontsize=7, loc="best")
    _save(fig, out)


def metric_with_ci(cells: pd.DataFrame, out: str) -> None:
    """Every cell's primary metric with its 95% CI, one horizontal panel per task."""
    fig, panels = _panels(cells)
    for ax, task in panels:
        group = cells[cells["task"] == task].reset_index(drop=True)
        y = np.arange(len(group))
        for is_api, color in ((False, "tab:blue"), (True, "tab:orange")):
            rows = group["kind"].eq("api") == is_api
            part = group[rows]
            xerr = np.vstack([part["value"] - part["ci_low"], part["ci_high"] - part["value"]])
            ax.errorbar(part["value"], y[rows], xerr=xerr, fmt="o", color=color, capsize=3)
        ax.set_yticks(y, [f"{r['system']} · {r['condition']} · s{r['seed']}" for r in group.to_dict("records")])
        ax.tick_params(axis="y", labelsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"{group['primary_metric'].iloc[0]} (95% CI)")
        ax.set_title(f"{task}: primary metric per cell")
    _save(fig, out)


def serving_latency(cells: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Every cell's latency p50/p95 as the paper reports it: a local cell's from its load test at the concurrency
    its cost uses (the eval batch's where it has none), an API cell's as measured."""
    keys = ["task", "system", "condition", "seed"]
    served = costs[[*keys, "serving_latency_p50_s", "serving_latency_p95_s", "serving_concurrency"]]
    frame = cells.merge(served, on=keys, how="left")
    for q in ("p50", "p95"):
        frame[f"latency_{q}_s"] = frame[f"serving_latency_{q}_s"].fillna(frame[f"latency_{q}_s"])
    return frame


def latency(cells: pd.DataFrame, costs: pd.DataFrame, out: str) -> None:
    """Per-request latency p50 (bar) and p95 (whisker) of every cell, one panel per task (see serving_latency)."""
    frame = serving_latency(cells, costs)
    fig, panels = _panels(frame)
    for ax, task in panels:
        group = frame[frame["task"] == task].reset_index(drop=True)
        x = np.arange(len(group))
        ax.bar(x, group["latency_p50_s"], color="tab:blue", alpha=0.7, label="p50")
        ax.errorbar(
            x,
            group["latency_p50_s"],
            yerr=[np.zeros(len(group)), group["latency_p95_s"] - group["latency_p50_s"]],
            fmt="none",
            ecolor="black",
            capsize=4,
            label="p95",
        )
        ticks = [
            f"{r['system']}\n{r['condition']}" + (f"\nc={r['serving_concurrency']:.0f}" if r["kind"] != "api" else "")
            for r in group.to_dict("records")
        ]
        ax.set_xticks(x, ticks, fontsize=7)
        ax.set_ylabel("latency per request (s)")
        ax.set_title(f"{task}: latency p50 / p95")
        ax.legend(fontsize=7)
    _save(fig, out)


def capacity(capacity: pd.DataFrame, costs: pd.DataFrame, cells: pd.DataFrame, out: str) -> None:
    """Throughput against p95 latency of every local cell's load test (a point per concurrency, the level its
    cost uses ringed), with each task's latency target and the API cells' measured p95."""
    fig, panels = _panels(capacity)
    for ax, task in panels:
        chosen = costs[(costs["task"] == task) & costs["serving_concurrency"].notna()]
        for (system, condition, seed), table in capacity[capacity["task"] == task].groupby(
            ["system", "condition", "seed"]
        ):
            table = table.sort_values("concurrency")
            line = ax.plot(table["latency_p95_s"], table["queries_per_s"], marker="o", label=f"{system} · {condition}")
            for row in table.to_dict("records"):
                ax.annotate(
                    f"{row['concurrency']}",
                    (row["latency_p95_s"], row["queries_per_s"]),
                    xytext=(3, 3),
                    textcoords="offset points",
                    fontsize=6,
                )
            pick = chosen[(chosen["system"] == system) & (chosen["condition"] == condition) & (chosen["seed"] == seed)]
            for level in pick["serving_concurrency"]:
                row = table[table["concurrency"] == level].iloc[0]
                ax.plot(row["latency_p95_s"], row["queries_per_s"], "o", ms=11, mfc="none", color=line[0].get_color())
        for slo, source in chosen[["latency_slo_s", "latency_slo_source"]].drop_duplicates().itertuples(index=False):
            ax.axvline(slo, color="tab:red", linestyle="--", label=f"latency target {slo:.2f} s ({source})")
        api = cells[(cells["task"] == task) & (cells["kind"] == "api")]
        for row in api.to_dict("records"):
            ax.axvline(row["latency_p95_s"], color="tab:orange", linestyle=":", label=f"{_label(row)} p95 (measured)")
        ax.set_xscale("log")
        ax.set_xlabel("p95 latency per request (s, log scale)")
        ax.set_ylabel("queries per second")
        ax.set_title(f"{task}: serving capacity (labels: concurrency; ringed: priced)")
        ax.legend(fontsize=6, loc="best")
    _save(fig, out)


def error_cost_curves(curve: pd.DataFrame, error_usd: float, out: str) -> None:
    """Per task, the break-even volume of the best self-hosted cell against the API reference as the cost of a
    wrong answer grows (95% band over resampled test examples); where the line stops, it never breaks even."""
    if curve.empty:
        raise ValueError("error_cost.csv: no task has both a self-hosted cell and an API reference")
    fig, panels = _panels(curve)
    for ax, task in panels:
        rows = curve[curve["task"] == task].sort_values("error_usd")
        first = rows.iloc[0]
        high = rows["ci_high"].where(np.isfinite(rows["ci_high"]), np.nan)
        ax.fill_between(rows["error_usd"], rows["ci_low"], high, color="tab:blue", alpha=0.2, label="95% CI")
        ax.plot(rows["error_usd"], rows["breakeven_daily_volume"], color="tab:blue", marker=".", label=_label(first))
        ax.axvline(error_usd, color="grey", linestyle=":", label=f"configured error cost (${error_usd:g})")
        ax.set_xscale("symlog", linthresh=1e-5)
        ax.set_xlim(0, rows["error_usd"].max())
        ax.set_yscale("log")
        ax.set_xlabel("cost of one wrong answer (USD, symlog scale)")
        ax.set_ylabel("break-even queries/day (log scale)")
        ax.set_title(f"{task}: {_label(first)} vs {first['api']} · {first['api_condition']}", fontsize=9)
        ax.legend(fontsize=7, loc="best")
    _save(fig, out)
