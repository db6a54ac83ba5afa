rule vectorization:
    output:
        "results/timings/vectorization.csv",
    log:
        "logs/vectorization.log",
    benchmark:
        "benchmarks/vectorization.tsv"
    conda:
        "../envs/nnstudy.yaml"
    script:
        "../scripts/vectorization.py"
