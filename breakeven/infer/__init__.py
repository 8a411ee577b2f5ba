"""Predict stage, local models: inference backends behind one interface, ``Generator.generate(conversations) ->
[Generation]``, and the job entry point."""

from breakeven.registry import Registry

GENERATORS = Registry(
    "inference backend",
    {"transformers": "breakeven.infer.hf:HFGenerator", "vllm": "breakeven.infer.vllm_engine:VLLMGenerator"},
)
