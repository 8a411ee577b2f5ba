"""The cost model on hand-worked cases."""

from __future__ import annotations

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
