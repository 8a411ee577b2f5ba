rule tco:
    input:
        cells=rules.summarize.output.cells,
        pricing=PRICING,
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
    params:
        cost=config["cost"],
    log:
        f"{LOGS}/tco.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/tco.py"
