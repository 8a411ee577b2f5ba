rule tco:
    input:
        unpack(lambda wildcards: selection_metric_files()),
        cells=rules.summarize.output.cells,
        metrics=lambda wildcards: metric_files(),
        pricing=PRICING,
        capacity=lambda wildcards: capacity_files(),
    output:
        costs=report(
            f"{RESULTS}/tco/costs.csv",
            caption="../report/snakemake/costs.rst",
            category="3. Cost",
        ),
        tco=f"{RESULTS}/tco/tco.csv",
        breakeven=report(
            f"{RESULTS}/tco/breakeven.csv",
            caption="../report/snakemake/breakeven.rst",
            category="3. Cost",
        ),
        sensitivity=report(
            f"{RESULTS}/tco/sensitivity.csv",
            caption="../report/snakemake/sensitivity.rst",
            category="3. Cost",
        ),
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
