rule tune:
    input:
        data="results/data/{dataset}.h5",
        # Tuning trains unregularized networks: their backprop must be checked.
        gradcheck="results/gradcheck/{dataset}/none.csv",
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
        gradcheck="results/gradcheck/{dataset}/{regularizer}.csv",
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
