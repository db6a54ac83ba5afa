"""The report's statistics on constructed data where the right answer is known."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from nnstudy.analysis import stats

UNITS = ["dataset", "seed"]


def three_sigma_band(rate, trials):
    """The binomial 3-sigma band around ``rate`` for ``trials`` independent trials."""
    half = 3 * math.sqrt(rate * (1 - rate) / trials)
    return rate - half, rate + half


def design(gen, effects, datasets=6, seeds=5, noise=0.01):
    """A full factorial study of three factors with known effects.

    effects : {factor: {level: shift of the score}}; each factor has three
    levels, and every (dataset, seed) unit has its own offset (datasets
    differ in difficulty), so only paired comparisons see small effects.
    """
    levels = {f: list(shifts) for f, shifts in effects.items()}
    rows = []
    for d in range(datasets):
        base = 0.6 + 0.05 * d
        for s in range(seeds):
            unit = base + gen.normal(0, 0.05)
            for combo in itertools.product(*levels.values()):
                chosen = dict(zip(levels, combo))
                score = unit + sum(effects[f][chosen[f]] for f in levels) + gen.normal(0, noise)
                rows.append({"dataset": f"d{d}", "seed": s, **chosen, "score": score})
    return pd.DataFrame(rows), levels


# ---------------------------------------------------------------------------
# Hand-checked values


def test_holm_matches_a_hand_worked_example():
    # Sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04 -> raised to 0.06 (monotone).
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    # 0.5 * 2 = 1.0; 0.9 * 1 = 0.9 -> raised to 1.0.
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])
    adjusted = stats.holm([np.nan, 0.02])
    assert np.isnan(adjusted[0]) and adjusted[1] == pytest.approx(0.02)


def test_performance_profile_of_a_hand_worked_table():
    scores = np.array(
        [
            [0.90, 0.85, np.nan],  # best A; B 0.05 behind; C diverged
            [0.70, 0.80, 0.80],  # B and C tie for best; A 0.10 behind
        ]
    )
    fractions = stats.performance_profile(scores, [0.0, 0.05, 0.1, 1.0])
    np.testing.assert_allclose(
        fractions,
        [
            [0.5, 0.5, 0.5],
            [0.5, 1.0, 0.5],
            [1.0, 1.0, 0.5],
            [1.0, 1.0, 0.5],
        ],
    )


def test_ranks_average_ties_and_put_the_best_first():
    frame = pd.DataFrame(
        {"dataset": ["a"] * 3 + ["b"] * 3, "opt": ["x", "y", "z"] * 2, "score": [0.9, 0.8, 0.8, 0.5, 0.7, 0.6]}
    )
    ranks = stats.ranks_by_block(frame, "opt", ["x", "y", "z"], "dataset", "score")
    got = {(r.dataset, r.level): r.rank for r in ranks.itertuples()}
    assert got == {("a", "x"): 1.0, ("a", "y"): 2.5, ("a", "z"): 2.5, ("b", "x"): 3.0, ("b", "y"): 1.0, ("b", "z"): 2.0}


def test_interaction_share_is_zero_for_parallel_lines_and_one_for_a_pure_crossing():
    def two_way(means):
        return pd.DataFrame(
            [
                {"factor_a": "f", "level_a": a, "factor_b": "g", "level_b": b, "units": 1, "mean": m}
                for (a, b), m in means.items()
            ]
        )

    parallel = two_way({("a", "c"): 0.5, ("a", "d"): 0.7, ("b", "c"): 0.6, ("b", "d"): 0.8})
    crossing = two_way({("a", "c"): 0.5, ("a", "d"): 0.7, ("b", "c"): 0.7, ("b", "d"): 0.5})
    assert stats.interaction_share(parallel)["share"].item() == pytest.approx(0.0, abs=1e-12)
    assert stats.interaction_share(crossing)["share"].item() == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# Detection on constructed studies


EFFECTS = {
    "optimizer": {"gd": 0.0, "momentum": 0.0, "adam": 0.03},  # a real effect
    "initializer": {"he": 0.0, "xavier": 0.0, "glorot": 0.0},  # no effect at all
    "regularizer": {"none": 0.0, "l2": 0.0, "dropout": 0.0},  # no effect at all
}


def test_a_real_interaction_has_a_large_share_and_absent_ones_a_small_one():
    frame, levels = design(np.random.default_rng(2), EFFECTS)
    # Adam helps only with He weights: an optimizer x initializer interaction.
    boost = (frame["optimizer"] == "adam") & (frame["initializer"] == "he")
    frame.loc[boost, "score"] += 0.04
    shares = stats.interaction_share(stats.two_way_means(frame, levels, UNITS, "score")).set_index(
        ["factor_a", "factor_b"]
    )["share"]
    assert shares[("optimizer", "initializer")] > 0.05
    assert shares[("optimizer", "regularizer")] < 0.05


def test_holm_keeps_the_family_wise_error_rate_at_alpha():
    gen = np.random.default_rng(4)
    trials = 400
    # Ten true null hypotheses per family, independent p-values (uniform under the null).
    any_rejected = sum((stats.holm(gen.uniform(size=10)) <= 0.05).any() for _ in range(trials))
    _, high = three_sigma_band(0.05, trials)
    assert any_rejected / trials <= high
    # Without correction the family-wise rate would be about 1 - 0.95**10 = 0.40.
    uncorrected = sum((gen.uniform(size=10) <= 0.05).any() for _ in range(trials))
    assert uncorrected / trials > 0.3


def test_profiles_rank_the_real_effect_first():
    frame, levels = design(np.random.default_rng(6), EFFECTS)
    profile = stats.profiles(frame, levels, UNITS, "score", [0.0, 0.5])
    at_zero = profile[(profile["factor"] == "optimizer") & (profile["tau"] == 0.0)].set_index("level")
    assert at_zero.loc["adam", "fraction"] > 0.95
    assert (profile[profile["tau"] == 0.5]["fraction"] == 1.0).all()
    assert set(profile["problems"]) == {6 * 5 * 3 * 3}


def test_a_design_with_single_level_factors_gives_zero_shares_not_errors():
    frame, levels = design(np.random.default_rng(7), {"optimizer": {"adam": 0.0}, "initializer": {"he": 0.0},
                                                      "regularizer": {"none": 0.0}})
    shares = stats.interaction_share(stats.two_way_means(frame, levels, UNITS, "score"))
    assert (shares["share"] == 0).all()
