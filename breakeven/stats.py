"""Confidence intervals: percentile bootstrap over test examples (scipy.stats.bootstrap, vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n}


def mean_ci(values: np.ndarray | list[float], n_resamples: int, confidence: float, seed: int) -> Estimate:
    """Mean of per-example scores with a percentile-bootstrap CI over examples."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("mean_ci: no examples to score")
    point = float(data.mean())
    if data.size == 1 or np.all(data == data[0]):
        return Estimate(point, point, point, int(data.size))
    result = stats.bootstrap(
        (data,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return Estimate(point, float(interval.low), float(interval.high), int(data.size))
