"""Tests for nnstudy.data.datasets and the dataset functions of nnstudy.io."""

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnstudy.data import course_files, datasets
from nnstudy.data.datasets import (
    GENERATORS,
    load_cat_h5,
    load_mat,
    make_dataset,
    one_hot_targets,
    split,
    standardize,
    validate_arrays,
)
from nnstudy.errors import ConfigError, DataError
from nnstudy.io import read_dataset, write_dataset

from conftest import course_data_required

# (n_features, n_classes, pool size) of each generator with its defaults.
EXPECTED = {
    "circles": (2, 2, 400),
    "moons": (2, 2, 400),
    "spirals": (2, 2, 400),
    "football": (2, 2, 400),
    "breast_cancer": (30, 2, 569),
    "digits": (64, 10, 1797),
    "iris": (4, 3, 150),
    "wine": (13, 3, 178),
    "classification": (10, 2, 400),
    "xor": (2, 2, 400),
    "gaussian_quantiles": (2, 3, 400),
}
RANDOM_GENERATORS = ["circles", "moons", "spirals", "football", "classification", "xor", "gaussian_quantiles"]


def course_data_dir():
    """The folder with the course's files; skip (or fail on CI) if it is missing."""
    env = os.environ.get("NNSTUDY_DATA_DIR")
    folder = Path(env) if env else Path(__file__).parents[1] / ".." / "shared" / "datasets"
    needed = ["data.mat", datasets.CAT_TRAIN_FILE, datasets.CAT_TEST_FILE]
    if not all((folder / name).is_file() for name in needed):
        if course_data_required():
            pytest.fail(f"course data files not found in {folder}")
        pytest.skip("course data files not found: set NNSTUDY_DATA_DIR")
    return folder


def assert_data_error(call, *fragments):
    """``call()`` raises DataError whose message contains every fragment."""
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def test_registry_is_the_documented_set():
    assert set(GENERATORS) == set(EXPECTED)


def test_import_does_not_load_heavy_libraries():
    code = (
        "import sys, nnstudy.data.datasets; "
        "heavy = [m for m in ('sklearn', 'scipy', 'h5py') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# Generators


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_generator_shapes_and_classes(name):
    n_features, n_classes, m = EXPECTED[name]
    X, y = GENERATORS[name](0)
    assert X.shape == (n_features, m)
    assert y.shape == (m,)
    assert set(np.unique(y)) == set(range(n_classes))
    validate_arrays(X, y, name)


@pytest.mark.parametrize("name", RANDOM_GENERATORS)
def test_generator_is_deterministic_and_ignores_the_global_rng(name):
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    X1, y1 = GENERATORS[name](7)
    np.random.seed(2)
    X2, y2 = GENERATORS[name](7)
    np.random.seed(1)
    GENERATORS[name](7)
    # The global state is exactly where seeding left it: nothing drew from it.
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = GENERATORS[name](8)
    assert not np.array_equal(X1, X3)


def test_spirals_are_harder_than_moons_for_a_linear_classifier():
    def linear_accuracy(X, y):
        # Least squares on +-1 targets: the simplest linear classifier.
        A = np.vstack([X, np.ones(X.shape[1])]).T
        w, *_ = np.linalg.lstsq(A, 2.0 * y - 1.0, rcond=None)
        return np.mean((A @ w > 0) == (y == 1))

    assert linear_accuracy(*GENERATORS["moons"](0)) > 0.8
    assert linear_accuracy(*GENERATORS["spirals"](0)) < 0.7


def test_spirals_three_arms_give_three_balanced_classes():
    X, y = GENERATORS["spirals"](0, n_samples=300, n_arms=3)
    assert X.shape == (2, 300)
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])


def test_football_label_noise_flips_the_requested_fraction():
    X, y = GENERATORS["football"](0, n_samples=4000, jitter=0.0, label_noise=0.0)
    clean = (X[1] > 0.2 * np.sin(4.0 * X[0]) + 0.1 * X[0]).astype(int)
    np.testing.assert_array_equal(y, clean)
    X, y = GENERATORS["football"](0, n_samples=4000, jitter=0.0, label_noise=0.1)
    clean = (X[1] > 0.2 * np.sin(4.0 * X[0]) + 0.1 * X[0]).astype(int)
    # 400 expected flips; the binomial sd is 19.
    assert abs(np.mean(y != clean) - 0.1) < 0.02
    assert np.abs(X).max() <= 0.75


# ---------------------------------------------------------------------------
# Splitting, standardization, make_dataset


def indexed_pool(counts):
    """A pool whose first feature is the sample's index, with ``counts[c]`` samples of class c."""
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.vstack([np.arange(y.size, dtype=float), np.ones(y.size)])
    return X, y


def test_split_is_a_stratified_partition():
    X, y = indexed_pool([60, 30, 10])
    s = split(X, y, seed=3, dev_fraction=0.2, test_fraction=0.1)
    index = np.concatenate([s.X_train[0], s.X_dev[0], s.X_test[0]]).astype(int)
    np.testing.assert_array_equal(np.sort(index), np.arange(100))
    for X_part, y_part in [(s.X_train, s.y_train), (s.X_dev, s.y_dev), (s.X_test, s.y_test)]:
        np.testing.assert_array_equal(y_part, y[X_part[0].astype(int)])
    # 20 dev and 10 test samples, shared 6:3:1 like the pool.
    np.testing.assert_array_equal(np.bincount(s.y_dev, minlength=3), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(s.y_test, minlength=3), [6, 3, 1])
    np.testing.assert_array_equal(np.bincount(s.y_train, minlength=3), [42, 21, 7])
    assert s.n_classes == 3


def test_split_hits_the_totals_when_classes_do_not_divide_evenly():
    X, y = indexed_pool([7, 5, 3])
    s = split(X, y, seed=0, dev_fraction=0.2, test_fraction=0.2)
    assert s.y_dev.size == 3 and s.y_test.size == 3 and s.y_train.size == 9
    assert set(s.y_train) == {0, 1, 2}


def test_split_is_deterministic_and_shuffled():
    X, y = indexed_pool([50, 50])
    a = split(X, y, seed=5, dev_fraction=0.2, test_fraction=0.2)
    b = split(X, y, seed=5, dev_fraction=0.2, test_fraction=0.2)
    c = split(X, y, seed=6, dev_fraction=0.2, test_fraction=0.2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    # Classes are interleaved, not in blocks.
    assert np.any(np.diff(a.y_train) != 0) and np.sum(np.diff(a.y_train) != 0) > 10


def test_split_keeps_a_rare_class_in_training():
    X, y = indexed_pool([20, 1])
    s = split(X, y, 0, 0.2, 0.2)
    np.testing.assert_array_equal(np.bincount(s.y_train), [12, 1])


def test_split_rejects_classes_too_small_to_share():
    X, y = indexed_pool([3, 2])
    # Dev and test each take one sample of class 1, leaving none to train on.
    assert_data_error(lambda: split(X, y, 0, 0.4, 0.4), "class 1")


@pytest.mark.parametrize(
    "dev, test", [(-0.1, 0.2), (0.2, 1.0), (0.5, 0.5), ("0.2", 0.2), (True, 0.1)]
)
def test_split_rejects_bad_fractions(dev, test):
    X, y = indexed_pool([20, 20])
    with pytest.raises(ConfigError):
        split(X, y, 0, dev, test)


def test_standardize_uses_training_statistics_only():
    X, y = indexed_pool([40, 40])
    X = np.vstack([X, np.full(80, 3.0)])  # a constant feature: std 0
    X[0] = X[0] ** 1.5  # skewed, so parts differ in mean
    raw = split(X, y, seed=1, dev_fraction=0.25, test_fraction=0.25)
    s, stats = standardize(raw)
    np.testing.assert_allclose(s.X_train[:2].mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(s.X_train[:1].std(axis=1), 1.0)
    assert abs(s.X_dev[0].mean()) > 1e-3
    np.testing.assert_allclose(stats["mean"], raw.X_train.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(stats["std"][:1], raw.X_train[:1].std(axis=1, keepdims=True))
    # The constant feature is centered, not divided by zero.
    assert stats["std"][2, 0] == 1.0
    np.testing.assert_array_equal(s.X_test[2], 0.0)
    np.testing.assert_allclose(s.X_dev, (raw.X_dev - stats["mean"]) / stats["std"])
    assert s.stats is stats and raw.stats is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_make_dataset_is_deterministic_and_complete(name):
    n_features, n_classes, m = EXPECTED[name]
    a = make_dataset(name, seed=11)
    b = make_dataset(name, seed=11)
    c = make_dataset(name, seed=12)
    for part in datasets.PARTS:
        np.testing.assert_array_equal(a.part(part)[0], b.part(part)[0])
        np.testing.assert_array_equal(a.part(part)[1], b.part(part)[1])
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.n_classes == n_classes and a.n_features == n_features
    assert a.y_train.size + a.y_dev.size + a.y_test.size == m
    assert a.y_test.size == round(0.2 * m) and a.y_dev.size == round(0.2 * m)
    assert a.X_train.dtype == np.float64 and a.y_train.dtype == np.int64
    np.testing.assert_allclose(a.X_train.mean(axis=1), 0.0, atol=1e-9)
    assert a.metadata["dataset"] == name and a.metadata["seed"] == 11
    assert a.metadata["standardized"] is True
    assert sum(sum(v) for v in a.metadata["class_counts"].values()) == m


def test_make_dataset_records_resolved_parameters():
    s = make_dataset("moons", 0, {"n_samples": 100}, dev_fraction=0.1, test_fraction=0.3)
    assert s.metadata["params"] == {"n_samples": 100, "noise": 0.2}
    assert (s.metadata["dev_fraction"], s.metadata["test_fraction"]) == (0.1, 0.3)
    assert s.y_test.size == 30 and s.y_dev.size == 10


def test_make_dataset_without_standardization_keeps_raw_values():
    s = make_dataset("digits", 0, standardize=False)
    assert s.stats is None and s.metadata["standardized"] is False
    assert s.X_train.min() == 0.0 and s.X_train.max() == 16.0


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"name": "mnist"}, "dataset"),
        ({"name": "moons", "params": {"noize": 0.1}}, r"noize=0.1 .*generator 'moons'"),
        ({"name": "moons", "params": {"n_samples": 0}}, "n_samples"),
        ({"name": "moons", "params": {"noise": -1.0}}, "noise"),
        ({"name": "moons", "seed": -1}, "seed"),
        ({"name": "moons", "seed": 1.5}, "seed"),
        ({"name": "moons", "path": "x.mat"}, "path"),
        ({"name": "mat"}, "path"),
        ({"name": "mat", "path": "x.mat", "params": {"a": 1}}, "params"),
        ({"name": "moons", "dev_fraction": 0.6, "test_fraction": 0.4}, "fraction"),
    ],
)
def test_make_dataset_rejects_bad_configuration(kwargs, fragment):
    kwargs = {"seed": 0, **kwargs}
    with pytest.raises(ConfigError, match=fragment):
        make_dataset(**kwargs)


def test_one_hot_targets():
    y = np.array([0, 1, 1, 0])
    np.testing.assert_array_equal(one_hot_targets(y, 2), [[0.0, 1.0, 1.0, 0.0]])
    Y = one_hot_targets(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(Y, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert Y.shape == (3, 3) and Y.dtype == np.float64
    with pytest.raises(DataError):
        one_hot_targets(np.array([0, 3]), 3)
    with pytest.raises(ConfigError):
        one_hot_targets(y, 1)


# ---------------------------------------------------------------------------
# HDF5 round trip and read_dataset's checks


@pytest.mark.parametrize("standardized", [True, False])
def test_dataset_round_trip(tmp_path, standardized):
    s = make_dataset("digits", 4, dev_fraction=0.1, standardize=standardized)
    path = tmp_path / "digits.h5"
    write_dataset(path, s)
    r = read_dataset(path)
    for part in datasets.PARTS:
        np.testing.assert_array_equal(r.part(part)[0], s.part(part)[0])
        np.testing.assert_array_equal(r.part(part)[1], s.part(part)[1])
        assert r.part(part)[1].dtype == np.int64
    assert r.n_classes == 10
    assert r.metadata == s.metadata
    if standardized:
        np.testing.assert_array_equal(r.stats["mean"], s.stats["mean"])
        np.testing.assert_array_equal(r.stats["std"], s.stats["std"])
    else:
        assert r.stats is None


def test_dataset_round_trip_with_empty_dev(tmp_path):
    s = make_dataset("moons", 0, dev_fraction=0.0)
    write_dataset(tmp_path / "d.h5", s, {"note": "no dev"})
    r = read_dataset(tmp_path / "d.h5")
    assert r.X_dev.shape == (2, 0) and r.metadata == {"note": "no dev"}


def _replace(f, key, value):
    del f[key]
    f[key] = value


DATASET_FILE_CASES = {
    "missing group": (lambda f: f.__delitem__("dev"), "'dev'"),
    "missing X": (lambda f: f.__delitem__("test/X"), "test/X"),
    "missing n_classes": (lambda f: f.__delitem__("n_classes"), "n_classes"),
    "y wrong shape": (lambda f: _replace(f, "train/y", f["train/y"][()][:, None]), "train/y"),
    "X wrong ndim": (lambda f: _replace(f, "dev/X", f["dev/X"][()].ravel()), "dev/X"),
    "lengths differ": (lambda f: _replace(f, "test/y", f["test/y"][()][:-1]), "test/y"),
    "features differ": (lambda f: _replace(f, "test/X", f["test/X"][()][:1]), "test/X"),
    "NaN": (lambda f: f["train/X"].__setitem__((0, 0), np.nan), "train/X"),
    "inf": (lambda f: f["dev/X"].__setitem__((1, 2), -np.inf), "dev/X"),
    "label range": (lambda f: f["dev/y"].__setitem__(0, 2), "dev/y"),
    "single class": (
        lambda f: _replace(f, "train/y", np.zeros_like(f["train/y"][()])),
        "train/y",
    ),
    "stats shape": (
        lambda f: _replace(f, "standardization/std", np.ones(2)),
        "standardization/std",
    ),
    "stats zero": (
        lambda f: _replace(f, "standardization/std", np.zeros((2, 1))),
        "standardization/std",
    ),
}


@pytest.fixture
def dataset_file(tmp_path):
    path = tmp_path / "moons.h5"
    write_dataset(path, make_dataset("moons", 0, {"n_samples": 40}))
    return path


@pytest.mark.parametrize("case", sorted(DATASET_FILE_CASES))
def test_read_dataset_rejects_damaged_content(dataset_file, case):
    damage, key = DATASET_FILE_CASES[case]
    with h5py.File(dataset_file, "a") as f:
        damage(f)
    assert_data_error(lambda: read_dataset(dataset_file), dataset_file.name, key)


def test_read_dataset_rejects_missing_and_truncated_files(dataset_file, tmp_path):
    assert_data_error(lambda: read_dataset(tmp_path / "nope.h5"), "nope.h5", "not found")
    data = dataset_file.read_bytes()
    dataset_file.write_bytes(data[: len(data) // 2])
    assert_data_error(lambda: read_dataset(dataset_file), dataset_file.name)


# ---------------------------------------------------------------------------
# The course's .mat layout


def good_mat():
    rng = np.random.default_rng(0)
    return {
        "X": rng.normal(size=(20, 2)),
        "y": (np.arange(20) % 2).reshape(20, 1).astype(np.uint8),
        "Xval": rng.normal(size=(10, 2)),
        "yval": (np.arange(10) % 2).reshape(10, 1).astype(np.uint8),
    }


def _with(key, value):
    def mutate(content):
        content[key] = value(content) if callable(value) else value

    return mutate


def _set_entry(key, index, value, dtype=None):
    def mutate(content):
        array = content[key].astype(dtype or content[key].dtype)
        array[index] = value
        content[key] = array

    return mutate


MAT_CASES = {
    "missing key": (lambda c: c.pop("Xval"), "Xval"),
    "X 3-D": (_with("X", lambda c: c["X"].reshape(20, 2, 1)), "'X'"),
    "y two columns": (_with("y", np.zeros((20, 2))), "'y'"),
    "yval lengths differ": (_with("yval", lambda c: c["yval"][:9]), "'yval'"),
    "Xval features differ": (_with("Xval", np.zeros((10, 3))), "'Xval'"),
    "X NaN": (_set_entry("X", (3, 1), np.nan), "'X'"),
    "Xval inf": (_set_entry("Xval", (0, 0), np.inf), "'Xval'"),
    "y negative": (_set_entry("y", (0, 0), -1, np.int16), "'y'"),
    "yval out of range": (_set_entry("yval", (4, 0), 2), "'yval'"),
    "y not whole": (_set_entry("y", (5, 0), 0.5, float), "'y'"),
    "y single class": (_with("y", np.zeros((20, 1))), "'y'"),
    "X text": (_with("X", "not numbers"), "'X'"),
}


@pytest.mark.parametrize("case", sorted(MAT_CASES))
def test_load_mat_rejects_bad_content(tmp_path, case):
    mutate, key = MAT_CASES[case]
    content = good_mat()
    mutate(content)
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, content)
    assert_data_error(lambda: load_mat(path), "bad.mat", key)


@pytest.mark.parametrize("key, column", [("X", 1), ("Xval", 0)])
def test_load_mat_refuses_features_that_would_overflow_and_names_the_column(tmp_path, key, column):
    content = good_mat()
    huge = content[key].astype(float)
    huge[:, column] = np.where(np.arange(len(huge)) % 2, 1e308, -1e308)
    content[key] = huge
    path = tmp_path / "huge.mat"
    scipy.io.savemat(path, content)
    with pytest.raises(DataError) as excinfo:
        load_mat(path)
    message = str(excinfo.value)
    assert "huge.mat" in message and f"{key!r} feature {column}" in message
    assert f"{datasets.MAX_FEATURE_MAGNITUDE:.3g}" in message


def test_features_just_inside_the_magnitude_bound_standardize_to_finite_values():
    bound = datasets.MAX_FEATURE_MAGNITUDE
    rng = np.random.default_rng(0)
    X = rng.choice([-bound, bound], size=(2, 200))
    y = (X[0] > 0).astype(np.int64)
    X_ok, _ = validate_arrays(X, y, "edge")
    moments = standardize(split(X_ok, y, 0, 0.2, 0.2))[0]
    assert all(np.isfinite(moments.part(part)[0]).all() for part in ("train", "dev", "test"))
    with pytest.raises(DataError, match="feature 1"):
        validate_arrays(X * np.array([[1.0], [1.01]]), y, "edge")


def test_load_mat_reads_the_layout(tmp_path):
    content = good_mat()
    path = tmp_path / "good.mat"
    scipy.io.savemat(path, content)
    data = load_mat(path)
    np.testing.assert_array_equal(data.X_train, content["X"].T)
    np.testing.assert_array_equal(data.y_test, content["yval"][:, 0])
    assert data.y_train.dtype == np.int64 and data.n_classes == 2


def test_load_mat_rejects_missing_and_truncated_files(tmp_path):
    assert_data_error(lambda: load_mat(tmp_path / "none.mat"), "none.mat", "not found")
    path = tmp_path / "cut.mat"
    scipy.io.savemat(path, good_mat())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    assert_data_error(lambda: load_mat(path), "cut.mat", "cannot read")
    path.write_bytes(b"")
    assert_data_error(lambda: load_mat(path), "cut.mat", "cannot read")


# ---------------------------------------------------------------------------
# The course's cat/non-cat layout


def good_cat():
    rng = np.random.default_rng(0)
    train = {
        "train_set_x": rng.integers(0, 256, size=(6, 4, 4, 3), dtype=np.uint8),
        "train_set_y": np.array([0, 1, 0, 1, 1, 0]),
        "list_classes": np.array([b"non-cat", b"cat"]),
    }
    test = {
        "test_set_x": rng.integers(0, 256, size=(4, 4, 4, 3), dtype=np.uint8),
        "test_set_y": np.array([1, 0, 0, 1]),
    }
    return train, test


def write_cat(folder, train, test):
    paths = folder / datasets.CAT_TRAIN_FILE, folder / datasets.CAT_TEST_FILE
    for path, content in zip(paths, (train, test)):
        with h5py.File(path, "w") as f:
            for key, value in content.items():
                f[key] = value
    return paths


def _float_image(key, value):
    def mutate(train, test):
        content = train if key.startswith("train") else test
        images = content[key].astype(float)
        images[0, 1, 2, 0] = value
        content[key] = images

    return mutate


def _set(key, value):
    def mutate(train, test):
        content = train if key.startswith("train") or key == "list_classes" else test
        content[key] = value(content[key]) if callable(value) else value

    return mutate


# (how to damage the pair, which file, which key)
CAT_CASES = {
    "missing x": (lambda tr, te: tr.pop("train_set_x"), "train", "train_set_x"),
    "missing classes": (lambda tr, te: tr.pop("list_classes"), "train", "list_classes"),
    "missing test y": (lambda tr, te: te.pop("test_set_y"), "test", "test_set_y"),
    "x 3-D": (_set("train_set_x", lambda x: x[..., 0]), "train", "train_set_x"),
    "y 2-D": (_set("test_set_y", lambda y: y[None, :]), "test", "test_set_y"),
    "lengths differ": (_set("train_set_y", lambda y: y[:5]), "train", "train_set_y"),
    "image sizes differ": (_set("test_set_x", lambda x: x[:, :2]), "test", "test_set_x"),
    "NaN": (_float_image("train_set_x", np.nan), "train", "train_set_x"),
    "inf": (_float_image("test_set_x", np.inf), "test", "test_set_x"),
    "pixel range": (_float_image("train_set_x", 300.0), "train", "train_set_x"),
    "label range": (_set("test_set_y", np.array([1, 0, 2, 1])), "test", "test_set_y"),
    "label not whole": (_set("train_set_y", lambda y: y + 0.25), "train", "train_set_y"),
    "single class": (_set("train_set_y", np.zeros(6, dtype=int)), "train", "train_set_y"),
    "one class name": (_set("list_classes", np.array([b"cat"])), "train", "list_classes"),
}


@pytest.mark.parametrize("case", sorted(CAT_CASES))
def test_load_cat_h5_rejects_bad_content(tmp_path, case):
    damage, which, key = CAT_CASES[case]
    train, test = good_cat()
    damage(train, test)
    train_path, test_path = write_cat(tmp_path, train, test)
    name = (train_path if which == "train" else test_path).name
    assert_data_error(lambda: load_cat_h5(train_path, test_path), name, key)


def test_load_cat_h5_flattens_row_major_and_scales(tmp_path):
    train, test = good_cat()
    data = load_cat_h5(*write_cat(tmp_path, train, test))
    assert data.X_train.shape == (48, 6) and data.X_test.shape == (48, 4)
    # Column 1 is image 1, pixel (0, 0) channels first, then pixel (0, 1).
    np.testing.assert_allclose(data.X_train[:3, 1], train["train_set_x"][1, 0, 0] / 255)
    np.testing.assert_allclose(data.X_train[3:6, 1], train["train_set_x"][1, 0, 1] / 255)
    assert data.class_names == ["non-cat", "cat"] and data.n_classes == 2


def test_load_cat_h5_rejects_missing_and_truncated_files(tmp_path):
    train_path, test_path = write_cat(tmp_path, *good_cat())
    missing = tmp_path / "gone.h5"
    assert_data_error(lambda: load_cat_h5(train_path, missing), "gone.h5", "not found")
    data = test_path.read_bytes()
    test_path.write_bytes(data[: len(data) - 100])
    assert_data_error(lambda: load_cat_h5(train_path, test_path), test_path.name)


def test_make_dataset_from_cat_folder(tmp_path):
    write_cat(tmp_path, *good_cat())
    s = make_dataset("cat", 0, dev_fraction=0.34, path=tmp_path, standardize=False)
    assert s.X_test.shape == (48, 4) and s.X_dev.shape == (48, 2)
    assert s.metadata["class_names"] == ["non-cat", "cat"]
    assert s.metadata["test_fraction"] is None


# ---------------------------------------------------------------------------
# validate_arrays never fails with anything but DataError


float_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    elements=st.floats(allow_nan=True, allow_infinity=True),
)
label_arrays = st.one_of(
    hnp.arrays(
        np.int64,
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5),
        elements=st.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max),
    ),
    hnp.arrays(
        np.int64,
        st.integers(0, 5).map(lambda m: (m,)),
        elements=st.integers(-1, 4),
    ),
    hnp.arrays(np.float64, st.integers(0, 5).map(lambda m: (m,))),
)


@settings(max_examples=300, deadline=None)
@given(X=float_arrays, y=label_arrays, n_classes=st.one_of(st.none(), st.integers(2, 5)))
def test_validate_arrays_passes_or_raises_data_error(X, y, n_classes):
    try:
        X_out, y_out = validate_arrays(X, y, "prop.h5", n_classes)
    except DataError as err:
        assert "prop.h5" in str(err)
        return
    # Whatever passes satisfies the documented contract.
    assert X_out.dtype == np.float64 and y_out.dtype == np.int64
    assert X_out.ndim == 2 and X_out.shape[1] == y_out.shape[0] > 0
    assert np.isfinite(X_out).all() and (np.abs(X_out) <= datasets.MAX_FEATURE_MAGNITUDE).all()
    K = n_classes if n_classes is not None else int(y_out.max()) + 1
    assert 0 <= y_out.min() and y_out.max() < K and len(np.unique(y_out)) >= 2


# ---------------------------------------------------------------------------
# The real course files


@pytest.mark.course_data
def test_course_mat_file():
    data = load_mat(course_data_dir() / "data.mat")
    assert data.X_train.shape == (2, 211) and data.y_train.shape == (211,)
    assert data.X_test.shape == (2, 200) and data.y_test.shape == (200,)
    assert data.n_classes == 2


@pytest.mark.course_data
def test_course_cat_files():
    folder = course_data_dir()
    data = load_cat_h5(folder / datasets.CAT_TRAIN_FILE, folder / datasets.CAT_TEST_FILE)
    assert data.X_train.shape == (12288, 209) and data.X_test.shape == (12288, 50)
    for X in (data.X_train, data.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert data.class_names == ["non-cat", "cat"]


@pytest.mark.course_data
def test_make_dataset_from_course_mat_file():
    path = course_data_dir() / "data.mat"
    s = make_dataset("mat", 0, dev_fraction=0.2, path=path)
    assert s.y_train.size + s.y_dev.size == 211 and s.y_test.size == 200
    assert s.metadata["path"] == str(path)


# Any dtype, shape and value (NaN and infinities included) a file might hold.
_loader_arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
)


@settings(max_examples=60, deadline=None)
@given(
    arrays=st.dictionaries(st.sampled_from(["X", "y", "Xval", "yval", "other"]), _loader_arrays, max_size=5),
    corrupt=st.booleans(),
)
def test_load_mat_either_loads_or_raises_data_error(tmp_path_factory, arrays, corrupt):
    import scipy.io

    path = tmp_path_factory.mktemp("mat") / "data.mat"
    scipy.io.savemat(path, arrays)
    if corrupt:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    try:
        data = datasets.load_mat(path)
    except DataError:
        return
    assert data.X_train.shape[1] == data.y_train.shape[0]
    assert np.isfinite(data.X_train).all()


@settings(max_examples=40, deadline=None)
@given(
    train_x=_loader_arrays,
    train_y=_loader_arrays,
    test_x=_loader_arrays,
    test_y=_loader_arrays,
    drop=st.sampled_from([None, "train_set_x", "train_set_y", "test_set_x", "test_set_y", "list_classes"]),
)
def test_load_cat_h5_either_loads_or_raises_data_error(tmp_path_factory, train_x, train_y, test_x, test_y, drop):
    import h5py

    folder = tmp_path_factory.mktemp("cat")
    content = {
        "train": {"train_set_x": train_x, "train_set_y": train_y, "list_classes": np.array([b"non-cat", b"cat"])},
        "test": {"test_set_x": test_x, "test_set_y": test_y, "list_classes": np.array([b"non-cat", b"cat"])},
    }
    for part, keys in content.items():
        with h5py.File(folder / f"{part}.h5", "w") as f:
            for key, value in keys.items():
                if key != drop:
                    f[key] = value
    try:
        data = datasets.load_cat_h5(folder / "train.h5", folder / "test.h5")
    except DataError:
        return
    assert data.X_train.shape[1] == data.y_train.shape[0]


def test_source_files_are_the_files_each_source_reads(tmp_path):
    assert datasets.source_files("moons") == []
    assert datasets.source_files("mat", tmp_path / "data.mat") == [tmp_path / "data.mat"]
    assert datasets.source_files("cat", tmp_path) == [
        tmp_path / datasets.CAT_TRAIN_FILE,
        tmp_path / datasets.CAT_TEST_FILE,
    ]


# ---------------------------------------------------------------------------
# Provenance: where every dataset came from


def test_origin_of_generated_packaged_and_file_data(tmp_path):
    import hashlib
    from importlib.metadata import version

    generated = datasets.make_pool("moons", 3, {"n_samples": 50})
    data_seed = generated.metadata["data_seed"]
    assert generated.metadata["origin"] == f"generator moons(n_samples=50, noise=0.2), data seed {data_seed}"
    packaged = datasets.make_pool("wine", 3)
    assert packaged.metadata["origin"] == f"package scikit-learn {version('scikit-learn')} (wine)"
    train, test = write_cat(tmp_path, *good_cat())
    pool = datasets.make_pool("cat", 0, path=tmp_path)
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (train, test)]
    assert pool.metadata["origin"] == (
        f"file {datasets.CAT_TRAIN_FILE} (sha256 {digests[0]}); file {datasets.CAT_TEST_FILE} (sha256 {digests[1]})"
    )
    # The origin travels with the split into the dataset file.
    splits = datasets.split_pool(pool, 1)
    write_dataset(tmp_path / "d.h5", splits, pool=pool)
    assert read_dataset(tmp_path / "d.h5").metadata["origin"] == pool.metadata["origin"]


# ---------------------------------------------------------------------------
# Course files in a study: found, replaced by a stand-in, or skipped


def study_config(data_dir, missing="stand_in", lectures=None):
    network = {"hidden_layers": [4], "epochs": 2, "batch_size": 8, "eval_every": 1}
    config = {
        "course_data_dir": None if data_dir is None else str(data_dir),
        "course_files_missing": missing,
        "datasets": {
            "moons": {"source": "moons", **network},
            "football": {
                "source": "mat",
                "stand_in": {"name": "football_synthetic", "source": "football", "params": {"n_samples": 60}, "seed": 7},
                **network,
            },
            "cat": {"source": "cat", **network},
        },
    }
    if lectures:
        config["lectures"] = lectures
    return config


def test_course_files_present_are_used(tmp_path):
    scipy.io.savemat(tmp_path / "data.mat", good_mat())
    write_cat(tmp_path, *good_cat())
    resolved, notes = course_files.resolve(study_config(tmp_path))
    assert notes == []
    assert list(resolved["datasets"]) == ["moons", "football", "cat"]
    assert resolved["datasets"]["football"]["path"] == str(tmp_path / "data.mat")
    assert resolved["datasets"]["cat"]["path"] == str(tmp_path / ".")
    assert "stand_in" not in resolved["datasets"]["football"]


def test_missing_course_files_bring_the_named_stand_in_and_say_so(tmp_path):
    lectures = {"learning_curves": {"datasets": ["football", "moons"]}, "depth": {"dataset": "football"}}
    resolved, notes = course_files.resolve(study_config(tmp_path, lectures=lectures))
    assert list(resolved["datasets"]) == ["moons", "football_synthetic"]
    stand_in = resolved["datasets"]["football_synthetic"]
    assert stand_in["source"] == "football" and stand_in["params"] == {"n_samples": 60}
    assert stand_in["seed"] == 7 and stand_in["hidden_layers"] == [4]
    assert len(notes) == 2
    assert "football_synthetic" in notes[0] and str(tmp_path / "data.mat") in notes[0]
    assert "'cat'" in notes[1] and "skipped" in notes[1]
    # Lecture sections follow the rename.
    assert resolved["lectures"]["learning_curves"]["datasets"] == ["football_synthetic", "moons"]
    assert resolved["lectures"]["depth"]["dataset"] == "football_synthetic"


def test_skip_leaves_course_datasets_and_their_lectures_out():
    lectures = {"learning_curves": {"datasets": ["football", "moons"]}, "depth": {"dataset": "football"}}
    resolved, notes = course_files.resolve(study_config(None, missing="skip", lectures=lectures))
    assert list(resolved["datasets"]) == ["moons"]
    assert "course_data_dir is not set" in notes[0]
    assert resolved["lectures"]["learning_curves"]["datasets"] == ["moons"]
    assert "depth" not in resolved["lectures"]
    assert any("'depth'" in note for note in notes)


def test_an_explicit_path_is_never_replaced(tmp_path):
    config = study_config(tmp_path)
    config["datasets"]["football"]["path"] = str(tmp_path / "elsewhere.mat")
    resolved, _ = course_files.resolve(config)
    assert resolved["datasets"]["football"]["path"] == str(tmp_path / "elsewhere.mat")


def test_a_study_left_without_datasets_is_refused():
    config = study_config(None, missing="skip")
    del config["datasets"]["moons"]
    with pytest.raises(ConfigError, match="no dataset left"):
        course_files.resolve(config)


# ---------------------------------------------------------------------------
# MNIST-1D, generated by the mnist1d package


@pytest.fixture(scope="module")
def mnist1d_offline():
    """MNIST-1D generated with every network connection refused, and the global RNG states around it."""
    import random
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("MNIST-1D generation tried to reach the network")

    np.random.seed(5)
    random.seed(5)
    before = np.random.get_state()[1].copy(), random.getstate()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        data = datasets.mnist1d()
    after = np.random.get_state()[1].copy(), random.getstate()
    return data, before, after


def test_mnist1d_has_the_published_sizes_offline(mnist1d_offline):
    data, _, _ = mnist1d_offline
    assert data.X_train.shape == (40, 4000) and data.y_train.shape == (4000,)
    assert data.X_test.shape == (40, 1000) and data.y_test.shape == (1000,)
    assert data.n_classes == 10
    assert set(np.unique(data.y_train)) == set(range(10))
    # 500 sequences of each digit in all, as the package makes them.
    counts = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert counts.tolist() == [500] * 10


def test_mnist1d_is_deterministic_and_leaves_the_global_generators_alone(mnist1d_offline):
    data, before, after = mnist1d_offline
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1] == after[1]
    again = datasets.mnist1d()
    np.testing.assert_array_equal(again.X_train, data.X_train)
    np.testing.assert_array_equal(again.y_test, data.y_test)


def test_mnist1d_pool_keeps_the_package_test_set_and_carves_dev_from_train(mnist1d_offline, monkeypatch):
    data, _, _ = mnist1d_offline
    monkeypatch.setitem(datasets.PACKAGE_SPLITS, "mnist1d", lambda: data)
    pool = datasets.make_pool("mnist1d", 0, dev_fraction=0.2)
    splits = datasets.split_pool(pool, 3)
    assert (splits.X_train.shape[1], splits.X_dev.shape[1]) == (3200, 800)
    np.testing.assert_array_equal(splits.y_test, data.y_test)
    assert pool.metadata["origin"].startswith("package mnist1d ")


def test_mnist1d_without_the_package_names_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    assert_data_error(datasets.mnist1d, "mnist1d package", "pip install mnist1d")


def test_the_workflow_says_once_what_replaced_a_missing_course_file(tmp_path):
    from conftest import snakemake, write_config

    config = write_config(tmp_path, base="config.yaml", course_data_dir=str(tmp_path / "absent"))
    result = snakemake("-n", "--configfile", str(config), "--", "results/data/football_synthetic.h5",
                       workdir=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stderr.splitlines() if line.startswith("nnstudy: dataset 'football'")]
    assert len(notes) == 1 and "football_synthetic" in notes[0]
    assert "results/data/football_synthetic.h5" in result.stdout


def test_the_default_study_trains_on_the_course_files_when_they_are_there():
    import yaml

    from nnstudy.config import validated

    repo = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    raw["course_data_dir"] = str(course_data_dir())
    notes = []
    config = validated(raw, repo / "workflow" / "schemas" / "config.schema.yaml", notes)
    assert notes == []
    assert config["datasets"]["football"]["source"] == "mat"
    assert config["datasets"]["cat"]["source"] == "cat" and config["datasets"]["mnist1d"]["source"] == "mnist1d"
    assert Path(config["datasets"]["cat"]["path"]).resolve() == course_data_dir().resolve()
