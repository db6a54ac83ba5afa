rule aggregate:
    input:
        rows=[paths.run_rows(**c) for c in cells()],
        runs=[paths.run_file(**c) for c in cells()],
        tuning=expand(
            paths.tuning_curve(),
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
        chosen=expand(
            paths.chosen_rate(),
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
        gradcheck=expand(
            paths.gradcheck_table(),
            dataset=DATASETS,
            regularizer=REGULARIZERS,
        ),
        timings=[paths.train_timing(**c) for c in cells()]
        + expand(
            paths.tune_timing(),
            dataset=DATASETS if TUNE else [],
            optimizer=OPTIMIZERS,
        ),
    output:
        runs=report(
            paths.table("runs"),
            caption="../report/runs.rst",
            category="Tables",
            labels={"table": "runs"},
        ),
        summary=report(
            paths.table("summary"),
            caption="../report/summary.rst",
            category="Tables",
            labels={"table": "summary"},
        ),
        summary_md=paths.table("summary", "md"),
        summary_tex=paths.table("summary", "tex"),
        learning_rates=report(
            paths.table("learning_rates"),
            caption="../report/learning_rates.rst",
            category="Tables",
            labels={"table": "learning_rates"},
        ),
        gradcheck=report(
            paths.table("gradcheck"),
            caption="../report/gradcheck.rst",
            category="Tables",
            labels={"table": "gradcheck"},
        ),
        timings=report(
            paths.table("timings"),
            caption="../report/timings.rst",
            category="Tables",
            labels={"table": "timings"},
        ),
        curves=report(
            paths.table("curves"),
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


rule tuning_tables:
    input:
        trials=[paths.search_trials(**c) for c in cells()],
        chosen=[paths.search_chosen(**c) for c in cells()],
    output:
        trials=paths.table("tuning_trials"),
        chosen=paths.table("tuning_chosen"),
    log:
        "logs/tuning_tables.log",
    benchmark:
        "benchmarks/tuning_tables.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config={k: v for k, v in config.items() if k != "lectures"},
    script:
        "../scripts/tuning_tables.py"
