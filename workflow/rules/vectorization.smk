rule vectorization:
    output:
        paths.vectorization_timings(),
    log:
        "logs/vectorization.log",
    benchmark:
        "benchmarks/vectorization.tsv"
    conda:
        "../envs/nnstudy.yaml"
    script:
        "../scripts/vectorization.py"
