rule figures:
    input:
        cells=rules.summarize.output.cells,
        costs=rules.tco.output.costs,
        breakeven=rules.tco.output.breakeven,
        capacity=lambda wildcards: capacity_files(),
        error_cost=rules.tco.output.error_cost,
    output:
        accuracy_vs_cost=report(
            f"{RESULTS}/figures/accuracy_vs_cost.png",
            caption="../report/snakemake/accuracy_vs_cost.rst",
            category="3. Cost",
        ),
        tco=report(
            f"{RESULTS}/figures/tco.png",
            caption="../report/snakemake/tco.rst",
            category="3. Cost",
        ),
        data_efficiency=report(
            f"{RESULTS}/figures/data_efficiency.png",
            caption="../report/snakemake/data_efficiency.rst",
            category="2. Accuracy",
        ),
        metric_ci=report(
            f"{RESULTS}/figures/metric_ci.png",
            caption="../report/snakemake/metric_ci.rst",
            category="2. Accuracy",
        ),
        latency=report(
            f"{RESULTS}/figures/latency.png",
            caption="../report/snakemake/latency.rst",
            category="4. Latency",
        ),
        capacity=report(
            f"{RESULTS}/figures/capacity.png",
            caption="../report/snakemake/capacity.rst",
            category="4. Latency",
        ),
        error_cost=report(
            f"{RESULTS}/figures/error_cost.png",
            caption="../report/snakemake/error_cost.rst",
            category="3. Cost",
        ),
    params:
        months=config["cost"]["months"],
        error_usd=config["cost"]["error_usd"],
    log:
        f"{LOGS}/figures.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/figures.py"


rule run_manifest:
    input:
        provenance=expand("resources/raw/{task}/provenance.json", task=PROJECT.tasks),
        pricing=PRICING,
        inputs=RUN_INPUTS,
        metrics=lambda wildcards: metric_files(),
    output:
        f"{RESULTS}/run_manifest.json",
    params:
        config=config,
        models=PROJECT.models,
    log:
        f"{LOGS}/run_manifest.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/run_manifest.py"


rule paper_tables:
    input:
        cells=rules.summarize.output.cells,
        metrics=rules.summarize.output.metrics,
        errors=rules.summarize.output.errors,
        paired=rules.summarize.output.paired,
        hypotheses=rules.summarize.output.hypotheses,
        variability=rules.summarize.output.variability,
        costs=rules.tco.output.costs,
        breakeven=rules.tco.output.breakeven,
        sensitivity=rules.tco.output.sensitivity,
        manifests=expand(f"{RESULTS}/prepared/{{task}}/manifest.json", task=PROJECT.tasks),
        run_manifest=f"{RESULTS}/run_manifest.json",
        pricing=PRICING,
        selections=selection_files(),
        sweeps=lambda wildcards: sweep_tables(),
    output:
        directory(f"{RESULTS}/paper/_generated"),
    params:
        config=config,
        tasks=PROJECT.tasks,
        models=PROJECT.models,
        api_models=PROJECT.api_models,
    log:
        f"{LOGS}/paper_tables.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow/scripts/paper_tables.py"


rule paper:
    input:
        template=PAPER_TEMPLATE,
        generated=rules.paper_tables.output,
        figures=rules.figures.output,
    output:
        html=report(
            f"{config['paper_dir']}/paper.html",
            caption="../report/snakemake/paper.rst",
            category="1. Findings",
        ),
        pdf=f"{config['paper_dir']}/paper.pdf",
    log:
        f"{LOGS}/paper.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/paper.py"
