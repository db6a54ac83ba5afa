# The lectures' experiments beyond the grid (nnstudy.lectures): one rule per
# stage, switched on by its section under `lectures` in the configuration,
# writing tables to results/tables/lectures/, and one figure per stage drawn
# from those tables. Config slices and inputs come from nnstudy.lectures.rules.

from nnstudy.lectures import rules as lecture_rules

# The stages' cross-references were checked with the rest of the
# configuration (nnstudy.config.validated, in common.smk).


rule lecture_depth:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "depth"),
    output:
        **lecture_rules.tables("depth"),
    log:
        "logs/lectures/depth.log",
    benchmark:
        "benchmarks/lectures/depth.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(
            config, "depth", "initializers"
        ),
    script:
        "../scripts/lecture_depth.py"


rule lecture_normalization:
    output:
        **lecture_rules.tables("normalization"),
    log:
        "logs/lectures/normalization.log",
    benchmark:
        "benchmarks/lectures/normalization.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(config, "normalization"),
    script:
        "../scripts/lecture_normalization.py"


rule lecture_bias_variance:
    input:
        runs=paths.table("runs"),
    output:
        **lecture_rules.tables("bias_variance"),
    log:
        "logs/lectures/bias_variance.log",
    benchmark:
        "benchmarks/lectures/bias_variance.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(config, "bias_variance"),
    script:
        "../scripts/lecture_bias_variance.py"


rule lecture_learning_curves:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "learning_curves"),
        chosen=lambda wildcards: lecture_rules.chosen_rates(config, "learning_curves"),
    output:
        **lecture_rules.tables("learning_curves"),
    log:
        "logs/lectures/learning_curves.log",
    benchmark:
        "benchmarks/lectures/learning_curves.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.training_config(
            config, "learning_curves"
        ),
    script:
        "../scripts/lecture_learning_curves.py"


rule lecture_augmentation:
    input:
        chosen=lambda wildcards: lecture_rules.chosen_rates(config, "augmentation"),
    output:
        **lecture_rules.tables("augmentation"),
    log:
        "logs/lectures/augmentation.log",
    benchmark:
        "benchmarks/lectures/augmentation.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.training_config(config, "augmentation"),
    script:
        "../scripts/lecture_augmentation.py"


rule lecture_gradcheck:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "gradcheck"),
    output:
        **lecture_rules.tables("gradcheck"),
    log:
        "logs/lectures/gradcheck.log",
    benchmark:
        "benchmarks/lectures/gradcheck.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.study_slice(
            config,
            "gradcheck",
            [lecture_rules.section(config, "gradcheck")["dataset"]],
        ),
    script:
        "../scripts/lecture_gradcheck.py"


rule lecture_signal_propagation:
    output:
        **lecture_rules.tables("signal_propagation"),
    log:
        "logs/lectures/signal_propagation.log",
    benchmark:
        "benchmarks/lectures/signal_propagation.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(
            config, "signal_propagation"
        ),
    script:
        "../scripts/lecture_signal_propagation.py"


rule lecture_trainability:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "trainability"),
    output:
        **lecture_rules.tables("trainability"),
    log:
        "logs/lectures/trainability.log",
    benchmark:
        "benchmarks/lectures/trainability.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(config, "trainability"),
    script:
        "../scripts/lecture_trainability.py"


rule lecture_init_failures:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "init_failures"),
    output:
        **lecture_rules.tables("init_failures"),
    log:
        "logs/lectures/init_failures.log",
    benchmark:
        "benchmarks/lectures/init_failures.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(config, "init_failures"),
    script:
        "../scripts/lecture_init_failures.py"


rule lecture_classic_init:
    input:
        data=lambda wildcards: lecture_rules.data_files(config, "classic_init"),
    output:
        **lecture_rules.tables("classic_init"),
    log:
        "logs/lectures/classic_init.log",
    benchmark:
        "benchmarks/lectures/classic_init.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.stage_config(config, "classic_init"),
    script:
        "../scripts/lecture_classic_init.py"


rule lecture_figures:
    input:
        unpack(lambda wildcards: lecture_rules.all_tables(config)),
    output:
        lecture_rules.figure_outputs(config),
    log:
        "logs/lectures/figures.log",
    benchmark:
        "benchmarks/lectures/figures.tsv"
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=lambda wildcards: lecture_rules.figures_config(config),
    script:
        "../scripts/lecture_figures.py"
