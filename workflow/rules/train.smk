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


# One search and one training job per (dataset, optimizer): each of its
# regularizers' cells trains as its own batch, one after another. A job costs
# about 0.7 s to start (Python, NumPy, h5py, Snakemake's script wrapper)
# whatever it trains, and per cell that was a tenth of the default study.


rule search:
    input:
        data=paths.dataset_file(),
        # ancient: see the train rule.
        gradcheck=ancient(cell_files(paths.gradcheck_table)),
        network=cell_files(paths.network_settings),
        # ancient: a job's trials change only with the part of the config its
        # own params carry (tuning, its optimizer), which reruns it; adding an
        # optimizer redraws the table but reruns no other job.
        trials=ancient(paths.trial_table()),
    output:
        trials=cell_files(paths.search_trials),
        chosen=cell_files(paths.search_chosen),
        timing=cell_files(paths.search_timing),
    log:
        "logs/search/{dataset}/{optimizer}.log",
    benchmark:
        "benchmarks/search/{dataset}/{optimizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=job_config,
        regularizers=REGULARIZERS,
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
        gradcheck=ancient(cell_files(paths.gradcheck_table)),
        network=cell_files(paths.network_settings),
        chosen=chosen_rate,
    output:
        run=cell_files(paths.run_file),
        rows=cell_files(paths.run_rows),
        timing=cell_files(paths.train_timing),
    log:
        "logs/train/{dataset}/{optimizer}.log",
    benchmark:
        "benchmarks/train/{dataset}/{optimizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=job_config,
        regularizers=REGULARIZERS,
    script:
        "../scripts/train.py"
