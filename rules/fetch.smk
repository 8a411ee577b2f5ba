rule fetch_model:
    output:
        directory("resources/models/{model}"),
    params:
        model=lambda wildcards: PROJECT.local_model(wildcards.model),
    log:
        "logs/fetch_model/{model}.log",
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow/scripts/fetch_model.py"
