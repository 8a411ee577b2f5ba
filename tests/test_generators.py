"""Every inference backend implements ``breakeven.infer.base.Generator``: the shared engine's client drifted from
it twice (no ``top_logprobs``, no ``cache_stats``), and each time every predict job of the shared engine failed."""

from __future__ import annotations

import inspect

import pytest

from breakeven.infer.base import Generator
from breakeven.infer.hf import HFGenerator
from breakeven.infer.vllm_engine import VLLMGenerator
from breakeven.models.chat_templates import install_chat_template
from breakeven.models.tiny import build_tiny_llama
from breakeven.serving.served import ServedGenerator


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generators") / "tiny"
    build_tiny_llama(folder, seed=0)
    install_chat_template(folder, "chatml")
    return folder


@pytest.mark.parametrize(
    "build",
    [
        lambda tiny: HFGenerator(tiny),
        lambda tiny: VLLMGenerator(tiny),
        lambda tiny: ServedGenerator("http://127.0.0.1:1/v1", "base"),
    ],
    ids=["transformers", "vllm", "shared-engine client"],
)
def test_every_backend_implements_the_generator_interface(build, tiny):
    generator = build(tiny)
    assert isinstance(generator, Generator)  # device, cache_stats and generate, before any call
    assert inspect.signature(type(generator).generate) == inspect.signature(Generator.generate)
