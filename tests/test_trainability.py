"""The trainability phase diagram: Gaussian parameters, batches over (sigma_w^2, seed), the summary."""

import math

import numpy as np
import pytest

from nnstudy.core import network
from nnstudy.data import datasets
from nnstudy.lectures import meanfield
from nnstudy.lectures import trainability


@pytest.fixture(scope="module")
def digits():
    return datasets.make_dataset("digits", 13)


def test_gaussian_params_have_the_variances_and_share_draws_across_weight_variances():
    arch = network.Architecture((300, 400, 2), "tanh", "softmax")
    params = trainability.gaussian_params(arch, [1.0, 4.0], 0.25, seeds=[0, 1])
    assert params["W1"].shape == (4, 400, 300)
    # Model order is sigma_w^2-major: (1.0, seed 0), (1.0, seed 1), (4.0, seed 0), (4.0, seed 1).
    assert params["W1"][0].var() * 300 == pytest.approx(1.0, rel=0.02)
    assert params["W1"][2].var() * 300 == pytest.approx(4.0, rel=0.02)
    np.testing.assert_allclose(params["W1"][2], 2.0 * params["W1"][0], rtol=1e-15)
    assert not np.allclose(params["W1"][0], params["W1"][1])
    assert params["b1"][1].var() == pytest.approx(0.25, rel=0.2)
    np.testing.assert_array_equal(params["b1"][0], params["b1"][2])


def test_one_batch_per_depth_trains_at_the_critical_line_and_not_far_from_it(digits):
    # tanh with sigma_b^2 = 0.05 is critical at sigma_w^2 = 1.76; at 0.5 its 16 layers are 13 xi_c, and
    # at 8 it is deep in the chaotic phase (gradients grow by chi_1 > 1 per layer).
    rows = trainability.train_grid(
        digits, activation="tanh", keep_prob=1.0, depth=16, width=32, sigma_w2s=[0.5, 1.75, 8.0], sigma_b2=0.05,
        seeds=[0, 1], epochs=3, batch_size=64, learning_rate=0.05,
    )
    assert [(r["sigma_w2"], r["seed"]) for r in rows] == [(s, seed) for s in (0.5, 1.75, 8.0) for seed in (0, 1)]
    accuracy = {s: [r["test_accuracy"] for r in rows if r["sigma_w2"] == s] for s in (0.5, 1.75, 8.0)}
    assert min(accuracy[1.75]) > 0.6
    # Ordered: chance (0.1 on ten classes); chaotic: some learning, but every
    # seed far below every seed at the critical line.
    assert max(accuracy[0.5]) < 0.2
    assert max(accuracy[8.0]) < min(accuracy[1.75]) - 0.25
    assert {r["steps"] for r in rows} == {3 * math.ceil(digits.X_train.shape[1] / 64)}


def test_summary_counts_diverged_runs_as_chance_and_puts_six_depth_scales_beside_them():
    base = {"activation": "tanh", "keep_prob": 1.0, "sigma_b2": 0.05, "sigma_w2": 1.5, "depth": 8}
    rows = [
        {**base, "seed": 0, "status": "ok", "test_accuracy": 0.9},
        {**base, "seed": 1, "status": "diverged", "test_accuracy": math.nan},
    ]
    out = trainability.summary(rows, n_classes=10).iloc[0]
    assert out["mean_test_accuracy"] == pytest.approx((0.9 + 0.1) / 2)
    assert out["diverged"] == 1 and out["seeds"] == 2
    expected = meanfield.phase("tanh", 1.5, 0.05).xi_c
    assert out["xi_c"] == pytest.approx(expected) and out["trainable_depth"] == pytest.approx(6 * expected)
