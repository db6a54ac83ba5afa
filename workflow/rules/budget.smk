# What the tuning budget buys (issue 14): budget curves, the probability that
# each optimizer is best at each budget, and the chosen values at the edge of
# their range, from the tuning job's trials and choices.


rule budget_tables:
    input:
        trials=paths.table("tuning_trials"),
        chosen=paths.table("tuning_chosen"),
        data=expand(paths.dataset_file(), dataset=DATASETS),
    output:
        **{name: paths.table(name) for name in BUDGET_TABLES},
    log:
        "logs/budget_tables.log",
    benchmark:
        "benchmarks/budget_tables.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config={k: v for k, v in config.items() if k != "lectures"},
    script:
        "../scripts/budget.py"
