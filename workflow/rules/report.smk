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
        unpack(tuning_report_inputs),
        runs=paths.table("runs"),
        summary=paths.table("summary"),
        curves=paths.table("curves"),
        learning_rates=paths.table("learning_rates"),
        gradcheck=paths.table("gradcheck"),
        timings=paths.table("timings"),
        replication=(paths.table("replication") if config["replication"] else []),
        run_files=[paths.run_file(**c) for c in cells()],
        data=expand(paths.dataset_file(), dataset=DATASETS),
        lectures=lecture_outputs(config),
        vectorization=paths.vectorization_timings(),
        variance_decomposition=(
            paths.table("variance_decomposition")
            if config.get("variance_decomposition")
            else []
        ),
    output:
        html=report(
            paths.report_page(),
            caption="../report/index.rst",
            category="Report",
        ),
        config=paths.report_config(),
        figures=report(
            directory(paths.figures_dir()),
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
                    paths.table(name),
                    caption="../report/report_table.rst",
                    category="Report tables",
                    labels={"table": name},
                )
                if name in REPORT_TEXT_TABLES
                else paths.table(name)
            )
            for name in REPORT_TABLES
        ],
        text=expand(
            paths.table("{name}", "{ext}"), name=REPORT_TEXT_TABLES, ext=["md", "tex"]
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
