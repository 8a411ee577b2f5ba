rule score:
    input:
        unpack(score_input),
    output:
        f"{RESULTS}/metrics/{{task}}/{{model}}/{{condition}}/seed{{seed}}.json",
    params:
        cell=score_params,
    message:
        "score {wildcards.model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed}"
    log:
        f"{LOGS}/score/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/score.py"
