rule summarize:
    input:
        lambda wildcards: metric_files(),
    output:
        cells=f"{RESULTS}/summary/cells.csv",
        metrics=f"{RESULTS}/summary/metrics.csv",
        errors=f"{RESULTS}/summary/error_classes.csv",
        paired=f"{RESULTS}/summary/paired.csv",
        hypotheses=f"{RESULTS}/summary/hypotheses.csv",
        variability=f"{RESULTS}/summary/variability.csv",
    params:
        reference=config["statistics"]["reference"],
        reference_system=PROJECT.reference_system,
        n_eval_seeds=config["statistics"]["n_eval_seeds"],
        hypotheses=config["hypotheses"],
        bootstrap=config["bootstrap"],
    log:
        f"{LOGS}/summarize.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/summarize.py"
