rule make_raw:
    output:
        rows="resources/raw/{task}/rows.jsonl",
        documents="resources/raw/{task}/documents.json",
        provenance="resources/raw/{task}/provenance.json",
    params:
        source=lambda wildcards: PROJECT.tasks[wildcards.task]["source"],
        mirror=lambda wildcards: PROJECT.mirror_for(wildcards.task),
    log:
        "logs/make_raw/{task}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/make_raw.py"


rule prepare:
    input:
        rules.make_raw.output.rows,
    output:
        train_full=f"{RESULTS}/prepared/{{task}}/train_full.jsonl",
        val=f"{RESULTS}/prepared/{{task}}/val.jsonl",
        test=f"{RESULTS}/prepared/{{task}}/test.jsonl",
        fewshot=f"{RESULTS}/prepared/{{task}}/fewshot.jsonl",
        manifest=f"{RESULTS}/prepared/{{task}}/manifest.json",
    params:
        task=lambda wildcards: PROJECT.prepare_config(wildcards.task),
        train_sizes=lambda wildcards: PROJECT.train_sizes(wildcards.task),
    log:
        f"{LOGS}/prepare/{{task}}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/prepare.py"


rule train_subset:
    input:
        rules.prepare.output.train_full,
    output:
        f"{RESULTS}/prepared/{{task}}/train_{{n}}.jsonl",
    params:
        exact=True,
    log:
        f"{LOGS}/train_subset/{{task}}_{{n}}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/first_rows.py"


rule eval_slice:
    input:
        f"{RESULTS}/prepared/{{task}}/{{split}}.jsonl",
    output:
        f"{RESULTS}/prepared/{{task}}/{{split}}_first{{n}}.jsonl",
    params:
        exact=False,
    log:
        f"{LOGS}/eval_slice/{{task}}_{{split}}_{{n}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/first_rows.py"
