rule replicate:
    input:
        replication_sources,
    output:
        paths.table("replication"),
    log:
        "logs/replicate.log",
    benchmark:
        "benchmarks/replicate.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        data_dir=config.get("course_data_dir"),
        experiments=(None if config["replication"] is True else config["replication"]),
    script:
        "../scripts/replicate.py"
