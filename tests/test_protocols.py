"""Protocol sensitivity: planted verdict flips are found, identical protocols flip nothing."""

import numpy as np
import pytest

from nnstudy.analysis import analyze, comparisons, protocols, verdicts
from test_verdicts import SMALL, planted_runs

LEVELS = {"initializer": ["x10", "he"], "regularizer": ["none", "l2"], "optimizer": ["gd", "momentum", "adam"]}


def verdicts_of(effect, seed=0):
    frame = verdicts.prepare_runs(planted_runs(seed, effect, LEVELS))
    table, *_ = verdicts.analyze_runs(frame, LEVELS, bayes_samples=500)
    return table, frame


def adam_ahead(d, i, r, o):
    return 0.05 * (o == "adam") + 0.03 * (i == "he")


def gd_ahead(d, i, r, o):
    return 0.05 * (o == "gd") + 0.03 * (i == "he")


@pytest.fixture(scope="module")
def two_protocols():
    return verdicts_of(adam_ahead), verdicts_of(gd_ahead)


def test_identical_protocols_flip_nothing(two_protocols):
    (table, _), _ = two_protocols
    flips, ranks = protocols.protocol_sensitivity(table, table.copy())
    assert len(flips) == len(table)
    assert flips[list(protocols.KEYS)].equals(table[list(protocols.KEYS)].reset_index(drop=True))
    assert not flips["changed"].any()
    assert not ranks["ranking_changed"].any()
    assert (ranks["mean_rank_a"] == ranks["mean_rank_b"]).all()


def test_a_planted_optimizer_flip_is_found_and_the_other_factors_hold(two_protocols):
    (a, _), (b, _) = two_protocols
    flips, ranks = protocols.protocol_sensitivity(a, b)
    overall = flips[(flips["factor"] == "optimizer") & (flips["scope"] == "all")].set_index(["level_a", "level_b"])
    assert overall.loc[("gd", "adam"), "verdict_a"] == "b better"
    assert overall.loc[("gd", "adam"), "verdict_b"] == "a better"
    assert overall.loc[("gd", "adam"), "changed"]
    assert overall.loc[("gd", "adam"), "estimate_a"] == pytest.approx(-0.05, abs=0.01)
    assert overall.loc[("gd", "adam"), "estimate_b"] == pytest.approx(0.05, abs=0.01)
    initializer = flips[(flips["factor"] == "initializer") & (flips["scope"] == "all")]
    assert (initializer["verdict_a"] == "b better").all() and not initializer["changed"].any()
    optimizer = ranks[ranks["factor"] == "optimizer"].set_index("level")
    assert optimizer["ranking_changed"].all()
    assert optimizer.at["adam", "mean_rank_a"] == 1 and optimizer.at["gd", "mean_rank_b"] == 1
    assert not ranks[ranks["factor"] == "initializer"]["ranking_changed"].any()


def test_a_row_under_one_protocol_only_counts_as_changed(two_protocols):
    (a, _), _ = two_protocols
    fewer = a[a["scope"] != "dataset=d0"]
    flips, _ = protocols.protocol_sensitivity(a, fewer)
    assert flips["changed"].sum() == (a["scope"] == "dataset=d0").sum()
    assert flips.loc[flips["changed"], "verdict_b"].isna().all()


def test_ranks_from_the_verdict_tables_equal_ranks_of_the_level_means(two_protocols):
    (table, frame), _ = two_protocols
    for factor in ("initializer", "optimizer"):
        got, datasets = protocols.mean_ranks(table, factor)
        matrix = analyze.dataset_matrix(frame, factor, LEVELS)
        want = dict(zip(matrix.columns, comparisons.average_ranks(matrix.to_numpy())))
        assert datasets == len(matrix)
        assert got == pytest.approx(want)


def test_centred_scores_are_the_level_means_less_their_mean():
    frame = verdicts.prepare_runs(planted_runs(1, lambda d, i, r, o: 0.02 * (r == "l2"), SMALL, noise=0.02))
    table, *_ = verdicts.analyze_runs(frame, SMALL, bayes_samples=200)
    scores = protocols.centred_scores(table, "regularizer")
    means = analyze.dataset_matrix(frame, "regularizer", SMALL)
    centred = means.sub(means.mean(axis=1), axis=0)
    assert np.allclose(scores.loc[centred.index, centred.columns].to_numpy(), centred.to_numpy())
