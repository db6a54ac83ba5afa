# The comparison report: statistics, figures and one self-contained HTML
# page, drawn from the tables and run files only (no training).
# `snakemake --cores 4 report` re-renders it from existing results.

# The derived tables, all written as CSV, and those also written as Markdown
# and LaTeX: one list, in the package.
from nnstudy.report.table_names import TABLES as REPORT_TABLES
from nnstudy.report.table_names import TEXT_TABLES as REPORT_TEXT_TABLES


report: "../report/workflow.rst"


rule report:
    input:
        runs="results/tables/runs.csv",
        summary="results/tables/summary.csv",
        curves="results/tables/curves.csv",
        learning_rates="results/tables/learning_rates.csv",
        gradcheck="results/tables/gradcheck.csv",
        timings="results/tables/timings.csv",
        replication=(
            "results/tables/replication.csv" if config.get("replication", True) else []
        ),
        run_files=expand(
            "results/runs/{c[dataset]}/{c[optimizer]}/{c[regularizer]}.h5", c=cells()
        ),
        data=expand("results/data/{dataset}.h5", dataset=DATASETS),
        lectures=lecture_outputs(config),
        vectorization="results/timings/vectorization.csv",
        variance_decomposition=(
            "results/tables/variance_decomposition.csv"
            if config.get("variance_decomposition")
            else []
        ),
    output:
        html=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="Report",
        ),
        config="results/report/config.yaml",
        figures=report(
            directory("results/figures"),
            patterns=["{name}.png"],
            caption="../report/figure.rst",
            category="Figures",
            subcategory=lambda wildcards: wildcards.name.split("-")[0].replace(
                "_", " "
            ),
        ),
        # The tables the HTML report shows also go into Snakemake's report.
        tables=[
            (
                report(
                    f"results/tables/{name}.csv",
                    caption="../report/report_table.rst",
                    category="Report tables",
                    labels={"table": name},
                )
                if name in REPORT_TEXT_TABLES
                else f"results/tables/{name}.csv"
            )
            for name in REPORT_TABLES
        ],
        text=expand(
            "results/tables/{name}.{ext}", name=REPORT_TEXT_TABLES, ext=["md", "tex"]
        ),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    conda:
        "../envs/nnstudy.yaml"
    threads: 4
    params:
        config=config,
        benchmarks="benchmarks",
        repo=workflow.basedir,
    script:
        "../scripts/report.py"
