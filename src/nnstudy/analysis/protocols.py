"""Does the tuning protocol change what the study concludes? Verdict flips and rank changes.

The same data analysed under two tuning protocols (say the old one: the
learning rate alone, on a grid, tuned with He weights and no
regularization; and the declared search space per unit) gives two verdict
tables (:func:`nnstudy.analysis.verdicts.analyze_runs`). :func:`protocol_sensitivity`
lines them up row by row and, per factor, compares the mean ranks of the
levels.

Ranks come from the verdict tables themselves: within a dataset (scope
``dataset=<name>``) a pair's estimate is the mean matched difference
score(a) - score(b), so a level's mean estimate against every level (itself
at zero) is its score less the mean of the levels' scores. Those centred
scores, one row per dataset, are ranked by
:func:`nnstudy.analysis.comparisons.average_ranks` (1 = best), as the
critical-difference table ranks level means.
"""

import numpy as np
import pandas as pd

from nnstudy.analysis import comparisons

KEYS = ("factor", "level_a", "level_b", "scope")
COMPARED = ("estimate", "ci_low", "ci_high", "p_holm", "verdict")
DATASET_SCOPE = "dataset="
FLIP_COLUMNS = (*KEYS, *(f"{c}_{p}" for p in ("a", "b") for c in COMPARED), "changed", "protocol_a",
                "protocol_b")
RANK_COLUMNS = ("factor", "level", "mean_rank_a", "mean_rank_b", "order_a", "order_b", "datasets",
                "ranking_changed", "protocol_a", "protocol_b")


def flips(verdicts_a, verdicts_b):
    """Every (factor, level_a, level_b, scope) of either table with both protocols' numbers.

    ``changed``: the verdicts differ, or the row exists under one protocol only.
    """
    merged = pd.merge(verdicts_a[[*KEYS, *COMPARED]], verdicts_b[[*KEYS, *COMPARED]], on=list(KEYS),
                      how="outer", suffixes=("_a", "_b"), sort=False)
    merged["changed"] = merged["verdict_a"].fillna("") != merged["verdict_b"].fillna("")
    # An outer merge sorts its keys: keep the verdict tables' own order (a's rows, then b's own).
    order = pd.concat([verdicts_a[list(KEYS)], verdicts_b[list(KEYS)]]).drop_duplicates()
    merged = order.merge(merged, on=list(KEYS), how="left")
    return merged[list(FLIP_COLUMNS[:-2])]


def centred_scores(verdicts, factor):
    """(n_datasets, n_levels) frame: each level's score less the mean level score, per dataset."""
    part = verdicts[(verdicts["factor"] == factor) & verdicts["scope"].str.startswith(DATASET_SCOPE)]
    levels = list(dict.fromkeys([*part["level_a"], *part["level_b"]]))
    rows = {}
    for scope, group in part.groupby("scope", sort=False):
        differences = pd.DataFrame(0.0, index=levels, columns=levels)
        for row in group.itertuples():
            differences.at[row.level_a, row.level_b] = row.estimate
            differences.at[row.level_b, row.level_a] = -row.estimate
        rows[scope[len(DATASET_SCOPE):]] = differences.mean(axis=1)
    return pd.DataFrame(rows).T.reindex(columns=levels).dropna()


def mean_ranks(verdicts, factor):
    """{level: mean rank over datasets} of one factor (1 = best); empty without dataset scopes."""
    scores = centred_scores(verdicts, factor)
    if scores.empty:
        return {}, 0
    ranks = comparisons.average_ranks(scores.to_numpy())
    return dict(zip(scores.columns, ranks)), len(scores)


def _order(ranks):
    return " > ".join(sorted(ranks, key=lambda level: (ranks[level], level)))


def rank_changes(verdicts_a, verdicts_b):
    """Per factor and level: the mean ranks under each protocol and whether the factor's order changed."""
    rows = []
    for factor in dict.fromkeys([*verdicts_a["factor"], *verdicts_b["factor"]]):
        ranks_a, n_a = mean_ranks(verdicts_a, factor)
        ranks_b, n_b = mean_ranks(verdicts_b, factor)
        order_a, order_b = _order(ranks_a), _order(ranks_b)
        for level in dict.fromkeys([*ranks_a, *ranks_b]):
            rows.append({"factor": factor, "level": level, "mean_rank_a": ranks_a.get(level, np.nan),
                         "mean_rank_b": ranks_b.get(level, np.nan), "order_a": order_a, "order_b": order_b,
                         "datasets": min(n_a, n_b), "ranking_changed": order_a != order_b})
    return pd.DataFrame(rows, columns=list(RANK_COLUMNS[:-2]))


def protocol_sensitivity(verdicts_a, verdicts_b, names=("a", "b")):
    """(flips, ranks): how the verdicts and the level rankings differ between two protocols.

    verdicts_a, verdicts_b : tables with :data:`nnstudy.analysis.verdicts.VERDICT_COLUMNS`
    from the same runs analysed under protocol a and protocol b. names :
    the two protocols' names, written in every row (``protocol_a``,
    ``protocol_b``) so the tables say which is which.
    """
    labels = {"protocol_a": names[0], "protocol_b": names[1]}
    return flips(verdicts_a, verdicts_b).assign(**labels), rank_changes(verdicts_a, verdicts_b).assign(**labels)
