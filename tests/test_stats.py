"""Bootstrap CIs agree with scipy's reference on the same data and behave at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from breakeven.stats import mean_ci


def test_mean_ci_matches_scipy_bootstrap():
    data = np.random.default_rng(1).binomial(1, 0.6, size=300).astype(float)
    estimate = mean_ci(data, n_resamples=10_000, confidence=0.95, seed=7)
    reference = stats.bootstrap((data,), np.mean, n_resamples=10_000, method="percentile",
                                rng=np.random.default_rng(123)).confidence_interval
    assert estimate.value == pytest.approx(data.mean())
    assert estimate.low == pytest.approx(reference.low, abs=0.01)
    assert estimate.high == pytest.approx(reference.high, abs=0.01)
    # and with the normal approximation of a proportion
    se = np.sqrt(data.mean() * (1 - data.mean()) / data.size)
    assert estimate.high - estimate.low == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_mean_ci_is_seeded():
    data = np.linspace(0, 1, 50)
    assert mean_ci(data, 2000, 0.95, 3) == mean_ci(data, 2000, 0.95, 3)


def test_constant_scores_give_a_degenerate_interval():
    estimate = mean_ci([0.0] * 20, 1000, 0.95, 0)
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (0.0, 0.0, 0.0, 20)


def test_empty_scores_raise():
    with pytest.raises(ValueError, match="no examples"):
        mean_ci([], 1000, 0.95, 0)
