# Configuration checks and the tables that drive the wildcards.

from types import SimpleNamespace

import nnstudy
from nnstudy.config import validated
from nnstudy.lectures import outputs as lecture_outputs

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
    """The part of the configuration that shapes one dataset's file.

    The file holds the split of the first seed besides the pool.
    """
    entry = config["datasets"][wildcards.dataset]
    return {
        "datasets": {wildcards.dataset: {k: entry[k] for k in DATA_KEYS if k in entry}},
        "seeds": config["seeds"][:1],
    }


def gradcheck_config(wildcards):
    """What one gradient check depends on: the network and one regularizer."""
    entry = config["datasets"][wildcards.dataset]
    regularizer = config["regularizers"].get(wildcards.regularizer) or {}
    return {
        "datasets": {wildcards.dataset: {"hidden_layers": entry["hidden_layers"]}},
        "hidden_activation": config["hidden_activation"],
        "regularizers": {wildcards.regularizer: regularizer},
        "gradcheck": config.get("gradcheck", {}),
    }


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


def variance_config(wildcards):
    """The study slice one dataset's decomposition depends on: its training cell's, plus the section."""
    section = config["variance_decomposition"]
    cell = {
        "dataset": wildcards.dataset,
        "optimizer": section["optimizer"],
        "regularizer": section["regularizer"],
    }
    sliced = cell_config(SimpleNamespace(**cell, keys=cell.keys))
    sliced["variance_decomposition"] = section
    return sliced


def variance_tuning(wildcards):
    if TUNE:
        optimizer = config["variance_decomposition"]["optimizer"]
        return f"results/tuning/{wildcards.dataset}/{optimizer}.csv"
    return []


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
    if config.get("variance_decomposition"):
        outputs.append("results/tables/variance_decomposition.csv")
    outputs.append("results/report/index.html")
    # The lecture stages the configuration switches on.

    outputs += lecture_outputs(config)
    return outputs
