"""Chat templates of the open models: a template from ``config/chat_templates/`` installed into the tokenizer,
template variables (``enable_thinking``) fixed inside it, and the training template the peft backend masks the
loss with."""

from __future__ import annotations

import json
from pathlib import Path

from breakeven import REPO_ROOT


def install_chat_template(out: Path, template: str, root: Path = REPO_ROOT) -> None:
    """Replace the tokenizer's chat template by ``config/chat_templates/<template>.jinja``."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    tokenizer.chat_template = (root / "config" / "chat_templates" / f"{template}.jinja").read_text()
    tokenizer.save_pretrained(out)


def set_template_variables(out: Path, variables: dict) -> None:
    """Fix chat-template variables (e.g. ``enable_thinking: false``) inside the saved template, so that every
    backend rendering it (transformers, vLLM, Unsloth) sees the same prompt without passing them itself."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    if not isinstance(tokenizer.chat_template, str):
        raise ValueError(f"{out}: chat_template_kwargs need a single chat template, found {tokenizer.chat_template!r}")
    tokenizer.chat_template = template_header(variables) + tokenizer.chat_template
    tokenizer.save_pretrained(out)


def template_header(variables: dict) -> str:
    """Jinja ``set`` statements fixing ``variables`` for the template that follows them."""
    return "".join(f"{{%- set {name} = {json.dumps(value)} %}}" for name, value in sorted(variables.items()))


def training_template(path: Path, variables: dict) -> str:
    """``config/chat_templates/<training_chat_template>.jinja`` with the model's template variables fixed, as
    the materialised tokenizer has them: the prompt renders exactly as at inference."""
    return template_header(variables) + path.read_text()
