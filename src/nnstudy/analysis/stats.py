"""Statistics for comparing the study's choices over matched seeds and datasets.

The study is a full factorial design: every initializer x regularizer x
optimizer is trained on every dataset with every seed, and runs with the same
dataset and seed number share their random draws (initial weights, batch
orders, dropout masks). A *unit* is one (dataset, seed) pair.

Everything here takes plain arrays or tidy pandas frames and returns new ones;
nothing reads or writes files: Holm's step-down correction (which keeps the
family-wise error rate at the nominal level under any dependence), unit
means, two-way tables of means and their interaction share, ranks within
blocks and performance profiles. The paired tests, intervals and verdicts
are in :mod:`nnstudy.analysis.comparisons` and :mod:`nnstudy.analysis.verdicts`.
"""

import itertools

import numpy as np
import pandas as pd


# ---------------------------------------------------------------------------
# Array-level tools


def holm(pvalues):
    """Holm-adjusted p-values, same order as ``pvalues`` (1-D; NaN stays NaN).

    Reject hypothesis i at level alpha when ``adjusted[i] <= alpha``; this
    controls the probability of any false rejection in the family at alpha.
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    if finite.size == 0:
        return adjusted
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    scaled = p[order] * (m - np.arange(m))
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def performance_profile(scores, taus):
    """Fraction of problems on which each choice is within ``tau`` of the best.

    scores : (n_problems, n_choices), higher is better; NaN counts as never
        within any tau of the best.
    taus : (T,) non-negative tolerances, in the units of ``scores``.
    Returns (T, n_choices). At tau = 0 a column is the fraction of problems
    on which that choice is (one of) the best.
    """
    scores = np.asarray(scores, dtype=float)
    best = np.nanmax(np.where(np.isnan(scores), -np.inf, scores), axis=1, keepdims=True)
    gap = np.where(np.isnan(scores), np.inf, best - scores)
    taus = np.asarray(taus, dtype=float)
    # A small slack so that floating-point noise does not hide an exact tie.
    return (gap[None, :, :] <= taus[:, None, None] + 1e-12).mean(axis=1)


# ---------------------------------------------------------------------------
# Frame-level tools: tidy tables of runs in, tidy tables of results out


def unit_means(frame, factors, units, value):
    """Mean of ``value`` per unit and level combination of ``factors``, wide by level.

    frame : tidy runs with columns ``units``, ``factors`` and ``value``.
    Averages over every column not named (the other factors), so the result
    is the marginal value of each level within each unit. Returns a frame
    indexed by ``units`` with one column per level (tuple for two factors).
    """
    means = frame.groupby([*units, *factors], sort=False, observed=True)[value].mean()
    return means.unstack(list(factors))


def two_way_means(frame, factors, units, value):
    """Mean over units of every level pair of every two factors (interaction plots).

    Returns factor_a, level_a, factor_b, level_b, units, mean.
    """
    rows = []
    for f, g in itertools.combinations(factors, 2):
        wide = unit_means(frame, [f, g], units, value)
        for a in factors[f]:
            for b in factors[g]:
                if (a, b) in wide.columns:
                    x = wide[(a, b)].dropna()
                    rows.append({"factor_a": f, "level_a": a, "factor_b": g, "level_b": b,
                                 "units": int(len(x)), "mean": float(x.mean())})
    return pd.DataFrame(rows, columns=["factor_a", "level_a", "factor_b", "level_b", "units", "mean"])


def interaction_share(two_way):
    """How much of a two-way table of means is interaction rather than main effects.

    two_way : rows of :func:`two_way_means`. For each factor pair, decompose
    the table of means into row effects, column effects and residual
    (interaction) and return the sums of squares and
    ``share = SS_interaction / (SS_a + SS_b + SS_interaction)`` (0: the
    lines of an interaction plot are parallel).
    """
    rows = []
    for (f, g), part in two_way.groupby(["factor_a", "factor_b"], sort=False):
        table = part.pivot(index="level_a", columns="level_b", values="mean").to_numpy()
        grand = table.mean()
        row_effect = table.mean(axis=1, keepdims=True) - grand
        col_effect = table.mean(axis=0, keepdims=True) - grand
        residual = table - grand - row_effect - col_effect
        ss_a = float((row_effect**2).sum() * table.shape[1])
        ss_b = float((col_effect**2).sum() * table.shape[0])
        ss_ab = float((residual**2).sum())
        total = ss_a + ss_b + ss_ab
        rows.append({"factor_a": f, "factor_b": g, "ss_a": ss_a, "ss_b": ss_b, "ss_interaction": ss_ab,
                     "share": ss_ab / total if total > 0 else 0.0})
    return pd.DataFrame(rows, columns=["factor_a", "factor_b", "ss_a", "ss_b", "ss_interaction", "share"])


def ranks_by_block(frame, factor, levels, block, value):
    """Rank the levels of ``factor`` within each block (1 = best, ties averaged).

    block : column(s) naming the blocks (e.g. "dataset"). The value of a
    level in a block is its mean over every other column. Returns block
    columns, level, mean, rank.
    """
    block = [block] if isinstance(block, str) else list(block)
    wide = unit_means(frame, [factor], block, value)
    wide = wide[[l for l in levels if l in wide.columns]]
    ranks = wide.rank(axis=1, ascending=False, method="average")
    long = wide.stack().rename("mean").to_frame().join(ranks.stack().rename("rank"))
    return long.reset_index().rename(columns={factor: "level"})


def profiles(frame, factors, units, value, taus):
    """Performance profiles of the levels of each factor.

    A problem is a unit together with a level of every other factor; within
    it, each level of the profiled factor scores ``value``. Returns factor,
    level, tau, fraction, problems.
    """
    rows = []
    for factor, levels in factors.items():
        others = [f for f in factors if f != factor]
        wide = frame.pivot_table(index=[*units, *others], columns=factor, values=value,
                                 aggfunc="mean", dropna=False, observed=True)
        present = [l for l in levels if l in wide.columns]
        fractions = performance_profile(wide[present].to_numpy(), taus)
        for j, name in enumerate(present):
            for t, tau in enumerate(taus):
                rows.append({"factor": factor, "level": name, "tau": float(tau),
                             "fraction": float(fractions[t, j]), "problems": int(len(wide))})
    return pd.DataFrame(rows)
