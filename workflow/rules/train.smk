rule tune:
    input:
        data="results/data/{dataset}.h5",
        # Tuning trains unregularized networks: their backprop must be checked.
        # ancient: see the train rule.
        gradcheck=ancient("results/gradcheck/{dataset}/none.csv"),
        network="results/gradcheck/{dataset}/none.network.json",
    output:
        curve="results/tuning/{dataset}/{optimizer}.csv",
        chosen="results/tuning/{dataset}/{optimizer}.chosen.json",
        timing="results/timings/tune/{dataset}/{optimizer}.json",
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


rule train:
    input:
        data="results/data/{dataset}.h5",
        # The gate's table certifies that backprop was checked; no number of
        # the training comes from it. ancient() keeps the order (a job that
        # must run waits for its gate; a failing gate leaves no table, so
        # nothing after it runs) but a rerun gate (gradcheck.samples changed,
        # say) retrains nothing. Snakemake does not check the own triggers
        # (params) of a job downstream of one that must run, and reaches it
        # again only through plain inputs: the settings training shares with
        # its gate (network, regularizer) come as a plain input file, so that
        # changing them still retrains.
        gradcheck=ancient("results/gradcheck/{dataset}/{regularizer}.csv"),
        network="results/gradcheck/{dataset}/{regularizer}.network.json",
        chosen=chosen_rate,
    output:
        run="results/runs/{dataset}/{optimizer}/{regularizer}.h5",
        rows="results/runs/{dataset}/{optimizer}/{regularizer}.csv",
        timing="results/timings/train/{dataset}/{optimizer}/{regularizer}.json",
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
