# Adapters on the Hugging Face Hub (optional): push each trained adapter with its model card, or pull a published
# one (pinned to a commit) so that its cell predicts without training.


rule publish_adapter:
    input:
        adapter=f"{RESULTS}/adapters/{{model}}/{{task}}/{{lora_condition}}/seed{{seed}}",
        metrics=f"{RESULTS}/metrics/{{task}}/{{model}}/{{lora_condition}}/seed{{seed}}.json",
        provenance="resources/raw/{task}/provenance.json",
    output:
        f"{RESULTS}/published/{{model}}/{{task}}/{{lora_condition}}/seed{{seed}}.json",
    params:
        model=lambda wildcards: PROJECT.models[wildcards.model],
        namespace=PUBLISH["namespace"],
        private=PUBLISH["private"],
    log:
        f"{LOGS}/publish/{{task}}/{{model}}/{{lora_condition}}/seed{{seed}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/publish_adapter.py"


rule pull_adapter:
    output:
        directory(f"{RESULTS}/hub_adapters/{{model}}/{{task}}/{{lora_condition}}/seed{{seed}}"),
    params:
        published=lambda wildcards: PUBLISH["pull"][
            f"{wildcards.model}/{wildcards.task}/{wildcards.lora_condition}/seed{wildcards.seed}"
        ],
    log:
        f"{LOGS}/pull_adapter/{{task}}/{{model}}/{{lora_condition}}/seed{{seed}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/pull_adapter.py"
