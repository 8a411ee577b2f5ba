"""Long contexts read in overlapping windows, and the per-window answers of a question combined into one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

_WORD = re.compile(r"\S+")


class OffsetTokenizer(Protocol):
    """A Hugging Face (fast) tokenizer: called with ``return_offsets_mapping`` it gives each token's span."""

    def __call__(self, text: str, *, add_special_tokens: bool, return_offsets_mapping: bool) -> Mapping[str, Any]: ...


def units(text: str, tokenizer: OffsetTokenizer | None) -> list[tuple[int, int]]:
    """Character spans of the units windows count: the tokenizer's tokens, else whitespace-separated words."""
    if tokenizer is None:
        return [m.span() for m in _WORD.finditer(text)]
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return [(int(a), int(b)) for a, b in offsets if b > a]


def windows(
    text: str, tokenizer_or_none: OffsetTokenizer | None, window: int, stride: int, max_windows: int | None
) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of windows of ``window`` units that start every ``stride`` units, so
    neighbours share ``window - stride`` units. The first starts at 0 and the last ends at ``len(text)``
    (it may hold fewer units); with ``max_windows`` only the first that many are kept (the start of the text).
    A text without units is one window."""
    if window < 1 or not 1 <= stride <= window:
        raise ValueError(f"chunking: need window >= 1 and 1 <= stride <= window, got window={window}, stride={stride}")
    if max_windows is not None and max_windows < 1:
        raise ValueError(f"chunking: max_windows must be >= 1 or None, got {max_windows}")
    spans = units(text, tokenizer_or_none)
    if not spans:
        return [(0, len(text))]
    starts = range(0, max(len(spans) - window, 0) + stride, stride)
    out = [(spans[i][0], spans[min(i + window, len(spans)) - 1][1]) for i in starts]
    out[0], out[-1] = (0, out[0][1]), (out[-1][0], len(text))
    return out[:max_windows]


def aggregate(window_answers: list[tuple[str | None, float]]) -> tuple[str | None, float]:
    """One answer per question from its windows' ``(answer or None, score)``: None only when no window has a
    non-blank answer, else the best-scored answer (the earliest window on ties). The second value, the
    question's score for AUPR, is that best score (0.0 with no answer)."""
    best: tuple[str | None, float] = (None, 0.0)
    for answer, score in window_answers:
        if answer is not None and answer.strip() and (best[0] is None or score > best[1]):
            best = (answer, float(score))
    return best
