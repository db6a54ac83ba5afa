"""What the lecture rules (workflow/rules/lectures.smk) need from the configuration.

Each training rule gets, as its params, only its section plus the parts of
the study it reuses, so that editing one stage reruns only that stage.
"""

from nnstudy import paths
from nnstudy.lectures import STAGES, enabled, figure_paths, table_path


def section(config, stage):
    return (config.get("lectures") or {})[stage]


def stage_config(config, stage, *keys):
    """The stage's section plus the study's top-level ``keys`` present in ``config``."""
    sliced = {key: config[key] for key in keys if key in config}
    sliced["lectures"] = {stage: section(config, stage)}
    return sliced


def study_slice(config, stage, datasets, optimizer=None, regularizers=()):
    """The stage's section plus the datasets, optimizer and regularizers it borrows from the study."""
    sliced = stage_config(config, stage, "learning_rates", "schedule", "hidden_activation")
    sliced["datasets"] = {name: config["datasets"][name] for name in datasets}
    if optimizer:
        sliced["optimizers"] = {optimizer: config["optimizers"][optimizer]}
    sliced["regularizers"] = {name: config["regularizers"][name] for name in regularizers}
    return sliced


def training_config(config, stage):
    """:func:`study_slice` for the learning-curve and augmentation stages."""
    entry = section(config, stage)
    datasets = entry["datasets"] if "datasets" in entry else [entry["dataset"]]
    return study_slice(config, stage, datasets, entry["optimizer"], entry["regularizers"])


def chosen_rates(config, stage):
    """The tuning jobs' chosen-rate files of the stage's datasets (none without tuning)."""
    if not config["learning_rates"]["tune"]:
        return []
    entry = section(config, stage)
    datasets = entry["datasets"] if "datasets" in entry else [entry["dataset"]]
    return [paths.chosen_rate(name, entry["optimizer"]) for name in datasets]


def data_files(config, stage):
    """The study's dataset files the stage reads."""
    entry = section(config, stage)
    datasets = entry["datasets"] if "datasets" in entry else [entry["dataset"]]
    return [paths.dataset_file(name) for name in datasets]


def tables(stage):
    """{table name: path} of a stage's tables."""
    return {name: table_path(name) for name in STAGES[stage]}


def all_tables(config):
    """{table name: path} of every enabled stage (the figures' inputs)."""
    return {name: path for stage in enabled(config) for name, path in tables(stage).items()}


def figure_outputs(config):
    """The figure files of every enabled stage (PNG, SVG, caption JSON)."""
    return [path for stage in enabled(config) for path in figure_paths(stage)]


def figures_config(config):
    """The sections of every enabled stage (the figures read tolerances and thresholds)."""
    return {"lectures": {stage: section(config, stage) for stage in enabled(config)}}
