"""Bootstrap CIs agree with scipy's reference on the same data and behave at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from breakeven.stats.bootstrap import mean_ci


def test_mean_ci_matches_scipy_bootstrap():
    data = np.random.default_rng(1).binomial(1, 0.6, size=300).astype(float)
    estimate = mean_ci(data, n_resamples=10_000, confidence=0.95, seed=7)
    reference = stats.bootstrap(
        (data,), np.mean, n_resamples=10_000, method="percentile", rng=np.random.default_rng(123)
    ).confidence_interval
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


def _labelled(n: int, classes: int, accuracy: float, seed: int):
    rng = np.random.default_rng(seed)
    labels = [f"c{i}" for i in range(classes)]
    gold = [labels[i] for i in rng.integers(0, classes, n)]
    pred = [
        g if rng.random() < accuracy else (None if rng.random() < 0.2 else labels[rng.integers(0, classes)])
        for g in gold
    ]
    return labels, gold, pred


@pytest.mark.parametrize("metric", ["macro_f1", "weighted_f1"])
def test_vectorised_f1_equals_sklearn_on_each_resample(metric, monkeypatch):
    from sklearn.metrics import f1_score

    from breakeven.stats import bootstrap as module

    labels, gold, pred = _labelled(300, 7, 0.6, 0)
    codes = {label: i for i, label in enumerate(labels)}
    size = len(labels) + 1
    idx = np.random.default_rng(5).integers(0, 300, size=(20, 300))
    encoded = np.array([codes[g] * size + (codes[p] if p else size - 1) for g, p in zip(gold, pred)])
    counts = np.stack([np.bincount(encoded[row], minlength=size * size).reshape(size, size) for row in idx])
    vectorised = module._f1_from_confusion(counts, metric)
    for row, value in zip(idx, vectorised):
        g = [gold[i] for i in row]
        p = [pred[i] if pred[i] else "<unparseable>" for i in row]
        seen = sorted(set(g) | {x for x in p if x != "<unparseable>"})
        expected = f1_score(g, p, labels=seen, average=metric.split("_")[0], zero_division=0)
        assert value == pytest.approx(expected)


def test_classification_ci_matches_scipy_bootstrap_of_the_metric():
    from sklearn.metrics import f1_score

    from breakeven.stats.bootstrap import classification_ci

    labels, gold, pred = _labelled(400, 5, 0.7, 1)
    estimate = classification_ci(gold, pred, labels, "macro_f1", n_resamples=4000, confidence=0.95, seed=0)
    codes = {label: i for i, label in enumerate(labels)}
    g = np.array([codes[x] for x in gold])
    p = np.array([codes[x] if x else -1 for x in pred])

    def macro(gs, ps):
        seen = sorted(set(gs.tolist()) | set(ps[ps >= 0].tolist()))
        return f1_score(gs, ps, labels=seen, average="macro", zero_division=0)

    reference = stats.bootstrap(
        (g, p),
        macro,
        paired=True,
        vectorized=False,
        n_resamples=1000,
        method="percentile",
        rng=np.random.default_rng(2),
    ).confidence_interval
    assert estimate.value == pytest.approx(macro(g, p))
    assert estimate.low == pytest.approx(reference.low, abs=0.015)
    assert estimate.high == pytest.approx(reference.high, abs=0.015)
    assert estimate.low < estimate.value < estimate.high


@pytest.mark.parametrize("metric", ["precision", "recall", "f1"])
def test_binary_detection_ci_point_and_interval(metric):
    from sklearn.metrics import precision_recall_fscore_support

    from breakeven.stats.bootstrap import binary_detection_ci

    rng = np.random.default_rng(3)
    truth = rng.random(500) < 0.5
    predicted = np.where(rng.random(500) < 0.8, truth, ~truth)
    estimate = binary_detection_ci(truth, predicted, metric, n_resamples=3000, confidence=0.95, seed=1)
    expected = dict(
        zip(["precision", "recall", "f1"], precision_recall_fscore_support(truth, predicted, average="binary")[:3])
    )[metric]
    assert estimate.value == pytest.approx(expected)
    reference = stats.bootstrap(
        (truth, predicted),
        lambda t, p: precision_recall_fscore_support(t, p, average="binary", zero_division=0)[
            ["precision", "recall", "f1"].index(metric)
        ],
        paired=True,
        vectorized=False,
        n_resamples=1000,
        method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval
    assert estimate.low == pytest.approx(reference.low, abs=0.015)
    assert estimate.high == pytest.approx(reference.high, abs=0.015)
