# Configuration checks and the tables that drive the wildcards.

import nnstudy
from nnstudy.config import read_yaml, validated
from nnstudy.lectures import outputs as lecture_outputs

# Snakemake's YAML reader keeps the last of two equal keys without a word:
# read every config file again with the reader that refuses them.
for path in workflow.configfiles:
    read_yaml(path)

config = validated(config, workflow.source_path("../schemas/config.schema.yaml"))

DATASETS = list(config["datasets"])
OPTIMIZERS = list(config["optimizers"])
REGULARIZERS = list(config["regularizers"])
TUNE = config["learning_rates"]["tune"]


wildcard_constraints:
    dataset="|".join(DATASETS),
    optimizer="|".join(OPTIMIZERS),
    regularizer="|".join(dict.fromkeys(REGULARIZERS + ["none"])),


def cells():
    """Every (dataset, optimizer, regularizer) training cell."""
    return [
        dict(dataset=d, optimizer=o, regularizer=r)
        for d in DATASETS
        for o in OPTIMIZERS
        for r in REGULARIZERS
    ]


DATA_KEYS = (
    "source",
    "path",
    "params",
    "seed",
    "dev_fraction",
    "test_fraction",
    "standardize",
)


def dataset_config(wildcards):
    """The part of the configuration that shapes one dataset's file."""
    entry = config["datasets"][wildcards.dataset]
    return {
        "datasets": {wildcards.dataset: {k: entry[k] for k in DATA_KEYS if k in entry}}
    }


def network_config(wildcards):
    """What a gradient check shares with training: the network and one regularizer."""
    entry = config["datasets"][wildcards.dataset]
    regularizer = config["regularizers"].get(wildcards.regularizer) or {}
    return {
        "datasets": {wildcards.dataset: {"hidden_layers": entry["hidden_layers"]}},
        "hidden_activation": config["hidden_activation"],
        "regularizers": {wildcards.regularizer: regularizer},
    }


def gradcheck_config(wildcards):
    """What one gradient check depends on: the network, one regularizer, the gate's settings."""
    return {**network_config(wildcards), "gradcheck": config.get("gradcheck", {})}


def cell_config(wildcards):
    """The part of the configuration one training job depends on.

    Passing only this slice as params means that changing, say, the L2
    strength reruns only the jobs that use L2.
    """
    sliced = {
        key: config[key]
        for key in ("seeds", "hidden_activation", "initializers", "learning_rates")
        if key in config
    }
    sliced["schedule"] = config.get("schedule", {})
    sliced["datasets"] = {wildcards.dataset: config["datasets"][wildcards.dataset]}
    sliced["optimizers"] = {
        wildcards.optimizer: config["optimizers"][wildcards.optimizer]
    }
    if "regularizer" in wildcards.keys():
        sliced["regularizers"] = {
            wildcards.regularizer: config["regularizers"][wildcards.regularizer]
        }
    return sliced


def tuning_input(wildcards):
    if TUNE:
        return f"results/tuning/{wildcards.dataset}/{wildcards.optimizer}.csv"
    return []


def final_outputs():
    tables = [
        "runs",
        "summary",
        "learning_rates",
        "gradcheck",
        "timings",
        "curves",
    ]
    outputs = [f"results/tables/{t}.csv" for t in tables]
    outputs += ["results/tables/summary.md", "results/tables/summary.tex"]
    outputs.append("results/timings/vectorization.csv")
    if config.get("replication", True):
        outputs.append("results/tables/replication.csv")
    outputs.append("results/report/index.html")
    # The lecture stages the configuration switches on.

    outputs += lecture_outputs(config)
    return outputs
