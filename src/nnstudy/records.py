"""Records the study's stages hand to each other, shared by study/, analysis/ and lectures/.

The keys of a run, and the learning rate the tuning job chose for one
(dataset, optimizer): written once by that job, read by every consumer
(training, the variance decomposition, the lecture stages, the tables), so
that the rule choosing it (:func:`nnstudy.study.tuning.choose_learning_rate`)
runs in one place only.
"""

import json

from nnstudy import io

# The keys that name one run of the grid (a row of runs.csv).
RUN_KEYS = ("dataset", "initializer", "regularizer", "optimizer", "seed")


def write_chosen_rate(path, dataset, optimizer, learning_rate):
    """Write the tuning job's choice for (dataset, optimizer) as JSON."""
    record = {"dataset": dataset, "optimizer": optimizer, "learning_rate": learning_rate}
    with io.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(io.to_jsonable(record), sort_keys=True) + "\n")


def read_chosen_rate(path):
    """The record written by :func:`write_chosen_rate`: {dataset, optimizer, learning_rate}."""
    with open(path) as f:
        return json.load(f)


def study_rate(config, optimizer, chosen_file=None):
    """The learning rate the study trains ``optimizer`` with on one dataset.

    chosen_file : that dataset's chosen-rate file, written by the tuning job,
    when the study tunes its rates; otherwise the configuration's fixed rate.
    """
    if config["learning_rates"]["tune"]:
        return read_chosen_rate(chosen_file)["learning_rate"]
    return config["learning_rates"]["fixed"][optimizer]
