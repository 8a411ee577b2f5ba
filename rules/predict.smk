rule predict_local:
    input:
        unpack(predict_input),
    output:
        predictions=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.jsonl",
        run=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.run.json",
    params:
        cell=predict_params,
    log:
        f"{LOGS}/predict/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    conda:
        "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    script:
        "../workflow/scripts/predict.py"
