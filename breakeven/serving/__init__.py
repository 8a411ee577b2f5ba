"""Serving stage: the capacity of every local cell measured the way a deployment serves it (a closed-loop load
test at rising concurrency against the engine the predictions use), and the shared engine (one vLLM
OpenAI-compatible server per base model, with all its LoRA adapters) that a Snakemake service job runs for its
predict and capacity jobs."""
