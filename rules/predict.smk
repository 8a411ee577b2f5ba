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
        # vllm: the engine runs in this env on a cluster; locally the job reaches .venv-vllm (breakeven.infer.vllm_engine)
        "../envs/vllm.yaml" if config["inference"]["backend"] == "vllm" else "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=8000,
    script:
        "../workflow/scripts/predict.py"
