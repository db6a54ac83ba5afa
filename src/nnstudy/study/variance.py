"""What a seed is made of: the across-seed variance of test accuracy, source by source.

A seed of the study replicates the whole experiment: its own train/dev/test
split, initial weights, mini-batch order and dropout masks, each from its own
stream (:mod:`nnstudy.core.rng`). Here one combination of the grid (an
initializer, a regularizer, an optimizer) is trained once per seed with one
source varied and the three others held at the first seed, and once per seed
with all four varied together. The spread of test accuracy in each set is
the variance that source alone brings in; the table reports it with its
share of the four single-source variances.

A source that cannot act gives exactly zero: without dropout every mask keeps
every unit, and full-batch training has no batch order. The single-source
variances need not add up to the all-varied one: sources interact (a split
changes what a given batch order does).

Training imports only numpy; :func:`decomposition_rows` is plain Python.
"""

import math
from dataclasses import replace

import numpy as np

# The sources of a seed, in the order they are reported, and the label of
# the set where all of them vary.
SOURCES = ("split", "init", "shuffle", "dropout")
ALL = "all"


def variant_seeds(source, seed, base):
    """{stream: seed number} of the model that varies ``source`` to ``seed``, the rest at ``base``.

    source : one of SOURCES, or ALL to vary every stream.
    """
    return {s: seed if source in (s, ALL) else base for s in SOURCES}


def decomposition_specs(config, name, values, seeds):
    """The models of one dataset's decomposition and the seed numbers of their splits.

    config : the study configuration with a ``variance_decomposition`` section.
    values : the combination's hyperparameters, {learning_rate, ...} as
        training takes them (:func:`nnstudy.study.grid.unit_spec`).
    seeds : the seed numbers to vary over; the first is the one held fixed.
    Returns ``(specs, split_seeds, labels)``, one entry per model, with
    ``labels`` the (source, seed) pairs, sources in SOURCES order then ALL.
    """
    from nnstudy.study.grid import model_seed, unit_spec

    section = config["variance_decomposition"]
    base = seeds[0]
    specs, split_seeds, labels = [], [], []
    for source in (*SOURCES, ALL):
        for seed in seeds:
            chosen = variant_seeds(source, seed, base)
            spec = unit_spec(config, name, section["initializer"], chosen["init"], section["regularizer"], values)
            specs.append(replace(
                spec,
                shuffle_seed=model_seed(name, chosen["shuffle"]),
                dropout_seed=model_seed(name, chosen["dropout"]),
            ))
            split_seeds.append(chosen["split"])
            labels.append((source, seed))
    return specs, split_seeds, labels


def train_decomposition(config, name, pool, values):
    """Train one dataset's decomposition as one batch; one row per model.

    pool : the dataset's :class:`~nnstudy.data.datasets.Pool`. Rows hold the
    dataset, the combination, ``source``, ``seed``, ``status`` and the
    test accuracy (NaN for a diverged model).
    """
    from nnstudy.study.grid import replicate_splits, train_specs

    section = config["variance_decomposition"]
    seeds = section.get("seeds") or config["seeds"]
    specs, split_seeds, labels = decomposition_specs(config, name, values, seeds)
    splits = replicate_splits(pool, name, split_seeds)
    outcome = train_specs(config, name, section["optimizer"], splits, specs)
    return [
        {
            "dataset": name,
            "initializer": section["initializer"],
            "regularizer": section["regularizer"],
            "optimizer": section["optimizer"],
            "learning_rate": float(values["learning_rate"]),
            "source": source,
            "seed": seed,
            "status": row["status"],
            "test_accuracy": row["test_accuracy"],
        }
        for (source, seed), row in zip(labels, outcome.rows())
    ]


def _variance(values):
    """Sample variance (ddof 1) of the finite values; NaN with fewer than two."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return math.nan
    return float(np.var(finite, ddof=1))


def decomposition_rows(runs):
    """The variance decomposition table from per-model rows of :func:`train_decomposition`.

    One row per (dataset, source), sources in SOURCES order then ALL: the
    number of seeds, how many diverged, the mean test accuracy, its
    across-seed standard deviation and variance (ddof 1, over finite
    accuracies), and ``share``: for a single source, its variance over the
    sum of the single-source variances of the dataset (the four shares add
    up to 1); for ALL, the all-varied variance over that same sum (1 when
    the sources add up, above 1 when together they spread more than apart).
    ``share`` is NaN when the sum is zero or undefined.
    """
    groups = {}
    for row in runs:
        groups.setdefault(row["dataset"], {}).setdefault(row["source"], []).append(row)
    table = []
    for dataset, by_source in groups.items():
        variances = {s: _variance([r["test_accuracy"] for r in rows]) for s, rows in by_source.items()}
        total = sum(variances.get(s, math.nan) for s in SOURCES)
        for source in (*SOURCES, ALL):
            rows = by_source.get(source)
            if not rows:
                continue
            accuracies = [r["test_accuracy"] for r in rows if math.isfinite(r["test_accuracy"])]
            variance = variances[source]
            table.append(
                {
                    "dataset": dataset,
                    "initializer": rows[0]["initializer"],
                    "regularizer": rows[0]["regularizer"],
                    "optimizer": rows[0]["optimizer"],
                    "source": source,
                    "seeds": len(rows),
                    "diverged": sum(r["status"] == "diverged" for r in rows),
                    "mean_test_accuracy": float(np.mean(accuracies)) if accuracies else math.nan,
                    "sd": math.sqrt(variance) if math.isfinite(variance) else math.nan,
                    "variance": variance,
                    "share": variance / total if total > 0 else math.nan,
                }
            )
    return table
