"""Verdicts on runs tables with planted effects: found where planted, not found where absent."""

import numpy as np
import pandas as pd
import pytest

from nnstudy.analysis import verdicts

LEVELS = {"initializer": ["zeros", "x10", "he"], "regularizer": ["none", "l2"], "optimizer": ["gd", "momentum", "adam"]}
SMALL = {"initializer": ["x10", "he"], "regularizer": ["none", "l2"], "optimizer": ["gd", "adam"]}


def planted_runs(seed, effect, levels=LEVELS, datasets=4, seeds=5, noise=0.01):
    """A runs table: accuracy = dataset base + shared seed draw + effect(dataset, levels) + run noise.

    Runs with the same dataset and seed share one draw (the pairing); each
    run adds its own noise. effect(dataset, initializer, regularizer,
    optimizer) is the planted difference.
    """
    gen = np.random.default_rng(seed)
    rows = []
    for k in range(datasets):
        for s in range(seeds):
            shared = gen.normal(0, noise)
            for i in levels["initializer"]:
                for r in levels["regularizer"]:
                    for o in levels["optimizer"]:
                        accuracy = 0.8 + 0.03 * k + shared + effect(f"d{k}", i, r, o) + gen.normal(0, noise)
                        rows.append({"dataset": f"d{k}", "initializer": i, "regularizer": r, "optimizer": o,
                                     "seed": s, "status": "completed", "train_accuracy": accuracy,
                                     "dev_accuracy": accuracy, "test_accuracy": accuracy})
    return pd.DataFrame(rows)


def verdict_of(table, factor, a, b, scope):
    row = table[(table["factor"] == factor) & (table["level_a"] == a) & (table["level_b"] == b)
                & (table["scope"] == scope)]
    assert len(row) == 1, (factor, a, b, scope)
    return row.iloc[0]["verdict"]


def test_verdict_table_has_exactly_the_documented_columns():
    frame = verdicts.prepare_runs(planted_runs(0, lambda *_: 0.0, SMALL))
    table, *_ = verdicts.analyze_runs(frame, SMALL, bayes_samples=200)
    assert list(table.columns[:12]) == list(verdicts.VERDICT_COLUMNS)
    assert set(table["verdict"]) <= set(verdicts.VERDICTS)
    assert set(table["scope"]) == {"all", "initializer=x10", "initializer=he", "regularizer=none", "regularizer=l2",
                                   "optimizer=gd", "optimizer=adam", "dataset=d0", "dataset=d1", "dataset=d2",
                                   "dataset=d3"}
    # Claims about datasets in general count datasets; claims about one dataset count its seeds.
    assert set(table.loc[table["scope"] == "all", "n_blocks"]) == {4}
    assert set(table.loc[table["scope"].str.startswith("dataset="), "n_blocks"]) == {5}


@pytest.mark.parametrize("seed", range(5))
def test_a_uniform_effect_on_one_level_is_found_everywhere(seed):
    frame = verdicts.prepare_runs(planted_runs(seed, lambda d, i, r, o: 0.05 * (o == "adam")))
    table, *_ = verdicts.analyze_runs(frame, LEVELS, bayes_samples=500)
    adam = table[(table["factor"] == "optimizer") & (table["level_b"] == "adam")]
    assert (adam["verdict"] == "b better").all(), adam[["level_a", "scope", "verdict"]]
    overall = adam[adam["scope"] == "all"]
    assert np.allclose(overall["estimate"], -0.05, atol=0.01)
    assert (overall["ci_high"] < 0).all() and (overall["ci_low"] < overall["estimate"]).all()
    assert verdict_of(table, "optimizer", "gd", "momentum", "all") in ("equivalent", "undecided")


def test_a_null_factor_gets_directional_verdicts_at_most_at_the_family_wise_rate():
    repetitions = 60
    false_claims = 0
    for seed in range(repetitions):
        frame = verdicts.prepare_runs(planted_runs(100 + seed, lambda *_: 0.0, SMALL, datasets=4, seeds=4,
                                                   noise=0.02))
        table = verdicts.factor_verdicts(frame, "optimizer", SMALL, bayes_samples=200)
        false_claims += table["verdict"].isin(["a better", "b better"]).any()
    # Nominal 5%; allow binomial noise (P(X >= 8 | n=60, p=0.05) < 0.05).
    assert false_claims / repetitions <= 0.05 + 3 / repetitions


def test_an_effect_that_varies_by_dataset_but_averages_zero_is_not_claimed_in_general():
    # The regime that misled the old statistics: a real effect on every
    # dataset, positive on some and negative on others.
    signs = {"d0": 1, "d1": -1, "d2": 1, "d3": -1}
    claims = 0
    for seed in range(30):
        frame = verdicts.prepare_runs(planted_runs(
            300 + seed, lambda d, i, r, o: 0.03 * signs[d] * (o == "adam"), SMALL, seeds=4))
        table = verdicts.factor_verdicts(frame, "optimizer", SMALL, bayes_samples=200)
        claims += verdict_of(table, "optimizer", "gd", "adam", "all") in ("a better", "b better")
        assert verdict_of(table, "optimizer", "gd", "adam", "all") != "equivalent"
    assert claims <= 3


@pytest.mark.parametrize("seed", range(5))
def test_an_effect_on_one_dataset_is_found_there_and_flagged_as_an_interaction(seed):
    frame = verdicts.prepare_runs(planted_runs(seed, lambda d, i, r, o: 0.05 * (r == "l2") * (d == "d2"), seeds=6))
    table, interactions, *_ = verdicts.analyze_runs(frame, LEVELS, bayes_samples=500)
    assert verdict_of(table, "regularizer", "none", "l2", "dataset=d2") == "b better"
    for other in ("d0", "d1", "d3"):
        assert verdict_of(table, "regularizer", "none", "l2", f"dataset={other}") != "b better"
    by_dataset = interactions[(interactions["factor"] == "regularizer") & (interactions["across"] == "dataset")]
    assert by_dataset["significant"].all()
    assert verdict_of(table, "regularizer", "none", "l2", "all") == "depends"


@pytest.mark.parametrize("seed", range(5))
def test_an_optimizer_that_rescues_a_bad_initializer_depends_on_it(seed):
    # Adam trains x10 networks that stall at chance (0.5) with the others; under He all are equal.
    def effect(d, i, r, o):
        return -0.3 if (i == "x10" and o != "adam") else 0.0

    frame = verdicts.prepare_runs(planted_runs(seed, effect, SMALL))
    table, interactions, *_ = verdicts.analyze_runs(frame, SMALL, bayes_samples=2000)
    assert verdict_of(table, "optimizer", "gd", "adam", "all") == "depends"
    assert verdict_of(table, "optimizer", "gd", "adam", "initializer=he") == "equivalent"
    assert verdict_of(table, "optimizer", "gd", "adam", "initializer=x10") == "b better"
    across = interactions[(interactions["factor"] == "optimizer") & (interactions["across"] == "initializer")]
    assert across["significant"].all()


def test_failures_are_charged_to_the_level_that_predicts_them():
    # zeros stalls everywhere, x10 stalls unless Adam trains it; the regularizer has nothing to do with it.
    def effect(d, i, r, o):
        return -0.3 if i == "zeros" or (i == "x10" and o != "adam") else 0.0

    runs = planted_runs(0, effect)
    runs["failed"] = runs["test_accuracy"] < 0.7
    chance = pd.DataFrame({"chance_train": 0.5, "chance_test": 0.5, "n_train": 200},
                          index=pd.Index([f"d{k}" for k in range(4)], name="dataset"))
    frame = verdicts.prepare_runs(runs, chance)
    frame["failed"] = runs["failed"]
    failing = verdicts.failing_levels(frame, LEVELS)
    marked = failing[failing["step"] > 0]
    assert list(zip(marked["factor"], marked["level"])) == [("initializer", "zeros"), ("initializer", "x10")]
    assert list(marked["failed"]) == [120, 80]
    rest = failing[failing["step"] == 0].set_index(["factor", "level"])
    assert rest.loc[("regularizer", "none"), "failed"] == 0
    # Without the failing initializers, the optimizers are compared on He only.
    clean = verdicts.without_failing_levels(frame, failing, "optimizer")
    assert set(clean["initializer"]) == {"he"}
    assert set(verdicts.without_failing_levels(frame, failing, "initializer")["initializer"]) == {"zeros", "x10", "he"}


def test_prepare_runs_scores_a_diverged_run_at_chance_and_counts_stalls():
    runs = planted_runs(0, lambda *_: 0.0, SMALL, datasets=1, seeds=2)
    runs.loc[0, ["status", "test_accuracy", "train_accuracy"]] = ["diverged", np.nan, np.nan]
    runs.loc[1, "train_accuracy"] = 0.505
    chance = pd.DataFrame({"chance_train": 0.5, "chance_test": 0.52, "n_train": 400},
                          index=pd.Index(["d0"], name="dataset"))
    frame = verdicts.prepare_runs(runs, chance)
    assert frame.loc[0, "score"] == 0.52 and frame.loc[0, "failed"]
    assert frame.loc[1, "failed"] and not frame.loc[2:, "failed"].any()


def test_two_blocks_inside_the_rope_are_not_called_equivalent_when_the_interval_is_wide():
    # The signed-rank posterior puts everything in the ROPE; the t test's interval does not.
    wide = [0.001, 0.009]
    assert not verdicts.inside_rope(wide, rope=0.01)
    assert verdicts.inside_rope([0.001, 0.002, 0.0015, 0.0012], rope=0.01)
    assert verdicts.simple_verdict(0.005, False, 1.0, 1.0) == "undecided"
    assert verdicts.simple_verdict(0.001, True, 1.0, 0.99) == "equivalent"
    assert verdicts.simple_verdict(0.001, True, 1.0, 0.90) == "undecided"
    assert verdicts.simple_verdict(-0.05, False, 0.01, 0.0) == "b better"


@pytest.mark.parametrize("seed", range(3))
def test_a_regularizer_optimizer_interaction_on_one_dataset_is_found_in_that_dataset(seed):
    # L2 gains 10 points with Adam on d2 only: one cell of one dataset, about 1.7 points of the
    # regularizer's average effect over six optimizer-dataset cells.
    def effect(d, i, r, o):
        return 0.10 * (r == "l2" and o == "adam" and d == "d2")

    frame = verdicts.prepare_runs(planted_runs(seed, effect, datasets=4, seeds=5, noise=0.02))
    tests = verdicts.factor_interactions(frame, "regularizer", LEVELS)
    found = tests[tests["significant"]]
    assert ("optimizer", "dataset=d2") in set(zip(found["across"], found["scope"]))
    assert set(found["scope"]) <= {"all", "dataset=d2"}
    flagged = tests[(tests["across"] == "optimizer") & (tests["scope"] == "dataset=d2")].iloc[0]
    # The design's power claim covers what was planted: the test sees shifts smaller than 10 points.
    assert flagged["detectable_shift"] < 0.10 and flagged["blocks"] == "seeds" and flagged["n_blocks"] == 5
    table = verdicts.factor_verdicts(frame, "regularizer", LEVELS, bayes_samples=500, interactions=tests)
    assert verdict_of(table, "regularizer", "none", "l2", "dataset=d2") == "b better"
    assert verdict_of(table, "regularizer", "none", "l2", "all") == "depends"


def test_null_interactions_are_flagged_at_most_at_the_family_wise_rate():
    # One factor's family (9 tests: across 2 factors, across datasets, and within each of 3 datasets).
    repetitions = 100
    flagged = 0
    for seed in range(repetitions):
        frame = verdicts.prepare_runs(planted_runs(500 + seed, lambda *_: 0.0, SMALL, datasets=3, seeds=4,
                                                   noise=0.02))
        flagged += verdicts.factor_interactions(frame, "regularizer", SMALL)["significant"].any()
    # Holm keeps the family at 5%; P(X >= 10 | n=100, p=0.05) < 0.03.
    assert flagged <= 9, flagged


def test_interaction_rows_state_their_blocks_and_power():
    frame = verdicts.prepare_runs(planted_runs(0, lambda *_: 0.0, SMALL, datasets=3, seeds=4))
    tests = verdicts.factor_interactions(frame, "optimizer", SMALL)
    assert list(tests.columns) == list(verdicts.INTERACTION_COLUMNS)
    # Per pair: across the 2 other factors (datasets as blocks), across datasets (seeds as
    # replicates), and across the 2 other factors within each of 3 datasets (seeds as blocks).
    assert len(tests) == 2 + 1 + 3 * 2
    overall = tests[tests["scope"] == "all"].set_index("across")
    assert overall.loc["initializer", "blocks"] == "datasets" and overall.loc["initializer", "n_blocks"] == 3
    assert overall.loc["dataset", "blocks"] == "seeds" and overall.loc["dataset", "n_blocks"] == 12
    assert (tests["detectable_shift"] > 0).all()
    # More seeds, same noise: smaller interactions become visible.
    more = verdicts.factor_interactions(verdicts.prepare_runs(planted_runs(0, lambda *_: 0.0, SMALL, datasets=3,
                                                                           seeds=12)), "optimizer", SMALL)
    assert more["detectable_shift"].median() < tests["detectable_shift"].median()
