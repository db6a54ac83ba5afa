"""Optimizers: one table, one row per optimizer, each row checked by hand and on a bowl."""

import math

import numpy as np
import pytest

from nnstudy.core import optimizers
from nnstudy.errors import ConfigError

# One gradient for every row: W1 (1 model, 1 x 2) and a zero gradient for b1.
GRADS = {"W1": np.array([[[2.0, -4.0]]]), "b1": np.array([[[0.0]]])}
PARAMS = {"W1": np.array([[[1.0, 1.0]]]), "b1": np.array([[[0.5]]])}
LEARNING_RATE = 0.1

# name, hyperparameters, first direction for W1 worked by hand
ONE_STEP = [
    # the gradient itself
    ("gd", {}, [2.0, -4.0]),
    # v = beta v + (1 - beta) g = 0.25 g
    ("momentum", {"beta": 0.75}, [0.5, -1.0]),
    # s = 0.25 g^2 = (1, 4); g / (sqrt(s) + eps) = (2 / (1 + 1), -4 / (2 + 1))
    ("rmsprop", {"beta2": 0.75, "epsilon": 1.0}, [1.0, -4.0 / 3.0]),
    # v = 0.5 g = (1, -2), corrected /(1 - 0.5) = (2, -4);
    # s = 0.25 g^2 = (1, 4), corrected /(1 - 0.75) = (4, 16), root (2, 4);
    # direction (2 / (2 + 1), -4 / (4 + 1))
    ("adam", {"beta1": 0.5, "beta2": 0.75, "epsilon": 1.0}, [2.0 / 3.0, -0.8]),
]

# name, hyperparameters, learning rate, steps: enough to reach the bottom of the bowl
CONVERGENCE = [
    ("gd", {}, 0.1, 400),
    ("momentum", {"beta": 0.9}, 0.1, 400),
    ("rmsprop", {"beta2": 0.9}, 0.01, 1500),
    ("adam", {}, 0.05, 800),
]


def test_every_optimizer_has_a_row_in_each_table():
    assert {row[0] for row in ONE_STEP} == set(optimizers.OPTIMIZERS)
    assert {row[0] for row in CONVERGENCE} == set(optimizers.OPTIMIZERS)


@pytest.mark.parametrize("name, hyperparameters, direction", ONE_STEP, ids=[r[0] for r in ONE_STEP])
def test_one_step_by_hand(name, hyperparameters, direction):
    opt = optimizers.make_optimizer(name, **hyperparameters)
    state = opt.init(PARAMS)
    directions, new_state = opt.update(GRADS, state)
    np.testing.assert_allclose(directions["W1"], [[direction]], rtol=1e-15)
    # A zero gradient gives a zero direction for every optimizer.
    np.testing.assert_array_equal(directions["b1"], [[[0.0]]])
    new_params = optimizers.apply_updates(PARAMS, directions, np.full((1, 1, 1), LEARNING_RATE))
    np.testing.assert_allclose(
        new_params["W1"], [[[1.0 - 0.1 * direction[0], 1.0 - 0.1 * direction[1]]]], rtol=1e-15
    )
    # The update is pure: neither the inputs nor the old state were touched.
    np.testing.assert_array_equal(PARAMS["W1"], [[[1.0, 1.0]]])
    np.testing.assert_array_equal(GRADS["W1"], [[[2.0, -4.0]]])
    assert type(new_state) is type(state)
    for old, new in zip(state, new_state):
        if isinstance(old, dict):
            assert all(np.all(v == 0) for v in old.values())


def test_one_step_states_by_hand():
    _, m = optimizers.momentum(beta=0.75).update(GRADS, optimizers.momentum(0.75).init(PARAMS))
    np.testing.assert_allclose(m.velocity["W1"], [[[0.5, -1.0]]])
    _, r = optimizers.rmsprop(0.75, 1.0).update(GRADS, optimizers.rmsprop(0.75, 1.0).init(PARAMS))
    np.testing.assert_allclose(r.square_average["W1"], [[[1.0, 4.0]]])
    adam = optimizers.adam(0.5, 0.75, 1.0)
    _, a = adam.update(GRADS, adam.init(PARAMS))
    assert a.count == 1
    np.testing.assert_allclose(a.velocity["W1"], [[[1.0, -2.0]]])
    np.testing.assert_allclose(a.square_average["W1"], [[[1.0, 4.0]]])


def test_adam_bias_correction_over_two_steps():
    adam = optimizers.adam(beta1=0.5, beta2=0.75, epsilon=1.0)
    params = {"W1": np.zeros((1, 1, 1))}
    state = adam.init(params)
    # Step 1, g = 2: v = 1, s = 1; corrected v = 1 / 0.5 = 2, s = 1 / 0.25 = 4; 2 / (2 + 1)
    d1, state = adam.update({"W1": np.full((1, 1, 1), 2.0)}, state)
    assert d1["W1"].item() == pytest.approx(2.0 / 3.0, rel=1e-15)
    # Step 2, g = 4: v = 0.5 * 1 + 0.5 * 4 = 2.5; s = 0.75 * 1 + 0.25 * 16 = 4.75
    # corrections 1 - 0.5^2 = 0.75 and 1 - 0.75^2 = 0.4375:
    # v_hat = 10 / 3, s_hat = 76 / 7, direction (10 / 3) / (sqrt(76 / 7) + 1) = 0.776093...
    d2, state = adam.update({"W1": np.full((1, 1, 1), 4.0)}, state)
    assert state.count == 2
    assert state.velocity["W1"].item() == 2.5
    assert state.square_average["W1"].item() == 4.75
    assert d2["W1"].item() == pytest.approx((10.0 / 3.0) / (math.sqrt(76.0 / 7.0) + 1.0), rel=1e-14)
    assert d2["W1"].item() == pytest.approx(0.7760930, abs=1e-7)


def test_adam_built_by_hand_state_continues_the_count():
    adam = optimizers.adam(beta1=0.5, beta2=0.75, epsilon=1.0)
    # State is plain data: a step-2 state built by hand gives the step-2 direction above.
    state = optimizers.AdamState(
        1, {"W1": np.full((1, 1, 1), 1.0)}, {"W1": np.full((1, 1, 1), 1.0)}
    )
    d2, _ = adam.update({"W1": np.full((1, 1, 1), 4.0)}, state)
    assert d2["W1"].item() == pytest.approx((10.0 / 3.0) / (math.sqrt(76.0 / 7.0) + 1.0), rel=1e-14)


def test_momentum_zero_beta_is_gradient_descent():
    opt = optimizers.momentum(beta=0.0)
    state = opt.init(PARAMS)
    for _ in range(3):
        directions, state = opt.update(GRADS, state)
        np.testing.assert_array_equal(directions["W1"], GRADS["W1"])


def bowl_gradient(params):
    """Gradient of 0.5 * sum a (w - c)^2 per model: two models with different bowls."""
    a_w = np.array([[[1.0, 10.0]], [[0.5, 3.0]]])
    c_w = np.array([[[2.0, -3.0]], [[-1.0, 0.5]]])
    a_b = np.array([[[4.0]], [[2.0]]])
    c_b = np.array([[[1.5]], [[-0.5]]])
    grads = {"W1": a_w * (params["W1"] - c_w), "b1": a_b * (params["b1"] - c_b)}
    return grads, {"W1": c_w, "b1": c_b}


@pytest.mark.parametrize(
    "name, hyperparameters, learning_rate, steps", CONVERGENCE, ids=[r[0] for r in CONVERGENCE]
)
def test_converges_on_a_quadratic_bowl(name, hyperparameters, learning_rate, steps):
    opt = optimizers.make_optimizer(name, **hyperparameters)
    params = {"W1": np.zeros((2, 1, 2)), "b1": np.zeros((2, 1, 1))}
    state = opt.init(params)
    rate = np.full((2, 1, 1), learning_rate)
    for _ in range(steps):
        grads, _ = bowl_gradient(params)
        directions, state = opt.update(grads, state)
        params = optimizers.apply_updates(params, directions, rate)
    _, minimum = bowl_gradient(params)
    for k in params:
        np.testing.assert_allclose(params[k], minimum[k], rtol=0, atol=1e-6, err_msg=f"{name} {k}")


def test_apply_updates_per_model_learning_rate_and_frozen_models():
    params = {"W1": np.ones((3, 1, 2))}
    directions = {"W1": np.full((3, 1, 2), 2.0)}
    rate = np.array([0.1, 0.0, 1.0]).reshape(-1, 1, 1)
    out = optimizers.apply_updates(params, directions, rate)
    np.testing.assert_allclose(out["W1"][:, 0, 0], [0.8, 1.0, -1.0])
    np.testing.assert_array_equal(out["W1"][1], params["W1"][1])


def test_make_optimizer_ignores_hyperparameters_it_does_not_take():
    gd = optimizers.make_optimizer("gd", beta=0.9, beta1=0.9, epsilon=1e-8)
    directions, _ = gd.update(GRADS, gd.init(PARAMS))
    np.testing.assert_array_equal(directions["W1"], GRADS["W1"])
    # None means "use the default".
    adam = optimizers.make_optimizer("adam", beta1=None)
    assert adam.update(GRADS, adam.init(PARAMS))[0]["W1"].shape == (1, 1, 2)


@pytest.mark.parametrize(
    "name, hyperparameters, pattern",
    [
        ("momentum", {"beta": 1.5}, r"beta=1\.5"),
        ("momentum", {"beta": -0.1}, r"beta=-0\.1"),
        ("momentum", {"beta": 1.0}, r"beta=1\.0"),
        ("rmsprop", {"beta2": 1.5}, r"beta2=1\.5"),
        ("rmsprop", {"beta2": 0.0}, r"beta2=0\.0"),
        ("rmsprop", {"epsilon": -1e-8}, r"epsilon=-1e-08"),
        ("adam", {"beta1": 1.5}, r"beta1=1\.5"),
        ("adam", {"beta2": 1.0}, r"beta2=1\.0"),
        ("adam", {"epsilon": -1e-8}, r"epsilon=-1e-08"),
        ("adam", {"epsilon": 0.0}, r"epsilon=0\.0"),
        ("adam", {"epsilon": float("nan")}, r"epsilon=nan"),
        ("adam", {"beta1": float("nan")}, r"beta1=nan"),
        ("nesterov", {}, r"optimizer='nesterov'"),
    ],
)
def test_bad_hyperparameters_name_parameter_and_value(name, hyperparameters, pattern):
    with pytest.raises(ConfigError, match=pattern):
        optimizers.make_optimizer(name, **hyperparameters)
