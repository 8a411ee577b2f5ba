"""Selection stage: the base-model gate (zero-shot val pass rates, decision, chance check) and the LoRA
hyperparameter sweep, both scored on val slices, never on the test split."""
