# The base-model gate (before any fine-tuning) and the LoRA sweep (on a val slice, never test).


checkpoint select_base:
    input:
        unpack(select_base_input),
    output:
        selection=f"{RESULTS}/baseline/{{task}}/selection.json",
        candidates=[f"{RESULTS}/baseline/{{task}}/{model}.json" for model in PROJECT.models],
    params:
        task=lambda wildcards: PROJECT.adapter_config(wildcards.task),
        models=lambda wildcards: {name: PROJECT.models[name] for name in PROJECT.models},
        gate=GATE,
    log:
        f"{LOGS}/select_base/{{task}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/select_base.py"


rule base_model_report:
    input:
        selection_files(),
    output:
        report(
            f"{RESULTS}/baseline/base-model-evaluation.md",
            caption="../report/snakemake/gate.rst",
            category="5. Base-model gate",
        ),
    params:
        run=PROJECT.run,
    log:
        f"{LOGS}/base_model_report.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/base_model_report.py"


rule sweep_select:
    input:
        lambda wildcards: [
            f"{RESULTS}/metrics/{wildcards.task}/{wildcards.model}/{name}/seed{config['seeds'][0]}.json"
            for name in sweep_points()
        ],
    output:
        choice=f"{RESULTS}/sweep/{{model}}/{{task}}/choice.json",
        table=f"{RESULTS}/sweep/{{model}}/{{task}}/sweep.csv",
    params:
        points=sweep_points(),
    log:
        f"{LOGS}/sweep_select/{{model}}_{{task}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/sweep_select.py"
