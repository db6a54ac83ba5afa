"""The course's N-dimensional gradient check, computed with the course's own formulas.

The engine's check (:func:`nnstudy.core.gradcheck.gradient_check`) takes the
cost from the logits, which keeps digits that the course's cost loses: the
course evaluates ``sigmoid`` first and then ``-log(a)`` and ``-log(1 - a)``,
so each cost carries a rounding error of about ``1e-16 / a`` and its central
differences with ``epsilon = 1e-7`` are noisier. Its published difference
(1.1890913024229996e-07) is that noise; the engine gets about 1e-9 on the
same case. To reproduce the course's number to the digit, this module
repeats the course's arithmetic operation for operation:

* the network: ReLU hidden layers and a sigmoid output,
  ``Z = np.dot(W, A) + b``, ``sigmoid(z) = 1 / (1 + exp(-z))``;
* the cost: ``1/m * np.sum(-log(a) * y + -log(1 - a) * (1 - y))``;
* the backward pass with ``1/m`` in every gradient, optionally with the
  exercise's two planted mistakes (:data:`COURSE_MISTAKES`);
* one column vector of all parameters, W1, b1, W2, b2, ... each flattened
  row-major, perturbed one coordinate at a time by ``epsilon``.

Arrays have no model axis here: ``X`` ``(n_0, m)``, ``Y`` ``(1, m)`` or
``(m,)``, ``params`` ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``. Nothing
here draws random numbers; the seeded test case is built in
:mod:`nnstudy.study.replication`.
"""

import numpy as np

from nnstudy.core.gradcheck import relative_difference

# The exercise's deliberately wrong backward pass scales two gradients:
# dW2 by 2 and db1 by 4. Both are powers of two, so where the factor stands
# in the product does not change a bit of the result.
COURSE_MISTAKES = {"W2": 2.0, "b1": 4.0}


def _n_layers(params):
    return len(params) // 2


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _relu(z):
    return np.maximum(0, z)


def forward(X, Y, params):
    """The course's forward pass and cost: ``(cost, activations)``.

    activations : ``[X, A1, ..., A_L]``, ``A_L`` the sigmoid output (1, m).
    """
    L = _n_layers(params)
    activations = [X]
    for l in range(1, L + 1):
        Z = np.dot(params[f"W{l}"], activations[-1]) + params[f"b{l}"]
        activations.append(_sigmoid(Z) if l == L else _relu(Z))
    A_L = activations[-1]
    m = X.shape[1]
    log_probs = np.multiply(-np.log(A_L), Y) + np.multiply(-np.log(1 - A_L), 1 - Y)
    return 1.0 / m * np.sum(log_probs), activations


def backward(Y, params, activations, mistakes=None):
    """The course's backward pass: ``{"W1": dW1, "b1": db1, ...}``.

    mistakes : {parameter name: factor} applied to that gradient, e.g.
    :data:`COURSE_MISTAKES`; None is the correct pass.
    """
    mistakes = mistakes or {}
    L = _n_layers(params)
    m = activations[0].shape[1]
    grads = {}
    dZ = activations[L] - Y
    for l in range(L, 0, -1):
        A_prev = activations[l - 1]
        grads[f"W{l}"] = 1.0 / m * np.dot(dZ, A_prev.T) * mistakes.get(f"W{l}", 1.0)
        grads[f"b{l}"] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True) * mistakes.get(f"b{l}", 1.0)
        if l > 1:
            dA_prev = np.dot(params[f"W{l}"].T, dZ)
            dZ = np.multiply(dA_prev, np.int64(A_prev > 0))
    return grads


def parameter_order(params):
    """W1, b1, W2, b2, ...: the order of the course's parameter vector."""
    return [f"{kind}{l}" for l in range(1, _n_layers(params) + 1) for kind in ("W", "b")]


def to_vector(arrays, order):
    """Stack the named arrays, each flattened row-major, into one (P, 1) column."""
    return np.concatenate([np.reshape(arrays[name], (-1, 1)) for name in order], axis=0)


def to_dict(vector, shapes):
    """Undo :func:`to_vector`: ``shapes`` is ``{name: shape}`` in vector order."""
    arrays, start = {}, 0
    for name, shape in shapes.items():
        stop = start + int(np.prod(shape))
        arrays[name] = vector[start:stop].reshape(shape)
        start = stop
    return arrays


def gradient_check(X, Y, params, epsilon=1e-7, mistakes=None):
    """The course's ``gradient_check_n``: the relative difference of backprop and central differences.

    Returns ``||g - g_approx|| / (||g|| + ||g_approx||)`` over the whole
    parameter vector, a Python float.
    """
    order = parameter_order(params)
    shapes = {name: params[name].shape for name in order}
    _, activations = forward(X, Y, params)
    grad = to_vector(backward(Y, params, activations, mistakes), order)
    theta = to_vector(params, order)
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus = np.copy(theta)
        plus[i] = plus[i] + epsilon
        minus = np.copy(theta)
        minus[i] = minus[i] - epsilon
        cost_plus, _ = forward(X, Y, to_dict(plus, shapes))
        cost_minus, _ = forward(X, Y, to_dict(minus, shapes))
        approx[i] = (cost_plus - cost_minus) / (2 * epsilon)
    return float(relative_difference(grad, approx, axis=None))
