"""Open models: where each comes from (hub, packaged GGUF, local folder), its chat template, and the tiny random
Llama that tests and smoke runs use."""
