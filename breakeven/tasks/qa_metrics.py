"""Extractive QA metrics: the official SQuAD v1.1/v2.0 answer normalisation, exact match and token F1 (v2.0
convention for unanswerable questions), and answer-detection metrics (precision/recall/F1 at a threshold,
AUPR, and CUAD's precision at 80% recall, the last two with a vectorised bootstrap CI)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, precision_recall_fscore_support

from breakeven.stats.bootstrap import Estimate, resample_weights

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower-case, drop punctuation, drop the articles a/an/the, collapse whitespace (SQuAD's order)."""
    text = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _golds(golds: list[str]) -> list[str]:
    """Gold answers that survive normalisation; ``[""]`` when none do (an unanswerable question)."""
    return [g for g in golds if normalize_answer(g)] or [""]


def exact_match(pred: str, golds: list[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold (an empty gold list wants "")."""
    return float(max(normalize_answer(pred) == normalize_answer(g) for g in _golds(golds)))


def _f1(pred: str, gold: str) -> float:
    """Token F1 of one prediction against one gold, on the Counter overlap of normalised tokens."""
    pred_tokens, gold_tokens = normalize_answer(pred).split(), normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if not same:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(pred: str, golds: list[str]) -> float:
    """The best token F1 over the golds (an empty gold list scores 1.0 iff the prediction is empty)."""
    return max(_f1(pred, g) for g in _golds(golds))


def answer_detection(y_true: list[bool], scores: list[float], threshold: float) -> dict[str, float]:
    """Does the model find an answer where there is one? ``scores``: confidence that an answer is present.
    precision/recall/f1 of ``score >= threshold``; aupr: average precision of the scores;
    precision_at_80_recall: the best precision at any threshold whose recall is at least 0.8 (CUAD's headline
    metric). The ranking metrics are NaN when no question has an answer."""
    if len(y_true) != len(scores) or not y_true:
        raise ValueError(
            f"answer_detection: y_true ({len(y_true)}) and scores ({len(scores)}) must be non-empty and of equal length"
        )
    truth, score = np.asarray(y_true, dtype=bool), np.asarray(scores, dtype=float)
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, score >= threshold, average="binary", zero_division=0
    )
    out = {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "aupr": float("nan"),
        "precision_at_80_recall": float("nan"),
    }
    if truth.any():
        out["aupr"] = float(average_precision_score(truth, score))
        out["precision_at_80_recall"] = precision_at_recall(truth, score, 0.8)
    return out


def precision_at_recall(truth: np.ndarray, scores: np.ndarray, recall_floor: float) -> float:
    """The highest precision among the operating points of ``scores`` whose recall reaches ``recall_floor``."""
    precision, recall, _ = precision_recall_curve(truth, scores)
    return float(precision[recall >= recall_floor].max())


RECALL_FLOOR = 0.8
"""CUAD's headline operating point: precision at 80% recall."""


def ranking_samples(
    truth: np.ndarray, scores: np.ndarray, weights: np.ndarray, recall_floor: float = RECALL_FLOOR
) -> np.ndarray:
    """Average precision and precision at ``recall_floor`` of the questions ``truth``/``scores`` (n,) under each
    row of bootstrap ``weights`` (B x n: how often each question is drawn), as scikit-learn computes them on the
    resampled questions (tied scores form one threshold): shape (B, 2), NaN for a resample without a positive."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits, w = scores[order], truth[order].astype(float), weights[:, order]
    tp, drawn = np.cumsum(w * hits, axis=1), np.cumsum(w, axis=1)
    positives = tp[:, -1]
    # the last position of each run of tied scores is an operating point; every position takes its run's values
    last = np.ones(ranked.size, dtype=bool)
    last[:-1] = ranked[:-1] != ranked[1:]
    end = np.minimum.accumulate(np.where(last, np.arange(ranked.size), ranked.size)[::-1])[::-1]
    precision = np.divide(tp, drawn, out=np.zeros_like(tp), where=drawn > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = (w * hits * precision[:, end]).sum(axis=1) / positives
        recall = tp / positives[:, None]
    reached = last & (recall >= recall_floor) & (drawn > 0)
    at_floor = np.where(reached, precision, -np.inf).max(axis=1)
    at_floor[positives == 0] = np.nan
    return np.column_stack([ap, at_floor])


def ranking_ci(
    truth: np.ndarray,
    scores: np.ndarray,
    n_resamples: int,
    confidence: float,
    seed: int,
    groups: Sequence | None = None,
) -> dict[str, Estimate]:
    """AUPR and precision at 80% recall of per-question confidences, each with a percentile-bootstrap CI over
    questions, clustered by ``groups`` (a question's contract) where given (the point estimates are
    scikit-learn's; resamples without a positive are left out)."""
    truth, scores = np.asarray(truth, dtype=bool), np.asarray(scores, dtype=float)
    point = answer_detection(truth.tolist(), scores.tolist(), threshold=0.5)
    samples = np.concatenate(
        [ranking_samples(truth, scores, w) for w in resample_weights(truth.size, n_resamples, seed, groups)]
    )
    alpha = (1 - confidence) / 2
    method = "percentile bootstrap" if groups is None else "cluster percentile bootstrap"
    out = {}
    for column, name in enumerate(("aupr", "precision_at_80_recall")):
        kept = samples[~np.isnan(samples[:, column]), column]
        low, high = np.quantile(kept, [alpha, 1 - alpha]) if kept.size else (np.nan, np.nan)
        out[name] = Estimate(point[name], float(low), float(high), int(truth.size), method)
    return out
