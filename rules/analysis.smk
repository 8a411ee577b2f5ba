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
        n_eval_seeds=config["statistics"]["n_eval_seeds"],
        hypotheses=config["hypotheses"],
        bootstrap=config["bootstrap"],
    log:
        f"{LOGS}/summarize.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/summarize.py"


rule tco:
    input:
        cells=rules.summarize.output.cells,
        pricing=PRICING,
    output:
        costs=f"{RESULTS}/tco/costs.csv",
        tco=f"{RESULTS}/tco/tco.csv",
        breakeven=f"{RESULTS}/tco/breakeven.csv",
        sensitivity=f"{RESULTS}/tco/sensitivity.csv",
    params:
        cost=config["cost"],
    log:
        f"{LOGS}/tco.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tco.py"


rule figures:
    input:
        cells=rules.summarize.output.cells,
        costs=rules.tco.output.costs,
        breakeven=rules.tco.output.breakeven,
    output:
        accuracy_vs_cost=f"{RESULTS}/figures/accuracy_vs_cost.png",
        tco=f"{RESULTS}/figures/tco.png",
        data_efficiency=f"{RESULTS}/figures/data_efficiency.png",
        metric_ci=f"{RESULTS}/figures/metric_ci.png",
        latency=f"{RESULTS}/figures/latency.png",
    params:
        months=config["cost"]["months"],
    log:
        f"{LOGS}/figures.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/figures.py"
