"""Push one trained adapter with its generated model card to the Hugging Face Hub."""

from pathlib import Path

from breakeven.jsonio import read_json
from breakeven.publish.card import repo_name
from breakeven.publish.hub import push_adapter
from breakeven.runtime import log_to

log_to(snakemake.log[0])
wildcards, model = snakemake.wildcards, snakemake.params.model
cell = read_json(snakemake.input.metrics)
repo_id = f"{snakemake.params.namespace}/{repo_name(model['name'], wildcards.task, cell['condition'], cell['seed'])}"
record = push_adapter(
    adapter_dir=Path(snakemake.input.adapter),
    repo_id=repo_id,
    private=snakemake.params.private,
    card_inputs={
        "model": model,
        "task": wildcards.task,
        "cell": cell,
        "provenance": read_json(snakemake.input.provenance),
    },
    receipt=Path(snakemake.output[0]),
)
print("published", record["repo_id"], "at", record["revision"])
