"""Interaction tests and their power: does a pair's effect vary, and how large a variation could we see?

A pair's effect is the matched difference d = score(a) - score(b) of two
levels of a factor. It *interacts* with another factor (or with the dataset)
when its mean differs between that factor's levels. Two F tests ask this:

* :func:`two_way_heterogeneity`: a (blocks x conditions) matrix of mean
  differences, blocks as rows (datasets, or the seeds of one dataset), one
  column per level of the other factor; the two-way ANOVA without
  replication tests the column effect against the block x column residual;
* :func:`one_way_heterogeneity`: the per-seed differences grouped by
  dataset, seeds as replicates; a one-way ANOVA across datasets.

A test that finds nothing does not show the interaction is absent. Its power
is stated for one concrete alternative, a *shift*: the pair's effect at one
condition (one level, one dataset) differs from its effect at every other by
``delta``. Under that alternative the F statistic is noncentral with
``lambda = weight * delta**2 / sigma**2`` (``weight`` from the design, see
each test), and :func:`detectable_shift` solves for the smallest ``delta``
found with the requested power, ``sigma`` being the test's own residual
standard deviation.
"""

import functools
import math

import numpy as np
from scipy import stats as scipy_stats
from scipy.optimize import brentq

POWER = 0.8


def _f_test(ms_effect, ms_error, df1, df2):
    scale = max(ms_effect, ms_error, 1e-300)
    if ms_error <= 1e-12 * scale:  # no noise left: any spread is real, none is nothing
        return (math.inf, 0.0) if ms_effect > 1e-12 else (0.0, 1.0)
    f = ms_effect / ms_error
    return float(f), float(scipy_stats.f.sf(f, df1, df2))


def two_way_heterogeneity(matrix):
    """Column effect of a two-way ANOVA without replication, rows as blocks.

    matrix : (n_blocks, k) mean differences; rows with a NaN are dropped.
    Returns a dict: statistic (F), df1 = k - 1, df2 = (n - 1)(k - 1),
    p_value, sd (residual standard deviation) and weight = n (k - 1) / k,
    the noncentrality per unit (delta / sd)**2 of one column shifted by delta.
    """
    m = np.asarray(matrix, dtype=float)
    m = m[~np.isnan(m).any(axis=1)]
    n, k = m.shape
    df1, df2 = k - 1, (n - 1) * (k - 1)
    if n < 2 or k < 2:
        return {"statistic": math.nan, "df1": df1, "df2": df2, "p_value": math.nan, "sd": math.nan,
                "weight": math.nan}
    grand = m.mean()
    ss_columns = n * ((m.mean(axis=0) - grand) ** 2).sum()
    residual = m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + grand
    ms_error = (residual**2).sum() / df2
    f, p = _f_test(ss_columns / df1, ms_error, df1, df2)
    return {"statistic": f, "df1": df1, "df2": df2, "p_value": p, "sd": math.sqrt(ms_error),
            "weight": n * (k - 1) / k}


def one_way_heterogeneity(groups):
    """One-way ANOVA across groups (datasets), members as replicates (seeds).

    groups : list of 1-D arrays. Returns the dict of
    :func:`two_way_heterogeneity`; weight = n_min (N - n_min) / N, that of
    the smallest group shifted by delta (the hardest shift to see).
    """
    groups = [np.asarray(g, dtype=float) for g in groups]
    groups = [g for g in groups if g.size]
    k, total = len(groups), sum(g.size for g in groups)
    df1, df2 = k - 1, total - k
    if k < 2 or df2 < 1:
        return {"statistic": math.nan, "df1": df1, "df2": df2, "p_value": math.nan, "sd": math.nan,
                "weight": math.nan}
    grand = np.concatenate(groups).mean()
    ss_between = sum(g.size * (g.mean() - grand) ** 2 for g in groups)
    ms_error = sum(((g - g.mean()) ** 2).sum() for g in groups) / df2
    f, p = _f_test(ss_between / df1, ms_error, df1, df2)
    smallest = min(g.size for g in groups)
    return {"statistic": f, "df1": df1, "df2": df2, "p_value": p, "sd": math.sqrt(ms_error),
            "weight": smallest * (total - smallest) / total}


def f_test_power(noncentrality, df1, df2, alpha):
    """Probability that the F test at ``alpha`` rejects under this noncentrality."""
    critical = scipy_stats.f.isf(alpha, df1, df2)
    if noncentrality <= 0:
        return float(alpha)
    return float(scipy_stats.ncf.sf(critical, df1, df2, noncentrality))


def detectable_shift(sd, weight, df1, df2, alpha, power=POWER):
    """Smallest shift delta of one condition that the F test at ``alpha`` detects with ``power``.

    NaN when the test cannot run (too few blocks, no residual spread).
    """
    if not (sd > 0 and weight > 0 and df1 >= 1 and df2 >= 1):
        return math.nan
    return float(sd * math.sqrt(noncentrality_for_power(int(df1), int(df2), float(alpha), float(power)) / weight))


@functools.lru_cache(maxsize=1024)
def noncentrality_for_power(df1, df2, alpha, power):
    """The noncentrality at which the F test at ``alpha`` rejects with ``power`` (a design constant)."""
    high = 1.0
    while f_test_power(high, df1, df2, alpha) < power:
        high *= 2
    return brentq(lambda lam: f_test_power(lam, df1, df2, alpha) - power, 0.0, high, xtol=1e-10)


# The Summary names at most this many significant tests per factor, the
# smallest Holm p-values first; the interaction_tests table has them all.
NAMED_INTERACTIONS = 5


def interaction_sentences(tests, named=NAMED_INTERACTIONS):
    """What the interaction tests allow the Summary to say, one plain-text sentence per factor.

    tests : the ``interaction_tests`` table (see
    :func:`nnstudy.analysis.verdicts.factor_interactions`). A factor with a
    significant test names what its effect varies with; a factor without
    one says "no interaction detected" and the smallest shift its tests
    detect at 80% power after Holm's correction: never "absent".
    """
    sentences = []
    for factor in dict.fromkeys(tests["factor"]):
        part = tests[tests["factor"] == factor]
        found = part[part["significant"]]
        if len(found):
            strongest = found.sort_values("p_holm", kind="stable").head(named)
            items = [f"{r.level_a} - {r.level_b} varies with {r.across}"
                     + ("" if r.scope == "all" else f" on {r.scope.removeprefix('dataset=')}")
                     + f" (p_Holm {_p(r.p_holm)})" for r in strongest.itertuples()]
            rest = len(found) - len(strongest)
            more = f"; and {rest} more (interaction_tests)" if rest else ""
            lead = "the strongest: " if rest else ""
            sentences.append(f"{factor}: {len(found)} of {len(part)} interaction tests significant after Holm: "
                             + lead + "; ".join(items) + more + ".")
            continue
        points = 100 * part["detectable_shift"].dropna()
        text = f"{factor}: no interaction detected ({len(part)} tests, Holm)"
        if not len(points):
            text += "; too few blocks to say how large an interaction could go unseen"
        elif points.min() > 100:  # accuracies differ by at most 100 points
            text += "; no test of this design would detect even a 100-point interaction at 80% power"
        else:
            text += (f"; at 80% power after Holm, the design detects an interaction (one level or dataset "
                     f"shifted) of {points.min():.1f} accuracy points or more in its most sensitive test, "
                     f"{points.median():.1f} in the median test")
            blind = int((points > 100).sum())
            if blind:
                text += f", and {blind} {'test' if blind == 1 else 'tests'} would miss even a 100-point one"
        sentences.append(text + ".")
    return sentences


def _p(p):
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
