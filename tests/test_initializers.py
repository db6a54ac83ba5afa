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
    "lecun_normal": lambda n_in, n_out: math.sqrt(1.0 / n_in),
    # Root mean square of the weights for the non-Gaussian ones.
    "orthogonal": lambda n_in, n_out: 1.0 / math.sqrt(max(n_in, n_out)),
    "constant": lambda n_in, n_out: 0.5,
    "lsuv": lambda n_in, n_out: math.nan,
}
# The initializers whose weights are the draws times a standard deviation.
GAUSSIAN = ("zeros", "random", "small", "xavier", "he", "glorot", "lecun_normal")

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
        ("lecun_normal", 4, 3, 0.5),  # sqrt(1 / 4)
        ("orthogonal", 4, 16, 0.25),  # unit columns of 16 entries
        ("constant", 4, 3, 0.5),
    ],
)
def test_weight_std_by_hand(name, n_in, n_out, std):
    assert initializers.weight_std(name, n_in, n_out) == pytest.approx(std, rel=1e-15)
    assert math.isnan(initializers.weight_std("lsuv", n_in, n_out))


@pytest.mark.parametrize("name", GAUSSIAN)
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
    inputs = np.random.default_rng(0).standard_normal((4, 30))
    params = initializers.initialize((4, 3, 2, 1), name, seeds=[1, 2], inputs=inputs)
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


@pytest.mark.parametrize("name", ["xavier", "he", "glorot", "zeros", "lecun_normal", "lsuv"])
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


# ---------------------------------------------------------------------------
# LeCun normal: variance 1 / fan_in, judged by the sampling distribution


def variance_interval(n, confidence=0.999):
    """The ratio (sample variance / true variance) of n zero-mean normals: its two-sided interval."""
    from scipy import stats

    tail = (1 - confidence) / 2
    return stats.chi2.ppf(tail, n) / n, stats.chi2.ppf(1 - tail, n) / n


def variance_matches(W, variance):
    """Whether ``W``'s mean square (mean known to be 0) is inside the 99.9 % interval of ``variance``."""
    low, high = variance_interval(W.size)
    return low <= np.mean(W**2) / variance <= high


def test_lecun_normal_has_variance_one_over_fan_in_and_a_planted_scale_is_rejected():
    n_in, n_out = 400, 600  # fan-in and fan-out differ, so Glorot's 2 / (n_in + n_out) is another value
    W = initializers.initialize((3, n_in, n_out), "lecun_normal", seeds=[8])["W2"][0]
    assert variance_matches(W, 1.0 / n_in)
    # 240,000 weights pin the variance to about +-0.9 %: a 2 % error, He's
    # 2 / fan_in and Glorot's 2 / (fan_in + fan_out) all fall outside.
    for wrong in (1.02 / n_in, 2.0 / n_in, 2.0 / (n_in + n_out)):
        assert not variance_matches(W, wrong)
    # A planted 2 % scale error in the weights themselves is rejected too.
    assert not variance_matches(W * math.sqrt(1.02), 1.0 / n_in)


# ---------------------------------------------------------------------------
# Orthogonal


def gram_schmidt(z):
    """Orthonormalize the columns of z (rows >= columns) by classical Gram-Schmidt: the reference."""
    q = np.zeros_like(z)
    for j in range(z.shape[1]):
        v = z[:, j] - q[:, :j] @ (q[:, :j].T @ z[:, j])
        v = v - q[:, :j] @ (q[:, :j].T @ v)  # once more, for rounding
        q[:, j] = v / np.linalg.norm(v)
    return q


@pytest.mark.parametrize("n_out, n_in", [(6, 6), (3, 7), (7, 3), (1, 5), (5, 1), (64, 64)])
def test_orthogonal_rows_or_columns_to_1e_12(n_out, n_in):
    W = initializers.initialize((n_in, n_out), "orthogonal", seeds=[3])["W1"][0]
    gram = W @ W.T if n_out <= n_in else W.T @ W
    np.testing.assert_allclose(gram, np.eye(min(n_in, n_out)), rtol=0, atol=1e-12)
    gained = initializers.initialize((n_in, n_out), "orthogonal", seeds=[3], scales=2.5)["W1"][0]
    np.testing.assert_allclose(gained, 2.5 * W, rtol=1e-15)


@pytest.mark.parametrize("n_out, n_in", [(6, 4), (4, 6)])
def test_orthogonal_is_gram_schmidt_of_the_models_own_draw(n_out, n_in):
    """The sign correction makes Q the Gram-Schmidt factor (positive diagonal of R), of the init stream's draw."""
    W = initializers.initialize((n_in, n_out), "orthogonal", seeds=[9])["W1"][0]
    z = rng.generator(9, "init").standard_normal((n_out, n_in))
    reference = gram_schmidt(z) if n_out >= n_in else gram_schmidt(z.T).T
    np.testing.assert_allclose(W, reference, atol=1e-12)


def test_orthogonal_signs_are_not_biased_by_the_qr_convention():
    # Without the sign correction numpy's QR gives R a negative diagonal and
    # Q's first column the opposite sign of z's first column, every time.
    agree = [np.sign(initializers.orthogonal(z)[0, 0]) == np.sign(z[0, 0])
             for z in np.random.default_rng(1).standard_normal((50, 4, 4))]
    assert all(agree)


# ---------------------------------------------------------------------------
# LSUV


def layer_outputs(params, X, activation):
    """Each layer's output W_l a_{l-1} for model 0 (biases are zero)."""
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
    outputs, A = [], X
    n_layers = len(params) // 2
    for l in range(1, n_layers + 1):
        Z = params[f"W{l}"][0] @ A
        outputs.append(Z)
        A = act(Z)
    return outputs


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_gives_every_layer_unit_output_variance_on_its_batch(activation):
    sizes = (5, 40, 30, 20, 3)
    X = 7.0 * np.random.default_rng(4).standard_normal((5, 100)) + 3.0  # far from unit scale
    params = initializers.initialize(sizes, "lsuv", seeds=[2], inputs=X, hidden_activation=activation)
    variances = [Z.var() for Z in layer_outputs(params, X, activation)]  # 100 <= LSUV_BATCH: the batch is X
    np.testing.assert_allclose(variances, 1.0, atol=1e-2)
    # Each layer is its orthogonal draw times one positive factor.
    orthogonal = initializers.initialize(sizes, "orthogonal", seeds=[2])
    for l in range(1, len(sizes)):
        ratio = params[f"W{l}"][0] / orthogonal[f"W{l}"][0]
        assert ratio.min() > 0 and np.ptp(ratio) < 1e-12 * ratio.max()
    # Without the rescaling the variances are far from 1.
    assert abs(layer_outputs(orthogonal, X, activation)[0].var() - 1.0) > 1.0


def test_lsuv_batch_comes_from_the_init_stream_after_the_weights():
    sizes = (3, 8, 1)
    X = np.random.default_rng(5).standard_normal((3, 1000)) * np.array([[1.0], [4.0], [0.2]])
    params = initializers.initialize(sizes, "lsuv", seeds=[6], inputs=X)
    gen = rng.generator(6, "init")
    for l in range(1, len(sizes)):
        gen.standard_normal((sizes[l], sizes[l - 1]))
    batch = initializers.lsuv_batch(gen, X)
    assert batch.shape == (3, initializers.LSUV_BATCH)
    np.testing.assert_allclose([Z.var() for Z in layer_outputs(params, batch, "relu")], 1.0, atol=1e-2)
    # The same seed gives the same batch, whatever else shares the call.
    both = initializers.initialize(sizes, ["he", "lsuv"], seeds=[1, 6], inputs=X)
    np.testing.assert_array_equal(both["W1"][1], params["W1"][0])


def test_lsuv_without_inputs_says_what_it_needs():
    with pytest.raises(ConfigError, match=r"inputs=None.*training inputs.*'lsuv'"):
        initializers.initialize((3, 2, 1), "lsuv", seeds=[0])


# ---------------------------------------------------------------------------
# Constant: symmetry


def test_constant_units_stay_identical_after_training_and_he_units_do_not():
    from nnstudy.core import network
    from nnstudy.core.optimizers import make_optimizer
    from nnstudy.core.training import TrainConfig, TrainData, train

    gen = np.random.default_rng(7)
    X = gen.standard_normal((4, 60))
    y = (X[0] + X[1] * X[2] > 0).astype(int)
    arch = network.Architecture((4, 5, 3, 1), "tanh")
    params = {name: initializers.initialize(arch.layer_sizes, name, seeds=[0], scales=scale)
              for name, scale in (("constant", 0.3), ("he", None))}
    assert np.all(params["constant"]["W1"] == 0.3) and np.all(params["constant"]["W3"] == 0.3)
    for name, start in params.items():
        trained = train(start, arch, make_optimizer("gd"), TrainData(X, y[None].astype(float), y),
                        TrainConfig(epochs=200, eval_every=200), learning_rate=0.5, seeds=[0]).params
        moved = np.abs(trained["W1"] - start["W1"]).max()
        hidden = [layer[1][0] for layer in network.forward(trained, X, arch)[1][1:]]
        spread = max(np.ptp(h, axis=0).max() for h in hidden)  # largest difference between units of a layer
        assert moved > 1e-2
        if name == "constant":
            assert spread < 1e-9  # every unit of a layer computes the same function, up to rounding
        else:
            assert spread > 0.1


# ---------------------------------------------------------------------------
# As grid levels


def test_the_new_initializers_run_as_grid_levels():
    from nnstudy.core.training import TrainConfig
    from nnstudy.data.datasets import make_dataset
    from nnstudy.study.experiment import ModelSpec, architecture_for, run_batch

    splits = make_dataset("moons", 0, {"n_samples": 120})
    arch = architecture_for(splits, [6, 4])
    specs = [ModelSpec("orthogonal", 1, 0.1, scale=1.5), ModelSpec("lecun_normal", 1, 0.1),
             ModelSpec("lsuv", 1, 0.1), ModelSpec("constant", 1, 0.1, scale=0.2)]
    outcome = run_batch(splits, arch, "adam", {}, TrainConfig(3, 32, eval_every=4), specs)
    assert np.all(np.isfinite(outcome.metrics["final_cost"]))
    assert np.all(outcome.metrics["train_accuracy"] > 0)
    # Per-model splits: each LSUV model rescales on its own training inputs.
    other = make_dataset("moons", 1, {"n_samples": 120})
    outcome = run_batch([splits, other], arch, "adam", {}, TrainConfig(1, 32, eval_every=4),
                        [ModelSpec("lsuv", 1, 0.1), ModelSpec("lsuv", 1, 0.1)])
    assert np.all(np.isfinite(outcome.metrics["final_cost"]))
