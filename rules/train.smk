rule train:
    input:
        unpack(train_input),
    output:
        directory(f"{RESULTS}/adapters/{{model}}/{{task}}/{{lora_condition}}/seed{{seed}}"),
    params:
        cell=train_params,
        checkpoints=checkpoint_dir,
    message:
        "train {wildcards.model} · {wildcards.task} · {wildcards.lora_condition} · seed {wildcards.seed} (progress: {log})"
    log:
        f"{LOGS}/train/{{task}}/{{model}}/{{lora_condition}}/seed{{seed}}.log",
    conda:
        # unsloth pins its own trl/datasets/transformers; auto and peft train in the model stack's env
        "../envs/unsloth.yaml" if config["training"]["backend"] == "unsloth" else "../envs/torch.yaml"
    threads: 4
    resources:
        gpu=1,
        mem_mb=12000,
        runtime=360,
    script:
        "../workflow/scripts/train.py"
