"""The first generated token's most likely candidates with their log-probabilities, read from what each local
backend computes anyway: the scores transformers' ``generate`` hands its logits processors, and the
``logprobs`` vLLM returns per output token."""

from __future__ import annotations


class FirstStepLogprobs:
    """A transformers logits processor that leaves the scores alone and keeps the ``k`` best log-probabilities
    of the first step (``scores`` there are the first generated token's logits after the processors before it,
    one row per sequence of the batch). Stateful: one per ``generate`` call."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.top: tuple | None = None  # (log-probabilities, token ids), each (batch, k)

    def __call__(self, input_ids, scores):
        if self.top is None:
            import torch

            logprobs = torch.log_softmax(scores.float(), dim=-1)
            self.top = torch.topk(logprobs, self.k, dim=-1)
        return scores

    def pairs(self, row: int, tokenizer) -> list[tuple[str | None, float]]:
        """``(decoded token, log-probability)`` of sequence ``row`` of the batch, most likely first; a special
        token (end of turn) has text None, and one holding only part of a character decodes to "" (as vLLM's
        detokenizer gives it, not U+FFFD)."""
        values, ids = self.top
        special = set(tokenizer.all_special_ids)
        return [
            (None if i in special else tokenizer.decode([i]).replace("\ufffd", ""), float(v))
            for v, i in zip(values[row].tolist(), ids[row].tolist())
        ]


def vllm_first_logprobs(completion, special_ids: set[int]) -> list[tuple[str | None, float]] | None:
    """``(decoded token, log-probability)`` of the first position of a vLLM ``CompletionOutput`` asked for
    ``logprobs``, most likely first, a special token's text None (None when it carries none)."""
    if not completion.logprobs:
        return None
    ranked = sorted(completion.logprobs[0].items(), key=lambda item: item[1].logprob, reverse=True)
    return [(None if i in special_ids else lp.decoded_token or "", float(lp.logprob)) for i, lp in ranked]
