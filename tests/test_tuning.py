"""The search protocol: equal quasi-random budgets per unit, per-model hyperparameters, one choice."""

import copy
import math

import numpy as np
import pytest

from nnstudy import config as config_module
from nnstudy.errors import ConfigError
from nnstudy.study import grid as study, search, tuning
from nnstudy.study.experiment import ModelSpec, run_batch

from conftest import REPO

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def small_config(**tuning_options):
    """The smoke study on one small dataset, tuned by search."""
    config = copy.deepcopy(config_module.load(REPO / "config" / "smoke.yaml", SCHEMA))
    config["datasets"] = {
        "moons": {"source": "moons", "params": {"n_samples": 200, "noise": 0.3}, "seed": 3, "hidden_layers": [5],
                  "epochs": 4, "batch_size": 32, "eval_every": 2, "dev_fraction": 0.2,
                  "test_fraction": 0.25, "standardize": True},
    }
    config["tuning"].update({"protocol": "search", "trials": 4, "seeds": [100, 101], "sensitivity_datasets": [],
                             **tuning_options})
    return config


def test_a_tuning_batch_gives_each_model_the_trajectory_it_has_alone():
    # Every model with its own learning rate, betas, epsilon, lambd and keep_prob.
    config = small_config()
    pool = study.build_pool(config, "moons")
    split = study.replicate_split(pool, "moons", 0)
    arch = study.architecture(config, "moons", split)
    train_config = study.train_config(config, "moons", "adam", split)
    values = [(0.01, 0.9, 0.999, 1e-8, 0.0, 1.0), (0.05, 0.6, 0.95, 1e-4, 0.3, 0.8),
              (0.002, 0.99, 0.9999, 1e-6, 2.0, 0.6)]
    specs = [ModelSpec("he", 7 + i, lr, lambd=lambd, keep_prob=keep, beta1=b1, beta2=b2, epsilon=eps)
             for i, (lr, b1, b2, eps, lambd, keep) in enumerate(values)]
    shared = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    together = run_batch(split, arch, "adam", shared, train_config, specs)
    for s, spec in enumerate(specs):
        alone_spec = ModelSpec("he", spec.seed, spec.learning_rate, lambd=spec.lambd, keep_prob=spec.keep_prob)
        own = {"beta1": spec.beta1, "beta2": spec.beta2, "epsilon": spec.epsilon}
        alone = run_batch(split, arch, "adam", own, train_config, [alone_spec])
        for name, value in together.result.params.items():
            np.testing.assert_array_equal(value[s], alone.result.params[name][0], err_msg=f"model {s} {name}")
        np.testing.assert_array_equal(together.result.history["cost"][s], alone.result.history["cost"][0])


def test_a_model_that_sets_a_hyperparameter_overrides_the_batch_and_the_rest_keep_it():
    config = small_config()
    pool = study.build_pool(config, "moons")
    split = study.replicate_split(pool, "moons", 0)
    arch = study.architecture(config, "moons", split)
    train_config = study.train_config(config, "moons", "adam", split)
    specs = [ModelSpec("he", 1, 0.05, beta1=0.5), ModelSpec("he", 1, 0.05)]
    mixed = run_batch(split, arch, "adam", {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, train_config, specs)
    plain = run_batch(split, arch, "adam", {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, train_config,
                      [ModelSpec("he", 1, 0.05)])
    np.testing.assert_array_equal(mixed.result.params["W1"][1], plain.result.params["W1"][0])
    assert not np.array_equal(mixed.result.params["W1"][0], plain.result.params["W1"][0])


@pytest.mark.parametrize(("optimizer", "regularizer", "tuned"), [
    ("gd", "none", ["learning_rate"]),
    ("adam", "l2", ["learning_rate", "beta1", "beta2", "epsilon", "lambd"]),
    ("adam", "dropout", ["learning_rate", "beta1", "beta2", "epsilon", "keep_prob"]),
    ("gd", "early_stopping", ["learning_rate", "patience"]),
])
def test_a_unit_tunes_the_dimensions_that_apply_to_it(optimizer, regularizer, tuned):
    config = small_config()
    assert [d.name for d in tuning.unit_dimensions(config, optimizer, regularizer)] == tuned
    trials = tuning.unit_trials(config, optimizer, regularizer)
    assert len(trials) == 4 and all(sorted(t) == sorted(tuned) for t in trials)


def test_a_dimension_left_out_of_the_space_keeps_its_configured_value():
    config = small_config()
    del config["tuning"]["space"]["lambd"]
    labels, specs = tuning.search_batch(config, "moons", "adam", "l2")
    assert {s.lambd for s in specs} == {config["regularizers"]["l2"]["lambd"]}
    assert len({s.learning_rate for s in specs}) == 4


def test_every_unit_gets_the_same_budget_and_the_tuning_seeds_only():
    config = small_config()
    labels, specs = tuning.search_batch(config, "moons", "adam", "dropout")
    assert len(specs) == len(config["initializers"]) * 4 * 2
    seeds = {seed for _, _, seed in labels}
    assert seeds == {100, 101} and not seeds & set(config["seeds"])
    # The same trials for every initializer: the unit is the only difference.
    by_init = {}
    for (init, trial, seed), spec in zip(labels, specs):
        by_init.setdefault(init, []).append((trial, seed, spec.learning_rate, spec.keep_prob, spec.beta1))
    assert len({tuple(v) for v in by_init.values()}) == 1


def test_the_trials_table_gives_every_unit_exactly_its_drawn_trials(tmp_path):
    # The search jobs read their trials from the table the study draws once.
    from nnstudy import io

    config = small_config(trials=5)
    path = tmp_path / "trials.csv"
    io.write_rows(path, tuning.trial_rows(config))
    rows = io.read_rows(path)
    assert len(rows) == len(config["optimizers"]) * len(config["regularizers"]) * 5
    for optimizer in config["optimizers"]:
        for regularizer in config["regularizers"]:
            read = tuning.trials_from_rows(config, rows, optimizer, regularizer)
            drawn = tuning.unit_trials(config, optimizer, regularizer)
            assert read == drawn  # the same values, bit for bit, with patience an int
            assert [type(v) for t in read for v in t.values()] == [type(v) for t in drawn for v in t.values()]
    with pytest.raises(ConfigError, match="no full set of trials for adam / l2"):
        tuning.trials_from_rows(config, [r for r in rows if r["trial"] != 2], "adam", "l2")


def test_the_search_job_chooses_once_and_training_reads_that_choice():
    config = small_config()
    config["initializers"] = {"zeros": {}, "he": {}}
    pool = study.build_pool(config, "moons")
    _, rows = tuning.search_cell(config, "moons", "adam", "l2", pool)
    assert len(rows) == 2 * 4 * 2
    chosen = tuning.choose(config, rows)
    assert [c["initializer"] for c in chosen] == ["zeros", "he"]
    hyper = tuning.cell_hyperparameters(config, "l2", chosen)
    for c in chosen:
        trial_rows = [r for r in rows if r["initializer"] == c["initializer"] and r["trial"] == c["trial"]]
        assert math.isclose(c["dev_accuracy"], np.mean([r["dev_accuracy"] for r in trial_rows]))
        assert hyper[c["initializer"]]["learning_rate"] == trial_rows[0]["learning_rate"]
        assert hyper[c["initializer"]]["lambd"] == trial_rows[0]["lambd"]
        assert set(hyper[c["initializer"]]) == {"learning_rate", "beta1", "beta2", "epsilon", "lambd"}
        dims = {d.name: d for d in tuning.unit_dimensions(config, "adam", "l2")}
        expected = [n for n, d in dims.items() if d.at_edge(c[n])]
        assert c["edges"] == ";".join(expected)
    specs = study.grid_specs(config, "moons", "l2", hyper)
    he = [s for s in specs if s.initializer == "he"]
    assert {s.learning_rate for s in he} == {hyper["he"]["learning_rate"]}
    assert {s.beta2 for s in he} == {hyper["he"]["beta2"]}


def test_without_per_initializer_tuning_every_initializer_takes_the_reference_choice():
    config = small_config(per_initializer=False)
    labels, _ = tuning.search_batch(config, "moons", "gd", "none")
    assert {init for init, _, _ in labels} == {"he"}
    chosen = [{"initializer": "he", **{k: math.nan for k in tuning.HYPERPARAMETERS}, "learning_rate": 0.1}]
    hyper = tuning.cell_hyperparameters(config, "none", chosen)
    assert hyper == {init: {"learning_rate": 0.1} for init in config["initializers"]}


def test_the_grid_protocol_trains_the_models_it_trained_before():
    # The same ModelSpecs as the learning-rate protocol always built.
    config = small_config(protocol="grid")
    config["learning_rates"] = {"tune": False, "fixed": {name: 0.01 for name in config["optimizers"]}}
    hyper = tuning.study_hyperparameters(config, "adam", "dropout", None)
    specs = study.grid_specs(config, "moons", "dropout", hyper)
    keep = config["regularizers"]["dropout"]["keep_prob"]
    for (init, seed), spec in zip(study.cell_runs(config), specs):
        scale = (config["initializers"][init] or {}).get("scale")
        assert spec == ModelSpec(init, study.model_seed("moons", seed), 0.01, scale, keep_prob=keep)


def test_tuning_seeds_shared_with_the_study_are_refused():
    config = small_config(seeds=[0, 100])
    with pytest.raises(ConfigError, match="tuning.seeds"):
        study.check_config(config)


def test_a_space_with_a_bad_range_is_refused():
    config = small_config()
    config["tuning"]["space"]["beta1"] = {"low": 0.5, "high": 1.0, "scale": "log1m"}
    with pytest.raises(ConfigError, match="beta1"):
        study.check_config(config)


def test_a_sensitivity_dataset_must_be_a_dataset_of_the_study():
    config = small_config(sensitivity_datasets=["circles"])
    with pytest.raises(ConfigError, match="sensitivity_datasets"):
        study.check_config(config)


def test_the_declared_default_space_is_a_valid_space():
    config = small_config()
    assert [d.name for d in search.dimensions(config["tuning"]["space"])] == list(tuning.HYPERPARAMETERS)
