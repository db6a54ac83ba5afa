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
        runs="results/tables/runs.csv",
        summary="results/tables/summary.csv",
        summary_md="results/tables/summary.md",
        summary_tex="results/tables/summary.tex",
        learning_rates="results/tables/learning_rates.csv",
        gradcheck="results/tables/gradcheck.csv",
        timings="results/tables/timings.csv",
        curves="results/tables/curves.csv",
    log:
        "logs/aggregate.log",
    benchmark:
        "benchmarks/aggregate.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=config,
    script:
        "../scripts/aggregate.py"
