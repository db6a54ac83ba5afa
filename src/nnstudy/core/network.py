"""Fully connected networks of any depth, S models at once.

Forward and backward passes work on parameters stacked along a leading model
axis (see the package docstring for shapes). Hidden layers use ReLU, tanh or
linear activations; the output is a sigmoid unit with binary cross-entropy or
a softmax layer with categorical cross-entropy, both computed from the logits
so that saturated outputs give large but finite costs.
"""

from dataclasses import dataclass

import numpy as np

from nnstudy.core import basics
from nnstudy.errors import DataError, check_choice, invalid


def _identity(x):
    return x


def _ones(x):
    return np.ones_like(x)


# name -> (activation, derivative with respect to its input)
ACTIVATIONS = {
    "relu": (basics.relu, basics.relu_derivative),
    "tanh": (np.tanh, basics.tanh_derivative),
    "linear": (_identity, _ones),
}


def _binary_probabilities(logits, out=None):
    return basics.sigmoid(logits, out=out)


def _binary_loss(logits, Y):
    # log(1 + exp(z)) - y z, rearranged so that no exp overflows.
    return np.maximum(logits, 0.0) - logits * Y + np.log1p(np.exp(-np.abs(logits)))


def _softmax_probabilities(logits, out=None):
    return basics.softmax(logits, axis=-2, out=out)


def _softmax_loss(logits, Y):
    return -(Y * basics.log_softmax(logits, axis=-2)).sum(axis=-2, keepdims=True)


def _binary_predict(logits):
    return (_binary_probabilities(logits)[..., 0, :] > 0.5).astype(np.int64)


def _softmax_predict(logits):
    return np.argmax(logits, axis=-2)


# name -> (probabilities, per-sample loss, predicted labels); the probabilities
# may be written into ``out`` (the fused engine's buffers).
OUTPUTS = {
    "sigmoid": (_binary_probabilities, _binary_loss, _binary_predict),
    "softmax": (_softmax_probabilities, _softmax_loss, _softmax_predict),
}


@dataclass(frozen=True)
class Architecture:
    """Layer sizes ``(n_0, ..., n_L)`` (inputs first) and the activations."""

    layer_sizes: tuple
    hidden_activation: str = "relu"
    output: str = "sigmoid"

    def __post_init__(self):
        sizes = tuple(int(n) for n in self.layer_sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise invalid("layer_sizes", self.layer_sizes, "at least two positive sizes")
        check_choice("hidden_activation", self.hidden_activation, ACTIVATIONS)
        check_choice("output", self.output, OUTPUTS)
        if self.output == "sigmoid" and sizes[-1] != 1:
            raise invalid("layer_sizes", sizes, "one output unit for a sigmoid output")
        if self.output == "softmax" and sizes[-1] < 2:
            raise invalid("layer_sizes", sizes, "at least two output units for softmax")
        object.__setattr__(self, "layer_sizes", sizes)

    @property
    def n_layers(self):
        """Number of weight layers L."""
        return len(self.layer_sizes) - 1

    @property
    def parameter_shapes(self):
        """``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` for one model, in order."""
        shapes = {}
        for l in range(1, len(self.layer_sizes)):
            shapes[f"W{l}"] = (self.layer_sizes[l], self.layer_sizes[l - 1])
            shapes[f"b{l}"] = (self.layer_sizes[l], 1)
        return shapes

    def check_params(self, params):
        """Raise ConfigError unless ``params`` fits this architecture."""
        n_models = None
        for name, shape in self.parameter_shapes.items():
            if name not in params:
                raise invalid("params", sorted(params), f"a {name} entry")
            got = np.shape(params[name])
            if len(got) != 3 or got[1:] != shape or (n_models is not None and got[0] != n_models):
                raise invalid(f"params[{name!r}].shape", got, f"(S, {shape[0]}, {shape[1]})")
            n_models = got[0]
        return n_models

    def check_inputs(self, X, Y=None):
        """Raise DataError unless ``X`` (n_0, m) and ``Y`` (n_L, m) fit."""
        if X.ndim not in (2, 3) or X.shape[-2] != self.layer_sizes[0]:
            raise DataError(f"X has shape {X.shape}: expected ({self.layer_sizes[0]}, m)")
        if Y is not None and (Y.shape[-2] != self.layer_sizes[-1] or Y.shape[-1] != X.shape[-1]):
            raise DataError(
                f"Y has shape {Y.shape}: expected ({self.layer_sizes[-1]}, {X.shape[-1]})"
            )


def per_model(values, n_models):
    """A scalar or (S,) sequence as an (S, 1, 1) array, ready to broadcast."""
    return np.broadcast_to(np.asarray(values, dtype=float), (n_models,)).reshape(-1, 1, 1)


def forward(params, X, arch, keep_prob=None, uniforms=None):
    """Forward pass of S models.

    params : {"W1": (S, n_1, n_0), ...}.
    X : (n_0, m) shared by all models, or (S, n_0, m).
    keep_prob : (S, 1, 1) keep probabilities, with ``uniforms`` a list of
        (S, n_l, m) uniform draws per hidden layer (inverted dropout: a unit is
        kept where its draw is below keep_prob, then scaled by 1/keep_prob).
    Returns ``(logits (S, n_L, m), cache)``; the cache holds the input and,
    per hidden layer, ``(Z, A, keep_mask)`` for :func:`backward`.
    """
    activation = ACTIVATIONS[arch.hidden_activation][0]
    A = X
    cache = [X]
    for l in range(1, arch.n_layers):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = activation(Z)
        mask = None
        if uniforms is not None:
            mask = uniforms[l - 1] < keep_prob
            A = A * mask / keep_prob
        cache.append((Z, A, mask))
    L = arch.n_layers
    logits = params[f"W{L}"] @ A + params[f"b{L}"]
    return logits, cache


def data_loss(logits, Y, arch):
    """Mean cross-entropy per model, from the logits: shape (S,)."""
    return OUTPUTS[arch.output][1](logits, Y).mean(axis=(-2, -1))


def l2_penalty(params, lambd, n_train):
    """``lambd / (2 n_train) * sum_l ||W_l||^2`` per model: shape (S,).

    n_train is the size of the whole training set, whatever batch the data
    loss is measured on: the penalty belongs to the training objective, so a
    mini-batch estimate of that objective carries it unscaled.
    """
    total = sum((W**2).sum(axis=(-2, -1)) for name, W in params.items() if name[0] == "W")
    return np.asarray(lambd, dtype=float) / (2.0 * n_train) * total


def cost(params, X, Y, arch, lambd=0.0, keep_prob=None, uniforms=None, n_train=None):
    """Regularized cost per model: cross-entropy plus the L2 penalty, shape (S,).

    n_train : training-set size for the penalty; None when X is the whole set.
    """
    logits, _ = forward(params, X, arch, keep_prob, uniforms)
    return data_loss(logits, Y, arch) + l2_penalty(params, lambd, n_train or X.shape[-1])


def backward(params, cache, logits, Y, arch, lambd=None, keep_prob=None, n_train=None):
    """Gradients of :func:`cost` with respect to every parameter.

    cache, logits : from :func:`forward` (with the same dropout draws).
    Y : (n_L, m) or (S, n_L, m) targets.
    lambd : None or (S, 1, 1) L2 strengths.
    n_train : training-set size for the L2 term; None when the batch is the
        whole set. The L2 part of the gradient is ``lambd / n_train * W``
        for every batch size.
    Returns gradients keyed like the parameters:
    ``{"W1": (S, n_1, n_0), "b1": (S, n_1, 1), ...}``.
    """
    derivative = ACTIVATIONS[arch.hidden_activation][1]
    m = logits.shape[-1]
    # For both sigmoid + binary and softmax + categorical cross-entropy, the
    # gradient of the mean loss with respect to the logits is (p - y) / m.
    dZ = (OUTPUTS[arch.output][0](logits) - Y) / m
    grads = {}
    for l in range(arch.n_layers, 0, -1):
        A_prev = cache[l - 1] if l == 1 else cache[l - 1][1]
        W = params[f"W{l}"]
        dW = dZ @ np.swapaxes(A_prev, -1, -2)
        if lambd is not None:
            dW = dW + lambd / (n_train or m) * W
        grads[f"W{l}"] = dW
        grads[f"b{l}"] = dZ.sum(axis=-1, keepdims=True)
        if l > 1:
            Z, _, mask = cache[l - 1]
            dA = np.swapaxes(W, -1, -2) @ dZ
            if mask is not None:
                dA = dA * mask / keep_prob
            dZ = dA * derivative(Z)
    return {name: grads[name] for name in params}


def predict(params, X, arch):
    """Predicted class labels per model: shape (S, m) ints."""
    logits, _ = forward(params, X, arch)
    return OUTPUTS[arch.output][2](logits)


def accuracy(params, X, y, arch):
    """Fraction of correctly labelled samples per model: shape (S,).

    y : (m,) integer labels shared by all models.
    """
    return (predict(params, X, arch) == y).mean(axis=-1)
