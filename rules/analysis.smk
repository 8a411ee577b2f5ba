rule summarize:
    input:
        lambda wildcards: metric_files(),
    output:
        cells=report(
            f"{RESULTS}/summary/cells.csv",
            caption="../report/snakemake/cells.rst",
            category="2. Accuracy",
        ),
        metrics=f"{RESULTS}/summary/metrics.csv",
        errors=f"{RESULTS}/summary/error_classes.csv",
        paired=report(
            f"{RESULTS}/summary/paired.csv",
            caption="../report/snakemake/paired.rst",
            category="2. Accuracy",
        ),
        hypotheses=report(
            f"{RESULTS}/summary/hypotheses.csv",
            caption="../report/snakemake/hypotheses.rst",
            category="2. Accuracy",
        ),
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
