rule tune:
    input:
        data="results/data/{dataset}.h5",
        # Tuning trains unregularized networks: their backprop must be checked.
        # ancient: see the train rule.
        gradcheck=ancient("results/gradcheck/{dataset}/none.csv"),
    output:
        curve="results/tuning/{dataset}/{optimizer}.csv",
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
        # must run waits for its gate, and a failing gate leaves no table, so
        # nothing after it runs) but drops the table's modification time as a
        # reason to retrain: rerunning the gate (gradcheck.samples changed,
        # say) retrains nothing. What training results do depend on (the
        # dataset file, the cell's config) reruns training through its own
        # inputs and params.
        gradcheck=ancient("results/gradcheck/{dataset}/{regularizer}.csv"),
        tuning=tuning_input,
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
