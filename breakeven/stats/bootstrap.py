"""Confidence intervals: percentile bootstrap over test examples (scipy.stats.bootstrap, vectorised)."""

from __future__ import annotations

from collections.abc import Iterator
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


CHUNK = 1000  # resamples per vectorised block (bounds memory at CHUNK x classes^2 counts)


def _f1_from_confusion(confusion: np.ndarray, average: str) -> np.ndarray:
    """Per-resample F1 from confusion matrices of shape (B, K+1, K+1) (rows: gold, columns: predicted; the last
    column holds unparseable answers, which count against recall but are not a class of their own)."""
    tp = np.diagonal(confusion, axis1=1, axis2=2)[:, :-1].astype(float)
    support = confusion.sum(axis=2)[:, :-1]
    predicted = confusion.sum(axis=1)[:, :-1]
    denominator = support + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    if average == "macro_f1":
        # averaged over the labels present in gold or predictions of each resample, as sklearn does
        present = denominator > 0
        return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    if average == "weighted_f1":
        return (f1 * support).sum(axis=1) / np.maximum(support.sum(axis=1), 1)
    raise ValueError(f"unknown F1 average {average!r}; valid: macro_f1, weighted_f1")


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


def resample_blocks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap index matrices (at most CHUNK resamples each); the same seed gives the same indices, which is
    what pairs two systems scored on the same examples."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, CHUNK):
        yield rng.integers(0, n, size=(min(CHUNK, n_resamples - start), n))


def f1_samples(
    golds: list[str], preds: list[str | None], labels: list[str], metric: str, n_resamples: int, seed: int
) -> np.ndarray:
    """Macro/weighted F1 on every bootstrap resample, vectorised through per-resample confusion matrices."""
    classes = {label: i for i, label in enumerate(labels)}
    extra = len(classes)  # the "unparseable" column
    gold = np.array([classes[g] for g in golds])
    pred = np.array([classes.get(p, extra) if p is not None else extra for p in preds])
    size = extra + 1
    codes = gold * size + pred
    values = []
    for idx in resample_blocks(len(codes), n_resamples, seed):
        offsets = np.arange(len(idx))[:, None] * size * size
        counts = np.bincount((codes[idx] + offsets).ravel(), minlength=len(idx) * size * size)
        values.append(_f1_from_confusion(counts.reshape(len(idx), size, size), metric))
    return np.concatenate(values)


def mean_samples(values: np.ndarray | list[float], n_resamples: int, seed: int) -> np.ndarray:
    """Mean of per-example scores on every bootstrap resample (same indices as f1_samples for a seed)."""
    data = np.asarray(values, dtype=float)
    return np.concatenate([data[idx].mean(axis=1) for idx in resample_blocks(data.size, n_resamples, seed)])


def classification_ci(
    golds: list[str],
    preds: list[str | None],
    labels: list[str],
    metric: str,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> Estimate:
    """Macro/weighted F1 with a percentile-bootstrap CI: examples are resampled and the metric recomputed."""
    samples = f1_samples(golds, preds, labels, metric, n_resamples, seed)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return Estimate(classification_metric(golds, preds, metric), float(low), float(high), len(golds))


def binary_detection_ci(
    truth: np.ndarray, predicted: np.ndarray, metric: str, n_resamples: int, confidence: float, seed: int
) -> Estimate:
    """Precision, recall or F1 of a yes/no decision with a percentile-bootstrap CI (recomputed per resample)."""
    from sklearn.metrics import precision_recall_fscore_support

    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    index = {"precision": 0, "recall": 1, "f1": 2}[metric]
    point = precision_recall_fscore_support(truth, predicted, average="binary", zero_division=0)[index]
    rng = np.random.default_rng(seed)
    samples = []
    for start in range(0, n_resamples, CHUNK):
        idx = rng.integers(0, truth.size, size=(min(CHUNK, n_resamples - start), truth.size))
        t, p = truth[idx], predicted[idx]
        tp, fp, fn = (t & p).sum(1), (~t & p).sum(1), (t & ~p).sum(1)
        precision = np.divide(tp, tp + fp, out=np.zeros(len(tp)), where=(tp + fp) > 0)
        recall = np.divide(tp, tp + fn, out=np.zeros(len(tp)), where=(tp + fn) > 0)
        f1 = np.divide(
            2 * precision * recall, precision + recall, out=np.zeros(len(tp)), where=(precision + recall) > 0
        )
        samples.append((precision, recall, f1)[index])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.concatenate(samples), [alpha, 1 - alpha])
    return Estimate(float(point), float(low), float(high), int(truth.size))
