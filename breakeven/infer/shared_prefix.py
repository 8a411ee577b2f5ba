"""Attention over a prompt prefix that every row of a batch shares, stored once (cascade attention).

Copying a cached prefix into every row of a batch saves the prefill but not the decoding: each step would still
read (and ``DynamicCache`` re-concatenate) ``batch × prefix`` keys and values, which on CPU costs more than the
model's weights once the prefix is a few hundred tokens (a five-shot prompt, a 77-label system prompt). Here the
prefix's keys and values stay at batch size 1 in a :class:`SharedPrefixCache`; each row's own tokens grow in an
ordinary ``DynamicLayer``. The attention function, registered with transformers' ``AttentionInterface``, runs
sdpa over the prefix expanded to the batch while the suffixes prefill (once per batch), and while decoding
scores each new token against both parts and normalises them with one softmax. Either way the result is the
attention over the whole uncached row (prefix, masked padding, suffix) up to floating-point summation order.

It serves full-attention layers only; :func:`supports_shared_prefix` says whether a model qualifies (no sliding
windows, no logit soft-capping). The cache reports the prefix in its length, so positions and masks are those
of the uncached prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from transformers import AttentionInterface, Cache, DynamicCache, DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

ATTENTION = "shared_prefix_sdpa"
"""The attention implementation's name (sdpa, except inside :func:`sharing`)."""
_ACTIVE: ContextVar[SharedPrefixCache | None] = ContextVar("shared_prefix", default=None)


class SharedPrefixLayer(DynamicLayer):
    """One layer: the prefix's keys/values ``[1, kv_heads, prefix, head_dim]`` and the rows' own tokens after it.

    The rows' tokens are written into a buffer with room to spare (doubled when full), not re-concatenated at
    every step as ``DynamicLayer`` does: that copy of the whole cache per layer and step was 20 % of a
    five-shot batch's decoding on CPU (``aten::cat`` and ``aten::copy_`` in torch.profiler)."""

    SPARE = 128
    """Tokens of room past the prefilled suffixes (a typical answer budget fits without regrowing)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()
        self.prefix_keys, self.prefix_values = keys, values

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        """Append the new tokens' keys and values; return views of every row token so far."""
        if not self.is_initialized:
            self.dtype, self.device, self.is_initialized = key_states.dtype, key_states.device, True
            self.length, self._keys, self._values = 0, key_states[..., :0, :], value_states[..., :0, :]
        end = self.length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            self._keys, self._values = (
                self._grown(old, max(2 * old.shape[-2], end + self.SPARE)) for old in (self._keys, self._values)
            )
        self._keys[..., self.length : end, :] = key_states
        self._values[..., self.length : end, :] = value_states
        self.length = end
        self.keys, self.values = self._keys[..., :end, :], self._values[..., :end, :]
        return self.keys, self.values

    def _grown(self, buffer: torch.Tensor, capacity: int) -> torch.Tensor:
        grown = buffer.new_empty((*buffer.shape[:-2], capacity, buffer.shape[-1]))
        grown[..., : self.length, :] = buffer[..., : self.length, :]
        return grown

    def get_seq_length(self) -> int:
        return self.prefix_keys.shape[-2] + super().get_seq_length()

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.get_seq_length() + query_length, 0


class SharedPrefixCache(DynamicCache):
    """A fresh cache for one batch over a prefilled batch-1 prefix (the prefix tensors are shared, not copied)."""

    def __init__(self, prefix: DynamicCache) -> None:
        Cache.__init__(self, layers=[SharedPrefixLayer(layer.keys, layer.values) for layer in prefix.layers])


@contextmanager
def sharing(cache: SharedPrefixCache | None) -> Iterator[None]:
    """Forward passes inside attend over ``cache``'s prefix (``generate``'s model kwargs cannot carry it)."""
    token = _ACTIVE.set(cache)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def supports_shared_prefix(model, prefix: DynamicCache) -> bool:
    """Whether every layer is full attention without soft-capping (what :func:`shared_prefix_attention` does)."""
    config = model.config.get_text_config()
    plain = all(type(layer) is DynamicLayer for layer in prefix.layers)
    return plain and getattr(config, "attn_logit_softcapping", None) is None


def shared_prefix_attention(
    module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention of ``query`` ``[batch, heads, q, dim]`` over the shared prefix and the rows' own ``key``/``value``
    ``[batch, kv_heads, s, dim]``; plain sdpa outside :func:`sharing`."""
    shared = _ACTIVE.get()
    if shared is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    layer = shared.layers[module.layer_idx]
    if query.shape[2] > 1:  # prefilling the suffixes: once per batch, sdpa over the prefix expanded to the batch
        batch = query.shape[0]
        key = torch.cat([layer.prefix_keys.expand(batch, -1, -1, -1), key], dim=2)
        value = torch.cat([layer.prefix_values.expand(batch, -1, -1, -1), value], dim=2)
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    return _decode_attention(layer, query, key, value, attention_mask, scaling)


def _decode_attention(layer, query, key, value, attention_mask, scaling) -> tuple[torch.Tensor, None]:
    """One new token per row: the prefix's scores come from one product per kv head with the batch folded into
    the rows, so the prefix is read once per step."""
    prefix_keys, prefix_values = layer.prefix_keys[0], layer.prefix_values[0]  # [kv_heads, prefix, dim]
    batch, heads, _, dim = query.shape
    kv_heads, prefix = prefix_keys.shape[0], prefix_keys.shape[1]
    rows = query.reshape(batch, kv_heads, heads // kv_heads, dim)  # query heads grouped by their kv head
    folded = rows.transpose(0, 1).reshape(kv_heads, -1, dim)
    on_prefix = torch.bmm(folded, prefix_keys.transpose(1, 2)).view(kv_heads, batch, -1, prefix).transpose(0, 1)
    scores = torch.cat([on_prefix, rows @ key.transpose(2, 3)], dim=-1) * (scaling or dim**-0.5)
    if attention_mask is not None:  # [batch, 1, 1, kv]: the padding between prefix and suffix
        visible = attention_mask if attention_mask.dtype == torch.bool else attention_mask == 0
        scores = scores.masked_fill(~visible, float("-inf"))
    weights = scores.softmax(dim=-1)
    from_prefix = torch.bmm(weights[..., :prefix].transpose(0, 1).reshape(kv_heads, -1, prefix), prefix_values)
    output = from_prefix.view(kv_heads, batch, -1, dim).transpose(0, 1) + weights[..., prefix:] @ value
    return output.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTENTION, shared_prefix_attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION, sdpa_mask)
