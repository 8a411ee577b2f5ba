rule figures:
    input:
        cells=rules.summarize.output.cells,
        costs=rules.tco.output.costs,
        breakeven=rules.tco.output.breakeven,
        capacity=lambda wildcards: capacity_files(),
        error_cost=rules.tco.output.error_cost,
    output:
        accuracy_vs_cost=f"{RESULTS}/figures/accuracy_vs_cost.png",
        tco=f"{RESULTS}/figures/tco.png",
        data_efficiency=f"{RESULTS}/figures/data_efficiency.png",
        metric_ci=f"{RESULTS}/figures/metric_ci.png",
        latency=f"{RESULTS}/figures/latency.png",
        capacity=f"{RESULTS}/figures/capacity.png",
        error_cost=f"{RESULTS}/figures/error_cost.png",
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
        selections=selection_dirs(),
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
        html=f"{config['paper_dir']}/paper.html",
        pdf=f"{config['paper_dir']}/paper.pdf",
    log:
        f"{LOGS}/paper.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/paper.py"
