# What a seed is made of: one combination of the grid trained with one source
# of randomness varied at a time (nnstudy.study.variance), on every dataset.


rule variance_decomposition:
    input:
        data=paths.dataset_file(),
        # As for training (rule train): the gate orders this job without a
        # rerun gate retraining it; what it shares with the gate is a plain input.
        gradcheck=lambda wildcards: ancient(
            variance_gate(wildcards, paths.gradcheck_table)
        ),
        network=lambda wildcards: variance_gate(wildcards, paths.network_settings),
        chosen=variance_chosen_rate,
    output:
        paths.variance_rows(),
    log:
        "logs/variance/{dataset}.log",
    benchmark:
        "benchmarks/variance/{dataset}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=variance_config,
    script:
        "../scripts/variance.py"


rule variance_table:
    input:
        expand(paths.variance_rows(), dataset=DATASETS),
    output:
        report(
            paths.table("variance_decomposition"),
            caption="../report/variance_decomposition.rst",
            category="Tables",
            labels={"table": "variance_decomposition"},
        ),
    log:
        "logs/variance/table.log",
    benchmark:
        "benchmarks/variance/table.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: {
            "seeds": config["seeds"],
            "variance_decomposition": config["variance_decomposition"],
        },
    script:
        "../scripts/variance_table.py"
