"""Each comparison statistic against a reference implementation (used only here).

References: rliable's metrics (aggregates, probability of improvement),
scipy and scikit-posthocs (Friedman, pairwise Wilcoxon with Holm), baycomp
(Bayesian signed-rank test), and brute force written here: the stratified
bootstrap as a plain loop over draws (rliable's own bootstrap module imports
the ``arch`` package, which does not import beside the pandas installed
here), Iman-Davenport as an ANOVA on ranks, power by simulation.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from nnstudy.analysis import comparisons

rliable_metrics = pytest.importorskip("rliable.metrics")
scikit_posthocs = pytest.importorskip("scikit_posthocs")
baycomp = pytest.importorskip("baycomp")


def scores(seed, runs=7, tasks=5, shift=0.0):
    gen = np.random.default_rng(seed)
    return np.clip(0.7 + shift + 0.05 * gen.standard_normal((runs, tasks)) + 0.03 * np.arange(tasks), 0, 1)


@pytest.mark.parametrize("seed", range(4))
def test_aggregates_equal_rliable_exactly(seed):
    x = scores(seed)
    assert comparisons.iqm(x) == pytest.approx(rliable_metrics.aggregate_iqm(x), abs=1e-12)
    assert comparisons.mean_of_task_means(x) == pytest.approx(rliable_metrics.aggregate_mean(x), abs=1e-12)
    assert comparisons.median_of_task_means(x) == pytest.approx(rliable_metrics.aggregate_median(x), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_probability_of_improvement_equals_rliable_exactly(seed):
    x, y = scores(seed), scores(seed + 10, runs=6, shift=0.02)
    y[0, 0] = x[0, 0]  # a tie counts one half in both
    assert comparisons.probability_of_improvement(x, y) == pytest.approx(
        rliable_metrics.probability_of_improvement(x, y), abs=1e-12)


def loop_stratified_bootstrap(statistic, matrices, samples, seed):
    """rliable's StratifiedBootstrap, one draw at a time: runs redrawn with replacement within each task."""
    state = np.random.RandomState(seed)
    values = []
    for _ in range(samples):
        drawn = []
        for m in matrices:
            drawn.append(np.stack([m[state.randint(0, m.shape[0], m.shape[0]), t] for t in range(m.shape[1])],
                                  axis=1))
        values.append(statistic(*drawn))
    return tuple(np.percentile(values, [2.5, 97.5]))


@pytest.mark.parametrize("name,reference", [("iqm", rliable_metrics.aggregate_iqm),
                                            ("mean", rliable_metrics.aggregate_mean),
                                            ("median", rliable_metrics.aggregate_median)])
def test_stratified_bootstrap_intervals_agree_with_a_loop_over_rliable_metrics(name, reference):
    x = scores(3, runs=10, tasks=4)
    ours = comparisons.stratified_bootstrap(comparisons.AGGREGATES[name], [x], samples=20000, seed=1)
    # Two independent Monte Carlo runs (20000 and 5000 draws): the 2.5% quantiles agree to ~0.002 here.
    assert ours == pytest.approx(loop_stratified_bootstrap(reference, [x], 5000, 2), abs=0.004)


def test_probability_of_improvement_interval_agrees_with_a_loop_over_rliable():
    x, y = scores(4, runs=8, tasks=3), scores(5, runs=8, tasks=3, shift=0.03)
    ours = comparisons.stratified_bootstrap(comparisons.probability_of_improvement, [x, y], samples=20000, seed=1)
    reference = loop_stratified_bootstrap(rliable_metrics.probability_of_improvement, [x, y], 800, 2)
    # 800 reference draws: their 2.5% quantiles carry ~0.01 of Monte Carlo error.
    assert ours == pytest.approx(reference, abs=0.03)


def friedman_matrix(seed, blocks=8, levels=4, ties=False):
    gen = np.random.default_rng(seed)
    m = gen.normal(0, 1, (blocks, levels)) + np.linspace(0, 0.8, levels)
    if ties:
        m = np.round(m, 0)
    return m


@pytest.mark.parametrize("seed,ties", [(0, False), (1, False), (2, True), (3, True)])
def test_friedman_equals_scipy_and_iman_davenport_equals_the_anova_on_ranks(seed, ties):
    m = friedman_matrix(seed, ties=ties)
    ours = comparisons.friedman_iman_davenport(m)
    reference = scipy_stats.friedmanchisquare(*m.T)
    assert ours["chi2"] == pytest.approx(reference.statistic, rel=1e-10)
    assert ours["chi2_p"] == pytest.approx(reference.pvalue, rel=1e-10)
    if ties:
        return  # the ANOVA identity below holds for untied ranks
    # Iman-Davenport's F is the two-way (blocks x levels) ANOVA F computed on within-block ranks.
    ranks = scipy_stats.rankdata(m, axis=1)
    n, k = ranks.shape
    grand = ranks.mean()
    ss_levels = n * ((ranks.mean(axis=0) - grand) ** 2).sum()
    residual = ranks - ranks.mean(axis=1, keepdims=True) - ranks.mean(axis=0, keepdims=True) + grand
    f = (ss_levels / (k - 1)) / ((residual**2).sum() / ((n - 1) * (k - 1)))
    assert ours["f"] == pytest.approx(f, rel=1e-10)
    assert ours["p"] == pytest.approx(scipy_stats.f.sf(f, k - 1, (n - 1) * (k - 1)), rel=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_pairwise_wilcoxon_holm_equals_scikit_posthocs(seed):
    m = friedman_matrix(seed, blocks=9)
    m[0, 1] = m[0, 0]  # a zero difference, dropped by both
    long = pd.DataFrame({"block": np.repeat(np.arange(m.shape[0]), m.shape[1]),
                         "level": np.tile(np.arange(m.shape[1]), m.shape[0]), "value": m.ravel()})
    reference = scikit_posthocs.posthoc_wilcoxon(long, val_col="value", group_col="level", zero_method="wilcox",
                                                 p_adjust="holm", sort=True)
    ours = comparisons.pairwise_wilcoxon_holm(m)
    for i, j in itertools.combinations(range(m.shape[1]), 2):
        assert ours[i, j] == pytest.approx(reference.loc[i, j], rel=1e-10), (i, j)


def test_cliques_join_consecutive_levels_that_no_test_separates():
    ranks = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.ones((4, 4))
    p[0, 2] = p[2, 0] = p[0, 3] = p[3, 0] = p[1, 3] = p[3, 1] = 0.01
    assert comparisons.cd_cliques(ranks, p) == [[0, 1], [1, 2], [2, 3]]
    assert comparisons.cd_cliques(ranks, np.ones((4, 4))) == [[0, 1, 2, 3]]


@pytest.mark.parametrize("seed,rope", [(0, 0.01), (1, 0.01), (2, 0.0), (3, 0.05)])
def test_bayesian_signed_rank_agrees_with_baycomp(seed, rope):
    gen = np.random.default_rng(seed)
    a = 0.8 + 0.02 * gen.standard_normal(12)
    b = a - 0.01 - 0.015 * gen.standard_normal(12)
    ours = comparisons.bayesian_signed_rank(a - b, rope, samples=40000, seed=seed)
    # baycomp's y - x is our a - b; its (left, rope, right) is (b better, equivalent, a better).
    reference = baycomp.SignedRankTest.probs(b, a, rope=rope, nsamples=40000, random_state=seed)
    if rope == 0:  # without a rope baycomp returns (b better, a better) only
        assert (ours[0], ours[2]) == pytest.approx(reference[::-1], abs=0.01)
        return
    left, middle, right = reference
    assert ours == pytest.approx((right, middle, left), abs=0.01)


def test_power_matches_simulated_t_tests():
    gen = np.random.default_rng(0)
    sd, n = 0.02, 6
    effect = comparisons.detectable_effect(sd, n)
    draws = effect + sd * gen.standard_normal((20000, n))
    p = scipy_stats.ttest_1samp(draws, 0.0, axis=1).pvalue
    assert np.mean(p <= 0.05) == pytest.approx(comparisons.POWER, abs=0.01)
    needed = comparisons.blocks_needed(0.01, sd)
    assert comparisons.paired_power(0.01, sd, needed) >= 0.8 > comparisons.paired_power(0.01, sd, needed - 1)
    draws = 0.01 + sd * gen.standard_normal((20000, needed))
    assert np.mean(scipy_stats.ttest_1samp(draws, 0.0, axis=1).pvalue <= 0.05) >= 0.79


def test_power_stays_defined_with_two_blocks_and_a_large_effect():
    assert comparisons.paired_power(0.35, 0.001, 2) == pytest.approx(1.0, abs=0.01)
    effect = comparisons.detectable_effect(0.001, 2)
    assert 0 < effect < 0.02
    assert comparisons.paired_power(effect, 0.001, 2) == pytest.approx(0.8, abs=1e-6)
    draws = effect + 0.001 * np.random.default_rng(1).standard_normal((20000, 2))
    assert np.mean(scipy_stats.ttest_1samp(draws, 0.0, axis=1).pvalue <= 0.05) == pytest.approx(0.8, abs=0.01)
