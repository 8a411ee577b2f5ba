"""Confidence intervals over test examples: Wilson intervals for proportions, the bootstrap for everything else.

A bootstrap resample is a row of example weights (how often each example is drawn), so one code path serves
three resampling designs:

- independent examples (the default): n examples drawn with replacement;
- clustered (``groups``, a group key per example): whole groups drawn with replacement, each example weighted
  by its group's draw count, for examples that share a source (CUAD's questions share contracts);
- stratified (``strata``, a stratum key per example): each stratum resampled within itself, so every resample
  keeps each gold label's support as the stratified test sample does (F1 metrics; see ``label_strata``).

Groups win over strata (a group may hold several labels). One seed and one design give the same weights in every
function here, which is what pairs two systems scored on the same examples, and a cell's metric with its cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import ndtri

CHUNK = 1000  # resamples per vectorised block (bounds memory at CHUNK x examples weights)
SINGLETONS = "<labels with one test example>"
"""The stratum that pools gold labels with a single test example (a stratum of one cannot vary)."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and the method that gave it."""

    value: float
    low: float
    high: float
    n: int
    method: str = "percentile bootstrap"

    def as_dict(self) -> dict[str, float | int | str]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n, "method": self.method}


def _codes(keys: Sequence) -> np.ndarray:
    return np.unique(np.asarray([str(k) for k in keys]), return_inverse=True)[1]


def _counts(draws: np.ndarray, size: int) -> np.ndarray:
    """Row-wise counts of the integers in ``draws`` (B, m) in [0, size): a (B, size) float matrix."""
    offsets = np.arange(len(draws))[:, None] * size
    return np.bincount((draws + offsets).ravel(), minlength=len(draws) * size).reshape(len(draws), size).astype(float)


def _stratified_draws(rng: np.random.Generator, strata: np.ndarray, size: int) -> np.ndarray:
    """(size, n) example indices, each position drawing an example of its own stratum."""
    order = np.argsort(strata, kind="stable")
    sizes = np.bincount(strata)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sorted_strata = strata[order]
    within = np.floor(rng.random((size, strata.size)) * sizes[sorted_strata]).astype(int)
    return order[starts[sorted_strata] + within]


def resample_weights(
    n: int, n_resamples: int, seed: int, groups: Sequence | None = None, strata: Sequence | None = None
) -> Iterator[np.ndarray]:
    """Bootstrap weight matrices (at most CHUNK resamples x n examples each) under the design of the module
    docstring; the same arguments give the same weights."""
    for name, keys in (("groups", groups), ("strata", strata)):
        if keys is not None and len(keys) != n:
            raise ValueError(f"resample_weights: {len(keys)} {name} for {n} examples")
    rng = np.random.default_rng(seed)
    group_codes = _codes(groups) if groups is not None else None
    strata_codes = _codes(strata) if strata is not None and groups is None else None
    for start in range(0, n_resamples, CHUNK):
        size = min(CHUNK, n_resamples - start)
        if group_codes is not None:
            n_groups = int(group_codes.max()) + 1
            yield _counts(rng.integers(0, n_groups, size=(size, n_groups)), n_groups)[:, group_codes]
        elif strata_codes is not None:
            yield _counts(_stratified_draws(rng, strata_codes, size), n)
        else:
            yield _counts(rng.integers(0, n, size=(size, n)), n)


def row_groups(per_example: list[dict]) -> list[str] | None:
    """The group of each scored example where the rows carry one (breakeven.score.cell), else None."""
    return [row["group"] for row in per_example] if per_example and "group" in per_example[0] else None


def label_strata(golds: Sequence[str]) -> list[str]:
    """The stratum of each example for label-stratified resampling: its gold label, with the labels that have
    a single test example pooled into one stratum."""
    counts = Counter(golds)
    return [gold if counts[gold] > 1 else SINGLETONS for gold in golds]


def stratified_scale(golds: Sequence[str], strata: Sequence[str] | None, metric: str) -> float:
    """Factor that widens the deviations of label-stratified resamples to the sampling variance.

    Resampling n_h examples within a stratum of n_h gives (n_h - 1)/n_h of the variance (Rao & Wu 1988), half
    of it for two examples per label. Each label's F1 varies as 1/n_k, weighted by 1 (macro) or n_k (weighted),
    so the factor is sqrt(sum w_k^2/n_k / sum w_k^2/n_k (N_k - 1)/N_k), N_k the size of the label's stratum."""
    if strata is None:
        return 1.0
    sizes, stratum_sizes = Counter(golds), Counter(strata)
    stratum_of = dict(zip(golds, strata))
    weight = {k: (1.0 if metric == "macro_f1" else float(n)) for k, n in sizes.items()}
    full = sum(weight[k] ** 2 / n for k, n in sizes.items())
    kept = sum(weight[k] ** 2 / n * (1 - 1 / stratum_sizes[stratum_of[k]]) for k, n in sizes.items())
    return float(np.sqrt(full / kept)) if kept > 0 else 1.0


def basic_interval(samples: np.ndarray, point: float, confidence: float, scale: float = 1.0) -> tuple[float, float]:
    """The basic (reverse-percentile) bootstrap interval, deviations widened by ``scale``: point minus the
    upper and lower quantiles of scale * (sample - point). Unlike the percentile interval it corrects the
    bootstrap's bias (a distribution pulled below the estimate moves the interval up)."""
    alpha = (1 - confidence) / 2
    low_dev, high_dev = np.quantile(scale * (np.asarray(samples) - point), [alpha, 1 - alpha])
    return float(point - high_dev), float(point - low_dev)


def wilson_interval(successes: float, n: float, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``n`` may be an effective (non-integer) sample size, which
    scipy's binomtest does not take (for integers the two agree)."""
    z = ndtri(1 - (1 - confidence) / 2)
    p = successes / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    return float(low), float(1.0 if successes >= n else min(1.0, centre + half))


def design_effect(values: np.ndarray, groups: Sequence) -> float:
    """Variance of a clustered proportion over its variance under independence (at least 1): the ratio
    estimator's linearised cluster variance over p(1-p)/n. At 0 % or 100 % there is no variance to measure,
    so each group counts as one observation (design effect n / groups)."""
    codes = _codes(groups)
    n_groups, n = int(codes.max()) + 1, values.size
    p = values.mean()
    if p in (0.0, 1.0) or n_groups < 2:
        return n / n_groups
    residual = np.bincount(codes, weights=values - p, minlength=n_groups)
    clustered = n_groups / (n_groups - 1) * np.sum(residual**2) / n**2
    return max(1.0, float(clustered / (p * (1 - p) / n)))


def proportion_ci(values: np.ndarray | list[float], confidence: float, groups: Sequence | None = None) -> Estimate:
    """A share of 0/1 scores with its Wilson interval, proper at 0 % and 100 %; with ``groups``, on the
    effective sample size n / design effect (Korn & Graubard 1998)."""
    data = np.asarray(values, dtype=float)
    n_eff = data.size if groups is None else data.size / design_effect(data, groups)
    low, high = wilson_interval(data.mean() * n_eff, n_eff, confidence)
    method = "Wilson" if groups is None else f"Wilson, effective n {n_eff:.0f} ({len(set(map(str, groups)))} groups)"
    return Estimate(float(data.mean()), low, high, int(data.size), method)


def mean_ci(
    values: np.ndarray | list[float],
    n_resamples: int,
    confidence: float,
    seed: int,
    groups: Sequence | None = None,
) -> Estimate:
    """Mean of per-example scores: a Wilson interval when the scores are 0/1 (``proportion_ci``), else a
    percentile bootstrap over examples (scipy.stats.bootstrap), or over ``groups`` when examples share one."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("mean_ci: no examples to score")
    if np.isin(data, (0.0, 1.0)).all():
        return proportion_ci(data, confidence, groups)
    point = float(data.mean())
    if data.size == 1 or np.all(data == data[0]):
        return Estimate(point, point, point, int(data.size), "constant scores")
    if groups is not None:
        alpha = (1 - confidence) / 2
        low, high = np.quantile(mean_samples(data, n_resamples, seed, groups=groups), [alpha, 1 - alpha])
        return Estimate(point, float(low), float(high), int(data.size), "cluster percentile bootstrap")
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


def mean_samples(
    values: np.ndarray | list[float],
    n_resamples: int,
    seed: int,
    groups: Sequence | None = None,
    strata: Sequence | None = None,
) -> np.ndarray:
    """Mean of per-example scores on every bootstrap resample (the same weights as f1_samples for one seed
    and design)."""
    data = np.asarray(values, dtype=float)
    blocks = resample_weights(data.size, n_resamples, seed, groups, strata)
    return np.concatenate([w @ data / w.sum(axis=1) for w in blocks])


def _f1_from_counts(tp: np.ndarray, support: np.ndarray, predicted: np.ndarray, average: str) -> np.ndarray:
    """Per-resample F1 from per-label counts of shape (B, K): true positives, gold support and predictions
    (unparseable answers count against recall without being a label of their own)."""
    denominator = support + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    if average == "macro_f1":
        # averaged over the labels present in gold or predictions of each resample, as sklearn does
        present = denominator > 0
        return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    if average == "weighted_f1":
        return (f1 * support).sum(axis=1) / np.maximum(support.sum(axis=1), 1)
    raise ValueError(f"unknown F1 average {average!r}; valid: macro_f1, weighted_f1")


def _weighted_counts(codes: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    offsets = np.arange(len(weights))[:, None] * size
    flat = np.bincount((codes[None, :] + offsets).ravel(), weights=weights.ravel(), minlength=len(weights) * size)
    return flat.reshape(len(weights), size)


def classification_metric(golds: list[str], preds: list[str | None], metric: str) -> float:
    """The point estimate with scikit-learn, averaged over the labels seen in gold or predictions; an
    unparseable answer is wrong for its gold label without being a class of its own."""
    from sklearn.metrics import f1_score

    average = {"macro_f1": "macro", "weighted_f1": "weighted"}[metric]
    seen = sorted(set(golds) | {p for p in preds if p is not None})
    return float(
        f1_score(
            golds,
            [p if p is not None else "<unparseable>" for p in preds],
            labels=seen,
            average=average,
            zero_division=0,
        )
    )


def f1_samples(
    golds: list[str],
    preds: list[str | None],
    labels: list[str],
    metric: str,
    n_resamples: int,
    seed: int,
    groups: Sequence | None = None,
    strata: Sequence | None = None,
) -> np.ndarray:
    """Macro/weighted F1 on every bootstrap resample, vectorised through per-label weighted counts."""
    classes = {label: i for i, label in enumerate(labels)}
    extra = len(classes)  # the "unparseable" code
    gold = np.array([classes[g] for g in golds])
    pred = np.array([classes.get(p, extra) if p is not None else extra for p in preds])
    correct = (gold == pred).astype(float)
    values = []
    for w in resample_weights(len(gold), n_resamples, seed, groups, strata):
        tp = _weighted_counts(gold, w * correct, extra)
        predicted = _weighted_counts(pred, w, extra + 1)[:, :extra]
        values.append(_f1_from_counts(tp, _weighted_counts(gold, w, extra), predicted, metric))
    return np.concatenate(values)


def classification_ci(
    golds: list[str],
    preds: list[str | None],
    labels: list[str],
    metric: str,
    n_resamples: int,
    confidence: float,
    seed: int,
    groups: Sequence | None = None,
) -> Estimate:
    """Macro/weighted F1 with a bootstrap CI: resamples stratified by gold label (so no label drops out of a
    resample, which pulls the distribution below the estimate), or clustered by ``groups``; the basic interval
    with the deviations rescaled by ``stratified_scale``, clipped to [0, 1] and widened to hold the estimate
    (where every resample falls on one side of it)."""
    strata = label_strata(golds) if groups is None else None
    samples = f1_samples(golds, preds, labels, metric, n_resamples, seed, groups=groups, strata=strata)
    point = classification_metric(golds, preds, metric)
    low, high = basic_interval(samples, point, confidence, stratified_scale(golds, strata, metric))
    method = "label-stratified basic bootstrap, rescaled" if groups is None else "cluster basic bootstrap"
    return Estimate(point, max(0.0, min(low, point)), min(1.0, max(high, point)), len(golds), method)


def binary_detection_ci(
    truth: np.ndarray,
    predicted: np.ndarray,
    metric: str,
    n_resamples: int,
    confidence: float,
    seed: int,
    groups: Sequence | None = None,
) -> Estimate:
    """Precision or recall of a yes/no decision as proportions (Wilson, clustered by ``groups``), or F1 with a
    percentile-bootstrap CI (recomputed per resample; clustered by ``groups``)."""
    from sklearn.metrics import precision_recall_fscore_support

    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    index = {"precision": 0, "recall": 1, "f1": 2}[metric]
    point = precision_recall_fscore_support(truth, predicted, average="binary", zero_division=0)[index]
    if metric != "f1":
        among = predicted if metric == "precision" else truth
        if not among.any():
            return Estimate(float(point), 0.0, 1.0, int(truth.size), "no examples in the denominator")
        subset = None if groups is None else np.asarray(groups, dtype=object)[among]
        estimate = proportion_ci((truth & predicted)[among].astype(float), confidence, subset)
        return Estimate(float(point), estimate.low, estimate.high, int(truth.size), estimate.method)
    samples = []
    for w in resample_weights(truth.size, n_resamples, seed, groups):
        tp, fp, fn = w @ (truth & predicted), w @ (~truth & predicted), w @ (truth & ~predicted)
        samples.append(np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(tp)), where=(2 * tp + fp + fn) > 0))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.concatenate(samples), [alpha, 1 - alpha])
    method = "percentile bootstrap" if groups is None else "cluster percentile bootstrap"
    return Estimate(float(point), float(low), float(high), int(truth.size), method)
