"""Confidence intervals: agreement with scipy's references, proper intervals at the boundary, clustered and
label-stratified resampling, and small coverage simulations (vectorised numpy, seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from breakeven.stats.bootstrap import (
    basic_interval,
    binary_detection_ci,
    classification_ci,
    classification_metric,
    f1_samples,
    label_strata,
    mean_ci,
    mean_samples,
    resample_weights,
    wilson_interval,
)


def test_mean_ci_matches_scipy_bootstrap():
    data = np.random.default_rng(1).beta(2, 3, size=300)
    estimate = mean_ci(data, n_resamples=10_000, confidence=0.95, seed=7)
    reference = stats.bootstrap(
        (data,), np.mean, n_resamples=10_000, method="percentile", rng=np.random.default_rng(123)
    ).confidence_interval
    assert estimate.value == pytest.approx(data.mean()) and estimate.method == "percentile bootstrap"
    assert estimate.low == pytest.approx(reference.low, abs=0.005)
    assert estimate.high == pytest.approx(reference.high, abs=0.005)
    se = data.std(ddof=1) / np.sqrt(data.size)
    assert estimate.high - estimate.low == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_mean_ci_is_seeded():
    data = np.linspace(0, 1, 50)
    assert mean_ci(data, 2000, 0.95, 3) == mean_ci(data, 2000, 0.95, 3)


def test_empty_scores_raise():
    with pytest.raises(ValueError, match="no examples"):
        mean_ci([], 1000, 0.95, 0)


@pytest.mark.parametrize("successes", [0, 1, 7, 19, 20])
def test_score_interval_equals_scipy_binomtest_for_integer_counts(successes):
    expected = stats.binomtest(successes, 20).proportion_ci(method="wilson")
    assert wilson_interval(successes, 20, 0.95) == pytest.approx((expected.low, expected.high))


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_wilson_interval_for_a_cell_at_0_or_100_percent(share):
    estimate = mean_ci([share] * 20, 1000, 0.95, 0)
    expected = stats.binomtest(int(share * 20), 20).proportion_ci(method="wilson")
    assert estimate.value == share and estimate.method == "Wilson"
    assert (estimate.low, estimate.high) == pytest.approx((expected.low, expected.high))
    assert estimate.high - estimate.low > 0.15  # not the degenerate [0, 0] or [1, 1]


def test_wilson_interval_with_groups_at_100_percent_counts_each_group_once():
    groups = np.repeat(np.arange(4), 10)
    grouped = mean_ci([1.0] * 40, 1000, 0.95, 0, groups=groups)
    assert grouped.low == pytest.approx(stats.binomtest(4, 4).proportion_ci(method="wilson").low)
    assert grouped.low < mean_ci([1.0] * 40, 1000, 0.95, 0).low


def _grouped_scores(rng, n_groups: int, size: int, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scores with a strong group effect: the group mean varies far more than the examples within it."""
    groups = np.repeat(np.arange(n_groups), size)
    if binary:
        return (rng.random(groups.size) < rng.beta(2, 2, n_groups)[groups]).astype(float), groups
    return 0.5 + rng.normal(0, 0.2, n_groups)[groups] + rng.normal(0, 0.1, groups.size), groups


@pytest.mark.parametrize("binary", [False, True])
def test_clustered_ci_wider_with_correlated_groups(binary):
    values, groups = _grouped_scores(np.random.default_rng(0), 40, 10, binary)
    independent = mean_ci(values, 4000, 0.95, 0)
    clustered = mean_ci(values, 4000, 0.95, 0, groups=groups)
    assert clustered.value == independent.value
    assert clustered.high - clustered.low > 1.5 * (independent.high - independent.low)
    assert "group" in clustered.method or "cluster" in clustered.method


@pytest.mark.parametrize("binary", [False, True])
def test_clustered_ci_coverage_near_nominal_where_example_level_is_not(binary):
    """300 data sets of 40 groups x 10 examples, true mean 0.5: how often each 95% CI covers it."""
    rng = np.random.default_rng(1)
    covered = {"examples": 0, "groups": 0}
    runs = 200
    for run in range(runs):
        values, groups = _grouped_scores(rng, 40, 10, binary)
        for design, keys in (("examples", None), ("groups", groups)):
            estimate = mean_ci(values, 1000, 0.95, run, groups=keys)
            covered[design] += estimate.low <= 0.5 <= estimate.high
    assert covered["groups"] / runs >= 0.89
    assert covered["examples"] / runs <= 0.8


def test_clustered_weights_draw_whole_groups():
    groups = np.repeat(["a", "b", "c"], [2, 3, 5])
    for weights in resample_weights(10, 50, 0, groups=groups):
        for name in "abc":
            member = weights[:, groups == name]
            assert (member == member[:, :1]).all()  # one draw count per group
        assert (weights.sum(axis=1) % 1 == 0).all()


def test_clustered_weights_need_one_group_per_example():
    with pytest.raises(ValueError, match="3 groups for 4 examples"):
        next(resample_weights(4, 10, 0, groups=["a", "a", "b"]))


def test_stratified_weights_keep_every_label_support():
    golds = ["a"] * 2 + ["b"] * 3 + ["c"] + ["d"]
    strata = label_strata(golds)
    for weights in resample_weights(len(golds), 200, 1, strata=strata):
        assert (weights[:, :2].sum(axis=1) == 2).all() and (weights[:, 2:5].sum(axis=1) == 3).all()
        assert (weights[:, 5:].sum(axis=1) == 2).all()  # the two single-example labels share a stratum


@pytest.mark.parametrize("design", ["examples", "groups", "strata"])
def test_mean_and_f1_samples_share_their_resamples(design):
    """One seed and design: a one-label F1 is 2m/(1+m) of the same resample's share m of correct answers."""
    rng = np.random.default_rng(2)
    correct = rng.random(60) < 0.7
    keys = {"groups": {"groups": np.repeat(np.arange(12), 5)}, "strata": {"strata": ["x"] * 30 + ["y"] * 30}}
    kwargs = keys.get(design, {})
    share = mean_samples(correct.astype(float), 500, 3, **kwargs)
    preds = ["a" if ok else None for ok in correct]
    f1 = f1_samples(["a"] * 60, preds, ["a"], "macro_f1", 500, 3, **kwargs)
    assert f1 == pytest.approx(2 * share / (1 + share))


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
def test_vectorised_f1_equals_sklearn_on_each_resample(metric):
    from sklearn.metrics import f1_score

    labels, gold, pred = _labelled(300, 7, 0.6, 0)
    vectorised = f1_samples(gold, pred, labels, metric, 20, 5)
    weights = next(resample_weights(300, 20, 5)).astype(int)
    for row, value in zip(weights, vectorised):
        idx = np.repeat(np.arange(300), row)
        g = [gold[i] for i in idx]
        p = [pred[i] if pred[i] else "<unparseable>" for i in idx]
        seen = sorted(set(g) | {x for x in p if x != "<unparseable>"})
        expected = f1_score(g, p, labels=seen, average=metric.split("_")[0], zero_division=0)
        assert value == pytest.approx(expected)


def test_classification_ci_agrees_with_scipy_bootstrap_with_many_examples_per_label():
    from sklearn.metrics import f1_score

    labels, gold, pred = _labelled(400, 5, 0.7, 1)
    estimate = classification_ci(gold, pred, labels, "macro_f1", n_resamples=4000, confidence=0.95, seed=0)
    codes = {label: i for i, label in enumerate(labels)}
    g = np.array([codes[x] for x in gold])
    p = np.array([codes[x] if x else -1 for x in pred])

    def macro(gs, ps):
        seen = sorted(set(gs.tolist()) | set(ps[ps >= 0].tolist()))
        return f1_score(gs, ps, labels=seen, average="macro", zero_division=0)

    reference = stats.bootstrap(
        (g, p), macro, paired=True, vectorized=False, n_resamples=1000, method="basic", rng=np.random.default_rng(2)
    ).confidence_interval
    assert estimate.value == pytest.approx(macro(g, p))
    assert estimate.low == pytest.approx(reference.low, abs=0.015)
    assert estimate.high == pytest.approx(reference.high, abs=0.015)
    assert estimate.low < estimate.value < estimate.high


def _intents(rng, accuracy: np.ndarray, per_label: int) -> tuple[list[str], list[str]]:
    """A stratified test sample (``per_label`` examples of each label); a wrong answer is another label."""
    k = accuracy.size
    gold = np.repeat(np.arange(k), per_label)
    pred = np.where(rng.random(gold.size) < accuracy[gold], gold, (gold + rng.integers(1, k, gold.size)) % k)
    return [f"i{x}" for x in gold], [f"i{x}" for x in pred]


def _population_macro_f1(accuracy: np.ndarray) -> float:
    """Macro-F1 of the population the sample is drawn from (equal label shares, errors spread evenly)."""
    k = accuracy.size
    errors = (1 - accuracy) / k
    tp, fn, fp = accuracy / k, errors, (errors.sum() - errors) / (k - 1)
    return float(np.mean(2 * tp / (2 * tp + fp + fn)))


def test_macro_ci_sits_around_its_estimate_with_many_labels():
    """150 intents x 2 test examples: resampling examples drops labels and pulls the resamples below the
    estimate, which ends up at the top of the percentile interval; resampling within labels keeps every label,
    and the basic interval moves up by the estimated bias (the sample macro-F1 is itself biased low)."""
    rng = np.random.default_rng(3)
    labels = [f"i{x}" for x in range(150)]
    gold, pred = _intents(rng, rng.beta(2, 3, 150), 2)
    estimate = classification_ci(gold, pred, labels, "macro_f1", 4000, 0.95, 0)
    old = np.quantile(f1_samples(gold, pred, labels, "macro_f1", 4000, 0), [0.025, 0.975])
    position = (estimate.value - estimate.low) / (estimate.high - estimate.low)
    old_position = (estimate.value - old[0]) / (old[1] - old[0])
    assert 0.15 < position < 0.5 and old_position > 0.8
    assert estimate.method == "label-stratified basic bootstrap, rescaled"


def test_macro_ci_covers_the_true_macro_f1_near_nominal():
    """150 intents: coverage of the population macro-F1 by today's example-level percentile interval and by
    the label-stratified, rescaled basic interval, over 150 simulated test samples of 2 examples per label."""
    rng = np.random.default_rng(4)
    accuracy = rng.beta(2, 3, 150)
    truth = _population_macro_f1(accuracy)
    labels = [f"i{x}" for x in range(150)]
    covered = {"examples": 0, "strata": 0}
    runs = 150
    for run in range(runs):
        gold, pred = _intents(rng, accuracy, 2)
        new = classification_ci(gold, pred, labels, "macro_f1", 500, 0.95, run)
        old = np.quantile(f1_samples(gold, pred, labels, "macro_f1", 500, run), [0.025, 0.975])
        covered["strata"] += new.low <= truth <= new.high
        covered["examples"] += old[0] <= truth <= old[1]
    assert covered["strata"] / runs >= 0.88
    assert covered["examples"] / runs <= 0.6


def test_basic_interval_reflects_the_bootstrap_distribution():
    samples = np.array([0.1, 0.2, 0.3, 0.4, 0.5] * 200)
    low, high = basic_interval(samples, 0.5, 0.8)
    q_low, q_high = np.quantile(samples, [0.1, 0.9])
    assert (low, high) == pytest.approx((1.0 - q_high, 1.0 - q_low))
    assert basic_interval(samples, 0.5, 0.8, scale=2.0) == pytest.approx((0.5 - 2 * (q_high - 0.5), 0.5 + 2 * 0.4))


def test_classification_point_estimate_is_sklearns():
    from sklearn.metrics import f1_score

    labels, gold, pred = _labelled(200, 4, 0.6, 5)
    mapped = [p or "<unparseable>" for p in pred]
    seen = sorted(set(gold) | {p for p in pred if p})
    expected = f1_score(gold, mapped, labels=seen, average="macro", zero_division=0)
    assert classification_metric(gold, pred, "macro_f1") == pytest.approx(expected)


@pytest.mark.parametrize("metric", ["precision", "recall", "f1"])
def test_binary_detection_ci_point_and_interval(metric):
    from sklearn.metrics import precision_recall_fscore_support

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


def test_wilson_detection_recall_at_100_percent():
    truth = np.array([True] * 30 + [False] * 30)
    estimate = binary_detection_ci(truth, truth, "recall", 1000, 0.95, 0)
    expected = stats.binomtest(30, 30).proportion_ci(method="wilson")
    assert estimate.value == 1.0 and estimate.low == pytest.approx(expected.low) and estimate.high == 1.0


def test_macro_ci_holds_its_estimate_when_every_resample_falls_below_it(monkeypatch):
    """Should every resample fall below the estimate, the basic interval would lie wholly above it; it is
    widened down to the estimate (error bars never go negative)."""
    from breakeven.stats import bootstrap

    gold, pred = ["a", "a", "b", "b"], ["a", "a", "b", "a"]
    point = classification_metric(gold, pred, "macro_f1")
    monkeypatch.setattr(bootstrap, "f1_samples", lambda *args, **kwargs: np.linspace(point - 0.3, point - 0.1, 100))
    estimate = classification_ci(gold, pred, ["a", "b"], "macro_f1", 100, 0.95, 0)
    assert estimate.low == pytest.approx(point) and estimate.high > point + 0.1
