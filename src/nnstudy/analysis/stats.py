"""Statistics for comparing the study's choices over matched seeds and datasets.

The study is a full factorial design: every initializer x regularizer x
optimizer is trained on every dataset with every seed, and runs with the same
dataset and seed number share their random draws (initial weights, batch
orders, dropout masks). A *unit* is one (dataset, seed) pair; comparing two
levels of a factor within a unit is a paired comparison.

Everything here takes plain arrays or tidy pandas frames and returns new ones;
nothing reads or writes files. Conventions:

* Paired tests are two-sided Wilcoxon signed-rank tests on the within-unit
  differences (zero differences dropped, as in Wilcoxon's original test; a
  comparison whose differences are all zero has p = 1).
* Families of tests are corrected with Holm's step-down method, which keeps
  the family-wise error rate at the nominal level under any dependence.
* Effect sizes are the mean paired difference with a percentile bootstrap
  interval over units, and the matched-pairs rank-biserial correlation
  (+1: the first level wins every pair, -1: the second wins every pair).
"""

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

ALPHA = 0.05
COMPARISON_COLUMNS = ("n", "mean_difference", "ci_low", "ci_high", "median_difference", "wins", "losses", "ties",
                      "statistic", "p_value", "rank_biserial")
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 20240601


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


def wilcoxon_signed_rank(differences):
    """Two-sided Wilcoxon signed-rank test of a zero median: (statistic, p-value).

    differences : (n,) paired differences. Zeros are dropped; with no
    non-zero difference left the test has nothing to say and returns (0, 1).
    """
    d = np.asarray(differences, dtype=float)
    # Dropped here, not left to zero_method: some SciPy versions fall back to the normal
    # approximation when zeros are present, even for the few units where the exact test matters.
    d = d[~np.isnan(d) & (d != 0)]
    if d.size == 0:
        return 0.0, 1.0
    result = scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def rank_biserial(differences):
    """Matched-pairs rank-biserial correlation of paired differences, in [-1, 1].

    (sum of ranks of positive differences - sum of ranks of negative ones) /
    (sum of all ranks), ranking |differences| with zeros dropped. 0 when
    every difference is zero.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d) & (d != 0)]
    if d.size == 0:
        return 0.0
    ranks = scipy_stats.rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def bootstrap_mean_interval(differences, level=0.95, samples=BOOTSTRAP_SAMPLES, seed=BOOTSTRAP_SEED):
    """Percentile bootstrap interval of the mean of paired differences: (low, high).

    Units are resampled with replacement; a fixed seed keeps the report
    reproducible. NaN for fewer than two differences.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if d.size < 2:
        return math.nan, math.nan
    gen = np.random.default_rng(seed)
    means = d[gen.integers(0, d.size, size=(samples, d.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def paired_comparison(x, y):
    """Compare paired samples ``x`` and ``y`` ((n,) each): a dict of test and effect sizes.

    Keys: n, mean_difference (x - y), ci_low, ci_high, median_difference,
    wins / losses / ties (of x against y), statistic, p_value, rank_biserial.
    """
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    d = d[~np.isnan(d)]
    statistic, p_value = wilcoxon_signed_rank(d)
    low, high = bootstrap_mean_interval(d)
    return {
        "n": int(d.size),
        "mean_difference": float(d.mean()) if d.size else math.nan,
        "ci_low": low,
        "ci_high": high,
        "median_difference": float(np.median(d)) if d.size else math.nan,
        "wins": int((d > 0).sum()),
        "losses": int((d < 0).sum()),
        "ties": int((d == 0).sum()),
        "statistic": statistic,
        "p_value": p_value,
        "rank_biserial": rank_biserial(d),
    }


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


def compare_levels(frame, factor, levels, units, value):
    """Every pair of levels of ``factor``, compared within units.

    Returns one row per pair (level_a before level_b in ``levels``) with the
    :func:`paired_comparison` columns; differences are level_a - level_b.
    p-values are not yet corrected (see :func:`holm`).
    """
    wide = unit_means(frame, [factor], units, value)
    rows = []
    for a, b in itertools.combinations([l for l in levels if l in wide.columns], 2):
        rows.append({"factor": factor, "level_a": a, "level_b": b, **paired_comparison(wide[a], wide[b])})
    return pd.DataFrame(rows)


def main_effects(frame, factors, units, value, alpha=ALPHA):
    """Pairwise comparisons of the levels of every factor, Holm-corrected as one family.

    factors : {factor: [levels in order]}. Adds ``p_holm`` and
    ``significant`` (p_holm <= alpha) to the :func:`compare_levels` rows.
    """
    parts = [compare_levels(frame, f, levels, units, value) for f, levels in factors.items()]
    parts = [p for p in parts if len(p)]
    if not parts:  # every factor has a single level: nothing to compare
        parts = [pd.DataFrame(columns=["factor", "level_a", "level_b", *COMPARISON_COLUMNS])]
    table = pd.concat(parts, ignore_index=True)
    table["p_holm"] = holm(table["p_value"].astype(float))
    table["significant"] = table["p_holm"] <= alpha
    return table


def level_summary(frame, factors, units, value, level=0.95):
    """Marginal mean of each level over units with a Student-t interval.

    Returns factor, level, units, mean, ci_low, ci_high.
    """
    rows = []
    for factor, levels in factors.items():
        wide = unit_means(frame, [factor], units, value)
        for name in levels:
            if name not in wide.columns:
                continue
            x = wide[name].dropna().to_numpy()
            mean = float(x.mean()) if x.size else math.nan
            half = math.nan
            if x.size > 1:
                half = scipy_stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
            rows.append(
                {"factor": factor, "level": name, "units": int(x.size), "mean": mean,
                 "ci_low": mean - half, "ci_high": mean + half}
            )
    return pd.DataFrame(rows)


def interaction_contrasts(frame, factors, units, value, alpha=ALPHA):
    """2 x 2 interaction contrasts for every pair of factors, Holm-corrected as one family.

    For factors F, G, levels a, b of F and c, d of G, the contrast within a
    unit is ``(y[a, c] - y[b, c]) - (y[a, d] - y[b, d])``: how much the
    advantage of a over b changes between c and d (zero without
    interaction). y averages over the remaining factors. Returns one row per
    contrast with the :func:`paired_comparison` columns (``mean_difference``
    is the mean contrast), ``p_holm`` and ``significant``.
    """
    rows = []
    for f, g in itertools.combinations(factors, 2):
        wide = unit_means(frame, [f, g], units, value)
        f_levels = [l for l in factors[f] if any(c[0] == l for c in wide.columns)]
        g_levels = [l for l in factors[g] if any(c[1] == l for c in wide.columns)]
        for a, b in itertools.combinations(f_levels, 2):
            for c, d in itertools.combinations(g_levels, 2):
                contrast = (wide[(a, c)] - wide[(b, c)]) - (wide[(a, d)] - wide[(b, d)])
                result = paired_comparison(contrast, np.zeros(len(contrast)))
                rows.append(
                    {"factor_a": f, "level_a1": a, "level_a2": b,
                     "factor_b": g, "level_b1": c, "level_b2": d, **result}
                )
    columns = ["factor_a", "level_a1", "level_a2", "factor_b", "level_b1", "level_b2", *COMPARISON_COLUMNS]
    table = pd.DataFrame(rows, columns=columns)
    table["p_holm"] = holm(table["p_value"].astype(float))
    table["significant"] = table["p_holm"] <= alpha
    return table


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


def friedman(frame, factor, levels, units, value):
    """Friedman test of ``factor`` with units as blocks: (statistic, p-value).

    NaN when there are fewer than three levels or two complete units.
    """
    wide = unit_means(frame, [factor], units, value)
    wide = wide[[l for l in levels if l in wide.columns]].dropna()
    if wide.shape[1] < 3 or wide.shape[0] < 2:
        return math.nan, math.nan
    if np.allclose(wide.to_numpy(), wide.to_numpy()[:, :1]):
        return 0.0, 1.0
    result = scipy_stats.friedmanchisquare(*(wide[c].to_numpy() for c in wide.columns))
    return float(result.statistic), float(result.pvalue)


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
