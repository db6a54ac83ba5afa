rule gradcheck:
    input:
        data="results/data/{dataset}.h5",
    output:
        "results/gradcheck/{dataset}.csv",
    log:
        "logs/gradcheck/{dataset}.log",
    benchmark:
        "benchmarks/gradcheck/{dataset}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: {
            **dataset_config(wildcards),
            "hidden_activation": config.get("hidden_activation", "relu"),
            "regularizers": config["regularizers"],
            "gradcheck": config.get("gradcheck", {}),
        },
    script:
        "../scripts/gradcheck.py"
