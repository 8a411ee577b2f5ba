"""Cost per query, total cost of ownership over a horizon, and the break-even daily volume.

Self-hosted: a dedicated deployment pays at least ``floor`` per month (``min_replicas`` always-on machines)
and, above that, ``c_self`` per query (hourly rate x seconds per query / utilisation). The hourly rate of a
rented machine is its price; an owned machine's is its purchase price spread over its life plus its power
draw x electricity price x overhead (cooling, power supply). Fixed costs (every training run the decision
took, plus engineering) are paid once. The API pays ``c_api`` per query and nothing fixed beyond its own
engineering. A wrong answer costs ``E`` (``cost.error_usd``), so each side also pays ``r = (1 - accuracy) x E``
per query. Over ``months`` at ``V`` queries/day (``days = months * 365 / 12``):

    TCO_self(V) = fixed_self + max(floor * months, V * days * c_self) + V * days * r_self
    TCO_api(V)  = fixed_api  + V * days * (c_api + r_api)

The break-even volume is the smallest V with TCO_self(V) <= TCO_api(V). With the API's margin
``m = c_api + r_api - r_self`` it exists only when m > c_self (above the floor, self-hosting must be cheaper
per query, errors included). Closed form, two regimes, with fixed = fixed_self - fixed_api:

    floor binds:   V_a = (fixed + floor * months) / (days * m)          if V_a * c_self * days <= floor * months
    linear:        V_b = fixed / (days * (m - c_self))                  otherwise
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOURS_PER_MONTH = 730.0
HOURS_PER_YEAR = 8760.0
DAYS_PER_MONTH = 365.0 / 12


def api_cost_per_query(input_tokens, output_tokens, price: dict, batch: bool = False, cached_tokens=0.0):
    """Token cost of one API call from measured (or estimated) usage; the ``cached_tokens`` among the input are
    billed at the cached-input price (the input price where none is listed); batch mode applies the discount.
    Token counts may be numpy arrays (one per resample)."""
    cached_price = price.get("cached_input_per_1m", price["input_per_1m"])
    uncached = input_tokens - cached_tokens
    cost = (
        uncached * price["input_per_1m"] + cached_tokens * cached_price + output_tokens * price["output_per_1m"]
    ) / 1e6
    return cost * (1 - price.get("batch_discount", 0.0)) if batch else cost


def owned_hourly_usd(purchase_usd: float, life_years: float, power_w: float, usd_per_kwh: float, overhead: float):
    """Hourly cost of an owned machine: purchase price amortised over its life, plus the power it draws
    (watts x $/kWh x overhead factor for cooling and power delivery)."""
    if life_years <= 0:
        raise ValueError(f"an owned machine's life must be positive, got {life_years} years")
    return purchase_usd / (life_years * HOURS_PER_YEAR) + power_w / 1000 * usd_per_kwh * overhead


def hourly_usd(profile: dict) -> float:
    """The hourly rate of a hardware profile of config/pricing.yaml: ``rented`` (its price) or ``owned``."""
    kind = profile.get("kind", "rented")
    if kind == "rented":
        return profile["hourly_usd"]
    if kind == "owned":
        keys = ("purchase_usd", "life_years", "power_w", "usd_per_kwh", "overhead")
        return owned_hourly_usd(*(profile[key] for key in keys))
    raise ValueError(f"hardware profile kind {kind!r} is unknown; valid: rented, owned")


def self_cost_per_query(seconds_per_query, hourly: float, utilisation: float):
    """Machine cost of one query at the measured throughput, paid for 1/utilisation of the time."""
    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation}")
    return hourly * seconds_per_query / 3600 / utilisation


def error_cost_per_query(accuracy, error_usd: float):
    """Expected cost of wrong answers per query: (1 - accuracy) x the cost of one wrong answer."""
    accuracy = np.asarray(accuracy, dtype=float)
    if not error_usd:
        return np.zeros_like(accuracy)  # free errors cost nothing, even where the accuracy is unknown
    return (1 - accuracy) * error_usd


@dataclass(frozen=True)
class Deployment:
    """The cost structure of one way of serving a task; per-query fields may be arrays (one per resample)."""

    per_query: float
    fixed: float = 0.0
    floor_monthly: float = 0.0
    error_per_query: float = 0.0

    def tco(self, daily_volume: float, months: int) -> float:
        queries = daily_volume * months * DAYS_PER_MONTH
        variable = np.maximum(self.floor_monthly * months, queries * self.per_query)
        return self.fixed + variable + queries * self.error_per_query


def breakeven_volumes(self_hosted: Deployment, api: Deployment, months: int) -> np.ndarray:
    """Vectorised break-even daily volume (NaN where self-hosting never breaks even)."""
    if np.any(api.floor_monthly):
        raise ValueError("an API deployment has no monthly floor")
    c_self = np.asarray(self_hosted.per_query, dtype=float)
    margin = np.asarray(api.per_query + api.error_per_query - self_hosted.error_per_query, dtype=float)
    days = months * DAYS_PER_MONTH
    fixed = self_hosted.fixed - api.fixed
    floor = self_hosted.floor_monthly * months
    cheaper = margin > c_self
    with np.errstate(divide="ignore", invalid="ignore"):
        floor_bound = np.maximum(0.0, (fixed + floor) / (days * margin))
        linear = np.maximum(0.0, fixed / (days * (margin - c_self)))
    volume = np.where(floor_bound * days * c_self <= floor, floor_bound, linear)
    return np.where(cheaper, volume, np.nan)


def breakeven_daily_volume(self_hosted: Deployment, api: Deployment, months: int) -> float | None:
    """Smallest daily volume at which self-hosting costs no more than the API over ``months``; None if never."""
    volume = float(breakeven_volumes(self_hosted, api, months))
    return None if np.isnan(volume) else volume


def error_cost_threshold(self_per_query: float, api_per_query: float, self_accuracy: float, api_accuracy: float):
    """The cost of one wrong answer above which self-hosting is cheaper per query than the API, errors included
    (0 when it already is; None when it never is: not more accurate and not cheaper)."""
    if self_per_query < api_per_query:
        return 0.0
    gain = self_accuracy - api_accuracy
    return (self_per_query - api_per_query) / gain if gain > 0 else None
