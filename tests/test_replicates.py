"""A seed replicates the whole experiment: split, initialization, batch order, dropout.

Each source comes from its own stream of the seed, so switching one on or
varying it leaves the others untouched, a model's split depends only on the
dataset name and the seed number, and the variance decomposition finds
exactly zero for a source that cannot act.
"""

import copy
import math

import numpy as np
import pytest

from nnstudy import config as config_module
from nnstudy.data import datasets
from nnstudy.study import grid as study, variance
from nnstudy.study.experiment import ModelSpec

from conftest import REPO

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def small_config(**decomposition):
    """The smoke study, cut down to one small dataset and three seeds."""
    config = config_module.load(REPO / "config" / "smoke.yaml", SCHEMA)
    config = copy.deepcopy(config)
    config["seeds"] = [0, 1, 2]
    config["datasets"] = {
        "moons": {"source": "moons", "params": {"n_samples": 300, "noise": 0.3}, "seed": 3, "hidden_layers": [6],
                  "epochs": 8, "batch_size": 32, "eval_every": 4, "dev_fraction": 0.2,
                  "test_fraction": 0.25, "standardize": True},
    }
    config["variance_decomposition"] = {"initializer": "he", "regularizer": "dropout",
                                        "optimizer": "adam", **decomposition}
    return config


def indexed_pool(counts, test=None):
    """A raw pool whose only feature is each sample's index, ``counts[c]`` samples of class c."""
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(y.size, dtype=float)[None, :]
    X_test, y_test = (None, None) if test is None else test
    return datasets.Pool(X, y, len(counts), 0.2, 0.0 if test else 0.25, False, X_test, y_test,
                         {"dataset": "indexed"})


# ---------------------------------------------------------------------------
# Streams


def test_switching_dropout_on_changes_neither_initial_weights_nor_splits():
    config = small_config()
    pool = study.build_pool(config, "moons")
    with_dropout = variance.decomposition_specs(config, "moons", {"learning_rate": 0.01}, [0, 1])
    config["variance_decomposition"]["regularizer"] = "none"
    without = variance.decomposition_specs(config, "moons", {"learning_rate": 0.01}, [0, 1])
    assert with_dropout[1] == without[1]  # the same splits
    for a, b in zip(with_dropout[0], without[0]):
        assert a.stream_seeds() == b.stream_seeds() and a.keep_prob < 1 and b.keep_prob == 1
    first = [study.replicate_split(pool, "moons", s).X_train for s in with_dropout[1][:2]]
    np.testing.assert_array_equal(first[0], study.replicate_split(pool, "moons", 0).X_train)


def test_a_seed_that_cannot_act_changes_nothing():
    # Without dropout the dropout stream is never read: two dropout seeds train the same model.
    config = small_config()
    pool = study.build_pool(config, "moons")
    seed = study.model_seed("moons", 0)
    specs = [ModelSpec("he", seed, 0.01), ModelSpec("he", seed, 0.01, dropout_seed=seed + 1)]
    split = study.replicate_split(pool, "moons", 0)
    outcome = study.train_specs(config, "moons", "adam", [split, split], specs)
    for k, v in outcome.result.params.items():
        np.testing.assert_array_equal(v[0], v[1], err_msg=k)


# ---------------------------------------------------------------------------
# Splits


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_replicate_splits_are_stratified_disjoint_and_cover_the_pool(seed):
    pool = indexed_pool([60, 30, 10])
    s = study.replicate_split(pool, "indexed", seed)
    index = np.concatenate([s.X_train[0], s.X_dev[0], s.X_test[0]]).astype(int)
    np.testing.assert_array_equal(np.sort(index), np.arange(100))  # disjoint and covering
    for X_part, y_part in [(s.X_train, s.y_train), (s.X_dev, s.y_dev), (s.X_test, s.y_test)]:
        np.testing.assert_array_equal(y_part, pool.y[X_part[0].astype(int)])
    # 20 dev and 25 test samples, shared 6:3:1 like the pool (largest remainder).
    np.testing.assert_array_equal(np.bincount(s.y_dev, minlength=3), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(s.y_test, minlength=3), [15, 8, 2])  # ties: lower class
    assert s.metadata["replicate"] == seed


def test_each_seed_draws_its_own_split_of_equal_sizes():
    pool = indexed_pool([60, 30, 10])
    splits = [study.replicate_split(pool, "indexed", s) for s in range(4)]
    tests = [frozenset(s.X_test[0].astype(int)) for s in splits]
    assert len(set(tests)) == 4
    assert len({(s.X_train.shape, s.X_dev.shape, s.X_test.shape) for s in splits}) == 1


def test_a_split_depends_only_on_the_dataset_name_and_the_seed():
    pool = indexed_pool([50, 50])
    alone = study.replicate_split(pool, "indexed", 3)
    among = study.replicate_splits(pool, "indexed", [5, 3, 0, 3])
    for s in (among[1], among[3]):
        np.testing.assert_array_equal(s.X_train, alone.X_train)
        np.testing.assert_array_equal(s.X_test, alone.X_test)
    renamed = study.replicate_split(pool, "other", 3)
    assert not np.array_equal(renamed.X_test, alone.X_test)


def test_a_fixed_test_set_stays_fixed_across_seeds():
    fixed = (np.array([[1000.0, 1001.0, 1002.0]]), np.array([0, 1, 1]))
    pool = indexed_pool([20, 20], test=fixed)
    splits = [study.replicate_split(pool, "indexed", s) for s in range(3)]
    for s in splits:
        np.testing.assert_array_equal(s.X_test, fixed[0])
        assert s.y_train.size + s.y_dev.size == 40
    assert not np.array_equal(splits[0].X_dev, splits[1].X_dev)


def test_each_split_is_standardized_with_its_own_training_statistics():
    config = small_config()
    pool = study.build_pool(config, "moons")
    for seed in (0, 1):
        s = study.replicate_split(pool, "moons", seed)
        np.testing.assert_allclose(s.X_train.mean(axis=1), 0.0, atol=1e-12)
        np.testing.assert_allclose(s.X_train.std(axis=1), 1.0)


def test_make_dataset_still_splits_with_its_own_seed():
    # The lectures and the command line keep one split per dataset seed.
    a = datasets.make_dataset("moons", 3, {"n_samples": 80})
    pool = datasets.make_pool("moons", 3, {"n_samples": 80})
    b = datasets.split_pool(pool, a.metadata["split_seed"])
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.metadata == b.metadata


def test_the_cells_rows_of_a_seed_do_not_depend_on_the_other_seeds():
    config = small_config()
    pool = study.build_pool(config, "moons")
    config["initializers"] = {"he": {}}
    _, rows = study.train_cell(config, "moons", "adam", "dropout", pool, study.one_rate(config, 0.01))
    config["seeds"] = [2]
    _, alone = study.train_cell(config, "moons", "adam", "dropout", pool, study.one_rate(config, 0.01))
    assert alone == [rows[2]]
    assert len({r["test_accuracy"] for r in rows}) > 1


@pytest.mark.parametrize("fixed_test", [False, True])
def test_pool_round_trip_beside_the_first_split(tmp_path, fixed_test):
    from nnstudy import io
    from nnstudy.errors import DataError

    test = (np.array([[1000.0, 1001.0]]), np.array([0, 1])) if fixed_test else None
    pool = indexed_pool([20, 20], test=test)
    first = study.replicate_split(pool, "indexed", 0)
    io.write_dataset(tmp_path / "d.h5", first, pool=pool)
    back = io.read_pool(tmp_path / "d.h5")
    for name in ("X", "y", "X_test", "y_test"):
        a, b = getattr(pool, name), getattr(back, name)
        assert (a is None and b is None) or np.array_equal(a, b)
    assert (back.n_classes, back.dev_fraction, back.test_fraction, back.standardize) == (
        pool.n_classes, pool.dev_fraction, pool.test_fraction, pool.standardize)
    assert back.metadata == pool.metadata
    np.testing.assert_array_equal(study.replicate_split(back, "indexed", 2).X_dev,
                                  study.replicate_split(pool, "indexed", 2).X_dev)
    # The file still reads as the first seed's split.
    np.testing.assert_array_equal(io.read_dataset(tmp_path / "d.h5").X_train, first.X_train)
    io.write_dataset(tmp_path / "one.h5", first)
    with pytest.raises(DataError, match="no 'pool'"):
        io.read_pool(tmp_path / "one.h5")


# ---------------------------------------------------------------------------
# Variance decomposition


def test_variant_seeds_vary_one_source_or_all():
    assert variance.variant_seeds("init", 4, 0) == {"split": 0, "init": 4, "shuffle": 0, "dropout": 0}
    assert variance.variant_seeds(variance.ALL, 4, 0) == {s: 4 for s in variance.SOURCES}


def planted_rows(spreads, seeds=8, seed=0):
    """Decomposition rows whose test accuracy has the standard deviation ``spreads[source]``."""
    gen = np.random.default_rng(seed)
    rows = []
    for source in (*variance.SOURCES, variance.ALL):
        sd = spreads[source] if source != variance.ALL else math.sqrt(sum(v**2 for v in spreads.values()))
        for k, noise in enumerate(gen.standard_normal(seeds)):
            rows.append({"dataset": "d", "initializer": "he", "regularizer": "dropout", "optimizer": "adam",
                         "source": source, "seed": k, "status": "ok", "test_accuracy": 0.8 + sd * noise})
    return rows


def test_decomposition_table_reports_each_sources_variance_and_share():
    rows = planted_rows({"split": 0.04, "init": 0.02, "shuffle": 0.0, "dropout": 0.01})
    table = {r["source"]: r for r in variance.decomposition_rows(rows)}
    assert list(table) == [*variance.SOURCES, variance.ALL]
    for source, row in table.items():
        values = [r["test_accuracy"] for r in rows if r["source"] == source]
        assert row["variance"] == pytest.approx(np.var(values, ddof=1), abs=1e-15)
        assert row["sd"] == pytest.approx(np.std(values, ddof=1), abs=1e-15)
        assert row["seeds"] == 8 and row["diverged"] == 0
    singles = sum(table[s]["variance"] for s in variance.SOURCES)
    for source, row in table.items():
        assert row["share"] == pytest.approx(row["variance"] / singles)
    assert sum(table[s]["share"] for s in variance.SOURCES) == pytest.approx(1.0)
    assert table["shuffle"]["variance"] == 0.0 and table["shuffle"]["share"] == 0.0


def test_decomposition_recovers_planted_variances_on_average():
    spreads = {"split": 0.04, "init": 0.02, "shuffle": 0.0, "dropout": 0.01}
    estimates = {s: [] for s in spreads}
    shares = {s: [] for s in spreads}
    for rep in range(200):
        for row in variance.decomposition_rows(planted_rows(spreads, seed=rep)):
            if row["source"] in estimates:
                estimates[row["source"]].append(row["variance"])
                shares[row["source"]].append(row["share"])
    for source, sd in spreads.items():
        # The sample variance is unbiased: its mean over 200 studies is within a few standard errors.
        assert np.mean(estimates[source]) == pytest.approx(sd**2, rel=0.15, abs=1e-12)
    assert np.mean(shares["split"]) > np.mean(shares["init"]) > np.mean(shares["dropout"]) > 0
    assert np.max(shares["shuffle"]) == 0.0


def test_decomposition_counts_diverged_runs_and_leaves_them_out():
    rows = planted_rows({"split": 0.03, "init": 0.0, "shuffle": 0.0, "dropout": 0.0}, seeds=4)
    rows[1] = {**rows[1], "status": "diverged", "test_accuracy": math.nan}
    table = {r["source"]: r for r in variance.decomposition_rows(rows)}
    kept = [r["test_accuracy"] for r in rows[:4] if r["status"] == "ok"]
    assert table["split"]["diverged"] == 1
    assert table["split"]["variance"] == pytest.approx(np.var(kept, ddof=1))


@pytest.mark.parametrize(
    "regularizer, optimizer, silent",
    [("none", "gd", {"shuffle", "dropout"}), ("dropout", "adam", set()), ("none", "adam", {"dropout"})],
)
def test_trained_decomposition_finds_zero_for_a_source_switched_off(regularizer, optimizer, silent):
    config = small_config(regularizer=regularizer, optimizer=optimizer, seeds=[0, 1, 2, 3])
    pool = study.build_pool(config, "moons")
    runs = variance.train_decomposition(config, "moons", pool, {"learning_rate": 0.05})
    assert len(runs) == 5 * 4
    table = {r["source"]: r for r in variance.decomposition_rows(runs)}
    for source in variance.SOURCES:
        if source in silent:
            assert table[source]["variance"] == 0.0 and table[source]["share"] == 0.0
        else:
            # An active source may still leave a 75-sample test accuracy unchanged; never negative.
            assert table[source]["variance"] >= 0.0
    assert table["split"]["variance"] > 0.0 and table["all"]["variance"] > 0.0
    # Every set holds the first seed's model, which varies nothing: they all share it.
    firsts = {r["test_accuracy"] for r in runs if r["seed"] == 0}
    assert len(firsts) == 1


def test_decomposition_config_must_name_the_studys_levels():
    config = small_config()
    config["variance_decomposition"]["optimizer"] = "sgd"
    with pytest.raises(Exception, match="variance_decomposition.optimizer"):
        config_module.validated(config, SCHEMA)


@pytest.mark.parametrize("regularizer, optimizer, silent",
                         [("dropout", "adam", set()), ("none", "gd", {"shuffle", "dropout"})])
def test_each_source_varied_alone_changes_the_trained_model_exactly_when_it_can_act(
        regularizer, optimizer, silent):
    config = small_config(regularizer=regularizer, optimizer=optimizer)
    pool = study.build_pool(config, "moons")
    specs, split_seeds, labels = variance.decomposition_specs(config, "moons", {"learning_rate": 0.05}, [0, 1])
    outcome = study.train_specs(config, "moons", optimizer,
                                study.replicate_splits(pool, "moons", split_seeds), specs)
    W1 = outcome.result.params["W1"]
    position = {label: i for i, label in enumerate(labels)}
    for source in (*variance.SOURCES, variance.ALL):
        same = np.array_equal(W1[position[(source, 0)]], W1[position[(source, 1)]])
        assert same == (source in silent), source


def test_a_cell_stores_each_seeds_split_once():
    from nnstudy.study.experiment import train_data

    pool = indexed_pool([30, 30])
    splits = study.replicate_splits(pool, "indexed", [0, 1, 2, 0, 1, 2])  # two initializers x three seeds
    data = train_data(splits)
    assert data.X.shape[0] == 3 and data.n_models() == 6
    np.testing.assert_array_equal(data.sets, [0, 1, 2, 0, 1, 2])
    chunk = data.subset(np.array([4, 5]))
    np.testing.assert_array_equal(chunk.X, np.stack([splits[1].X_train, splits[2].X_train]))
    np.testing.assert_array_equal(chunk.y_dev, np.stack([splits[1].y_dev, splits[2].y_dev]))
