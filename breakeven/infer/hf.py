"""transformers backend: batched, left-padded greedy generation, optionally through a LoRA adapter and under a
structured-output constraint (xgrammar logits processor, the engine vLLM uses by default)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from breakeven.infer.base import Generation


class HFGenerator:
    """Greedy generation with a transformers causal LM (LoRA merged in when given)."""

    def __init__(self, model_dir: Path, adapter_dir: Path | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        if adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
        self.model = model.to(self.device).eval()

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
        lengths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: lengths[i])
        grammar = self._compile(constraint) if constraint else None
        results: dict[int, Generation] = {}
        for batch in tqdm(list(self._batches(order, batch_size)), desc="generate", unit="batch", mininterval=5):
            answers = self._generate_batch([prompts[i] for i in batch], max_new_tokens, grammar, top_logprobs)
            for index, generation in zip(batch, answers):
                results[index] = generation
        return [results[i] for i in range(len(prompts))]

    def _compile(self, constraint: dict):
        import xgrammar

        from breakeven.infer.constraints import compile_for_xgrammar

        info = xgrammar.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.model.config.vocab_size)
        return compile_for_xgrammar(constraint, xgrammar.GrammarCompiler(info))

    def _generate_batch(
        self, prompts: list[str], max_new_tokens: int, grammar=None, top_logprobs: int = 0
    ) -> list[Generation]:
        import torch

        from breakeven.infer.logprobs import FirstStepLogprobs

        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        first = FirstStepLogprobs(top_logprobs) if top_logprobs else None
        start = time.perf_counter()
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                logits_processor=self._processors(grammar) + ([first] if first else []),
            )
        latency = time.perf_counter() - start
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        stops = self._stop_ids()
        generations = []
        for index, (row, prompt_mask) in enumerate(zip(new_tokens.tolist(), inputs["attention_mask"].tolist())):
            used = next((k + 1 for k, token in enumerate(row) if token in stops), len(row))
            text = self.tokenizer.decode(row[:used], skip_special_tokens=True)
            candidates = first.pairs(index, self.tokenizer) if first else None
            generations.append(Generation(text.strip(), latency, int(sum(prompt_mask)), used, candidates))
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
