"""Weight initializers: each registry entry's spread, seeding and validation."""

import math

import numpy as np
import pytest

from nnstudy.core import initializers, rng
from nnstudy.errors import ConfigError

# name -> the standard deviation it must give a layer with n_in inputs and n_out outputs
EXPECTED_STD = {
    "zeros": lambda n_in, n_out: 0.0,
    "random": lambda n_in, n_out: 10.0,
    "small": lambda n_in, n_out: 0.01,
    "xavier": lambda n_in, n_out: math.sqrt(1.0 / n_in),
    "he": lambda n_in, n_out: math.sqrt(2.0 / n_in),
    "glorot": lambda n_in, n_out: math.sqrt(2.0 / (n_in + n_out)),
}

# A big layer: 250,000 weights estimate a standard deviation to about 0.15 %.
N_IN, N_OUT = 500, 500
BIG = (3, N_IN, N_OUT)  # the input layer is small, so layer 2 is the big one


def test_every_initializer_has_an_expected_std():
    assert set(EXPECTED_STD) == set(initializers.INITIALIZERS)


@pytest.mark.parametrize(
    "name, n_in, n_out, std",
    [
        ("zeros", 4, 3, 0.0),
        ("random", 4, 3, 10.0),
        ("small", 4, 3, 0.01),
        ("xavier", 4, 3, 0.5),  # sqrt(1 / 4)
        ("he", 8, 3, 0.5),  # sqrt(2 / 8)
        ("glorot", 3, 5, 0.5),  # sqrt(2 / (3 + 5))
    ],
)
def test_weight_std_by_hand(name, n_in, n_out, std):
    assert initializers.weight_std(name, n_in, n_out) == pytest.approx(std, rel=1e-15)


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_empirical_std_of_a_big_layer(name):
    params = initializers.initialize(BIG, name, seeds=[11])
    W = params["W2"][0]
    assert W.shape == (N_OUT, N_IN)
    expected = EXPECTED_STD[name](N_IN, N_OUT)
    if expected == 0.0:
        assert np.all(W == 0.0)
    else:
        assert W.std() == pytest.approx(expected, rel=0.01)
        assert abs(W.mean()) < 0.01 * expected
    # The first layer uses its own fan-in (3), not the big layer's.
    first = params["W1"][0]
    assert first.shape == (N_IN, 3)
    if expected:
        assert first.std() == pytest.approx(EXPECTED_STD[name](3, N_IN), rel=0.05)


def test_scale_overrides_the_default_of_random_and_small():
    params = initializers.initialize(BIG, ["random", "small"], seeds=[5, 5], scales=[2.0, 0.5])
    assert params["W2"][0].std() == pytest.approx(2.0, rel=0.01)
    # Same seed, same draws: the two models differ only by the factor 2.0 / 0.5.
    np.testing.assert_allclose(params["W2"][0], 4.0 * params["W2"][1], rtol=1e-14)


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_biases_start_at_zero(name):
    params = initializers.initialize((4, 3, 2, 1), name, seeds=[1, 2])
    assert sorted(params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for l, (n_in, n_out) in enumerate([(4, 3), (3, 2), (2, 1)], start=1):
        assert params[f"W{l}"].shape == (2, n_out, n_in)
        assert params[f"b{l}"].shape == (2, n_out, 1)
        assert np.all(params[f"b{l}"] == 0.0)


def test_same_seed_same_draws_across_initializers():
    sizes = (6, 5, 4, 1)
    he = initializers.initialize(sizes, "he", seeds=[42])
    xavier = initializers.initialize(sizes, "xavier", seeds=[42])
    for l in range(1, len(sizes)):
        # he / xavier = sqrt(2) everywhere, whatever the draw.
        np.testing.assert_allclose(he[f"W{l}"] / xavier[f"W{l}"], math.sqrt(2.0), rtol=1e-14)
    # The draws are the model's "init" stream, layer by layer, rescaled.
    gen = rng.generator(42, "init")
    for l in range(1, len(sizes)):
        z = gen.standard_normal((sizes[l], sizes[l - 1]))
        np.testing.assert_array_equal(he[f"W{l}"][0], z * math.sqrt(2.0 / sizes[l - 1]))


def test_model_draws_do_not_depend_on_the_rest_of_the_batch():
    sizes = (3, 4, 1)
    batch = initializers.initialize(sizes, ["he", "small", "glorot"], seeds=[1, 2, 3])
    for s, (name, seed) in enumerate([("he", 1), ("small", 2), ("glorot", 3)]):
        alone = initializers.initialize(sizes, name, seeds=[seed])
        for key in batch:
            np.testing.assert_array_equal(batch[key][s], alone[key][0])


def test_different_seeds_differ_and_same_seed_repeats():
    a = initializers.initialize((5, 4, 1), "he", seeds=[1, 2])
    b = initializers.initialize((5, 4, 1), "he", seeds=[1, 2])
    assert not np.any(a["W1"][0] == a["W1"][1])
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_unknown_initializer_names_parameter_and_value():
    with pytest.raises(ConfigError, match=r"initializer='uniformish'"):
        initializers.initialize((3, 2, 1), "uniformish", seeds=[0])
    with pytest.raises(ConfigError, match=r"initializer='bogus'"):
        initializers.weight_std("bogus", 3, 2)


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_scale_names_parameter_and_value(scale):
    with pytest.raises(ConfigError, match=rf"scale={scale!r}"):
        initializers.initialize((3, 2, 1), "random", seeds=[0], scales=scale)


@pytest.mark.parametrize("name", ["xavier", "he", "glorot", "zeros"])
def test_scale_is_refused_where_it_means_nothing(name):
    with pytest.raises(ConfigError, match=r"scale=2\.0"):
        initializers.initialize((3, 2, 1), name, seeds=[0], scales=2.0)


def test_mismatched_lengths_and_sizes_raise():
    with pytest.raises(ConfigError, match="initializers"):
        initializers.initialize((3, 2, 1), ["he", "xavier"], seeds=[0, 1, 2])
    with pytest.raises(ConfigError, match="layer_sizes"):
        initializers.initialize((3, 0, 1), "he", seeds=[0])
    with pytest.raises(ConfigError, match="layer_sizes"):
        initializers.initialize((3,), "he", seeds=[0])
