"""Local inference backends behind one interface: ``Generator.generate(conversations) -> [Generation]``."""

from breakeven.registry import Registry

GENERATORS = Registry(
    "inference backend",
    {"transformers": "breakeven.infer.hf:HFGenerator", "vllm": "breakeven.infer.vllm_engine:VLLMGenerator"},
)
