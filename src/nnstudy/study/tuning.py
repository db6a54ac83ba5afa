"""The search protocol: every tuning unit gets the same quasi-random trials of its declared space.

A tuning unit is one (dataset, initializer, regularizer, optimizer)
combination (one per (dataset, regularizer, optimizer) when
``tuning.per_initializer`` is false, tuned with the reference initializer).
Its space is the part of ``tuning.space`` that applies to it: the learning
rate, its optimizer's hyperparameters (momentum's beta, Adam's betas and
epsilon, ...) and its regularizer's strengths (lambd, keep_prob, patience).
Every unit draws ``tuning.trials`` points of a scrambled Sobol sequence with
the same seed (:mod:`nnstudy.study.search`) and trains each on every tuning
seed's split; all of a (dataset, regularizer, optimizer) cell's units train
as one batch, each model with its own hyperparameters. The choice
(:mod:`nnstudy.selection`) is made once, by the tuning job, and written to
its chosen table; training reads that table (:func:`cell_hyperparameters`).

The other protocol, ``grid``, is the learning-rate grid of
``learning_rates`` (He weights, no regularization, one rate per dataset and
optimizer): it stays available so the two can be compared.
"""

import math

import numpy as np

from nnstudy import io, records
from nnstudy.core.optimizers import OPTIMIZERS
from nnstudy.core.regularizers import REGULARIZERS
from nnstudy.errors import ConfigError
from nnstudy.selection import best_trial, trial_scores
from nnstudy.study import search
from nnstudy.study.experiment import ModelSpec
from nnstudy.study.grid import model_seed, one_rate, replicate_splits, train_specs, unit_spec

# Every hyperparameter a unit may tune, in the order of the tables' columns.
HYPERPARAMETERS = ("learning_rate", "beta", "beta1", "beta2", "epsilon", "lambd", "keep_prob", "patience")


def searches(config):
    """Whether the study tunes with the search protocol."""
    return config["tuning"]["protocol"] == "search"


def unit_dimensions(config, optimizer, regularizer):
    """The declared dimensions one unit tunes, in :data:`HYPERPARAMETERS` order.

    A hyperparameter that applies to the unit but is not in the space keeps
    its configured value.
    """
    method = config["optimizers"][optimizer]["method"]
    applicable = {"learning_rate", *OPTIMIZERS[method][1], *REGULARIZERS[regularizer]}
    space = config["tuning"]["space"]
    return [search.dimension(name, space[name]) for name in HYPERPARAMETERS if name in applicable and name in space]


def unit_trials(config, optimizer, regularizer):
    """The unit's trials: ``tuning.trials`` dicts {dimension: value}, the same for every unit of one space."""
    tuning = config["tuning"]
    dims = unit_dimensions(config, optimizer, regularizer)
    space = {d.name: tuning["space"][d.name] for d in dims}
    return search.trials(space, tuning["trials"], tuning["sobol_seed"])


def trial_rows(config):
    """Every (optimizer, regularizer)'s trials as table rows, NaN where a unit does not tune.

    Drawn once for the study, so that the tuning jobs read their trials
    instead of each importing SciPy's Sobol sequence (about 2.4 s a process).
    """
    return [
        {"optimizer": optimizer, "regularizer": regularizer, "trial": trial,
         **{name: values.get(name, math.nan) for name in HYPERPARAMETERS}}
        for optimizer in config["optimizers"]
        for regularizer in config["regularizers"]
        for trial, values in enumerate(unit_trials(config, optimizer, regularizer))
    ]


def trials_from_rows(config, rows, optimizer, regularizer):
    """The unit's trials from :func:`trial_rows`' table, as :func:`unit_trials` gives them."""
    names = [d.name for d in unit_dimensions(config, optimizer, regularizer)]
    mine = sorted(
        (r for r in rows if r["optimizer"] == optimizer and r["regularizer"] == regularizer),
        key=lambda r: r["trial"],
    )
    if [r["trial"] for r in mine] != list(range(config["tuning"]["trials"])):
        raise ConfigError(f"the trials table has no full set of trials for {optimizer} / {regularizer}: rerun it")
    return [{name: r[name] for name in names} for r in mine]


def unit_initializers(config):
    """The initializers tuned on their own: every one, or the reference initializer."""
    tuning = config["tuning"]
    return list(config["initializers"]) if tuning["per_initializer"] else [tuning["reference_initializer"]]


def search_batch(config, name, optimizer, regularizer, trials=None):
    """The tuning batch of one job: ``(labels, specs)``, label = (initializer, trial, tuning seed).

    trials : the unit's trials (default: :func:`unit_trials`).
    """
    trials = unit_trials(config, optimizer, regularizer) if trials is None else trials
    labels, specs = [], []
    for initializer in unit_initializers(config):
        for trial, values in enumerate(trials):
            for seed in config["tuning"]["seeds"]:
                labels.append((initializer, trial, seed))
                specs.append(unit_spec(config, name, initializer, seed, regularizer, values))
    return labels, specs


def search_cell(config, name, optimizer, regularizer, pool, trials=None):
    """Train every trial x tuning seed of one job's units as one batch; one row per model.

    trials : the unit's trials (default: :func:`unit_trials`).

    Each row: the unit, trial, tuning seed, status, accuracies, final dev
    cost, the value of every hyperparameter the unit tunes (NaN for the
    others) and its position on its dimension's scale.
    """
    trials = unit_trials(config, optimizer, regularizer) if trials is None else trials
    labels, specs = search_batch(config, name, optimizer, regularizer, trials)
    dims = {d.name: d for d in unit_dimensions(config, optimizer, regularizer)}
    splits = replicate_splits(pool, name, [seed for _, _, seed in labels])
    outcome = train_specs(config, name, optimizer, splits, specs)
    dev_cost = outcome.result.history["dev_cost"][:, -1]
    rows = []
    for s, ((initializer, trial, seed), row) in enumerate(zip(labels, outcome.rows())):
        values = trials[trial]
        rows.append({
            "dataset": name, "initializer": initializer, "regularizer": regularizer, "optimizer": optimizer,
            "trial": trial, "seed": seed, "status": row["status"],
            "train_accuracy": row["train_accuracy"], "dev_accuracy": row["dev_accuracy"],
            "test_accuracy": row["test_accuracy"], "dev_cost": float(dev_cost[s]),
            **_hyperparameter_columns(values, dims),
        })
    return outcome, rows


def _hyperparameter_columns(values, dims):
    columns = {name: values.get(name, math.nan) for name in HYPERPARAMETERS}
    for name in HYPERPARAMETERS:
        columns[f"position_{name}"] = float(dims[name].position(values[name])) if name in dims else math.nan
    return columns


def choose(config, rows):
    """The chosen trial of every unit in ``rows``: one row per unit, with its edges.

    ``edges`` names the dimensions whose chosen value lies within the outer
    tenth of the range (``;``-joined; empty when none).
    """
    units = {}
    for row in rows:
        units.setdefault((row["dataset"], row["initializer"], row["regularizer"], row["optimizer"]), []).append(row)
    chosen = []
    for (dataset, initializer, regularizer, optimizer), group in units.items():
        best = best_trial(trial_scores(group))
        if best is None:
            raise ConfigError(
                f"every trial of {dataset} / {initializer} / {regularizer} / {optimizer} diverged: "
                "lower tuning.space.learning_rate.high"
            )
        first = next(r for r in group if r["trial"] == best.trial)
        dims = unit_dimensions(config, optimizer, regularizer)
        values = {d.name: first[d.name] for d in dims}
        chosen.append({
            "dataset": dataset, "initializer": initializer, "regularizer": regularizer, "optimizer": optimizer,
            "trial": best.trial, "dev_accuracy": best.dev_accuracy, "test_accuracy": best.test_accuracy,
            **_hyperparameter_columns(values, {d.name: d for d in dims}),
            "edges": ";".join(d.name for d in dims if d.at_edge(values[d.name])),
        })
    return chosen


def cell_hyperparameters(config, regularizer, chosen_rows):
    """{initializer: {learning_rate, and each tuned hyperparameter}} of one training cell, from its chosen table."""
    by_initializer = {}
    for row in chosen_rows:
        tuned = {k: row[k] for k in HYPERPARAMETERS if isinstance(row[k], (int, float)) and not math.isnan(row[k])}
        if "patience" in tuned:
            tuned["patience"] = int(tuned["patience"])
        by_initializer[row["initializer"]] = tuned
    if not config["tuning"]["per_initializer"]:
        return {init: by_initializer[config["tuning"]["reference_initializer"]] for init in config["initializers"]}
    return {init: by_initializer[init] for init in config["initializers"]}


def read_chosen(path):
    """The chosen table the tuning job wrote (:func:`choose`)."""
    return io.read_rows(path)


def study_hyperparameters(config, optimizer, regularizer, chosen_file):
    """What each initializer of a training cell trains with: {initializer: values}.

    chosen_file : the cell's chosen table (search protocol), or the
        (dataset, optimizer)'s chosen-rate record (grid protocol; None with
        fixed rates), each written by its tuning job.
    """
    if searches(config):
        return cell_hyperparameters(config, regularizer, read_chosen(chosen_file))
    return one_rate(config, records.study_rate(config, optimizer, chosen_file))


# ---------------------------------------------------------------------------
# The grid protocol: one learning rate per (dataset, optimizer)


def tuning_specs(config, name):
    """He initialization, no regularization, every rate of the grid x tuning seed."""
    tuning = config["learning_rates"]
    return [
        ModelSpec("he", model_seed(name, seed), rate)
        for rate in tuning["grid"]
        for seed in tuning["seeds"]
    ]


def tune(config, name, optimizer, pool):
    """Train the learning-rate grid, each tuning seed on its own split; one row per (rate, seed)."""
    tuning = config["learning_rates"]
    seed_numbers = [seed for _ in tuning["grid"] for seed in tuning["seeds"]]
    splits = replicate_splits(pool, name, seed_numbers)
    outcome = train_specs(config, name, optimizer, splits, tuning_specs(config, name))
    dev_cost = outcome.result.history["dev_cost"][:, -1]
    return [
        {
            "dataset": name,
            "optimizer": optimizer,
            "learning_rate": spec.learning_rate,
            "seed": spec.seed,
            "status": row["status"],
            "train_accuracy": row["train_accuracy"],
            "dev_accuracy": row["dev_accuracy"],
            "dev_cost": float(dev_cost[s]),
        }
        for s, (spec, row) in enumerate(zip(outcome.specs, outcome.rows()))
    ]


def choose_learning_rate(rows):
    """The rate with the best mean dev accuracy; ties go to the lower mean dev cost.

    A rate with any diverged seed is never chosen. Returns a float.
    """
    by_rate = {}
    for row in rows:
        by_rate.setdefault(row["learning_rate"], []).append(row)
    candidates = []
    for rate, group in by_rate.items():
        if any(r["status"] == "diverged" for r in group):
            continue
        accuracy = float(np.mean([r["dev_accuracy"] for r in group]))
        cost = float(np.mean([r["dev_cost"] for r in group]))
        candidates.append((-accuracy, cost if math.isfinite(cost) else math.inf, rate))
    if not candidates:
        raise ConfigError("every learning rate of the tuning grid diverged: extend the grid downwards")
    return min(candidates)[2]
