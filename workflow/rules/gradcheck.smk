rule gradcheck:
    input:
        data="results/data/{dataset}.h5",
    output:
        "results/gradcheck/{dataset}/{regularizer}.csv",
    log:
        "logs/gradcheck/{dataset}/{regularizer}.log",
    benchmark:
        "benchmarks/gradcheck/{dataset}/{regularizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=gradcheck_config,
    script:
        "../scripts/gradcheck.py"
