"""transformers backend: batched, left-padded greedy generation, optionally through a LoRA adapter and under a
structured-output constraint (xgrammar logits processor, the engine vLLM uses by default).

Prefix caching: the prompts of a cell share a prefix (the system prompt with its label list, and for few-shot
cells the shots). Its KV cache is computed once per ``generate`` call and shared by every batch, so a batch
prefills only its own suffixes and its decoding reads the prefix once per step, not once per row (see
``breakeven.infer.shared_prefix``). Each row of a batch is ``prefix + padding + suffix``: the padding sits
between the two, masked out, and positions follow the attention mask, so every token keeps the position and the
context it has in the uncached left-padded prompt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from breakeven.infer.base import Generation, prefix_cache_stats


def shared_prefix_length(sequences: list[list[int]]) -> int:
    """Tokens every sequence starts with, leaving at least one token of each to prefill (its logits start the
    answer)."""
    first, shortest = sequences[0], min(len(s) for s in sequences)
    length = 0
    while length < shortest - 1 and all(s[length] == first[length] for s in sequences):
        length += 1
    return length


class HFGenerator:
    """Greedy generation with a transformers causal LM (LoRA merged in when given).

    ``prefix_cache``: reuse the KV cache of the prompts' shared prefix across batches (see the module doc).
    After each ``generate`` call, ``cache_stats`` holds the prefix length, cached and total prompt tokens, the
    hit rate and the seconds the prefix took to prefill."""

    def __init__(self, model_dir: Path, adapter_dir: Path | None = None, prefix_cache: bool = True) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        from breakeven.infer.shared_prefix import ATTENTION

        model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=ATTENTION)
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
        self.model = model.to(self.device).eval()
        self.prefix_cache = prefix_cache
        self.cache_stats: dict | None = None

    def _batches(self, order: list[int], size: int) -> Iterator[list[int]]:
        for start in range(0, len(order), size):
            yield order[start : start + size]

    def generate(
        self,
        conversations: list[list[dict]],
        max_new_tokens: int,
        batch_size: int,
        constraint: dict | None = None,
        top_logprobs: int = 0,
    ) -> list[Generation]:
        """Answer every conversation; batches group prompts of similar length to limit padding.

        ``constraint`` (see ``breakeven.infer.constraints``) restricts every answer to a label choice or a JSON
        schema; ``top_logprobs`` > 0 records that many first-token candidates per answer."""
        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        grammar = self._compile(constraint) if constraint else None
        prefix = self._prefix(ids)
        results: dict[int, Generation] = {}
        for batch in tqdm(list(self._batches(order, batch_size)), desc="generate", unit="batch", mininterval=5):
            answers = self._generate_batch([ids[i] for i in batch], max_new_tokens, grammar, prefix, top_logprobs)
            for index, generation in zip(batch, answers):
                results[index] = generation
        return [results[i] for i in range(len(ids))]

    def _prefix(self, ids: list[list[int]]) -> tuple[list[int], object | None]:
        """The shared prefix's tokens and batch-1 KV cache (none without prefix caching, or where the model's
        attention is not one ``shared_prefix`` serves)."""
        import torch
        from transformers import DynamicCache

        from breakeven.infer.shared_prefix import supports_shared_prefix

        length = shared_prefix_length(ids) if self.prefix_cache and ids else 0
        start, cache = time.perf_counter(), None
        if length:
            with torch.inference_mode():
                prefix = torch.tensor([ids[0][:length]], device=self.device)
                cache = self.model(input_ids=prefix, past_key_values=DynamicCache(config=self.model.config))
                cache = cache.past_key_values
            if not supports_shared_prefix(self.model, cache):
                length, cache = 0, None
        total = sum(len(s) for s in ids)
        self.cache_stats = {
            "prefix_tokens": length,
            **prefix_cache_stats(length * len(ids), total),
            "prefix_s": time.perf_counter() - start,
        }
        return ids[0][:length] if length else [], cache

    def _compile(self, constraint: dict):
        import xgrammar

        from breakeven.infer.constraints import compile_for_xgrammar

        info = xgrammar.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.model.config.vocab_size)
        return compile_for_xgrammar(constraint, xgrammar.GrammarCompiler(info))

    def _inputs(self, batch: list[list[int]], prefix_ids: list[int]) -> dict:
        """``prefix + left-padded suffix`` ids and their attention mask (plain left padding without a prefix)."""
        import torch

        suffixes = self.tokenizer.pad({"input_ids": [s[len(prefix_ids) :] for s in batch]}, return_tensors="pt")
        head = torch.tensor([prefix_ids], dtype=torch.long).expand(len(batch), -1)
        return {
            "input_ids": torch.cat([head, suffixes["input_ids"]], dim=1).to(self.device),
            "attention_mask": torch.cat([torch.ones_like(head), suffixes["attention_mask"]], dim=1).to(self.device),
        }

    def _generate_batch(
        self, batch: list[list[int]], max_new_tokens: int, grammar, prefix, top_logprobs: int = 0
    ) -> list[Generation]:
        import torch

        from breakeven.infer.logprobs import FirstStepLogprobs
        from breakeven.infer.shared_prefix import SharedPrefixCache, sharing

        prefix_ids, prefix_cache = prefix
        inputs = self._inputs(batch, prefix_ids)
        first = FirstStepLogprobs(top_logprobs) if top_logprobs else None
        start = time.perf_counter()
        cache = SharedPrefixCache(prefix_cache) if prefix_cache is not None else None
        with torch.inference_mode(), sharing(cache):
            output = self.model.generate(
                **inputs,
                past_key_values=cache,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                logits_processor=self._processors(grammar) + ([first] if first else []),
            )
        latency = time.perf_counter() - start
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        stops = self._stop_ids()
        generations = []
        for index, (row, prompt) in enumerate(zip(new_tokens.tolist(), batch)):
            used = next((k + 1 for k, token in enumerate(row) if token in stops), len(row))
            text = self.tokenizer.decode(row[:used], skip_special_tokens=True)
            candidates = first.pairs(index, self.tokenizer) if first else None
            generations.append(Generation(text.strip(), latency, len(prompt), used, candidates))
        return generations

    @staticmethod
    def _processors(grammar) -> list:
        if grammar is None:
            return []
        from xgrammar.contrib.hf import LogitsProcessor

        return [LogitsProcessor(grammar)]  # stateful: one per generate call

    def _stop_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos])
        ids.add(self.tokenizer.eos_token_id)
        return {i for i in ids if i is not None}
