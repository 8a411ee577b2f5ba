"""A tiny random Llama with a locally trained byte-level BPE tokenizer: a hermetic model for tests and smoke runs.

Its answers are noise; it exists so that every stage (train, predict, score, cost, paper) runs for real in
seconds without any download.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def corpus(n: int, seed: int) -> list[str]:
    """Training text for the tokenizer: synthetic support emails and their JSON labels."""
    import json

    from breakeven.data.synthetic.support_emails import generate_emails

    rows = generate_emails(n, seed)
    return [row["email"] for row in rows] + [json.dumps(row["label"]) for row in rows]


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer (every string encodes) with ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )


def build_tiny_llama(out: Path, seed: int = 0, vocab_size: int = 512, hidden_size: int = 64, layers: int = 2) -> None:
    """Write a randomly initialised Llama and its tokenizer to ``out`` as a HF folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = train_tokenizer(corpus(200, seed), vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=2,  # head_dim 32: the smallest head size vLLM's CPU attention supports
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
