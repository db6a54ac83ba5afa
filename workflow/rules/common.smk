# Configuration checks and the tables that drive the wildcards.

import sys
from types import SimpleNamespace

import nnstudy
from nnstudy import paths
from nnstudy.data import datasets
from nnstudy.config import read_yaml, validated
from nnstudy.lectures import outputs as lecture_outputs
from nnstudy.report.table_names import BUDGET_TABLES, PROTOCOL_TABLES, TUNING_TABLES

# Snakemake's YAML reader keeps the last of two equal keys without a word:
# read every config file again with the reader that refuses them.
for path in workflow.configfiles:
    read_yaml(path)

DATASET_NOTES = []
config = validated(
    config, workflow.source_path("../schemas/config.schema.yaml"), DATASET_NOTES
)
# Said once, before any job: which course-file datasets were replaced or skipped.
for note in DATASET_NOTES:
    print(f"nnstudy: {note}", file=sys.stderr)

DATASETS = list(config["datasets"])
OPTIMIZERS = list(config["optimizers"])
REGULARIZERS = list(config["regularizers"])
TUNE = config["learning_rates"]["tune"]
# The search protocol tunes every combination (the search rule); the grid
# protocol gives each (dataset, optimizer) the learning_rates grid's rate.
SEARCH = config["tuning"]["protocol"] == "search"
# Protocol sensitivity: these datasets are trained again under the other protocol.
OTHER_PROTOCOL = "grid" if SEARCH else "search"
SENSITIVITY = config["tuning"]["sensitivity_datasets"]


wildcard_constraints:
    dataset="|".join(DATASETS),
    optimizer="|".join(OPTIMIZERS),
    regularizer="|".join(dict.fromkeys(REGULARIZERS + ["none"])),
    protocol=OTHER_PROTOCOL,


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


def dataset_sources(wildcards):
    """The data files a dataset is read from (none for a generator).

    As inputs, an edited or replaced file reruns the dataset and everything
    built from it (the checks before any job already require them to exist).
    """
    entry = config["datasets"][wildcards.dataset]
    return [
        str(path) for path in datasets.source_files(entry["source"], entry.get("path"))
    ]


def replication_sources(wildcards):
    """The course files the replication reads, of those that exist now.

    A missing course file is not an error (its experiment is skipped), so it
    cannot be a plain input. Listing the files that exist still tracks it:
    when it is added later, the set of inputs differs from the one recorded
    for the last run, and Snakemake's `input` rerun trigger (on by default)
    reruns the replication; removing one does the same, and an edited one
    reruns it by its modification time.
    """
    from nnstudy.data.course_files import replication_files

    experiments = config["replication"]
    chosen = None if isinstance(experiments, bool) else experiments
    return [
        str(path)
        for path in replication_files(config.get("course_data_dir"), chosen)
        if path.is_file()
    ]


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
    return {**network_config(wildcards), "gradcheck": config["gradcheck"]}


def cell_files(path):
    """``path``'s pattern for each regularizer of a (dataset, optimizer) job.

    path : a function of nnstudy.paths taking a regularizer.
    """
    return [path(regularizer=r) for r in REGULARIZERS]


def cell_config(wildcards):
    """The part of the configuration one job of a (dataset, optimizer[, regularizer]) depends on.

    Passing only this slice as params means that changing, say, the L2
    strength reruns only the jobs that use L2.
    """
    sliced = {
        key: config[key]
        for key in (
            "seeds",
            "hidden_activation",
            "initializers",
            "learning_rates",
            "tuning",
        )
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


def job_config(wildcards):
    """The slice a (dataset, optimizer) search or training job depends on: its
    cells', every regularizer's among them."""
    return {**cell_config(wildcards), "regularizers": config["regularizers"]}


def trials_config():
    """What the search protocol's trials are drawn from: the space, their number
    and seed, and which optimizer methods and regularizers there are."""
    tuning = config["tuning"]
    return {
        "tuning": {k: tuning[k] for k in ("space", "trials", "sobol_seed")},
        "optimizers": {
            o: {"method": v["method"]} for o, v in config["optimizers"].items()
        },
        "regularizers": {r: {} for r in config["regularizers"]},
    }


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


def variance_gate(wildcards, gate_file):
    """A file of the gate of the regularizer the variance decomposition trains with.

    gate_file : paths.gradcheck_table or paths.network_settings.
    """
    regularizer = config["variance_decomposition"]["regularizer"]
    return gate_file(wildcards.dataset, regularizer)


def variance_chosen_rate(wildcards):
    """What tuning chose for the decomposition's combination (see chosen_rate)."""
    section = config["variance_decomposition"]
    if SEARCH:
        return paths.search_chosen(
            wildcards.dataset, section["optimizer"], section["regularizer"]
        )
    if TUNE:
        return paths.chosen_rate(wildcards.dataset, section["optimizer"])
    return []


def tuning_choices(wildcards, search):
    """What tuning chose for a (dataset, optimizer) job's cells: each cell's
    chosen table (search protocol, in REGULARIZERS order), or the (dataset,
    optimizer)'s rate (grid protocol; none with fixed rates)."""
    if search:
        return [
            paths.search_chosen(wildcards.dataset, wildcards.optimizer, r)
            for r in REGULARIZERS
        ]
    if TUNE:
        return [paths.chosen_rate(wildcards.dataset, wildcards.optimizer)]
    return []


def chosen_rate(wildcards):
    """What the study's tuning chose for a training job's cells."""
    return tuning_choices(wildcards, SEARCH)


def sensitivity_cells():
    """The training cells the protocol-sensitivity stage trains again."""
    return [c for c in cells() if c["dataset"] in SENSITIVITY]


def other_protocol_choice(wildcards):
    """What the other protocol's tuning chose for a job's cells."""
    return tuning_choices(wildcards, wildcards.protocol == "search")


def other_protocol_config(wildcards):
    """A training cell's slice of the configuration, under the other protocol."""
    sliced = job_config(wildcards)
    sliced["tuning"] = {**sliced["tuning"], "protocol": wildcards.protocol}
    return sliced


def tuning_report_inputs(wildcards):
    """The tuning tables the report shows: those of the search, and of the protocol comparison."""
    names = [*TUNING_TABLES, *BUDGET_TABLES] if SEARCH else []
    names += PROTOCOL_TABLES if SENSITIVITY else []
    return {name: paths.table(name) for name in names}


def final_outputs():
    tables = [
        "runs",
        "summary",
        "learning_rates",
        "gradcheck",
        "timings",
        "curves",
    ]
    outputs = [paths.table(t) for t in tables]
    outputs += [paths.table("summary", "md"), paths.table("summary", "tex")]
    outputs.append(paths.vectorization_timings())
    if SEARCH:
        outputs += [paths.table(name) for name in (*TUNING_TABLES, *BUDGET_TABLES)]
    if SENSITIVITY:
        outputs += [paths.table(name) for name in PROTOCOL_TABLES]
    if config["replication"]:
        outputs.append(paths.table("replication"))
    if config.get("variance_decomposition"):
        outputs.append(paths.table("variance_decomposition"))
    outputs.append(paths.report_page())
    # The lecture stages the configuration switches on.

    outputs += lecture_outputs(config)
    return outputs
