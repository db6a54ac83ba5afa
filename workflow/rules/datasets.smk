rule dataset:
    input:
        dataset_sources,
    output:
        paths.dataset_file(),
    log:
        "logs/dataset/{dataset}.log",
    benchmark:
        "benchmarks/dataset/{dataset}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=dataset_config,
    script:
        "../scripts/make_dataset.py"
