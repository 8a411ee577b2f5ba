"""The cost model on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from breakeven.cost.model import (
    DAYS_PER_MONTH,
    Deployment,
    api_cost_per_query,
    breakeven_daily_volume,
    self_cost_per_query,
)


def test_api_cost_per_query_and_batch_discount():
    price = {"input_per_1m": 0.75, "output_per_1m": 4.50, "batch_discount": 0.5}
    # 1000 in, 100 out: 0.00075 + 0.00045 = 0.0012
    assert api_cost_per_query(1000, 100, price) == pytest.approx(0.0012)
    assert api_cost_per_query(1000, 100, price, batch=True) == pytest.approx(0.0006)


def test_self_cost_per_query():
    # $3.60/h, 1 s per query, 50% utilisation -> $0.002 per query
    assert self_cost_per_query(1.0, 3.6, 0.5) == pytest.approx(0.002)
    with pytest.raises(ValueError, match="utilisation"):
        self_cost_per_query(1.0, 3.6, 0.0)


def test_breakeven_linear_regime():
    # No floor: V = fixed / (days * (c_api - c_self)) = 3650 / (365 * (0.011 - 0.001)) = 1000/day
    self_hosted = Deployment(per_query=0.001, fixed=3650.0)
    api = Deployment(per_query=0.011)
    volume = breakeven_daily_volume(self_hosted, api, months=12)
    assert volume == pytest.approx(1000.0)
    assert self_hosted.tco(volume, 12) == pytest.approx(api.tco(volume, 12))


def test_breakeven_floor_regime():
    # Floor $100/month binds: V = (0 + 1200) / (365 * 0.01) = 328.77/day; variable at V is tiny
    self_hosted = Deployment(per_query=1e-6, fixed=0.0, floor_monthly=100.0)
    api = Deployment(per_query=0.01)
    volume = breakeven_daily_volume(self_hosted, api, months=12)
    assert volume == pytest.approx(1200 / (12 * DAYS_PER_MONTH * 0.01))
    assert self_hosted.tco(volume, 12) == pytest.approx(api.tco(volume, 12))


def test_breakeven_floor_exceeded_switches_to_linear():
    # Floor $10/month, fixed $3650, c_self 0.001, c_api 0.011: floor formula gives V_a = 3770/4.015 = 939,
    # where variable cost (939*365*0.001 = 342.7) exceeds the floor (120): linear regime, V = 1000.
    self_hosted = Deployment(per_query=0.001, fixed=3650.0, floor_monthly=10.0)
    api = Deployment(per_query=0.011)
    assert breakeven_daily_volume(self_hosted, api, months=12) == pytest.approx(1000.0)


def test_no_breakeven_when_api_is_cheaper_per_query():
    assert breakeven_daily_volume(Deployment(0.01, 100.0), Deployment(0.005), 12) is None
    assert breakeven_daily_volume(Deployment(0.01, 100.0), Deployment(0.01), 12) is None


def test_api_fixed_cost_is_credited():
    # Both sides pay engineering; only the difference must be recovered: (500 - 100) / (365 * 0.01)
    volume = breakeven_daily_volume(Deployment(0.0, 500.0), Deployment(0.01, 100.0), 12)
    assert volume == pytest.approx(400 / (12 * DAYS_PER_MONTH * 0.01))


def test_tco():
    assert Deployment(0.001, 50.0, 10.0).tco(0.0, 12) == pytest.approx(50 + 120)
    assert Deployment(0.001, 50.0, 10.0).tco(1000.0, 12) == pytest.approx(50 + 365)


def test_sensitivity_moves_the_breakeven_the_right_way():
    import pandas as pd

    from breakeven.cost.tables import sensitivity

    base = {
        "task": "t",
        "system": "m",
        "seed": 0,
        "primary_metric": "acc",
        "ci_low": 0.0,
        "ci_high": 1.0,
        "seconds_per_query": 0.01,
        "train_device_hours": 1.0,
        "input_tokens_mean": 1000.0,
        "output_tokens_mean": 100.0,
    }
    cells = pd.DataFrame(
        [
            {**base, "condition": "five_shot", "kind": "prompt", "value": 0.5},
            {**base, "condition": "lora", "kind": "lora", "value": 0.9},
        ]
    )
    table = sensitivity(cells, PRICING, COST).set_index(["assumption", "factor"])["breakeven_daily_volume"]
    assert table[("API token price", 2.0)] < table[("API token price", 0.5)]
    assert table[("engineering hours", 0.5)] < table[("engineering hours", 2.0)]
    assert table[("hardware hourly rate", 0.5)] < table[("hardware hourly rate", 2.0)]
    assert table[("utilisation", 2.0)] < table[("utilisation", 0.5)]


def _api_cells():
    import pandas as pd

    base = {
        "task": "t",
        "seed": 0,
        "primary_metric": "acc",
        "ci_low": 0.4,
        "ci_high": 0.6,
        "value": 0.5,
        "seconds_per_query": 0.01,
        "train_device_hours": 0.0,
        "input_tokens_mean": 1000.0,
        "output_tokens_mean": 100.0,
        "cached_tokens_mean": float("nan"),
        "api_pricing": None,
        "api_batch": False,
        "standin": False,
    }
    return pd.DataFrame(
        [
            {**base, "system": "m", "condition": "five_shot", "kind": "prompt"},
            {**base, "system": "m", "condition": "lora", "kind": "lora", "train_device_hours": 1.0},
            {
                **base,
                "system": "gpt",
                "condition": "five_shot",
                "kind": "api",
                "api_pricing": "api",
                "input_tokens_mean": 2000.0,
                "cached_tokens_mean": 1000.0,
                "output_tokens_mean": 50.0,
            },
            {
                **base,
                "system": "cheap",
                "condition": "zero_shot",
                "kind": "api",
                "api_pricing": "cheap",
                "cached_tokens_mean": 0.0,
                "api_batch": True,
                "standin": True,
            },
        ]
    )


PRICING = {
    "api": {
        "api": {"provider": "x", "input_per_1m": 1.0, "cached_input_per_1m": 0.1, "output_per_1m": 4.0},
        "cheap": {"provider": "x", "input_per_1m": 0.1, "output_per_1m": 0.4, "batch_discount": 0.5},
    },
    "hardware": {"gpu": {"hourly_usd": 2.0}},
    "engineering": {"hourly_usd": 100.0, "hours": {"prompt": 4, "lora": 24}},
}
COST = {
    "hardware_profile": "gpu",
    "api_reference": "api",
    "api_condition": "five_shot",
    "api_batch": False,
    "utilisation": 0.5,
    "min_replicas": 0,
    "months": 12,
    "error_usd": 0.0,
}


def test_measured_api_cells_replace_the_estimate_and_are_priced_from_usage():
    from breakeven.cost.tables import breakeven, deployments

    table = deployments(_api_cells(), PRICING, COST)
    api = table[table["kind"] == "api"].set_index("system")
    assert set(api.index) == {"gpt", "cheap"}  # measured reference: no estimated row
    assert api.loc["gpt", "per_query"] == pytest.approx((1000 * 1.0 + 1000 * 0.1 + 50 * 4.0) / 1e6)
    assert api.loc["cheap", "per_query"] == pytest.approx((1000 * 0.1 + 100 * 0.4) / 1e6 * 0.5)
    assert api.loc["gpt", "deployment"] == "api (measured)"
    assert api.loc["cheap", "deployment"] == "api stand-in (measured usage, priced as cheap)"
    assert api.loc["gpt", "value"] == 0.5
    rows = breakeven(table, COST)
    assert len(rows) == 2 * 2 and set(rows["api"]) == {"gpt", "cheap"}  # each self-hosted cell x each API


def test_the_estimate_stays_when_the_reference_has_no_cell():
    from breakeven.cost.tables import deployments

    cells = _api_cells()
    table = deployments(cells[cells["system"] != "gpt"], PRICING, COST)
    estimated = table[table["deployment"] == "api (usage estimated)"]
    assert list(estimated["system"]) == ["api"] and estimated["per_query"].iloc[0] == pytest.approx(1.4e-3)


# --- the seed method, owned hardware --------------------------------------------------------------------------

SEED_OWNED = {
    "kind": "owned",
    "purchase_usd": 0.0,
    "life_years": 3,
    "power_w": 320,
    "usd_per_kwh": 0.15,
    "overhead": 1.5,
}
"""The seed method's machine: 320 W at $0.15/kWh with a 1.5x overhead, its purchase not counted."""


def test_seed_method_reproduces_the_published_breakeven():
    """The seed write-up: 320 W, $0.15/kWh, 1.5x overhead; training cost 1.5 engineer-days x $100/h = $1,200;
    break-even = fixed cost / per-query saving; a saving of $0.063 per 1K queries against gpt-5.4-mini zero-shot
    gives about 19.0 million inferences. Its per-query inputs are not published; these (a zero-shot label
    answer: 80 input and 2 output tokens; 0.3 s per query on the owned card, fully used) give that saving."""
    import pandas as pd

    from breakeven.cost.model import hourly_usd
    from breakeven.cost.tables import deployments, reference_breakeven

    assert hourly_usd(SEED_OWNED) == pytest.approx(0.072)  # 0.32 kW x $0.15 x 1.5
    pricing = {
        "api": {"gpt-5.4-mini": {"provider": "openai", "input_per_1m": 0.75, "output_per_1m": 4.50}},
        "hardware": {"seed": SEED_OWNED},
        "engineering": {"hourly_usd": 100.0, "hours": {"prompt": 0, "lora": 1.5 * 8}},
    }
    cost = {
        "hardware_profile": "seed",
        "api_reference": "gpt-5.4-mini",
        "api_condition": "zero_shot",
        "api_batch": False,
        "utilisation": 1.0,
        "min_replicas": 0,
        "months": 12,
        "error_usd": 0.0,
    }
    base = {"task": "fpb", "seed": 0, "primary_metric": "macro_f1", "value": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    usage = {"input_tokens_mean": 80.0, "output_tokens_mean": 2.0, "cached_tokens_mean": 0.0, "standin": False}
    cells = pd.DataFrame(
        [
            {**base, **usage, "system": "local", "condition": "lora", "kind": "lora", "seconds_per_query": 0.3}
            | {"train_device_hours": 0.0, "api_pricing": None, "api_batch": False},
            {**base, **usage, "system": "gpt", "condition": "zero_shot", "kind": "api", "seconds_per_query": 1.0}
            | {"train_device_hours": 0.0, "api_pricing": "gpt-5.4-mini", "api_batch": False},
        ]
    )
    table = deployments(cells, pricing, cost)
    local, api = table.set_index("kind").loc["lora"], table.set_index("kind").loc["api"]
    assert local["fixed"] == pytest.approx(1200.0)
    assert (api["cost_per_1k"] - local["cost_per_1k"]) == pytest.approx(0.063)
    volume = reference_breakeven(table, cost)["breakeven_daily_volume"].iloc[0]
    inferences = volume * cost["months"] * DAYS_PER_MONTH
    assert inferences == pytest.approx(1200 / 0.063e-3) and round(inferences / 1e6, 1) == 19.0


def test_seed_method_owned_hardware_amortises_the_purchase_and_pays_for_power():
    from breakeven.cost.model import hourly_usd

    owned = SEED_OWNED | {"purchase_usd": 2628.0}  # $2,628 over 3 x 8,760 h = $0.10/h, plus $0.072/h of power
    assert hourly_usd(owned) == pytest.approx(0.172)
    assert hourly_usd({"hourly_usd": 0.69}) == 0.69
    with pytest.raises(ValueError, match="kind 'leased' is unknown"):
        hourly_usd({"kind": "leased", "hourly_usd": 1.0})


def test_seed_method_owned_profile_is_validated():
    from breakeven import REPO_ROOT
    from breakeven.config import ConfigError, validated
    from breakeven.jsonio import read_yaml

    pricing = read_yaml(REPO_ROOT / "config" / "pricing.yaml")
    assert pricing["hardware"]["rtx4080-owned"]["kind"] == "owned"
    validated(pricing, "pricing", "config/pricing.yaml")
    del pricing["hardware"]["rtx4080-owned"]["power_w"]
    with pytest.raises(ConfigError, match="'power_w' is a required property"):
        validated(pricing, "pricing", "config/pricing.yaml")


# --- break-even with uncertainty, the cost of errors ------------------------------------------------------------


def _table_and_samples(cells, cost=None, bootstrap=None):
    from cost_cells import BOOTSTRAP, COST, PRICING, summary

    from breakeven.cost.tables import breakeven, deployments
    from breakeven.cost.uncertainty import breakeven_intervals, resampled_costs

    cost, bootstrap = cost or COST, bootstrap or BOOTSTRAP
    table = deployments(summary(cells), PRICING, cost)
    samples = resampled_costs(table, cells, PRICING, cost, bootstrap)
    rows = breakeven_intervals(breakeven(table, cost), table, samples, cost, bootstrap["confidence"])
    return table, samples, rows


def _local_vs_api(n, accuracy=(0.8, 0.7), api_tokens=(1500.0, 40.0), seeds=(1, 2)):
    from cost_cells import bernoulli, latencies, metric_cell

    return [
        metric_cell(
            "m", "lora_200", "lora", bernoulli(accuracy[0], n, seeds[0]), latencies(0.05, n, 7), train_hours=0.5
        ),
        metric_cell("m", "five_shot", "prompt", bernoulli(0.6, n, 3), latencies(0.08, n, 8)),
        metric_cell(
            "gpt",
            "five_shot",
            "api",
            bernoulli(accuracy[1], n, seeds[1]),
            latencies(1.0, n, 9),
            api_tokens,
            pricing="gpt-5.4-mini",
        ),
    ]


def test_breakeven_ci_brackets_the_point_and_narrows_with_more_examples():
    """The interval comes from resampled examples: it holds the point estimate, and with 16x the examples it is
    about 4x narrower (the per-query time's sampling error shrinks as 1/sqrt(n))."""
    from cost_cells import COST

    cost = COST | {"min_replicas": 0}  # the linear regime, where the self-hosted per-query time matters
    widths = []
    for n in (100, 1600):
        _, _, rows = _table_and_samples(_local_vs_api(n), cost)
        row = rows[rows["api_reference"] & (rows["condition"] == "lora_200")].iloc[0]
        assert row["ci_low"] < row["breakeven_daily_volume"] < row["ci_high"] < np.inf
        assert row["never_share"] == 0.0
        widths.append(row["ci_high"] - row["ci_low"])
    assert 2.5 < widths[0] / widths[1] < 6.5


def test_breakeven_ci_pairs_the_resamples_of_every_cell():
    """Local and API answer exactly the same examples right: on every shared resample their error costs cancel,
    so pricing errors leaves the interval unchanged; independent resamples would widen it."""
    from cost_cells import COST, bernoulli, latencies, metric_cell

    n = 200
    correct = bernoulli(0.7, n, 5)
    cells = [
        metric_cell("m", "five_shot", "prompt", correct, latencies(0.05, n, 1)),
        metric_cell("gpt", "five_shot", "api", correct, latencies(1.0, n, 2), (1500.0, 40.0), pricing="gpt-5.4-mini"),
    ]
    free = _table_and_samples(cells, COST | {"min_replicas": 0})[2].iloc[0]
    priced = _table_and_samples(cells, COST | {"min_replicas": 0, "error_usd": 5.0})[2].iloc[0]
    assert priced["breakeven_daily_volume"] == pytest.approx(free["breakeven_daily_volume"])
    assert (priced["ci_low"], priced["ci_high"]) == pytest.approx((free["ci_low"], free["ci_high"]))


def test_breakeven_ci_counts_resamples_that_never_break_even():
    """Self-hosting barely cheaper than the API per query: some resamples make it dearer, so the interval's
    upper end is 'never' and their share is reported."""
    from cost_cells import COST

    cells = _local_vs_api(60, api_tokens=(60.0, 2.0))
    row = _table_and_samples(cells, COST | {"min_replicas": 0})[2]
    row = row[row["condition"] == "lora_200"].iloc[0]
    assert row["ci_high"] == np.inf and 0 < row["never_share"] < 0.5


def test_breakeven_ci_needs_per_example_latency():
    from cost_cells import COST

    cells = _local_vs_api(20)
    del cells[0]["per_example"][3]["latency_s"]
    with pytest.raises(ValueError, match=r"m · lora_200 · 0: field 'per_example.latency_s' missing \(example e0003\)"):
        _table_and_samples(cells, COST)


def test_breakeven_ci_resamples_whole_groups_where_examples_carry_one(monkeypatch):
    """Examples that share a group (questions of one contract) hand their groups to the statistics' resampling
    (``groups=``, clustered) for the metric and for the usage means alike; examples without one do not."""
    import breakeven.cost.uncertainty as uncertainty

    seen = []

    def recording(real):
        def call(*args, groups=None, **kwargs):
            seen.append(groups)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(uncertainty, "mean_samples", recording(uncertainty.mean_samples))
    monkeypatch.setattr(uncertainty, "metric_samples", recording(uncertainty.metric_samples))
    cells = _local_vs_api(40)
    _table_and_samples(cells)
    assert seen and all(groups is None for groups in seen)
    for cell in cells:
        for i, row in enumerate(cell["per_example"]):
            row["group"] = f"contract{i // 4}"
    seen.clear()
    _table_and_samples(cells)
    assert len(seen) == 6 and all(groups == [f"contract{i // 4}" for i in range(40)] for groups in seen)


def test_error_cost_adds_volume_times_error_rate_to_the_tco():
    from cost_cells import COST, PRICING, summary

    from breakeven.cost.tables import deployments, tco_grid

    cost = COST | {"error_usd": 0.5}
    table = deployments(summary(_local_vs_api(100)), PRICING, cost).set_index("condition")
    lora = table[table["kind"] == "lora"].iloc[0]
    assert lora["error_per_query"] == pytest.approx((1 - lora["value"]) * 0.5)
    grid = tco_grid(table.reset_index(), cost)
    at = grid[(grid["condition"] == "lora_200") & (grid["daily_volume"] == 10000)]["tco"].iloc[0]
    queries = 10000 * 12 * DAYS_PER_MONTH
    expected = lora["fixed"] + max(lora["floor_monthly"] * 12, queries * lora["per_query"])
    assert at == pytest.approx(expected + queries * (1 - lora["value"]) * 0.5)


def test_error_cost_lets_a_more_accurate_system_win_at_any_volume():
    """A local prompt cell dearer per query than the API but more accurate: free errors, it never breaks even;
    at $1 per wrong answer it is cheaper from the first query (same fixed cost, no floor)."""
    self_hosted, api = Deployment(0.002, 400.0), Deployment(0.001, 400.0)
    assert breakeven_daily_volume(self_hosted, api, 12) is None
    priced_self = Deployment(0.002, 400.0, error_per_query=(1 - 0.9) * 1.0)
    priced_api = Deployment(0.001, 400.0, error_per_query=(1 - 0.8) * 1.0)
    assert breakeven_daily_volume(priced_self, priced_api, 12) == 0.0
    from breakeven.cost.model import error_cost_threshold

    assert error_cost_threshold(0.002, 0.001, 0.9, 0.8) == pytest.approx(0.01)  # $0.001 / 0.1 accuracy
    assert error_cost_threshold(0.002, 0.001, 0.8, 0.9) is None


def test_error_cost_curve_falls_for_the_more_accurate_cell_and_rises_for_the_less_accurate():
    from cost_cells import COST

    from breakeven.cost.uncertainty import ERROR_USD_GRID, error_cost_curve

    for accuracy, falls in (((0.9, 0.6), True), ((0.6, 0.9), False)):
        table, samples, _ = _table_and_samples(_local_vs_api(300, accuracy=accuracy), COST | {"min_replicas": 0})
        curve = error_cost_curve(table, samples, COST | {"min_replicas": 0}, 0.95)
        assert list(curve["error_usd"]) == list(ERROR_USD_GRID) and set(curve["condition"]) == {"lora_200"}
        volumes = curve["breakeven_daily_volume"].fillna(np.inf).to_numpy()
        assert np.all(volumes[1:] <= volumes[:-1]) if falls else np.all(volumes[1:] >= volumes[:-1])
        assert volumes[0] < np.inf and (volumes[-1] < volumes[0] / 100 if falls else volumes[-1] == np.inf)
        assert (curve["ci_low"] <= curve["breakeven_daily_volume"].fillna(np.inf)).all()


# --- fixed cost: every run the decision took ---------------------------------------------------------------------


def test_fixed_cost_counts_sweep_and_gate_runs():
    """A LoRA cell owes its own training, every sweep point of its model and task (training + val scoring) and
    the gate's val cells of its task; a prompt cell only the gate's; another model's sweep is not its cost."""
    from cost_cells import COST, PRICING, latencies, metric_cell, summary

    from breakeven.cost.overhead import selection_runs
    from breakeven.cost.tables import deployments

    ones, lat = np.ones(10, bool), latencies(0.1, 10, 0)
    gate = [metric_cell(m, "base_val", "prompt", ones, np.full(10, 36.0)) for m in ("m", "other")]  # 2 x 360 s = 0.2 h
    sweep = [
        metric_cell("m", f"sweep_r-{r}", "lora", ones, np.full(10, 18.0), train_hours=1.0) for r in (8, 16)
    ]  # 2 x (1 h + 0.05 h)
    sweep.append(metric_cell("other", "sweep_r-8", "lora", ones, np.full(10, 18.0), train_hours=5.0))
    cells = [
        metric_cell("m", "lora_200", "lora", ones, lat, train_hours=0.5),
        metric_cell("m", "five_shot", "prompt", ones, lat),
    ]
    table = deployments(summary(cells), PRICING, COST, selection_runs(gate, sweep))
    table = table[table["kind"] != "api"].set_index("condition")
    hourly, rate = 2.0, 100.0
    assert table.loc["lora_200", "train_usd"] == pytest.approx(0.5 * hourly)
    assert table.loc["lora_200", "selection_usd"] == pytest.approx((0.2 + 2 * 1.05) * hourly)
    assert table.loc["lora_200", "fixed"] == pytest.approx((0.5 + 0.2 + 2.1) * hourly + 24 * rate)
    assert table.loc["five_shot", "fixed"] == pytest.approx(0.2 * hourly + 4 * rate)
