"""Bias and variance: the basic recipe's reading of every combination, and learning curves.

The lecture's basic recipe compares three errors. The gap between the
training error and the best achievable error (the Bayes error, for which a
proxy is given per dataset) is the avoidable bias; the gap between the dev
and the training error is the variance. High bias calls for a bigger
network or longer training; high variance (once bias is acceptable) for
more data or regularization.

:func:`reading_table` applies the recipe to the grid's runs (mean errors
over seeds, one row per combination). :func:`learning_curves` trains on
growing prefixes of the training split: high variance shows as a dev error
that keeps falling as data are added while the training error rises to
meet it.
"""

import math
from dataclasses import replace

import numpy as np

from nnstudy.analysis.bias_variance import reading_columns
from nnstudy.core.batches import steps_per_epoch as steps_in_epoch
from nnstudy.study.experiment import ModelSpec, run_batch
from nnstudy.core.regularizers import regularizer_settings
from nnstudy.study.grid import architecture, model_seed, optimizer_params
from nnstudy.core.training import TrainConfig

# Which data the learning curves' seeds see (written into its tables' metadata).
SPLIT = "each seed its own split: the study's split of that seed number"

KEYS = ("dataset", "initializer", "regularizer", "optimizer")


def reading_table(runs, bayes_error, bias_tolerance, variance_tolerance):
    """One row per combination of the grid with its errors and reading.

    runs : the study's ``runs.csv`` as a pandas frame (one row per run).
    bayes_error : {dataset: error} proxies; datasets not named get 0.
    Errors are means over the seeds that did not diverge; ``diverged``
    counts the others. Rows keep the order of ``runs``.
    """
    import pandas as pd

    records = []
    for key, group in runs.groupby(list(KEYS), sort=False):
        finite = group[group["status"] != "diverged"]
        records.append(
            {
                **dict(zip(KEYS, key)),
                "runs": len(group),
                "diverged": len(group) - len(finite),
                "train_error": float(1.0 - finite["train_accuracy"].mean()) if len(finite) else math.nan,
                "dev_error": float(1.0 - finite["dev_accuracy"].mean()) if len(finite) else math.nan,
            }
        )
    if not records:
        return pd.DataFrame()
    frame = reading_columns(pd.DataFrame(records), bayes_error, bias_tolerance, variance_tolerance)
    return frame[[*KEYS, "runs", "diverged", "bayes_error", "train_error", "dev_error", "avoidable_bias",
                  "variance", "reading", "next_step"]]


def prefix(splits, size):
    """``splits`` with only the first ``size`` training samples (dev and test unchanged).

    The training split is already shuffled (stratified), so prefixes are
    nested random subsets: each larger set contains every smaller one.
    """
    return replace(splits, X_train=splits.X_train[:, :size], y_train=splits.y_train[:size])


def learning_curves(config, name, splits, optimizer, regularizers, seeds, fractions, learning_rate,
                    initializer="he"):
    """Train on growing prefixes of each seed's training split; one row per model.

    config : the study's configuration (the dataset's network, batch size
    and budget, the optimizer's and regularizers' settings come from it).
    splits : {seed: Splits}, each seed's own split, as the study's runs of
    that seed number use it (:func:`nnstudy.study.grid.replicate_splits`),
    so the spread over seeds includes the split's.
    Every size gets the same number of update steps as the full training
    set's budget (``epochs`` full passes), so small sets are not
    under-trained. Models are the grid's: seeds from
    :func:`nnstudy.study.grid.model_seed`, ``learning_rate`` the study's choice.
    """
    entry = config["datasets"][name]
    first = splits[seeds[0]]
    arch = architecture(config, name, first)
    method = config["optimizers"][optimizer]["method"]
    mini_batch = config["optimizers"][optimizer]["mini_batch"]
    m_full = first.X_train.shape[-1]  # stratified splits of one pool: the same size for every seed

    def steps_per_epoch(m):
        return steps_in_epoch(m, entry["batch_size"] if mini_batch else None)

    budget = entry["epochs"] * steps_per_epoch(m_full)
    specs, labels = [], []
    for regularizer in regularizers:
        settings = regularizer_settings(regularizer, **config["regularizers"][regularizer])
        for seed in seeds:
            specs.append(ModelSpec(initializer, model_seed(name, seed), learning_rate, **settings))
            labels.append((regularizer, seed))
    rows = []
    for fraction in fractions:
        size = max(first.n_classes, int(round(fraction * m_full)))
        parts = [prefix(splits[seed], size) for _, seed in labels]
        per_epoch = steps_per_epoch(size)
        epochs = math.ceil(budget / per_epoch)
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=entry["batch_size"] if per_epoch > 1 else None,
            eval_every=max(1, entry["eval_every"] * steps_per_epoch(m_full)),
        )
        outcome = run_batch(parts, arch, method, optimizer_params(config, optimizer), train_config, specs)
        for (regularizer, seed), row in zip(labels, outcome.rows()):
            rows.append(
                {
                    "dataset": name,
                    "optimizer": optimizer,
                    "regularizer": regularizer,
                    "seed": seed,
                    "fraction": float(fraction),
                    "train_size": size,
                    "learning_rate": float(learning_rate),
                    "steps": row["steps"],
                    "status": row["status"],
                    "train_error": 1.0 - row["train_accuracy"],
                    "dev_error": 1.0 - row["dev_accuracy"],
                }
            )
    return rows


def curve_summary(rows):
    """Mean train and dev error per (dataset, regularizer, train_size) over seeds."""
    groups = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["regularizer"], row["train_size"]), []).append(row)
    return [
        {
            "dataset": d,
            "regularizer": r,
            "train_size": n,
            "train_error": float(np.nanmean([x["train_error"] for x in g])),
            "dev_error": float(np.nanmean([x["dev_error"] for x in g])),
        }
        for (d, r, n), g in groups.items()
    ]


def reading_stage(config, runs):
    """The bias / variance stage: {"bias_variance": frame} from the runs table (a frame)."""
    section = config["lectures"]["bias_variance"]
    frame = reading_table(runs, section["bayes_error"], section["bias_tolerance"], section["variance_tolerance"])
    return {"bias_variance": frame}


def curves_stage(config, splits, learning_rates):
    """The learning-curve stage: {"learning_curves": rows}.

    splits, learning_rates : {dataset: {seed: Splits}} (each seed's own
    split), {dataset: the study's rate for the section's optimizer}.
    """
    section = config["lectures"]["learning_curves"]
    rows = []
    for name in section["datasets"]:
        rows += learning_curves(
            config, name, splits[name], section["optimizer"], section["regularizers"], section["seeds"],
            section["fractions"], learning_rates[name], section["initializer"],
        )
    return {"learning_curves": rows}
