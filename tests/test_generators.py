"""The generated problems of stated difficulty: classification, xor, gaussian_quantiles."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from nnstudy.data import datasets, generators
from nnstudy.errors import ConfigError

NEW = ("classification", "xor", "gaussian_quantiles")
SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml").read_text())


def fit_score(model, X, y):
    """Accuracy of ``model`` fitted on the first half of (X (n, m), y), scored on the second."""
    half = len(y) // 2
    return model.fit(X[:, :half].T, y[:half]).score(X[:, half:].T, y[half:])


@pytest.mark.parametrize("name", NEW)
def test_each_generator_is_deterministic_and_in_the_package_layout(name):
    X, y = datasets.GENERATORS[name](7)
    again, y_again = datasets.GENERATORS[name](7)
    other, _ = datasets.GENERATORS[name](8)
    np.testing.assert_array_equal(X, again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(X, other)
    assert X.dtype == np.float64 and y.dtype == np.int64 and X.shape[1] == y.shape[0] == 400


@pytest.mark.parametrize("n_classes, label_noise", [(2, 0.2), (4, 0.3)])
def test_classification_moves_the_stated_fraction_of_labels_to_another_class(n_classes, label_noise):
    params = {"n_samples": 20000, "n_informative": 3, "n_classes": n_classes}
    clean = generators.classification(1, label_noise=0.0, **params)
    noisy = generators.classification(1, label_noise=label_noise, **params)
    np.testing.assert_array_equal(clean[0], noisy[0])
    moved = np.mean(clean[1] != noisy[1])
    assert moved == pytest.approx(label_noise, abs=0.015)
    assert set(np.unique(noisy[1])) == set(range(n_classes))


def test_classification_separation_and_informative_features_set_the_difficulty():
    # Wider class separation: a nearest-neighbour classifier does better; the
    # informative features come first in scikit-learn's column order only
    # before its shuffle, so count what a linear model needs instead.
    scores = [fit_score(KNeighborsClassifier(5), *generators.classification(
        0, n_samples=2000, n_features=6, class_sep=sep, label_noise=0.0)) for sep in (0.3, 1.0, 3.0)]
    assert scores[0] < scores[1] < scores[2] and scores[2] > 0.95
    # With 2 of 20 features informative, the other 18 look like noise to a
    # single feature: the class means differ on at most 2 of them.
    X, y = generators.classification(0, n_samples=4000, n_features=20, n_informative=2, label_noise=0.0)
    gaps = np.abs(X[:, y == 1].mean(axis=1) - X[:, y == 0].mean(axis=1))
    assert np.sum(gaps > 0.2) <= 2


def test_classification_refuses_parameters_that_cannot_make_the_classes():
    with pytest.raises(ConfigError, match="n_informative"):
        datasets.generator_params("classification", {"n_features": 3, "n_informative": 4})
    with pytest.raises(ConfigError, match="n_informative"):
        datasets.generator_params("classification", {"n_informative": 2, "n_classes": 3})
    with pytest.raises(ConfigError, match="class_sep"):
        datasets.generator_params("classification", {"class_sep": -1})


def test_xor_defeats_a_linear_model_but_not_a_local_one():
    # The best linear boundary cuts one corner off a quadrant: 5/8 right.
    X, y = generators.xor(0, n_samples=2000)
    assert fit_score(LogisticRegression(), X, y) < 0.65
    assert fit_score(KNeighborsClassifier(5), X, y) > 0.9
    # Distractor features keep the labels; label noise flips the stated share.
    X4, y4 = generators.xor(0, n_samples=2000, n_features=4)
    assert X4.shape == (4, 2000) and np.array_equal(y4, ((X4[0] > 0) != (X4[1] > 0)).astype(int))
    _, noisy = generators.xor(0, n_samples=20000, label_noise=0.1)
    X20, clean = generators.xor(0, n_samples=20000)
    assert np.mean(noisy != ((X20[0] > 0) != (X20[1] > 0))) == pytest.approx(0.1, abs=0.01)


def test_gaussian_quantiles_are_shells_of_equal_size_by_distance():
    X, y = generators.gaussian_quantiles(0, n_samples=3000, n_features=3, n_classes=3)
    assert np.bincount(y).tolist() == [1000, 1000, 1000]
    radius = np.linalg.norm(X, axis=0)
    # The class is the shell: every point of class k is nearer the centre than every point of k + 1.
    for k in range(2):
        assert radius[y == k].max() <= radius[y == k + 1].min()


def test_the_generators_record_their_parameters_as_origin():
    pool = datasets.make_pool("classification", 3, {"n_features": 8, "class_sep": 0.5})
    origin = pool.metadata["origin"]
    assert origin.startswith("generator classification(") and "class_sep=0.5" in origin
    assert "n_informative=4" in origin and "label_noise=0.05" in origin


def schema_enums(node):
    if isinstance(node, dict):
        if "enum" in node and "circles" in node["enum"]:
            yield node["enum"]
        for child in node.values():
            yield from schema_enums(child)
    elif isinstance(node, list):
        for child in node:
            yield from schema_enums(child)


def test_the_schema_lists_every_source_wherever_it_names_sources():
    from nnstudy.lectures.normalization import SOURCES as LECTURE_SOURCES

    expected = [set(datasets.SOURCES), set(datasets.GENERATORS), set(LECTURE_SOURCES) | set(datasets.GENERATORS)]
    found = [set(values) for values in schema_enums(SCHEMA)]
    assert sorted(map(sorted, found)) == sorted(map(sorted, expected))
