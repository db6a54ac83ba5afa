rule tune:
    input:
        data=paths.dataset_file(),
        # Tuning trains unregularized networks: their backprop must be checked.
        # ancient: see the train rule.
        gradcheck=ancient(paths.gradcheck_table(regularizer="none")),
        network=paths.network_settings(regularizer="none"),
    output:
        curve=paths.tuning_curve(),
        chosen=paths.chosen_rate(),
        timing=paths.tune_timing(),
    log:
        "logs/tune/{dataset}/{optimizer}.log",
    benchmark:
        "benchmarks/tune/{dataset}/{optimizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=cell_config,
    script:
        "../scripts/tune.py"


rule trials:
    output:
        paths.trial_table(),
    log:
        "logs/trials.log",
    benchmark:
        "benchmarks/trials.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=trials_config(),
    script:
        "../scripts/trials.py"


rule search:
    input:
        data=paths.dataset_file(),
        # ancient: see the train rule.
        gradcheck=ancient(paths.gradcheck_table()),
        network=paths.network_settings(),
        # ancient: a job's trials change only with the part of the config its
        # own params carry (tuning, its optimizer), which reruns it; adding an
        # optimizer redraws the table but reruns no other job.
        trials=ancient(paths.trial_table()),
    output:
        trials=paths.search_trials(),
        chosen=paths.search_chosen(),
        timing=paths.search_timing(),
    log:
        "logs/search/{dataset}/{optimizer}/{regularizer}.log",
    benchmark:
        "benchmarks/search/{dataset}/{optimizer}/{regularizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=cell_config,
    script:
        "../scripts/search.py"


rule train:
    input:
        data=paths.dataset_file(),
        # The gate's table certifies that backprop was checked; no number of
        # the training comes from it. ancient() keeps the order (a job that
        # must run waits for its gate; a failing gate leaves no table, so
        # nothing after it runs) but a rerun gate (gradcheck.samples changed,
        # say) retrains nothing. Snakemake does not check the own triggers
        # (params) of a job downstream of one that must run, and reaches it
        # again only through plain inputs: the settings training shares with
        # its gate (network, regularizer) come as a plain input file, so that
        # changing them still retrains.
        gradcheck=ancient(paths.gradcheck_table()),
        network=paths.network_settings(),
        chosen=chosen_rate,
    output:
        run=paths.run_file(),
        rows=paths.run_rows(),
        timing=paths.train_timing(),
    log:
        "logs/train/{dataset}/{optimizer}/{regularizer}.log",
    benchmark:
        "benchmarks/train/{dataset}/{optimizer}/{regularizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=cell_config,
    script:
        "../scripts/train.py"
