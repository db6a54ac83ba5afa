"""The classic initialization experiments: Glorot and Bengio's signals, He et al.'s deep ReLU net, Saxe et al.'s
deep linear nets."""

import math

import numpy as np
import pandas as pd
import pytest

from nnstudy.core import network
from nnstudy.data import datasets
from nnstudy.lectures import classic_init
from nnstudy.study.experiment import architecture_for


@pytest.fixture(scope="module")
def digits():
    return datasets.make_dataset("digits", 13)


def test_uniform_rules_by_hand_and_on_the_same_draws():
    assert classic_init.UNIFORM_RULES["standard"](16, 4) == 0.25  # 1 / sqrt(16)
    assert classic_init.UNIFORM_RULES["normalized"](10, 14) == 0.5  # sqrt(6 / 24)
    arch = network.Architecture((16, 10, 14, 1), "tanh")
    standard = classic_init.uniform_params(arch, "standard", 3)
    normalized = classic_init.uniform_params(arch, "normalized", 3)
    assert np.abs(standard["W2"]).max() <= 1 / math.sqrt(10)
    np.testing.assert_allclose(normalized["W2"] / standard["W2"], math.sqrt(6 / 24) * math.sqrt(10), rtol=1e-14)


def test_back_propagated_gradients_give_the_network_weight_gradients(digits):
    """dJ/dW_l = dJ/dZ_l A_{l-1}^T: the stage's gradients against the engine's backward pass."""
    arch = architecture_for(digits, [12, 9, 7], "tanh")
    params = classic_init.uniform_params(arch, "normalized", 0)
    X = digits.X_train[:, :50]
    Y = datasets.one_hot_targets(digits.y_train[:50], digits.n_classes)
    activations, gradients = classic_init.layer_signals(params, X, Y, arch)
    logits, cache = network.forward(params, X, arch)
    grads = network.backward(params, cache, logits, Y, arch)
    inputs = [X] + activations
    for l, dZ in enumerate(gradients, start=1):
        np.testing.assert_allclose(dZ @ inputs[l - 1].T, grads[f"W{l}"][0], rtol=1e-10, atol=1e-15)
    assert [a.shape for a in activations] == [(12, 50), (9, 50), (7, 50)]


def test_standard_weights_shrink_the_signals_and_normalized_ones_keep_them(digits):
    histograms, stats = classic_init.glorot_tables(digits, width=64, hidden_layers=5, samples=200, bins=20, seed=0)
    stats = pd.DataFrame(stats).set_index(["rule", "quantity", "layer"])["std"]
    # Standard: the tanh layer's gain is about sqrt(n * (1/3n)) = 0.58 per layer.
    assert stats["standard", "activation", 5] < 0.2 * stats["standard", "activation", 1]
    assert stats["normalized", "activation", 5] > 0.5 * stats["normalized", "activation", 1]
    # Back-propagated gradients shrink towards the input under the standard rule only.
    assert stats["standard", "gradient", 1] < 0.25 * stats["standard", "gradient", 5]
    assert stats["normalized", "gradient", 1] > 0.4 * stats["normalized", "gradient", 5]
    # Every value falls in a bin: each histogram sums to 1.
    sums = pd.DataFrame(histograms).groupby(["rule", "quantity", "layer"])["fraction"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    assert len(sums) == 2 * 2 * 5


def test_steps_to_target_is_the_first_recorded_step_at_or_below_it():
    steps = np.array([0, 5, 10, 15])
    assert classic_init.steps_to_target(steps, np.array([2.0, 1.0, 0.5, 0.4]), 0.5) == 10.0
    assert math.isnan(classic_init.steps_to_target(steps, np.array([2.0, np.nan, 0.9, 0.6]), 0.5))


def test_a_deep_relu_net_from_xavier_weights_starts_with_near_zero_logits(digits):
    rows = pd.DataFrame(classic_init.relu_curves(
        digits, depth=30, width=16, initializers=["xavier", "he"], seeds=[0], samples=100, epochs=1,
        batch_size=50, learning_rate=0.01, eval_every=1))
    start = rows[rows["step"] == 0].set_index("initializer")["cost"]
    # About 2**-29 of the input's variance reaches the logits: the cost is ln(10) to 6 digits.
    assert start["xavier"] == pytest.approx(math.log(10), abs=1e-6)
    assert abs(start["he"] - math.log(10)) > 1e-3
    assert sorted(rows["step"].unique()) == [0, 1, 2]


def test_deep_linear_nets_from_orthogonal_weights_learn_as_fast_at_any_depth(digits):
    rows = pd.DataFrame(classic_init.linear_depth_table(
        digits, depths=[2, 24], width=32, initializers=["orthogonal", "lecun_normal"], seeds=[0], samples=200,
        steps=60, learning_rate=0.5, eval_every=2, target_cost=0.3))
    time = rows.set_index(["initializer", "depth"])["steps_to_target"]
    assert rows["learning_rate"].tolist() == [0.25, 0.25, 0.5 / 24, 0.5 / 24]
    # Measured: orthogonal 16 and 20 steps, Gaussian 16 and 52.
    assert time["orthogonal", 24] <= 1.5 * time["orthogonal", 2]
    assert not time["lecun_normal", 24] <= 2 * time["lecun_normal", 2]  # much slower, or never (NaN)
