"""Training backends behind one function signature: ``train(request) -> info``."""

from breakeven.registry import Registry

TRAINERS = Registry("training backend", {"peft": "breakeven.train.peft_trainer:train_lora"})
