"""Cost per query, total cost of ownership over a horizon, and the break-even daily volume.

Self-hosted: a dedicated deployment pays at least ``floor`` per month (``min_replicas`` always-on machines)
and, above that, ``c_self`` per query (hourly rate x measured seconds per query / utilisation). Fixed costs
(training compute + engineering) are paid once. The API pays ``c_api`` per query and nothing fixed beyond
its own engineering. Over ``months`` at ``V`` queries/day (``days = months * 365 / 12``):

    TCO_self(V) = fixed_self + max(floor * months, V * days * c_self)
    TCO_api(V)  = fixed_api  + V * days * c_api

The break-even volume is the smallest V with TCO_self(V) <= TCO_api(V); it exists only when c_api > c_self
(above the floor, self-hosting must be cheaper per query). Closed form, two regimes:

    floor binds:   V_a = (fixed + floor * months) / (days * c_api)          if V_a * c_self * days <= floor * months
    linear:        V_b = fixed / (days * (c_api - c_self))                  otherwise
with fixed = fixed_self - fixed_api.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 365.0 / 12


def api_cost_per_query(
    input_tokens: float, output_tokens: float, price: dict, batch: bool = False, cached_tokens: float = 0.0
) -> float:
    """Token cost of one API call from measured (or estimated) usage; the ``cached_tokens`` among the input are
    billed at the cached-input price (the input price where none is listed); batch mode applies the discount."""
    cached_price = price.get("cached_input_per_1m", price["input_per_1m"])
    uncached = input_tokens - cached_tokens
    cost = (
        uncached * price["input_per_1m"] + cached_tokens * cached_price + output_tokens * price["output_per_1m"]
    ) / 1e6
    return cost * (1 - price.get("batch_discount", 0.0)) if batch else cost


def self_cost_per_query(seconds_per_query: float, hourly_usd: float, utilisation: float) -> float:
    """Machine cost of one query at the measured throughput, paid for 1/utilisation of the time."""
    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation}")
    return hourly_usd * seconds_per_query / 3600 / utilisation


@dataclass(frozen=True)
class Deployment:
    """The cost structure of one way of serving a task."""

    per_query: float
    fixed: float = 0.0
    floor_monthly: float = 0.0

    def tco(self, daily_volume: float, months: int) -> float:
        variable = daily_volume * months * DAYS_PER_MONTH * self.per_query
        return self.fixed + max(self.floor_monthly * months, variable)


def breakeven_daily_volume(self_hosted: Deployment, api: Deployment, months: int) -> float | None:
    """Smallest daily volume at which self-hosting costs no more than the API over ``months``; None if never."""
    if api.floor_monthly:
        raise ValueError("an API deployment has no monthly floor")
    if api.per_query <= self_hosted.per_query:
        return None
    days = months * DAYS_PER_MONTH
    fixed = self_hosted.fixed - api.fixed
    floor = self_hosted.floor_monthly * months
    floor_bound = max(0.0, (fixed + floor) / (days * api.per_query))
    if floor_bound * days * self_hosted.per_query <= floor:
        return floor_bound
    return max(0.0, fixed / (days * (api.per_query - self_hosted.per_query)))
