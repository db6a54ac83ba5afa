"""The course's published numbers, reproduced through the engine under the course's seeding.

Every published number is compared as an exact float. The full-length
experiments take about three minutes together, so they are marked slow;
the course's small function test cases run in well under a second.
"""

import functools
import os
import re
from pathlib import Path

import numpy as np
import pytest

from nnstudy.core import network
from nnstudy.data import course_files
from nnstudy.study import course_gradcheck, replication
from nnstudy.errors import ConfigError

from conftest import course_data_dir, course_data_required

SKIP_REASON = "course data files not found: set NNSTUDY_DATA_DIR"


def data_dir_with(files):
    """The course data folder if it holds ``files``; skip otherwise, fail in CI."""
    folder = course_data_dir()
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        if course_data_required():
            pytest.fail(f"course data files {missing} not found in {folder} (required in CI)")
        pytest.skip(SKIP_REASON)
    return folder


@functools.lru_cache(maxsize=None)
def experiment_table(name):
    """Run one experiment once per test session: {(variant, metric): value}."""
    folder = data_dir_with(replication.EXPERIMENTS[name].files)
    table, skipped = replication.run_all(folder, experiments=[name])
    assert skipped == []
    return {(row.variant, row.metric): row.value for row in table.itertuples()}


# ---------------------------------------------------------------------------
# The course's function test cases


def test_he_initialization_test_case():
    params = replication.course_initialization([2, 4, 1], "he", seed=3)
    expected_W1 = [
        [1.78862847, 0.43650985],
        [0.09649747, -1.8634927],
        [-0.2773882, -0.35475898],
        [-0.08274148, -0.62700068],
    ]
    np.testing.assert_allclose(params["W1"][0], expected_W1, rtol=1e-7)
    np.testing.assert_array_equal(params["b1"], np.zeros((1, 4, 1)))
    assert params["W2"].shape == (1, 1, 4)


def test_random_initialization_test_case():
    # initialize_parameters_random([3, 2, 1]): the same draws as He, times 10.
    params = replication.course_initialization([3, 2, 1], "random", seed=3)
    np.testing.assert_allclose(
        params["W1"][0],
        [[17.88628473, 4.36509851, 0.96497468], [-18.63492703, -2.77388203, -3.54758979]],
        rtol=1e-7,
    )
    np.testing.assert_allclose(params["W2"][0], [[-0.82741481, -6.27000677]], rtol=1e-7)


def test_zeros_initialization_is_all_zero():
    params = replication.course_initialization([2, 10, 5, 1], "zeros")
    assert all(not value.any() for value in params.values())
    assert params["W2"].shape == (1, 5, 10)


def test_unknown_scheme_is_refused():
    with pytest.raises(ConfigError, match="scheme='xavier'"):
        replication.course_initialization([2, 1], "xavier")


def six_parameters(arch):
    """W1, b1, W2, b2, W3, b3 drawn from the global generator in the course's order."""
    shapes = arch.parameter_shapes
    return {name: np.random.randn(*shape)[np.newaxis] for name, shape in shapes.items()}


def test_regularized_cost_test_case():
    np.random.seed(1)
    arch = network.Architecture((3, 2, 3, 1))
    params = six_parameters(arch)
    Y = np.array([[1, 1, 0, 1, 0]])
    A3 = np.array([[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]])
    m = Y.shape[1]
    # The course's cross-entropy, from the given activations.
    cross_entropy = 1.0 / m * np.nansum(-np.log(A3) * Y - np.log(1 - A3) * (1 - Y))
    cost = cross_entropy + network.l2_penalty(params, 0.1, m)[0]
    np.testing.assert_allclose(cost, 1.7864859451590758, rtol=1e-12, atol=0)


def test_dropout_forward_test_case():
    np.random.seed(1)
    X = np.random.randn(3, 5)
    arch = network.Architecture((3, 2, 3, 1))
    params = six_parameters(arch)
    sampler = replication.CourseSampler(dropout_seed=1)
    uniforms = sampler.uniforms(0, [(2, 5), (3, 5)])
    keep_prob = network.per_model(0.7, 1)
    logits, _ = network.forward(params, X, arch, keep_prob, uniforms)
    A3 = 1 / (1 + np.exp(-logits[0]))
    # The course printed eight decimals, so 0.00305176 stands for anything
    # within 5e-9 of it (here 0.0030517581...): rtol alone cannot hold there.
    np.testing.assert_allclose(
        A3, [[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]], rtol=1e-7, atol=5e-9
    )


def test_course_dropout_masks_never_change():
    sampler = replication.CourseSampler(dropout_seed=1)
    first = sampler.uniforms(0, [(20, 211), (3, 211)])
    later = sampler.uniforms(12345, [(20, 211), (3, 211)])
    assert [u.shape for u in first] == [(1, 20, 211), (1, 3, 211)]
    for a, b in zip(first, later):
        np.testing.assert_array_equal(a, b)


def test_course_mini_batch_order():
    # random_mini_batches(X, Y, 64, seed) with the seed counter 10 + 1 + epoch.
    sampler = replication.CourseSampler(first_shuffle_seed=11)
    for epoch in (0, 7):
        np.random.seed(11 + epoch)
        expected = np.random.permutation(300)
        order = sampler.order(epoch, 300)
        assert order.shape == (1, 300)
        np.testing.assert_array_equal(order[0], expected)


def test_sampler_without_a_seed_says_which():
    with pytest.raises(ConfigError, match="first_shuffle_seed"):
        replication.CourseSampler().order(0, 10)
    with pytest.raises(ConfigError, match="dropout_seed"):
        replication.CourseSampler().uniforms(0, [(2, 3)])


def test_course_data_shapes():
    X, y, X_test, y_test = replication.course_circles()
    assert X.shape == (2, 300) and y.shape == (300,)
    assert X_test.shape == (2, 100) and y_test.shape == (100,)
    X, y = replication.course_moons()
    assert X.shape == (2, 300) and y.shape == (300,)


# ---------------------------------------------------------------------------
# Gradient checks


def test_gradient_check_1d():
    # The course printed difference = 2.919335883291695e-10 for x = 2, theta = 4.
    assert replication.gradient_check_1d(x=2.0, theta=4.0, epsilon=1e-7) == 2.919335883291695e-10


# The course's published differences (its public test pins them to 16 digits).
COURSE_ND_DIFFERENCE = 1.1890913024229996e-07
COURSE_ND_DIFFERENCE_WITH_MISTAKES = 0.2850931567761623


def test_gradient_check_nd_is_the_courses_number():
    difference = replication.gradient_check_nd()
    assert difference == pytest.approx(COURSE_ND_DIFFERENCE, rel=1e-9, abs=0)


def test_gradient_check_nd_with_the_exercises_mistakes():
    difference = replication.gradient_check_nd(mistakes=course_gradcheck.COURSE_MISTAKES)
    # Equal to 1e-9 relative; the last of the 16 digits depends on the BLAS
    # summing the matrix products.
    assert difference == pytest.approx(COURSE_ND_DIFFERENCE_WITH_MISTAKES, rel=1e-9, abs=0)


def test_engine_check_of_the_same_case_is_far_more_accurate():
    # The engine's cost from the logits keeps the digits the course's
    # -log(sigmoid(z)) loses: about a hundred times less rounding noise.
    engine = replication.gradient_check_nd_engine()
    assert engine < COURSE_ND_DIFFERENCE / 50


def test_course_backward_is_the_engines_gradient():
    params, X, Y, arch = replication.course_gradient_check_case(seed=1)
    plain = {name: value[0] for name, value in params.items()}
    _, activations = course_gradcheck.forward(X, Y, plain)
    course = course_gradcheck.backward(Y, plain, activations)
    logits, cache = network.forward(params, X, arch)
    engine = network.backward(params, cache, logits, Y, arch)
    for name in plain:
        np.testing.assert_allclose(course[name], engine[name][0], rtol=1e-12, atol=1e-15)
    wrong = course_gradcheck.backward(Y, plain, activations, course_gradcheck.COURSE_MISTAKES)
    np.testing.assert_array_equal(wrong["W2"], 2 * course["W2"])
    np.testing.assert_array_equal(wrong["b1"], 4 * course["b1"])
    np.testing.assert_array_equal(wrong["W1"], course["W1"])


def test_course_cost_is_the_plain_cross_entropy():
    X = np.zeros((2, 2))
    params = {"W1": np.zeros((1, 2)), "b1": np.array([[np.log(3.0)]])}  # a = 0.75 everywhere
    Y = np.array([[1.0, 0.0]])
    cost, activations = course_gradcheck.forward(X, Y, params)
    np.testing.assert_allclose(activations[-1], [[0.75, 0.75]])
    assert cost == pytest.approx((-np.log(0.75) - np.log(0.25)) / 2, rel=1e-15)


def test_course_parameter_vector_round_trips_in_the_courses_order():
    params, _, _, _ = replication.course_gradient_check_case(seed=1)
    plain = {name: value[0] for name, value in params.items()}
    order = course_gradcheck.parameter_order(plain)
    assert order == ["W1", "b1", "W2", "b2", "W3", "b3"]
    vector = course_gradcheck.to_vector(plain, order)
    assert vector.shape == (47, 1)
    np.testing.assert_array_equal(vector[:20, 0], plain["W1"].ravel())
    np.testing.assert_array_equal(vector[20:25, 0], plain["b1"].ravel())
    back = course_gradcheck.to_dict(vector, {name: plain[name].shape for name in order})
    for name in order:
        np.testing.assert_array_equal(back[name], plain[name])


def test_gradient_check_case_order():
    # X first, then W1, b1, W2, b2, W3, b3, as the course draws them.
    params, X, Y, arch = replication.course_gradient_check_case(seed=1)
    np.random.seed(1)
    np.testing.assert_array_equal(X, np.random.randn(4, 3))
    np.testing.assert_array_equal(params["W1"][0], np.random.randn(5, 4))
    np.testing.assert_array_equal(params["b1"][0], np.random.randn(5, 1))
    np.testing.assert_array_equal(Y, [[1, 1, 0]])


# ---------------------------------------------------------------------------
# run_all: the table, skipping, and no trace left in the global generator


def test_run_all_table_and_state(tmp_path):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    table, skipped = replication.run_all(tmp_path, experiments=["gradient_check"])
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert skipped == []
    assert list(table.columns) == ["experiment", "variant", "metric", "value"]
    pairs = table[["variant", "metric"]].values.tolist()
    assert pairs == [
        ["1d", "difference"], ["nd", "difference"], ["nd_with_mistakes", "difference"],
        ["nd_engine", "difference"],
    ]
    assert table["value"].dtype == np.float64


def test_run_all_skips_missing_files_by_name(tmp_path):
    table, skipped = replication.run_all(
        tmp_path, experiments=["regularization", "logistic_regression"]
    )
    assert table.empty
    assert [name for name, _ in skipped] == ["regularization", "logistic_regression"]
    assert str(tmp_path / "data.mat") in skipped[0][1]
    assert "train_catvnoncat.h5" in skipped[1][1] and "test_catvnoncat.h5" in skipped[1][1]


def test_run_all_without_a_data_folder(monkeypatch):
    monkeypatch.delenv(replication.DATA_DIR_VARIABLE, raising=False)
    table, skipped = replication.run_all(experiments=["regularization", "gradient_check"])
    assert skipped[0][0] == "regularization"
    assert replication.DATA_DIR_VARIABLE in skipped[0][1] and "data.mat" in skipped[0][1]
    assert set(table["experiment"]) == {"gradient_check"}


def test_run_all_reads_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(replication.DATA_DIR_VARIABLE, str(tmp_path))
    _, skipped = replication.run_all(experiments=["regularization"])
    assert skipped == [("regularization", f"missing file(s): {tmp_path / 'data.mat'}")]


def test_run_all_refuses_unknown_experiments():
    with pytest.raises(ConfigError, match="experiment='dropout'"):
        replication.run_all(experiments=["gradient_check", "dropout"])


def test_only_the_replication_uses_the_global_generator():
    legacy = re.compile(
        r"np\.random\.(seed|rand|randn|randint|random|permutation|shuffle|normal|uniform|choice)\("
    )
    package = Path(replication.__file__).parent
    users = [
        path.name for path in package.glob("*.py")
        if path.name != "replication.py" and legacy.search(path.read_text())
    ]
    assert users == []


# ---------------------------------------------------------------------------
# The published numbers of the full-length experiments

# (experiment, variant, metric) -> the course's published value
PUBLISHED = {
    ("initialization", "zeros", "train_accuracy"): 0.5,
    ("initialization", "zeros", "test_accuracy"): 0.5,
    ("initialization", "random", "train_accuracy"): 0.83,
    ("initialization", "random", "test_accuracy"): 0.86,
    ("initialization", "he", "train_accuracy"): 0.9933333333333333,
    ("initialization", "he", "test_accuracy"): 0.96,
    ("optimization", "gd", "train_accuracy"): 0.7966666666666666,
    ("optimization", "momentum", "train_accuracy"): 0.7966666666666666,
    ("optimization", "adam", "train_accuracy"): 0.94,
    ("regularization", "none", "train_accuracy"): 0.9478672985781991,
    ("regularization", "none", "test_accuracy"): 0.915,
    ("regularization", "l2", "train_accuracy"): 0.9383886255924171,
    ("regularization", "l2", "test_accuracy"): 0.93,
    ("regularization", "dropout", "train_accuracy"): 0.9289099526066351,
    ("regularization", "dropout", "test_accuracy"): 0.95,
}

# variant -> ((train %, m_train), (test %, m_test)) as the course printed them,
# from 100 - mean(|prediction - y|) * 100.
PUBLISHED_PERCENT = {
    "lr_0.005": ((99.04306220095694, 209), (70.0, 50)),
    "lr_0.01": ((99.52153110047847, 209), (68.0, 50)),
    "lr_0.001": ((88.99521531100478, 209), (64.0, 50)),
    "lr_0.0001": ((68.42105263157895, 209), (36.0, 50)),
}


def course_percent(accuracy, m):
    """The course's percentage for the same predictions as a fraction ``accuracy`` of ``m``."""
    n_wrong = round((1 - accuracy) * m)
    assert accuracy == (m - n_wrong) / m  # the fraction is exactly a count over m
    return 100 - np.mean(np.arange(m) < n_wrong) * 100


def published_case(key):
    needs_files = bool(replication.EXPERIMENTS[key[0]].files)
    marks = [pytest.mark.course_data] if needs_files else []
    return pytest.param(key, marks=marks, id="-".join(key))


@pytest.mark.slow
@pytest.mark.parametrize("key", [published_case(key) for key in PUBLISHED])
def test_published_accuracy(key):
    experiment, variant, metric = key
    assert experiment_table(experiment)[(variant, metric)] == PUBLISHED[key]


@pytest.mark.slow
@pytest.mark.course_data
@pytest.mark.parametrize("variant", list(PUBLISHED_PERCENT))
def test_published_logistic_regression(variant):
    table = experiment_table("logistic_regression")
    (train_percent, m_train), (test_percent, m_test) = PUBLISHED_PERCENT[variant]
    assert course_percent(table[(variant, "train_accuracy")], m_train) == train_percent
    assert course_percent(table[(variant, "test_accuracy")], m_test) == test_percent


@pytest.mark.slow
def test_optimization_reports_no_test_accuracy():
    table = experiment_table("optimization")
    assert {metric for _, metric in table} == {"train_accuracy", "final_cost"}


@pytest.mark.slow
@pytest.mark.course_data
def test_every_variant_and_metric_is_reported():
    data_dir_with([file for e in replication.EXPERIMENTS.values() for file in e.files])
    rows = {
        name: {key for key in experiment_table(name)} for name in replication.EXPERIMENTS
    }
    assert {variant for variant, _ in rows["regularization"]} == {
        "none", "l2", "dropout", "dropout_fresh_masks"
    }
    assert {variant for variant, _ in rows["logistic_regression"]} == set(PUBLISHED_PERCENT)
    for name, keys in rows.items():
        if name != "gradient_check":
            assert all(np.isfinite(experiment_table(name)[key]) for key in keys)


def test_course_files_name_what_the_chosen_experiments_read(tmp_path, monkeypatch):
    # One list of files, the one the experiments run with, in their order.
    assert list(course_files.REPLICATION_FILES) == list(replication.EXPERIMENTS)
    monkeypatch.delenv("NNSTUDY_DATA_DIR", raising=False)
    assert course_files.replication_files(None) == []
    assert course_files.replication_files(tmp_path, ["gradient_check", "regularization"]) == [tmp_path / "data.mat"]
    assert course_files.replication_files(tmp_path) == [
        tmp_path / name for name in ("data.mat", "train_catvnoncat.h5", "test_catvnoncat.h5")
    ]
    monkeypatch.setenv("NNSTUDY_DATA_DIR", str(tmp_path))
    assert course_files.replication_files(None, ["logistic_regression"]) == [
        tmp_path / "train_catvnoncat.h5",
        tmp_path / "test_catvnoncat.h5",
    ]
