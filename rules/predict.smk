rule predict_local:
    input:
        unpack(predict_input),
    output:
        predictions=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.jsonl",
        run=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.run.json",
    params:
        cell=predict_params,
    wildcard_constraints:
        model=_alternatives(PROJECT.models),
        condition=_alternatives(OWN_ENGINE_CONDITIONS),
    message:
        "predict {wildcards.model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed} (progress: {log})"
    log:
        f"{LOGS}/predict/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    conda:
        # vllm: the engine runs in this env on a cluster; locally the job reaches .venv-vllm (breakeven.infer.vllm_engine)
        "../envs/vllm.yaml" if config["inference"]["backend"] == "vllm" else "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    script:
        "../workflow/scripts/predict.py"


# The cells of a base model whose shared engine (rules/serving.smk) serves them: clients of that engine, in its
# group (no GPU or cores of their own: the engine holds them; they take the engine one at a time).
rule predict_served:
    input:
        unpack(served_input),
    output:
        predictions=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.jsonl",
        run=f"{RESULTS}/predictions/{{task}}/{{model}}/{{condition}}/seed{{seed}}.run.json",
    params:
        cell=predict_params,
        engine_timeout_s=SERVING["engine_timeout_s"],
    wildcard_constraints:
        model=_alternatives(PROJECT.models),
        condition=_alternatives(SERVED_CONDITIONS),
    message:
        "predict {wildcards.model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed} on the shared engine (progress: {log})"
    log:
        f"{LOGS}/predict/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    group:
        "engine_{model}"
    conda:
        "../envs/vllm.yaml"
    threads: 0
    resources:
        mem_mb=1000,
    script:
        "../workflow/scripts/predict_served.py"


rule predict_api:
    input:
        unpack(predict_api_input),
    output:
        predictions=f"{RESULTS}/predictions/{{task}}/{{api_model}}/{{condition}}/seed{{seed}}.jsonl",
        run=f"{RESULTS}/predictions/{{task}}/{{api_model}}/{{condition}}/seed{{seed}}.run.json",
    params:
        cell=predict_api_params,
        cache=API_CACHE,
    message:
        "predict {wildcards.api_model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed} (progress: {log.job})"
    log:
        job=f"{LOGS}/predict_api/{{task}}/{{api_model}}/{{condition}}/seed{{seed}}.log",
        server=f"{LOGS}/predict_api/{{task}}/{{api_model}}/{{condition}}/seed{{seed}}.server.log",  # the stand-in's
    conda:
        "../envs/api.yaml"
    threads: predict_api_threads
    resources:
        mem_mb=4000,
    script:
        "../workflow/scripts/predict_api.py"
