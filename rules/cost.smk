rule tco:
    input:
        cells=rules.summarize.output.cells,
        pricing=PRICING,
        capacity=lambda wildcards: capacity_files(),
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
