# Protocol sensitivity: the datasets of tuning.sensitivity trained again under
# the other tuning protocol (grid if the study searches, search if it uses the
# grid), and which verdicts and rankings change between the two.


rule train_other_protocol:
    input:
        data=paths.dataset_file(),
        # ancient: see the train rule.
        gradcheck=ancient(cell_files(paths.gradcheck_table)),
        network=cell_files(paths.network_settings),
        chosen=other_protocol_choice,
    output:
        run=cell_files(paths.protocol_run_file),
        rows=cell_files(paths.protocol_run_rows),
        timing=cell_files(paths.protocol_train_timing),
    log:
        "logs/protocols/{protocol}/{dataset}/{optimizer}.log",
    benchmark:
        "benchmarks/protocols/{protocol}/{dataset}/{optimizer}.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=other_protocol_config,
        regularizers=REGULARIZERS,
    script:
        "../scripts/train.py"


rule protocol_sensitivity:
    input:
        study=[paths.run_rows(**c) for c in sensitivity_cells()],
        data=expand(paths.dataset_file(), dataset=DATASETS),
        other=[
            paths.protocol_run_rows(OTHER_PROTOCOL, **c) for c in sensitivity_cells()
        ],
    output:
        **{name: paths.table(name) for name in PROTOCOL_TABLES},
    log:
        "logs/protocol_sensitivity.log",
    benchmark:
        "benchmarks/protocol_sensitivity.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config={k: v for k, v in config.items() if k != "lectures"},
        protocols=[config["tuning"]["protocol"], OTHER_PROTOCOL],
    script:
        "../scripts/protocol_sensitivity.py"
