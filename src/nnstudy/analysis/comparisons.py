"""Comparison statistics for benchmark-style studies, on plain arrays.

Each function here has a reference implementation it is tested against
(``tests/test_comparisons.py``): rliable for the aggregates, stratified
bootstrap and probability of improvement, scipy / scikit-posthocs for the
Friedman and Wilcoxon-Holm steps of critical-difference diagrams, baycomp for
the Bayesian signed-rank test, and a Monte Carlo simulation for the power
calculations. Only NumPy and SciPy are used here.

Score matrices are ``(n_runs, n_tasks)``: one column per task (a dataset),
one row per run (a seed) of the same level. Higher is better.
"""

import itertools
import math

import numpy as np
from scipy import stats as scipy_stats

from nnstudy.analysis.stats import holm

BOOTSTRAP_SAMPLES = 2000
BAYES_SAMPLES = 20000
POWER = 0.8


# ---------------------------------------------------------------------------
# Aggregates and their stratified bootstrap intervals


def iqm(scores):
    """Interquartile mean of every score pooled: the mean of the middle 50%.

    scores : (..., n_runs, n_tasks); leading axes are kept (bootstrap samples).
    """
    scores = np.asarray(scores, dtype=float)
    flat = scores.reshape(*scores.shape[:-2], -1)
    return scipy_stats.trim_mean(flat, 0.25, axis=-1)


def mean_of_task_means(scores):
    """Mean over tasks of each task's mean over runs. scores : (..., n_runs, n_tasks)."""
    return np.mean(np.mean(scores, axis=-2), axis=-1)


def median_of_task_means(scores):
    """Median over tasks of each task's mean over runs. scores : (..., n_runs, n_tasks)."""
    return np.median(np.mean(scores, axis=-2), axis=-1)


AGGREGATES = {"iqm": iqm, "mean": mean_of_task_means, "median": median_of_task_means}


def stratified_bootstrap(statistic, matrices, level=0.95, samples=BOOTSTRAP_SAMPLES, seed=0):
    """Percentile interval of ``statistic(*matrices)`` under the stratified bootstrap.

    matrices : score matrices (n_runs, n_tasks) with the same number of
    tasks; runs are resampled within each task, tasks are kept (the claim
    is about these tasks). Each matrix is resampled independently, as in
    rliable. ``statistic`` takes arrays with a leading sample axis
    (samples, n_runs, n_tasks) and returns (samples,). Returns (low, high).
    """
    gen = np.random.default_rng(seed)
    drawn = []
    for m in matrices:
        m = np.asarray(m, dtype=float)
        rows = gen.integers(0, m.shape[0], size=(samples, *m.shape))
        drawn.append(m[rows, np.arange(m.shape[1])])
    values = statistic(*drawn)
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def probability_of_improvement(x, y):
    """P(X > Y) averaged over tasks, ties counting one half.

    x : (..., n_x, n_tasks), y : (..., n_y, n_tasks). Within a task every
    run of X is compared with every run of Y (the Mann-Whitney U statistic
    / n_x n_y).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a, b = x[..., :, None, :], y[..., None, :, :]
    per_task = (a > b).mean(axis=(-3, -2)) + 0.5 * (a == b).mean(axis=(-3, -2))
    return per_task.mean(axis=-1)


# ---------------------------------------------------------------------------
# Critical-difference diagrams: Friedman / Iman-Davenport, then Wilcoxon + Holm


def average_ranks(matrix):
    """Mean rank of each level over blocks, 1 = best. matrix : (n_blocks, n_levels)."""
    return scipy_stats.rankdata(-np.asarray(matrix, dtype=float), axis=1).mean(axis=0)


def friedman_iman_davenport(matrix):
    """Friedman's chi-square and the Iman-Davenport F over blocks.

    matrix : (n_blocks, n_levels), higher is better. Returns a dict with
    chi2, chi2_p, f, df1, df2, p (of the F test, the one to use: Friedman's
    chi-square is conservative with few blocks). Ties within a block get
    average ranks and the tie correction of scipy's Friedman test.
    """
    matrix = np.asarray(matrix, dtype=float)
    n, k = matrix.shape
    nan = {"chi2": math.nan, "chi2_p": math.nan, "f": math.nan, "df1": k - 1, "df2": (k - 1) * (n - 1),
           "p": math.nan}
    if n < 2 or k < 3:
        return nan
    ranks = scipy_stats.rankdata(matrix, axis=1)
    rank_sums = ranks.sum(axis=0)
    ties = sum(
        (counts**3 - counts).sum() for counts in (np.unique(row, return_counts=True)[1] for row in matrix)
    )
    denominator = 1 - ties / (n * k * (k**2 - 1))
    if denominator <= 0:  # every block is one tie: nothing to rank
        return {**nan, "chi2": 0.0, "chi2_p": 1.0, "f": 0.0, "p": 1.0}
    chi2 = (12 / (n * k * (k + 1)) * np.sum(rank_sums**2) - 3 * n * (k + 1)) / denominator
    df1, df2 = k - 1, (k - 1) * (n - 1)
    if chi2 >= n * (k - 1):  # identical orderings in every block: F is infinite
        f, p = math.inf, 0.0
    else:
        f = (n - 1) * chi2 / (n * (k - 1) - chi2)
        p = float(scipy_stats.f.sf(f, df1, df2))
    return {"chi2": float(chi2), "chi2_p": float(scipy_stats.chi2.sf(chi2, k - 1)), "f": float(f),
            "df1": df1, "df2": df2, "p": p}


def wilcoxon_p(differences):
    """Two-sided Wilcoxon signed-rank p of paired differences, zeros dropped; 1 when all are zero."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d) & (d != 0)]
    if d.size == 0:
        return 1.0
    return float(scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def pairwise_wilcoxon_holm(matrix):
    """Holm-adjusted pairwise Wilcoxon p-values: (n_levels, n_levels), 1 on the diagonal."""
    matrix = np.asarray(matrix, dtype=float)
    k = matrix.shape[1]
    pairs = list(itertools.combinations(range(k), 2))
    adjusted = holm([wilcoxon_p(matrix[:, i] - matrix[:, j]) for i, j in pairs])
    out = np.ones((k, k))
    for (i, j), p in zip(pairs, adjusted):
        out[i, j] = out[j, i] = p
    return out


def cd_cliques(mean_ranks, p_holm, alpha=0.05):
    """Groups of levels no test separates, as drawn on a critical-difference diagram.

    mean_ranks : (k,), p_holm : (k, k). Levels are ordered by mean rank; a
    clique is a maximal run of consecutive levels whose every pair has
    p_holm > alpha. Returns lists of level indices (cliques of two or more).
    """
    order = list(np.argsort(mean_ranks, kind="stable"))
    cliques = []
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and all(p_holm[order[i], order[end + 1]] > alpha for i in range(start, end + 1)):
            end += 1
        members = order[start:end + 1]
        if len(members) > 1 and not any(set(members) <= set(c) for c in cliques):
            cliques.append([int(i) for i in members])
    return cliques


# ---------------------------------------------------------------------------
# Bayesian signed-rank test with a region of practical equivalence


def bayesian_signed_rank(differences, rope, samples=BAYES_SAMPLES, prior=0.5, seed=0):
    """Benavoli et al.'s Bayesian signed-rank test: (P(A better), P(equivalent), P(B better)).

    differences : (n,) paired A - B differences. The posterior is a
    Dirichlet process with a pseudo-observation at zero of weight ``prior``;
    each posterior draw weights the Walsh averages (x_i + x_j) / 2, and the
    region (A better by more than ``rope``, within ``rope``, B better) with
    the most mass wins that draw. The probabilities are the share of draws
    each region wins.
    """
    d = np.concatenate([[0.0], np.asarray(differences, dtype=float)])
    d = d[~np.isnan(d)]
    sums = d[:, None] + d[None, :]

    def heaviside(a):
        return (a > 0).astype(float) + 0.5 * (a == 0)

    above = heaviside(sums - 2 * rope)
    below = heaviside(-sums - 2 * rope)
    alpha = np.ones(d.size)
    alpha[0] = prior
    weights = np.random.default_rng(seed).dirichlet(alpha, samples)
    # The mass of a region in one draw is the quadratic form w' H w.
    right = ((weights @ above) * weights).sum(axis=1)
    left = ((weights @ below) * weights).sum(axis=1)
    middle = 1 - left - right
    winners = np.argmax(np.stack([right, middle, left], axis=1), axis=1)
    return tuple(float(np.mean(winners == i)) for i in range(3))


# ---------------------------------------------------------------------------
# Power of a paired comparison (two-sided one-sample t test on block differences)


def paired_power(effect, sd, n, alpha=0.05):
    """Power of the two-sided t test of mean zero on ``n`` paired differences with this mean and sd."""
    if n < 2 or sd <= 0:
        return math.nan
    df = n - 1
    critical = scipy_stats.t.ppf(1 - alpha / 2, df)
    noncentrality = effect * math.sqrt(n) / sd
    power = float(scipy_stats.nct.sf(critical, df, noncentrality) + scipy_stats.nct.cdf(-critical, df, noncentrality))
    if math.isnan(power):
        # scipy's noncentral t gives up far in the tail (few blocks, large effect): integrate
        # T = (Z + delta) / sqrt(V / df) over V ~ chi2(df) instead.
        from scipy.integrate import quad

        def rejected(v):
            c = critical * math.sqrt(v / df)
            return (scipy_stats.norm.sf(c - noncentrality) + scipy_stats.norm.cdf(-c - noncentrality)) \
                * scipy_stats.chi2.pdf(v, df)

        power = float(min(1.0, quad(rejected, 0, np.inf, limit=200)[0]))
    return power


def detectable_effect(sd, n, alpha=0.05, power=POWER):
    """Smallest mean paired difference the t test detects with ``power`` from ``n`` blocks."""
    if n < 2 or not sd > 0:
        return math.nan
    from scipy.optimize import brentq

    high = sd
    while paired_power(high, sd, n, alpha) < power:
        high *= 2
    return float(brentq(lambda e: paired_power(e, sd, n, alpha) - power, 0.0, high, xtol=1e-10))


def blocks_needed(effect, sd, alpha=0.05, power=POWER, limit=100000):
    """Fewest blocks for which the t test detects ``effect`` with ``power`` (NaN beyond ``limit``)."""
    if not effect > 0 or not sd > 0:
        return math.nan
    n = 2
    while paired_power(effect, sd, n, alpha) < power:
        n *= 2
        if n > limit:
            return math.nan
    low = n // 2 if n > 2 else 1
    while n - low > 1:  # power grows with n: bisect between low (too few) and n (enough)
        middle = (low + n) // 2
        if paired_power(effect, sd, middle, alpha) >= power:
            n = middle
        else:
            low = middle
    return int(n)
