rule aggregate:
    input:
        rows=expand(
            "results/runs/{c[dataset]}/{c[optimizer]}/{c[regularizer]}.csv", c=cells()
        ),
        runs=expand(
            "results/runs/{c[dataset]}/{c[optimizer]}/{c[regularizer]}.h5", c=cells()
        ),
        tuning=expand(
            "results/tuning/{dataset}/{optimizer}.csv",
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
        chosen=expand(
            "results/tuning/{dataset}/{optimizer}.chosen.json",
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
        gradcheck=expand(
            "results/gradcheck/{dataset}/{regularizer}.csv",
            dataset=DATASETS,
            regularizer=REGULARIZERS,
        ),
        timings=expand(
            "results/timings/train/{c[dataset]}/{c[optimizer]}/{c[regularizer]}.json",
            c=cells(),
        )
        + expand(
            "results/timings/tune/{dataset}/{optimizer}.json",
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
    output:
        runs=report(
            "results/tables/runs.csv",
            caption="../report/runs.rst",
            category="Tables",
            labels={"table": "runs"},
        ),
        summary=report(
            "results/tables/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
            labels={"table": "summary"},
        ),
        summary_md="results/tables/summary.md",
        summary_tex="results/tables/summary.tex",
        learning_rates=report(
            "results/tables/learning_rates.csv",
            caption="../report/learning_rates.rst",
            category="Tables",
            labels={"table": "learning_rates"},
        ),
        gradcheck=report(
            "results/tables/gradcheck.csv",
            caption="../report/gradcheck.rst",
            category="Tables",
            labels={"table": "gradcheck"},
        ),
        timings=report(
            "results/tables/timings.csv",
            caption="../report/timings.rst",
            category="Tables",
            labels={"table": "timings"},
        ),
        curves=report(
            "results/tables/curves.csv",
            caption="../report/curves.rst",
            category="Tables",
            labels={"table": "curves"},
        ),
    log:
        "logs/aggregate.log",
    benchmark:
        "benchmarks/aggregate.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        # Everything but the lecture stages, which the tables do not depend on.
        config={k: v for k, v in config.items() if k != "lectures"},
    script:
        "../scripts/aggregate.py"
