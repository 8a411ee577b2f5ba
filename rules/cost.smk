rule tco:
    input:
        unpack(lambda wildcards: selection_metric_files()),
        cells=rules.summarize.output.cells,
        metrics=lambda wildcards: metric_files(),
        pricing=PRICING,
        capacity=lambda wildcards: capacity_files(),
    output:
        costs=f"{RESULTS}/tco/costs.csv",
        tco=f"{RESULTS}/tco/tco.csv",
        breakeven=f"{RESULTS}/tco/breakeven.csv",
        sensitivity=f"{RESULTS}/tco/sensitivity.csv",
        error_cost=f"{RESULTS}/tco/error_cost.csv",
    params:
        cost=config["cost"],
        bootstrap=config["bootstrap"],
    log:
        f"{LOGS}/tco.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tco.py"
