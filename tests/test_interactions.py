"""Interaction tests' power: the analytic detectable shift is the one a simulation detects 80% of the time."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from nnstudy.analysis import interactions


def test_two_way_heterogeneity_matches_a_reference_anova():
    # Reference: the column F of a two-way ANOVA without replication, computed by ordinary least squares.
    gen = np.random.default_rng(1)
    m = gen.normal(size=(6, 4)) + np.array([0.0, 0.5, 0.0, -0.3])
    test = interactions.two_way_heterogeneity(m)
    n, k = m.shape
    rows, cols = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    y = m.ravel()

    def rss(design):
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        return float(((y - design @ beta) ** 2).sum())

    blocks = np.eye(n)[rows.ravel()]
    columns = np.eye(k)[cols.ravel()][:, 1:]
    full, reduced = rss(np.hstack([blocks, columns])), rss(blocks)
    f = ((reduced - full) / (k - 1)) / (full / ((n - 1) * (k - 1)))
    assert test["statistic"] == pytest.approx(f)
    assert test["p_value"] == pytest.approx(scipy_stats.f.sf(f, k - 1, (n - 1) * (k - 1)))
    assert test["sd"] == pytest.approx(math.sqrt(full / ((n - 1) * (k - 1))))


def test_one_way_heterogeneity_matches_scipy():
    gen = np.random.default_rng(2)
    groups = [gen.normal(0, 1, 4), gen.normal(0.5, 1, 6), gen.normal(0, 1, 5)]
    test = interactions.one_way_heterogeneity(groups)
    reference = scipy_stats.f_oneway(*groups)
    assert test["statistic"] == pytest.approx(reference.statistic)
    assert test["p_value"] == pytest.approx(reference.pvalue)


def _rejection_rate(test, draw, repetitions, alpha):
    return np.mean([test(draw())["p_value"] <= alpha for _ in range(repetitions)])


@pytest.mark.parametrize("n, k, alpha", [(5, 3, 0.05), (8, 2, 0.005)])
def test_a_shift_of_the_detectable_size_is_found_80_percent_of_the_time_two_way(n, k, alpha):
    sd = 0.02
    delta = interactions.detectable_shift(sd, n * (k - 1) / k, k - 1, (n - 1) * (k - 1), alpha)
    gen = np.random.default_rng(3)
    shift = np.zeros(k)
    shift[0] = delta

    def draw():  # block effects cancel in the test; one column shifted by delta
        return gen.normal(0, 0.1, (n, 1)) + shift + gen.normal(0, sd, (n, k))

    rate = _rejection_rate(interactions.two_way_heterogeneity, draw, 3000, alpha)
    assert rate == pytest.approx(0.8, abs=0.03)  # binomial sd of the rate: 0.007
    # Half the shift is detected far less often: the number is a threshold, not a formality.
    shift[0] = delta / 2
    assert _rejection_rate(interactions.two_way_heterogeneity, draw, 1000, alpha) < 0.5


def test_a_shift_of_the_detectable_size_is_found_80_percent_of_the_time_one_way():
    sizes, sd, alpha = [4, 6, 5], 0.03, 0.01
    total, smallest = sum(sizes), min(sizes)
    delta = interactions.detectable_shift(sd, smallest * (total - smallest) / total, len(sizes) - 1,
                                          total - len(sizes), alpha)
    gen = np.random.default_rng(4)

    def draw():  # the smallest group (the hardest to see) shifted by delta
        return [gen.normal(delta * (size == smallest), sd, size) for size in sizes]

    assert interactions.one_way_heterogeneity(draw())["weight"] == pytest.approx(4 * 11 / 15)
    rate = _rejection_rate(interactions.one_way_heterogeneity, draw, 3000, alpha)
    assert rate == pytest.approx(0.8, abs=0.03)


def test_too_few_blocks_give_no_power_claim():
    assert math.isnan(interactions.two_way_heterogeneity(np.ones((1, 3)))["p_value"])
    assert math.isnan(interactions.detectable_shift(math.nan, 1.0, 2, 0, 0.05))


def test_sentences_never_call_an_unseen_interaction_absent():
    quiet = pd.DataFrame({"factor": ["optimizer"] * 2, "level_a": ["gd"] * 2, "level_b": ["adam"] * 2,
                          "across": ["regularizer", "dataset"], "scope": ["all", "all"], "p_holm": [0.4, 1.0],
                          "significant": [False, False], "detectable_shift": [0.031, 0.052]})
    loud = quiet.assign(factor="regularizer", across=["optimizer", "dataset"], scope=["dataset=d2", "all"],
                        p_holm=[0.0001, 0.2], significant=[True, False])
    sentences = interactions.interaction_sentences(pd.concat([quiet, loud], ignore_index=True))
    assert sentences[0] == ("optimizer: no interaction detected (2 tests, Holm); at 80% power after Holm, the design "
                            "detects an interaction (one level or dataset shifted) of 3.1 accuracy points or more "
                            "in its most sensitive test, 4.2 in the median test.")
    assert sentences[1] == ("regularizer: 1 of 2 interaction tests significant after Holm: gd - adam varies with "
                            "optimizer on d2 (p_Holm < 0.001).")
    assert not any("absent" in s for s in sentences)
    many = pd.concat([loud.assign(p_holm=p, significant=True, level_a=f"l{i}") for i, p in
                      enumerate([0.04, 0.001, 0.02, 0.0002, 0.03, 0.01, 0.005])], ignore_index=True)
    named = interactions.interaction_sentences(many, named=3)[0]
    assert named.startswith("regularizer: 14 of 14 interaction tests significant after Holm: the strongest: l3 - adam")
    assert named.count("varies with") == 3 and named.endswith("; and 11 more (interaction_tests).")
    assert named.index("l3 -") < named.index("l1 -") and "l6 -" not in named  # two tests per level
    few = quiet.assign(detectable_shift=[0.04, 3.0])
    assert interactions.interaction_sentences(few)[0].endswith(", and 1 test would miss even a 100-point one.")
    blind = quiet.assign(detectable_shift=[1.5, 3.0])
    assert interactions.interaction_sentences(blind)[0].endswith("would detect even a 100-point interaction at 80% "
                                                                 "power.")
