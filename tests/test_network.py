"""Forward and backward passes of S networks, checked on a network worked by hand."""

import math
import warnings

import numpy as np
import pytest

from nnstudy.core import basics, network
from nnstudy.errors import ConfigError, DataError

# The hand-worked network: 2 inputs, 2 ReLU units, 1 sigmoid output; 2 samples.
ARCH = network.Architecture((2, 2, 1), "relu", "sigmoid")
W1 = [[1.0, -1.0], [0.5, 2.0]]
B1 = [[0.0], [-1.0]]
W2 = [[1.0, -1.0]]
B2 = [[0.5]]
# Samples are columns: x1 = (1, 0), x2 = (2, 1).
X = np.array([[1.0, 2.0], [0.0, 1.0]])
Y = np.array([[1.0, 0.0]])
y = np.array([1, 0])

# Z1 = W1 X + b1:   x1 -> (1 - 0 + 0, 0.5 + 0 - 1) = (1, -0.5)
#                   x2 -> (2 - 1 + 0, 1 + 2 - 1)   = (1, 2)
Z1 = [[1.0, 1.0], [-0.5, 2.0]]
A1 = [[1.0, 1.0], [0.0, 2.0]]  # ReLU kills the -0.5
# z2 = W2 A1 + b2:  x1 -> 1 - 0 + 0.5 = 1.5;  x2 -> 1 - 2 + 0.5 = -0.5
LOGITS = [[1.5, -0.5]]
# p = sigmoid(z2) = (0.8175744761936437, 0.3775406687981454)
# cost = mean(-log p1, -log(1 - p2)) = (log(1 + e^-1.5) + log(1 + e^-0.5)) / 2
COST = 0.33774513108142956
# dz2 = (p - y) / m = ((0.81757 - 1) / 2, 0.37754 / 2)
DZ1, DZ2 = -0.09121276190317817, 0.1887703343990727
# dW2 = dz2 A1^T = (dz1 * 1 + dz2 * 1, dz1 * 0 + dz2 * 2);  db2 = dz1 + dz2
# dA1 = W2^T dz2 = [[dz1, dz2], [-dz1, -dz2]], masked by Z1 > 0: [[dz1, dz2], [0, -dz2]]
# dW1 = dZ1 X^T = [[dz1 + 2 dz2, dz2], [-2 dz2, -dz2]];  db1 = (dz1 + dz2, -dz2)
GRADS = {
    "W1": [[DZ1 + 2 * DZ2, DZ2], [-2 * DZ2, -DZ2]],  # [[0.28633, 0.18877], [-0.37754, -0.18877]]
    "b1": [[DZ1 + DZ2], [-DZ2]],  # [[0.09756], [-0.18877]]
    "W2": [[DZ1 + DZ2, 2 * DZ2]],  # [[0.09756, 0.37754]]
    "b2": [[DZ1 + DZ2]],  # [[0.09756]]
}


def hand_params():
    return {k: np.array([v]) for k, v in {"W1": W1, "b1": B1, "W2": W2, "b2": B2}.items()}


def random_params(arch, n_models, seed=0):
    g = np.random.default_rng(seed)
    return {k: g.standard_normal((n_models, *s)) for k, s in arch.parameter_shapes.items()}


def test_hand_worked_forward():
    logits, cache = network.forward(hand_params(), X, ARCH)
    np.testing.assert_allclose(logits, [LOGITS], rtol=1e-15)
    Z, A, mask = cache[1]
    np.testing.assert_array_equal(cache[0], X)
    np.testing.assert_allclose(Z, [Z1])
    np.testing.assert_allclose(A, [A1])
    assert mask is None


def test_hand_worked_cost():
    assert COST == pytest.approx((math.log1p(math.exp(-1.5)) + math.log1p(math.exp(-0.5))) / 2)
    np.testing.assert_allclose(network.cost(hand_params(), X, Y, ARCH), [COST], rtol=1e-14)
    # L2: sum of squared weights = (1 + 1 + 0.25 + 4) + (1 + 1) = 8.25; 0.1 / (2 * 2) * 8.25
    np.testing.assert_allclose(
        network.cost(hand_params(), X, Y, ARCH, lambd=0.1), [COST + 0.20625], rtol=1e-14
    )
    np.testing.assert_allclose(network.l2_penalty(hand_params(), [0.1], 2), [0.20625], rtol=1e-14)


def test_hand_worked_gradients():
    params = hand_params()
    logits, cache = network.forward(params, X, ARCH)
    grads = network.backward(params, cache, logits, Y, ARCH)
    assert list(grads) == ["W1", "b1", "W2", "b2"]
    for name, expected in GRADS.items():
        np.testing.assert_allclose(grads[name], [expected], rtol=1e-13, atol=1e-16, err_msg=name)


def test_hand_worked_gradients_with_l2():
    params = hand_params()
    logits, cache = network.forward(params, X, ARCH)
    grads = network.backward(params, cache, logits, Y, ARCH, lambd=network.per_model(0.1, 1))
    # Each dW gains lambd / m * W = 0.05 W; biases are not regularized.
    np.testing.assert_allclose(
        grads["W1"], [np.array(GRADS["W1"]) + 0.05 * np.array(W1)], rtol=1e-13
    )
    np.testing.assert_allclose(
        grads["W2"], [np.array(GRADS["W2"]) + 0.05 * np.array(W2)], rtol=1e-13
    )
    np.testing.assert_allclose(grads["b1"], [GRADS["b1"]], rtol=1e-13)
    np.testing.assert_allclose(grads["b2"], [GRADS["b2"]], rtol=1e-13)


def test_hand_worked_dropout():
    # Keep unit 1 for sample 1 and unit 2 for sample 2 only; keep_prob 0.5 doubles the kept ones.
    uniforms = [np.array([[[0.1, 0.9], [0.9, 0.1]]])]
    keep = network.per_model(0.5, 1)
    logits, cache = network.forward(hand_params(), X, ARCH, keep, uniforms)
    # A1 dropped = [[2 * 1, 0], [0, 2 * 2]]; z2 = (2 + 0.5, -4 + 0.5)
    np.testing.assert_allclose(cache[1][1], [[[2.0, 0.0], [0.0, 4.0]]])
    np.testing.assert_allclose(logits, [[[2.5, -3.5]]])
    grads = network.backward(hand_params(), cache, logits, Y, ARCH, keep_prob=keep)
    d1 = (basics.sigmoid(2.5) - 1.0) / 2
    d2 = basics.sigmoid(-3.5) / 2
    # dA1 = W2^T dz2 = [[d1, d2], [-d1, -d2]], times mask / 0.5 = [[2 d1, 0], [0, -2 d2]]
    np.testing.assert_allclose(grads["W2"], [[[2.0 * d1, 4.0 * d2]]], rtol=1e-13)
    np.testing.assert_allclose(grads["b1"], [[[2.0 * d1], [-2.0 * d2]]], rtol=1e-13)
    # dW1 = dZ1 X^T = [[2 d1 * 1, 0], [-2 d2 * 2, -2 d2 * 1]]
    np.testing.assert_allclose(grads["W1"], [[[2.0 * d1, 0.0], [-4.0 * d2, -2.0 * d2]]], rtol=1e-13)


def test_hand_worked_predict_and_accuracy():
    params = hand_params()
    np.testing.assert_array_equal(network.predict(params, X, ARCH), [[1, 0]])
    np.testing.assert_array_equal(network.accuracy(params, X, y, ARCH), [1.0])
    np.testing.assert_array_equal(network.accuracy(params, X, np.array([1, 1]), ARCH), [0.5])
    np.testing.assert_array_equal(network.accuracy(params, X, np.array([0, 1]), ARCH), [0.0])


def test_models_along_the_leading_axis_are_independent():
    arch = network.Architecture((3, 4, 3, 2), "tanh", "softmax")
    params = random_params(arch, 3)
    g = np.random.default_rng(1)
    Xr = g.standard_normal((3, 7))
    labels = g.integers(0, 2, 7)
    Yr = np.eye(2)[:, labels]
    logits, cache = network.forward(params, Xr, arch)
    grads = network.backward(params, cache, logits, Yr, arch, network.per_model([0.0, 0.3, 1.0], 3))
    costs = network.cost(params, Xr, Yr, arch, lambd=np.array([0.0, 0.3, 1.0]))
    for s, lambd in enumerate([0.0, 0.3, 1.0]):
        one = {k: v[s : s + 1] for k, v in params.items()}
        l1, c1 = network.forward(one, Xr, arch)
        g1 = network.backward(one, c1, l1, Yr, arch, network.per_model(lambd, 1))
        np.testing.assert_allclose(logits[s], l1[0], rtol=1e-14)
        np.testing.assert_allclose(
            costs[s], network.cost(one, Xr, Yr, arch, lambd=lambd)[0], rtol=1e-14
        )
        for k in grads:
            np.testing.assert_allclose(grads[k][s], g1[k][0], rtol=1e-13, atol=1e-16)


def test_inputs_may_differ_per_model():
    arch = network.Architecture((2, 3, 1), "relu", "sigmoid")
    params = random_params(arch, 2)
    g = np.random.default_rng(2)
    Xs = g.standard_normal((2, 2, 5))
    logits, _ = network.forward(params, Xs, arch)
    for s in range(2):
        alone, _ = network.forward({k: v[s : s + 1] for k, v in params.items()}, Xs[s], arch)
        np.testing.assert_allclose(logits[s], alone[0], rtol=1e-14)


def test_binary_loss_is_stable_for_huge_logits():
    logits = np.array([[[1e4, -1e4, 1e4, -1e4, 800.0, -800.0, 1e300, -1e300]]])
    Yb = np.array([[0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        per_sample = [
            network.data_loss(logits[..., i : i + 1], Yb[:, i : i + 1], ARCH)[0] for i in range(8)
        ]
    assert np.all(np.isfinite(per_sample))
    # Wrong with confidence costs |z|; right with confidence costs (almost) nothing.
    assert per_sample[0] == 1e4 and per_sample[1] == 1e4
    assert per_sample[2] == 0.0 and per_sample[3] == 0.0
    assert per_sample[4] == 800.0 and per_sample[5] == 800.0
    assert per_sample[6] == 1e300 and per_sample[7] == 1e300


def test_binary_loss_matches_cross_entropy_for_moderate_logits():
    z = np.array([[[-3.0, -0.2, 0.0, 0.7, 4.0]]])
    Yb = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
    p = basics.sigmoid(z[0, 0])
    expected = -np.mean(Yb[0] * np.log(p) + (1 - Yb[0]) * np.log(1 - p))
    np.testing.assert_allclose(network.data_loss(z, Yb, ARCH), [expected], rtol=1e-13)


def test_softmax_loss_matches_minus_log_softmax():
    arch = network.Architecture((2, 4), "relu", "softmax")
    g = np.random.default_rng(3)
    logits = g.standard_normal((2, 4, 6)) * 3
    labels = g.integers(0, 4, 6)
    Ys = np.eye(4)[:, labels]
    p = basics.softmax(logits, axis=1)
    expected = -np.log(p[:, labels, np.arange(6)]).mean(axis=-1)
    np.testing.assert_allclose(network.data_loss(logits, Ys, arch), expected, rtol=1e-13)
    # Huge logits: the loss of a confident mistake is the logit gap, not inf.
    huge = np.array([[[1e4], [0.0], [0.0], [-1e4]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = network.data_loss(huge, np.array([[0.0], [1.0], [0.0], [0.0]]), arch)
    np.testing.assert_allclose(loss, [1e4])


def test_softmax_predict_and_accuracy():
    arch = network.Architecture((2, 3), "relu", "softmax")
    params = {
        "W1": np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]]),
        "b1": np.zeros((1, 3, 1)),
    }
    Xs = np.array([[2.0, 0.0, -1.0], [0.0, 2.0, -1.0]])
    # Logits per sample: (2, 0, -2), (0, 2, -2), (-1, -1, 2)
    np.testing.assert_array_equal(network.predict(params, Xs, arch), [[0, 1, 2]])
    np.testing.assert_allclose(network.accuracy(params, Xs, np.array([0, 1, 0]), arch), [2 / 3])


def test_architecture_shapes():
    arch = network.Architecture([3, 5, 1])
    assert arch.layer_sizes == (3, 5, 1)
    assert arch.n_layers == 2
    assert arch.parameter_shapes == {"W1": (5, 3), "b1": (5, 1), "W2": (1, 5), "b2": (1, 1)}
    assert list(arch.parameter_shapes) == ["W1", "b1", "W2", "b2"]


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (
            dict(layer_sizes=(2, 3, 1), hidden_activation="sigmoidish"),
            r"hidden_activation='sigmoidish'",
        ),
        (dict(layer_sizes=(2, 3, 1), output="hinge"), r"output='hinge'"),
        (dict(layer_sizes=(2, 3, 2), output="sigmoid"), r"layer_sizes=\(2, 3, 2\)"),
        (dict(layer_sizes=(2, 3, 1), output="softmax"), r"layer_sizes=\(2, 3, 1\)"),
        (dict(layer_sizes=(2,)), r"layer_sizes=\(2,\)"),
        (dict(layer_sizes=(2, 0, 1)), r"layer_sizes=\(2, 0, 1\)"),
    ],
)
def test_architecture_errors_name_the_bad_value(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        network.Architecture(**kwargs)


def test_check_params_accepts_matching_shapes_and_returns_s():
    assert ARCH.check_params(hand_params()) == 1
    assert ARCH.check_params(random_params(ARCH, 4)) == 4


def test_check_params_errors():
    params = hand_params()
    with pytest.raises(ConfigError, match=r"params\['W1'\]\.shape=\(1, 2, 3\)"):
        ARCH.check_params({**params, "W1": np.zeros((1, 2, 3))})
    with pytest.raises(ConfigError, match=r"params\['b2'\]\.shape=\(1, 1\)"):
        ARCH.check_params({**params, "b2": np.zeros((1, 1))})
    # Blocks must agree on the number of models.
    with pytest.raises(ConfigError, match=r"params\['W2'\]\.shape=\(2, 1, 2\)"):
        ARCH.check_params({**params, "W2": np.zeros((2, 1, 2)), "b2": np.zeros((2, 1, 1))})
    missing = {k: v for k, v in params.items() if k != "b1"}
    with pytest.raises(ConfigError, match="b1"):
        ARCH.check_params(missing)


def test_check_inputs_errors():
    ARCH.check_inputs(X, Y)
    with pytest.raises(DataError, match=r"X has shape \(3, 2\)"):
        ARCH.check_inputs(np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"Y has shape \(1, 3\)"):
        ARCH.check_inputs(X, np.zeros((1, 3)))
    with pytest.raises(DataError, match=r"Y has shape \(2, 2\)"):
        ARCH.check_inputs(X, np.zeros((2, 2)))


def test_per_model_broadcasts_to_model_axis():
    np.testing.assert_array_equal(network.per_model(0.5, 3), np.full((3, 1, 1), 0.5))
    np.testing.assert_array_equal(network.per_model([1, 2], 2)[:, 0, 0], [1.0, 2.0])
