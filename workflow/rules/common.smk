# Configuration checks and the tables that drive the wildcards.

import nnstudy
from nnstudy.config import validated

config = validated(config, workflow.source_path("../schemas/config.schema.yaml"))

DATASETS = list(config["datasets"])
OPTIMIZERS = list(config["optimizers"])
REGULARIZERS = list(config["regularizers"])
TUNE = config["learning_rates"]["tune"]


wildcard_constraints:
    dataset="|".join(DATASETS),
    optimizer="|".join(OPTIMIZERS),
    regularizer="|".join(REGULARIZERS),


def cells():
    """Every (dataset, optimizer, regularizer) training cell."""
    return [
        dict(dataset=d, optimizer=o, regularizer=r)
        for d in DATASETS
        for o in OPTIMIZERS
        for r in REGULARIZERS
    ]


def dataset_config(wildcards):
    """The part of the configuration that shapes one dataset's file."""
    return {"datasets": {wildcards.dataset: config["datasets"][wildcards.dataset]}}


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
    return outputs
