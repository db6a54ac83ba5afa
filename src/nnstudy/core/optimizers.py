"""Optimizers as pure ``(init, update)`` pairs with explicit state.

A transformation turns gradients into update directions; the training loop
then moves each model's parameters by ``-learning_rate * direction``, so the
learning rate (and its decay schedule) is a separate, per-model step. State
is a small NamedTuple of plain arrays: it can be saved, compared in a test,
or built by hand.

Gradients and directions are dicts keyed like the parameters
(``{"W1": ..., "b1": ...}``), each array carrying the leading model axis.

Every hyperparameter (beta, beta1, beta2, epsilon) is a number shared by all
models or an (S,) array with one value per model, so that a tuning batch in
which each model has its own settings still trains as one batch. A number
and an array of that number give the same bits.
"""

from typing import Callable, NamedTuple

import numpy as np

from nnstudy.errors import check_choice, invalid


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state) -> (directions, state)``.

    elementwise : True when every direction and state entry depends only on
        the same entry of the gradients and state (true of every optimizer
        here). The fused training engine then updates all of a model's
        parameters as one flat array; other transformations take the plain
        engine.
    """

    init: Callable
    update: Callable
    elementwise: bool = False
    # (index) -> the transformation of models ``index`` (None: the same for all).
    subset: Callable = None
    # The number of models the per-model hyperparameters describe (None: any).
    n_models: int = None

    def for_models(self, index):
        """The transformation of models ``index`` of a batch (a chunk of it)."""
        return self if self.subset is None else self.subset(index)


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


class MomentumState(NamedTuple):
    velocity: dict


class RmsState(NamedTuple):
    square_average: dict


class AdamState(NamedTuple):
    count: int
    velocity: dict
    square_average: dict


def _per_model(value):
    """A hyperparameter as given: a number, or an (S,) float array for one value per model."""
    return value if np.ndim(value) == 0 else np.asarray(value, dtype=float)


def _along(value, like):
    """``value`` shaped to broadcast against ``like`` (model axis first): numbers pass as they are."""
    return value if np.ndim(value) == 0 else value.reshape((-1,) + (1,) * (np.ndim(like) - 1))


def _batch(constructor, **hyperparameters):
    """Build ``constructor(**hyperparameters)`` with its per-model arrays, sliceable by model."""
    hyperparameters = {k: _per_model(v) for k, v in hyperparameters.items()}
    arrays = {k: v for k, v in hyperparameters.items() if np.ndim(v) > 0}
    sizes = {len(v) for v in arrays.values()}
    if len(sizes) > 1:
        raise invalid("hyperparameters", {k: len(v) for k, v in arrays.items()}, "arrays of one length")
    built = constructor(**hyperparameters)
    if not arrays:
        return built

    def subset(index):
        return constructor(**{k: (v[index] if k in arrays else v) for k, v in hyperparameters.items()})

    return built._replace(subset=subset, n_models=sizes.pop())


def _zeros_like(params):
    return {name: np.zeros_like(value) for name, value in params.items()}


def _shown(value):
    return value if np.ndim(value) == 0 else np.asarray(value).tolist()


def _check_rate(name, value, allow_zero=False):
    v = np.asarray(value, dtype=float)
    ok = (0.0 <= v) & (v < 1.0) if allow_zero else (0.0 < v) & (v < 1.0)
    if not np.all(ok):
        raise invalid(name, _shown(value), "a number in [0, 1)" if allow_zero else "a number in (0, 1)")


def _check_positive(name, value):
    v = np.asarray(value, dtype=float)
    if not np.all((v > 0) & np.isfinite(v)):
        raise invalid(name, _shown(value), "a positive finite number")


def identity():
    """Plain gradient descent: the direction is the gradient."""

    def init(params):
        return EmptyState()

    def update(grads, state):
        return grads, state

    return GradientTransformation(init, update, elementwise=True)


def momentum(beta=0.9):
    """Exponentially weighted average of gradients: ``v = beta v + (1 - beta) g``."""
    _check_rate("beta", beta, allow_zero=True)
    beta = _per_model(beta)

    def init(params):
        return MomentumState(_zeros_like(params))

    def update(grads, state):
        velocity = {}
        for k, v in state.velocity.items():
            b = _along(beta, v)
            velocity[k] = b * v + (1.0 - b) * grads[k]
        return velocity, MomentumState(velocity)

    return GradientTransformation(init, update, elementwise=True)


def rmsprop(beta2=0.999, epsilon=1e-8):
    """Gradient divided by the root of an average of squared gradients."""
    _check_rate("beta2", beta2)
    _check_positive("epsilon", epsilon)
    beta2, epsilon = _per_model(beta2), _per_model(epsilon)

    def init(params):
        return RmsState(_zeros_like(params))

    def update(grads, state):
        square, directions = {}, {}
        for k, s in state.square_average.items():
            b2, eps = _along(beta2, s), _along(epsilon, s)
            square[k] = b2 * s + (1.0 - b2) * grads[k] ** 2
            directions[k] = grads[k] / (np.sqrt(square[k]) + eps)
        return directions, RmsState(square)

    return GradientTransformation(init, update, elementwise=True)


def adam(beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam with bias correction; epsilon is added after the square root.

    The step count increases with every update (every mini-batch) and never
    resets between epochs.
    """
    _check_rate("beta1", beta1, allow_zero=True)
    _check_rate("beta2", beta2)
    _check_positive("epsilon", epsilon)
    beta1, beta2, epsilon = _per_model(beta1), _per_model(beta2), _per_model(epsilon)

    def init(params):
        return AdamState(0, _zeros_like(params), _zeros_like(params))

    def update(grads, state):
        count = state.count + 1
        correction1 = 1.0 - beta1**count
        correction2 = 1.0 - beta2**count
        velocity, square, directions = {}, {}, {}
        for k, v in state.velocity.items():
            b1, b2 = _along(beta1, v), _along(beta2, v)
            velocity[k] = b1 * v + (1.0 - b1) * grads[k]
            square[k] = b2 * state.square_average[k] + (1.0 - b2) * grads[k] ** 2
            directions[k] = (velocity[k] / _along(correction1, v)) / (
                np.sqrt(square[k] / _along(correction2, v)) + _along(epsilon, v)
            )
        return directions, AdamState(count, velocity, square)

    return GradientTransformation(init, update, elementwise=True)


# name -> (constructor, the hyperparameter names it accepts)
OPTIMIZERS = {
    "gd": (identity, ()),
    "momentum": (momentum, ("beta",)),
    "rmsprop": (rmsprop, ("beta2", "epsilon")),
    "adam": (adam, ("beta1", "beta2", "epsilon")),
}


def make_optimizer(name, **hyperparameters):
    """Build an optimizer by name, passing only the hyperparameters it takes.

    Mini-batch SGD is ``"gd"`` with a batch size: the batch is a property of
    the training loop, not of the optimizer. A hyperparameter given as an
    (S,) array sets one value per model of the batch.
    """
    check_choice("optimizer", name, OPTIMIZERS)
    constructor, accepted = OPTIMIZERS[name]
    return _batch(constructor, **{k: v for k, v in hyperparameters.items() if k in accepted and v is not None})


def apply_updates(params, directions, learning_rate):
    """``params - learning_rate * directions`` per model.

    learning_rate : (S, 1, 1) array (zero for a model that must not move).
    """
    return {k: p - learning_rate * directions[k] for k, p in params.items()}
