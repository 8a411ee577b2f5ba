"""The peft path on the production models' real chat templates, on CPU: each model's training template masks
exactly the answer and its end-of-turn token and renders the prompt as inference does; Gemma 3's LoRA stays out
of the vision tower. A tiny BPE tokenizer carries each model's special tokens and real template text (Qwen3 and
Gemma 3: the copies trl ships; Phi-4-mini: its tokenizer_config.json, which trl has no copy of)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trl

from breakeven import REPO_ROOT
from breakeven.jsonio import read_yaml
from breakeven.models.chat_templates import set_template_variables, training_template
from breakeven.models.tiny import corpus, train_tokenizer
from breakeven.train.peft_trainer import build_trainer, load_tokenizer
from breakeven.train.request import TrainRequest

TRL_TEMPLATES = Path(trl.__file__).parent / "chat_templates"
PHI4_MINI_TEMPLATE = (  # microsoft/Phi-4-mini-instruct tokenizer_config.json "chat_template"
    "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] is "
    "not none %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + "
    "'<|/tool|>' + '<|end|>' }}{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}"
)
MODELS = {  # config/models/<name>.yaml: (the model's own template, its special tokens, what ends an answer)
    "qwen3-8b": (
        (TRL_TEMPLATES / "qwen3.jinja").read_text(),
        {"eos_token": "<|im_end|>", "additional_special_tokens": ["<|im_start|>", "<think>", "</think>"]},
        "<|im_end|>\n",
    ),
    "gemma-3-4b": (
        (TRL_TEMPLATES / "gemma3.jinja").read_text(),
        {"bos_token": "<bos>", "eos_token": "<eos>", "additional_special_tokens": ["<start_of_turn>", "<end_of_turn>"]},
        "<end_of_turn>\n",
    ),
    "phi-4-mini": (
        PHI4_MINI_TEMPLATE,
        {
            "eos_token": "<|endoftext|>",
            "additional_special_tokens": ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
        },
        "<|end|>",
    ),
}
ANSWER = '{"customer_name": "Ana Lima", "product": "Nimbus Router X2"}'
CONVERSATION = [
    {"role": "system", "content": "Extract the fields as JSON."},
    {"role": "user", "content": "Hi, this is Ana Lima. My Nimbus Router X2 keeps dropping the connection."},
    {"role": "assistant", "content": ANSWER},
]
TINY_LORA = {
    "r": 4,
    "alpha": 8,
    "dropout": 0.0,
    "learning_rate": 1e-3,
    "epochs": 1,
    "batch_size": 2,
    "grad_accum": 1,
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
}


def model_config(name: str) -> dict:
    return read_yaml(REPO_ROOT / "config" / "models" / f"{name}.yaml")


def tiny_tokenizer(name: str):
    """A small byte-level BPE tokenizer with ``name``'s special tokens and its own chat template."""
    template, special, _ = MODELS[name]
    tokenizer = train_tokenizer(corpus(100, 0), 400)
    tokenizer.add_special_tokens(special)
    tokenizer.chat_template = template
    return tokenizer


def materialise(name: str, out: Path, build_model) -> Path:
    """What fetch_model leaves for ``name``: the tokenizer with its template variables fixed, and a tiny random
    model (``build_model(vocab_size)``)."""
    tokenizer = tiny_tokenizer(name)
    tokenizer.save_pretrained(out)
    build_model(len(tokenizer)).save_pretrained(out)
    if model_config(name).get("chat_template_kwargs"):
        set_template_variables(out, model_config(name)["chat_template_kwargs"])
    return out


def tiny_llama(vocab_size: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    return LlamaForCausalLM(config)


def tiny_gemma3(vocab_size: int):
    """A random Gemma3ForConditionalGeneration: a SigLIP vision tower, its projector and a Gemma 3 text model."""
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    text = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 56,
        "patch_size": 14,
    }
    config = Gemma3Config(
        text_config=text,
        vision_config=vision,
        mm_tokens_per_image=4,
        boi_token_index=vocab_size - 3,
        eoi_token_index=vocab_size - 2,
        image_token_index=vocab_size - 1,
    )
    return Gemma3ForConditionalGeneration(config)


def request_for(name: str, model_dir: Path, tmp_path: Path, lora: dict, n: int = 1) -> TrainRequest:
    cfg = model_config(name)
    path = REPO_ROOT / "config" / "chat_templates" / f"{cfg['training_chat_template']}.jinja"
    return TrainRequest(
        model_dir=model_dir,
        train=[{"messages": CONVERSATION}] * n,
        val=[],
        lora=lora,
        max_seq_length=512,
        seed=0,
        out_dir=tmp_path / "adapter",
        checkpoint_dir=tmp_path / "checkpoints",
        chat_template=training_template(path, cfg.get("chat_template_kwargs", {})),
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_template_masks_exactly_the_answer_of_each_production_model(name, tmp_path):
    """The labels trl's SFTTrainer trains on are the answer and its end-of-turn token, nothing else."""
    model_dir = materialise(name, tmp_path / name, tiny_llama)
    request = request_for(name, model_dir, tmp_path, TINY_LORA | {"target_modules": "all-linear"})
    trainer = build_trainer(request)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    assert trainer.processing_class.decode(ids[labels != -100]) == ANSWER + MODELS[name][2]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_template_renders_the_prompt_as_inference_does(name, tmp_path):
    """Training text = the inference prompt (the saved template, its variables fixed) + the answer + its end."""
    model_dir = materialise(name, tmp_path / name, tiny_llama)
    tokenizer = load_tokenizer(request_for(name, model_dir, tmp_path, TINY_LORA))
    inference = materialise(name, tmp_path / "inference", tiny_llama)
    from transformers import AutoTokenizer

    prompt = AutoTokenizer.from_pretrained(inference).apply_chat_template(
        CONVERSATION[:-1], tokenize=False, add_generation_prompt=True
    )
    trained = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert trained.startswith(prompt + ANSWER + MODELS[name][2])
    if name == "qwen3-8b":
        assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")  # thinking off, in the prompt


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_template_and_unsloth_response_markers_cut_the_same_answer(name, tmp_path):
    """Unsloth trains from the last response marker on, in the model's own rendering: the same answer and end."""
    from transformers import AutoTokenizer

    markers = model_config(name)["response_markers"]
    tokenizer = AutoTokenizer.from_pretrained(materialise(name, tmp_path / name, tiny_llama))
    text = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert text.count(markers["instruction"]) == 1 and text.index(markers["instruction"]) < text.index(
        markers["response"]
    )
    assert text.split(markers["response"])[-1].startswith(ANSWER + MODELS[name][2])


def test_training_template_missing_for_an_unknown_template_names_the_config_key(tmp_path):
    """Phi-4-mini's own template has no markers and trl has no copy of it: the error says what to set."""
    model_dir = materialise("phi-4-mini", tmp_path / "phi", tiny_llama)
    request = TrainRequest(model_dir, [], [], TINY_LORA, 512, 0, tmp_path / "a", tmp_path / "c")
    with pytest.raises(ValueError, match=r"no \{% generation %\} markers .* set training_chat_template"):
        load_tokenizer(request)


def test_gemma_lora_leaves_the_vision_tower_and_projector_alone(tmp_path):
    """Gemma 3's own LoRA targets (q/k/v/o and MLP projections) also name SigLIP's attention: none may adapt it."""
    model_dir = materialise("gemma-3-4b", tmp_path / "gemma", tiny_gemma3)
    lora = TINY_LORA | {"target_modules": model_config("gemma-3-4b")["lora"]["target_modules"]}
    trainer = build_trainer(request_for("gemma-3-4b", model_dir, tmp_path, lora, n=2))
    adapted = {name.rsplit(".lora_A", 1)[0] for name, _ in trainer.model.named_modules() if ".lora_A" in name}
    assert adapted and all(".language_model." in name for name in adapted), sorted(adapted)[:5]
    assert not [n for n in adapted if "vision_tower" in n or "multi_modal_projector" in n]
    vision_projections = [n for n, _ in trainer.model.named_modules() if "vision_tower" in n and n.endswith("q_proj")]
    assert vision_projections  # the tower is there, with modules the targets name, and was left out
    assert trainer.train().training_loss > 0  # a text-only batch trains through Gemma3ForConditionalGeneration
