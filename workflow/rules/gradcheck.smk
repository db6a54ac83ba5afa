rule gradcheck:
    input:
        data=paths.dataset_file(),
    output:
        paths.gradcheck_table(),
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


# The settings a gradient check shares with training, as a file. Training
# takes the gate's table as an ancient() input (see the train rule) and this
# file as a plain one, so that a change of these settings reruns training.
rule network_config:
    output:
        paths.network_settings(),
    log:
        "logs/network_config/{dataset}/{regularizer}.log",
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=network_config,
    script:
        "../scripts/network_config.py"
