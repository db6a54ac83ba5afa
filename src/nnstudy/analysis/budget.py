"""What a tuning budget buys: budget curves, the probability that each optimizer is best, the edge list.

Every tuning unit (dataset, initializer, regularizer, optimizer) trains the
same K trials on every tuning seed (``tuning_trials.csv``), and its choice
is written once (``tuning_chosen.csv``). The budget curve at k answers: had
the unit drawn only k of its trials, which would the selection rule
(:mod:`nnstudy.selection`) have chosen, and how good is that choice? Over
all k-subsets drawn uniformly without replacement, with the trials sorted
by the rule's rank (best first), the i-th is the chosen one with
probability C(K - i, k - 1) / C(K, k) (it is drawn, and the k - 1 others
come from the K - i worse ones). The expected dev accuracy of the choice
and the expected test accuracy of the same choice are those weights applied
to the ranked trials (Dodge et al. 2019's expected validation performance,
exact rather than sampled). At k = K the curve is the configuration the
study trained with.

A subset of diverged trials only: the rule never chooses a diverged trial,
so such a subset chooses nothing; it counts as the dataset's chance
accuracy (the majority class's share of dev, of test), as a diverged run
does in the verdicts (:func:`nnstudy.analysis.verdicts.prepare_runs`).
Dropping such subsets and renormalizing would credit an optimizer that
diverges in most of its trials with the mean of its few good ones at k = 1,
hiding exactly the cost of tuning that the curves are meant to show.

Bands: the unit's K trials (each summarized over its tuning seeds) are
resampled with replacement and the curve recomputed; percentile intervals,
seeded. A summary over units resamples each unit independently and
averages the resampled curves (a stratified bootstrap).

The probability that optimizer o is best at budget k in a block (dataset,
initializer, regularizer) is exact: each optimizer's chosen dev accuracy at
k is a discrete distribution (the weights above on its ranked values, plus
the chance atom), the optimizers are independent, and ties split evenly:
P(o best) = sum over o's atoms v of p_o(v) * integral_0^1 prod_j (P(X_j < v)
+ z P(X_j = v)) dz, the integral being E[1 / (1 + number of ties)] over the
others.
"""

import math

import numpy as np
import pandas as pd

from nnstudy import selection

UNIT = ("dataset", "initializer", "regularizer", "optimizer")
POSITION_PREFIX = "position_"
BOOTSTRAP_SAMPLES = 1000
# The summary's regularizer for curves averaged over every regularizer.
POOLED = "all"
LEVEL = 0.95
# Accuracies are means of counts over seeds; round before testing two of them for a tie.
TIE_DECIMALS = 12

CURVE_COLUMNS = ("dataset", "initializer", "regularizer", "optimizer", "k", "trials", "diverged_trials",
                 "p_nothing_chosen", "dev_accuracy", "dev_low", "dev_high", "test_accuracy", "test_low",
                 "test_high")
SUMMARY_COLUMNS = ("dataset", "regularizer", "optimizer", "k", "units", "dev_accuracy", "dev_low", "dev_high",
                   "test_accuracy", "test_low", "test_high")
PROBABILITY_COLUMNS = ("dataset", "k", "optimizer", "probability", "blocks")
EDGE_COLUMNS = ("dataset", "initializer", "regularizer", "optimizer", "trial", "dimension", "value", "position",
                "side")


def choice_weights(n_trials, k):
    """(n_trials,) P(the i-th ranked trial is the chosen one of a random k-subset), i = 1..n_trials."""
    total = math.comb(n_trials, k)
    return np.array([math.comb(n_trials - i, k - 1) / total for i in range(1, n_trials + 1)])


def weight_matrix(n_trials):
    """(n_trials, n_trials): column k - 1 holds :func:`choice_weights` at budget k."""
    return np.stack([choice_weights(n_trials, k) for k in range(1, n_trials + 1)], axis=1)


def ranked_trials(scores):
    """The unit's :class:`nnstudy.selection.TrialScore` best first; diverged trials last, in trial order."""
    kept = sorted((s for s in scores if not s.diverged), key=selection.TrialScore.rank_key)
    return kept + [s for s in scores if s.diverged]


def ranked_values(scores, chance_dev, chance_test):
    """(dev, test, rank) arrays over the trials in trial order; diverged trials score chance.

    rank : each trial's position in :func:`ranked_trials` (0 = chosen).
    """
    order = {s.trial: i for i, s in enumerate(ranked_trials(scores))}
    dev = np.array([chance_dev if s.diverged else s.dev_accuracy for s in scores])
    test = np.array([chance_test if s.diverged else s.test_accuracy for s in scores])
    return dev, test, np.array([order[s.trial] for s in scores])


def expected_curves(dev, test, rank):
    """(dev curve, test curve), each (K,) over k = 1..K, from trial values and their ranks.

    dev, test, rank : (..., K); leading axes (bootstrap samples) are kept.
    A diverged trial carries the chance value and a rank after every other
    trial, so the weight it receives is that of subsets holding no trial the
    rule can choose.
    """
    order = np.argsort(rank, axis=-1, kind="stable")
    weights = weight_matrix(dev.shape[-1])
    dev_sorted = np.take_along_axis(dev, order, axis=-1)
    test_sorted = np.take_along_axis(test, order, axis=-1)
    # einsum, not @: a BLAS call on such small matrices spends more time starting threads than multiplying.
    return (np.einsum("...i,ik->...k", dev_sorted, weights), np.einsum("...i,ik->...k", test_sorted, weights))


def bootstrap_curves(dev, test, rank, samples=BOOTSTRAP_SAMPLES, seed=0):
    """(dev, test) curves of ``samples`` resamples of the trials: two (samples, K) arrays."""
    draws = np.random.default_rng(seed).integers(0, dev.size, size=(samples, dev.size))
    return expected_curves(dev[draws], test[draws], rank[draws])


def chosen_pmfs(dev, rank, values):
    """(n_values, K): P(the chosen dev accuracy at budget k is values[v]), for every k = 1..K.

    values : ascending, holding every trial's dev value rounded to :data:`TIE_DECIMALS`.
    """
    order = np.argsort(rank, kind="stable")
    where = np.searchsorted(values, np.round(dev[order], TIE_DECIMALS))
    onehot = np.zeros((values.size, dev.size))
    onehot[where, np.arange(dev.size)] = 1.0
    return onehot @ weight_matrix(dev.size)


def best_probabilities(pmfs):
    """P(each optimizer's draw is the largest), independent draws, ties split evenly.

    pmfs : (n_optimizers, n_values, ...) probabilities over common ascending
    values; trailing axes (budgets) are kept. Returns (n_optimizers, ...).
    """
    pmfs = np.asarray(pmfs, dtype=float)
    below = np.cumsum(pmfs, axis=1) - pmfs
    out = []
    for own in range(pmfs.shape[0]):
        # Coefficients in z of prod_j (P(X_j < v) + z P(X_j = v)), lowest first.
        polynomial = [np.ones(pmfs.shape[1:])]
        for other in range(pmfs.shape[0]):
            if other == own:
                continue
            grown = [np.zeros(pmfs.shape[1:]) for _ in range(len(polynomial) + 1)]
            for m, coefficient in enumerate(polynomial):
                grown[m] += coefficient * below[other]
                grown[m + 1] += coefficient * pmfs[other]
            polynomial = grown
        # Integral over [0, 1] of sum_m c_m z^m: E[1 / (1 + number of others tied)] with all others <= v.
        share = sum(c / (m + 1) for m, c in enumerate(polynomial))
        out.append((pmfs[own] * share).sum(axis=0))
    return np.array(out)


def unit_scores(trials):
    """{unit key: its :class:`nnstudy.selection.TrialScore` list} from the tuning_trials table."""
    by_unit = {}
    for row in trials.to_dict("records"):
        by_unit.setdefault(tuple(row[c] for c in UNIT), []).append(row)
    return {key: selection.trial_scores(rows) for key, rows in by_unit.items()}


def check_chosen(scores_by_unit, chosen):
    """Raise ValueError when a unit's recorded choice is not the top of its ranking (a stale table)."""
    for row in chosen.to_dict("records"):
        key = tuple(row[c] for c in UNIT)
        if key not in scores_by_unit:
            raise ValueError(f"tuning_chosen names unit {key}, which has no rows in tuning_trials")
        best = selection.best_trial(scores_by_unit[key])
        # A unit whose every trial diverged has no trial to record.
        recorded = None if pd.isna(row["trial"]) else int(row["trial"])
        if recorded != (None if best is None else best.trial):
            raise ValueError(f"tuning_chosen records trial {recorded} for {key}, but the selection rule "
                             f"applied to tuning_trials chooses {None if best is None else best.trial}")


def budget_curves(scores, chance, samples=BOOTSTRAP_SAMPLES, level=LEVEL, seed=0):
    """(curves table, {unit: (dev, test) bootstrap arrays}) of every unit.

    scores : {unit: trial scores} (:func:`unit_scores`). chance : frame indexed by dataset with
    ``chance_dev`` and ``chance_test``. The bootstrap arrays are
    (samples, K), kept for :func:`budget_summary`.
    """
    rows, resampled = [], {}
    tail = (1 - level) / 2
    for index, (key, unit) in enumerate(scores.items()):
        dev, test, rank = ranked_values(unit, chance.at[key[0], "chance_dev"], chance.at[key[0], "chance_test"])
        dev_curve, test_curve = expected_curves(dev, test, rank)
        # One stream per unit, from its position: the same tables give the same bands.
        boot = bootstrap_curves(dev, test, rank, samples, seed=[seed, index])
        resampled[key] = boot
        dev_band = np.quantile(boot[0], [tail, 1 - tail], axis=0)
        test_band = np.quantile(boot[1], [tail, 1 - tail], axis=0)
        n, diverged = len(unit), sum(s.diverged for s in unit)
        for k in range(1, n + 1):
            rows.append({**dict(zip(UNIT, key)), "k": k, "trials": n, "diverged_trials": diverged,
                         "p_nothing_chosen": math.comb(diverged, k) / math.comb(n, k),
                         "dev_accuracy": dev_curve[k - 1], "dev_low": dev_band[0, k - 1],
                         "dev_high": dev_band[1, k - 1], "test_accuracy": test_curve[k - 1],
                         "test_low": test_band[0, k - 1], "test_high": test_band[1, k - 1]})
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS)), resampled


def budget_summary(curves, resampled, level=LEVEL):
    """Curves averaged over initializers, per (dataset, regularizer, optimizer), and over
    initializers and regularizers (regularizer ``all``), with stratified bootstrap bands.

    curves, resampled : what :func:`budget_curves` returns. Units with
    different K are averaged up to the smallest K of the group.
    """
    tail = (1 - level) / 2
    points = {key: (part["dev_accuracy"].to_numpy(), part["test_accuracy"].to_numpy())
              for key, part in curves.groupby(list(UNIT), sort=False)}
    groups = {}
    for key in points:
        for regularizer in (key[2], POOLED):
            groups.setdefault((key[0], regularizer, key[3]), []).append(key)
    rows = []
    for (dataset, regularizer, optimizer), keys in groups.items():
        n = min(points[key][0].size for key in keys)
        dev, test = (np.mean([points[key][i][:n] for key in keys], axis=0) for i in (0, 1))
        dev_band, test_band = (
            np.quantile(np.mean([resampled[key][i][:, :n] for key in keys], axis=0), [tail, 1 - tail], axis=0)
            for i in (0, 1))
        for k in range(1, n + 1):
            rows.append({"dataset": dataset, "regularizer": regularizer, "optimizer": optimizer, "k": k,
                         "units": len(keys), "dev_accuracy": dev[k - 1], "dev_low": dev_band[0, k - 1],
                         "dev_high": dev_band[1, k - 1], "test_accuracy": test[k - 1],
                         "test_low": test_band[0, k - 1], "test_high": test_band[1, k - 1]})
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    # Each dataset's rows together: per regularizer, then pooled.
    datasets = list(dict.fromkeys(table["dataset"]))
    table["_dataset"] = table["dataset"].map({d: i for i, d in enumerate(datasets)})
    table["_pooled"] = table["regularizer"] == POOLED
    return table.sort_values(["_dataset", "_pooled"], kind="stable").drop(columns=["_dataset", "_pooled"]) \
        .reset_index(drop=True)


def best_optimizer_probability(scores, chance):
    """P(each optimizer is best at budget k), averaged over each dataset's blocks.

    scores : {unit: trial scores} (:func:`unit_scores`). Within a block
    (dataset, initializer, regularizer) the optimizers are compared at
    every k up to the smallest K among them; the table holds the mean over
    the dataset's blocks and how many blocks that is.
    """
    blocks = {}
    for key, unit in scores.items():
        dev, _, rank = ranked_values(unit, chance.at[key[0], "chance_dev"], chance.at[key[0], "chance_test"])
        blocks.setdefault(key[:3], []).append((key[3], dev, rank))
    rows = []
    for block, members in blocks.items():
        n = min(dev.size for _, dev, _ in members)
        values = np.unique(np.round(np.concatenate([dev for _, dev, _ in members]), TIE_DECIMALS))
        pmfs = [chosen_pmfs(dev, rank, values)[:, :n] for _, dev, rank in members]
        probabilities = best_probabilities(pmfs)
        for (optimizer, _, _), row in zip(members, probabilities):
            rows += [{"dataset": block[0], "k": k, "optimizer": optimizer, "probability": p}
                     for k, p in enumerate(row, start=1)]
    frame = pd.DataFrame(rows, columns=["dataset", "k", "optimizer", "probability"])
    table = frame.groupby(["dataset", "k", "optimizer"], sort=False).agg(
        probability=("probability", "mean"), blocks=("probability", "size")).reset_index()
    return table[list(PROBABILITY_COLUMNS)]


def tuning_edges(chosen):
    """One row per (unit, dimension) whose chosen value lies in the outer tenth of its range."""
    rows = []
    for row in chosen.to_dict("records"):
        names = row.get("edges")
        if not isinstance(names, str) or not names.strip():
            continue
        for name in (n.strip() for n in names.split(";") if n.strip()):
            position = float(row[POSITION_PREFIX + name])
            rows.append({**{c: row[c] for c in UNIT}, "trial": int(row["trial"]), "dimension": name,
                         "value": row[name], "position": position, "side": "low" if position < 0.5 else "high"})
    return pd.DataFrame(rows, columns=list(EDGE_COLUMNS))


def budget_tables(trials, chosen, chance, samples=BOOTSTRAP_SAMPLES, seed=0):
    """{name: frame} of the four budget tables from tuning_trials and tuning_chosen.

    chance : frame indexed by dataset with ``chance_dev`` and ``chance_test``
    (the majority class's share of each split). Checks first that every
    recorded choice is the one the selection rule makes on the trials.
    """
    scores = unit_scores(trials)
    check_chosen(scores, chosen)
    curves, resampled = budget_curves(scores, chance, samples, seed=seed)
    return {
        "budget_curves": curves,
        "budget_summary": budget_summary(curves, resampled),
        "best_optimizer_probability": best_optimizer_probability(scores, chance),
        "tuning_edges": tuning_edges(chosen),
    }
