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
BLOCK = ("dataset", "initializer", "regularizer")
POSITION_PREFIX = "position_"
BOOTSTRAP_SAMPLES = 1000
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
    return dev_sorted @ weights, test_sorted @ weights


def bootstrap_curves(dev, test, rank, samples=BOOTSTRAP_SAMPLES, seed=0):
    """(dev, test) curves of ``samples`` resamples of the trials: two (samples, K) arrays."""
    draws = np.random.default_rng(seed).integers(0, dev.size, size=(samples, dev.size))
    return expected_curves(dev[draws], test[draws], rank[draws])


def chosen_distribution(dev, rank, k):
    """The chosen dev accuracy at budget k as {value: probability} (values rounded for ties)."""
    order = np.argsort(rank, kind="stable")
    out = {}
    for value, weight in zip(np.round(dev[order], TIE_DECIMALS), choice_weights(dev.size, k)):
        if weight > 0:
            out[float(value)] = out.get(float(value), 0.0) + weight
    return out


def best_probabilities(distributions):
    """P(each distribution's draw is the largest), independent draws, ties split evenly.

    distributions : list of {value: probability}. Returns a list of floats summing to 1.
    """
    out = []
    for j, own in enumerate(distributions):
        total = 0.0
        for v, p in own.items():
            polynomial = np.array([1.0])  # coefficients in z, lowest first
            for i, other in enumerate(distributions):
                if i == j:
                    continue
                below = sum(q for w, q in other.items() if w < v)
                tied = other.get(v, 0.0)
                polynomial = np.convolve(polynomial, [below, tied])
            # integral over [0, 1] of sum_m c_m z^m = sum_m c_m / (m + 1)
            total += p * float(np.sum(polynomial / np.arange(1, polynomial.size + 1)))
        out.append(total)
    return out


def _unit_rows(trials):
    return {key: part.to_dict("records") for key, part in trials.groupby(list(UNIT), sort=False)}


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


def budget_curves(trials, chance, samples=BOOTSTRAP_SAMPLES, level=LEVEL, seed=0):
    """(curves table, {unit: (dev, test) bootstrap arrays}) of every unit in ``tuning_trials``.

    trials : the tuning_trials table. chance : frame indexed by dataset with
    ``chance_dev`` and ``chance_test``. The bootstrap arrays are
    (samples, K), kept for :func:`budget_summary`.
    """
    rows, resampled = [], {}
    tail = (1 - level) / 2
    for index, (key, unit_rows) in enumerate(_unit_rows(trials).items()):
        scores = selection.trial_scores(unit_rows)
        dev, test, rank = ranked_values(scores, chance.at[key[0], "chance_dev"], chance.at[key[0], "chance_test"])
        dev_curve, test_curve = expected_curves(dev, test, rank)
        # One stream per unit, from its position: the same tables give the same bands.
        boot = bootstrap_curves(dev, test, rank, samples, seed=[seed, index])
        resampled[key] = boot
        dev_band = np.quantile(boot[0], [tail, 1 - tail], axis=0)
        test_band = np.quantile(boot[1], [tail, 1 - tail], axis=0)
        n, diverged = len(scores), sum(s.diverged for s in scores)
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

    Units with different K are averaged up to the smallest K of the group.
    """
    tail = (1 - level) / 2
    rows = []
    units = curves[list(UNIT)].drop_duplicates()
    pooled = units.assign(group_regularizer="all")
    grouped = pd.concat([units.assign(group_regularizer=units["regularizer"]), pooled], ignore_index=True)
    for (dataset, regularizer, optimizer), part in grouped.groupby(
            ["dataset", "group_regularizer", "optimizer"], sort=False):
        keys = [tuple(r) for r in part[list(UNIT)].itertuples(index=False)]
        n = min(resampled[key][0].shape[1] for key in keys)
        sub = curves.set_index(list(UNIT)).loc[keys].reset_index()
        sub = sub[sub["k"] <= n]
        means = sub.groupby("k")[["dev_accuracy", "test_accuracy"]].mean()
        dev_boot = np.mean([resampled[key][0][:, :n] for key in keys], axis=0)
        test_boot = np.mean([resampled[key][1][:, :n] for key in keys], axis=0)
        dev_band = np.quantile(dev_boot, [tail, 1 - tail], axis=0)
        test_band = np.quantile(test_boot, [tail, 1 - tail], axis=0)
        for k in range(1, n + 1):
            rows.append({"dataset": dataset, "regularizer": regularizer, "optimizer": optimizer, "k": k,
                         "units": len(keys), "dev_accuracy": means.at[k, "dev_accuracy"],
                         "dev_low": dev_band[0, k - 1], "dev_high": dev_band[1, k - 1],
                         "test_accuracy": means.at[k, "test_accuracy"], "test_low": test_band[0, k - 1],
                         "test_high": test_band[1, k - 1]})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def best_optimizer_probability(trials, chance):
    """P(each optimizer is best at budget k), averaged over each dataset's blocks.

    Within a block (dataset, initializer, regularizer) the optimizers are
    compared at every k up to the smallest K among them; the table holds
    the mean over the dataset's blocks and how many blocks that is.
    """
    per_block = []
    for key, unit_rows in _unit_rows(trials).items():
        scores = selection.trial_scores(unit_rows)
        dev, _, rank = ranked_values(scores, chance.at[key[0], "chance_dev"], chance.at[key[0], "chance_test"])
        per_block.append((key[:3], key[3], dev, rank))
    rows = []
    blocks = {}
    for block, optimizer, dev, rank in per_block:
        blocks.setdefault(block, []).append((optimizer, dev, rank))
    for block, members in blocks.items():
        n = min(dev.size for _, dev, _ in members)
        for k in range(1, n + 1):
            probabilities = best_probabilities([chosen_distribution(dev, rank, k) for _, dev, rank in members])
            for (optimizer, _, _), p in zip(members, probabilities):
                rows.append({"dataset": block[0], "k": k, "optimizer": optimizer, "probability": p})
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
        for name in names.split(";"):
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
    check_chosen({key: selection.trial_scores(rows) for key, rows in _unit_rows(trials).items()}, chosen)
    curves, resampled = budget_curves(trials, chance, samples, seed=seed)
    return {
        "budget_curves": curves,
        "budget_summary": budget_summary(curves, resampled),
        "best_optimizer_probability": best_optimizer_probability(trials, chance),
        "tuning_edges": tuning_edges(chosen),
    }
