# Breakeven: when does a small fine-tuned open model beat a frontier API, and at what volume does it pay off?
#   snakemake --cores all --resources gpu=1                               (embedded default, CPU demo)
#   snakemake --cores all --resources gpu=1 --configfile config/smoke.yaml  (smoke run, results/smoke/)
from snakemake.utils import min_version

min_version("9.0")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "report/snakemake/workflow.rst"


include: "rules/common.smk"
include: "rules/fetch.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/predict.smk"
include: "rules/serving.smk"
include: "rules/score.smk"
include: "rules/selection.smk"
include: "rules/analysis.smk"
include: "rules/cost.smk"
include: "rules/paper.smk"
include: "rules/publish.smk"


rule all:
    input:
        final_outputs(),
        lambda wildcards: published_adapters(),
    default_target: True


onsuccess:
    print(success_message(config["paper_dir"], Path(f"{RESULTS}/paper/_generated/findings.md")))


onerror:
    print(failure_message(log))
