# Serving stage: every local cell's capacity (a load test at rising concurrency against the engine its predictions
# use), and with inference.backend vllm the shared engine of each base model, a service job in one group with its
# predict_served and capacity_served jobs (Snakemake runs the group's jobs at once and stops the engine when the
# last of them is done).
from pathlib import Path

# Snakemake reruns every consumer of a service job that runs (its output counts as updated input); ancient()
# stops that only for a file that exists while the DAG is built, and Snakemake deletes service outputs once
# the group is done. So the engine's (empty) address file is put back before the DAG is built: editing one
# condition still reruns only its cells, and the engine, which its consumers wait for, restarts for them.
if SHARED_ENGINE:
    Path(f"{RESULTS}/serving/engines").mkdir(parents=True, exist_ok=True)
    for _model in PROJECT.models:
        open(f"{RESULTS}/serving/engines/{_model}.json", "a").close()  # never truncates a running engine's file


rule capacity:
    input:
        unpack(predict_input),
    output:
        f"{RESULTS}/serving/{{task}}/{{model}}/{{condition}}/seed{{seed}}.csv",
    params:
        cell=capacity_params,
    wildcard_constraints:
        model=_alternatives(PROJECT.models),
        condition=_alternatives(OWN_ENGINE_CONDITIONS),
    message:
        "load test {wildcards.model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed} (progress: {log})"
    log:
        f"{LOGS}/serving/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    conda:
        "../envs/vllm.yaml" if config["inference"]["backend"] == "vllm" else "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow/scripts/capacity.py"


rule capacity_served:
    input:
        unpack(served_input),
    output:
        f"{RESULTS}/serving/{{task}}/{{model}}/{{condition}}/seed{{seed}}.csv",
    params:
        cell=capacity_params,
        engine_timeout_s=SERVING["engine_timeout_s"],
    wildcard_constraints:
        model=_alternatives(PROJECT.models),
        condition=_alternatives(SERVED_CONDITIONS),
    message:
        "load test {wildcards.model} · {wildcards.task} · {wildcards.condition} · seed {wildcards.seed} on the shared engine (progress: {log})"
    log:
        f"{LOGS}/serving/{{task}}/{{model}}/{{condition}}/seed{{seed}}.log",
    group:
        "engine_{model}"
    conda:
        "../envs/vllm.yaml"
    threads: 0
    resources:
        mem_mb=1000,
    script:
        "../workflow/scripts/capacity.py"


rule engine:
    input:
        model="resources/models/{model}",
        adapters=lambda wildcards: list(served_adapters(wildcards).values()),
    output:
        service(f"{RESULTS}/serving/engines/{{model}}.json"),
    params:
        spec=engine_spec,
    log:
        f"{LOGS}/serving/engine/{{model}}.log",
    group:
        "engine_{model}"
    conda:
        "../envs/vllm.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    # shell, not script: Snakemake stops a service job through the shell process it started (exec: the engine).
    # The address file exists at once (the engine's pid until the server is up): Snakemake gives consumers seconds.
    shell:
        "printf '{{\"pid\": %d}}' $$ > {output:q} && "
        "exec python -m breakeven.serving.engine {params.spec:q} {output:q} {log:q} > {log:q} 2>&1"
