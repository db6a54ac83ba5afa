"""Optimizers as pure ``(init, update)`` pairs with explicit state.

A transformation turns gradients into update directions; the training loop
then moves each model's parameters by ``-learning_rate * direction``, so the
learning rate (and its decay schedule) is a separate, per-model step. State
is a small NamedTuple of plain arrays: it can be saved, compared in a test,
or built by hand.

Gradients and directions are dicts keyed like the parameters
(``{"W1": ..., "b1": ...}``), each array carrying the leading model axis.
"""

import math
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


def _zeros_like(params):
    return {name: np.zeros_like(value) for name, value in params.items()}


def _check_rate(name, value, allow_zero=False):
    ok = 0.0 <= value < 1.0 if allow_zero else 0.0 < value < 1.0
    if not ok:
        raise invalid(name, value, "a number in [0, 1)" if allow_zero else "a number in (0, 1)")


def _check_positive(name, value):
    if not (value > 0 and math.isfinite(value)):
        raise invalid(name, value, "a positive finite number")


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

    def init(params):
        return MomentumState(_zeros_like(params))

    def update(grads, state):
        velocity = {k: beta * v + (1.0 - beta) * grads[k] for k, v in state.velocity.items()}
        return velocity, MomentumState(velocity)

    return GradientTransformation(init, update, elementwise=True)


def rmsprop(beta2=0.999, epsilon=1e-8):
    """Gradient divided by the root of an average of squared gradients."""
    _check_rate("beta2", beta2)
    _check_positive("epsilon", epsilon)

    def init(params):
        return RmsState(_zeros_like(params))

    def update(grads, state):
        square = {
            k: beta2 * s + (1.0 - beta2) * grads[k] ** 2 for k, s in state.square_average.items()
        }
        directions = {k: grads[k] / (np.sqrt(s) + epsilon) for k, s in square.items()}
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

    def init(params):
        return AdamState(0, _zeros_like(params), _zeros_like(params))

    def update(grads, state):
        count = state.count + 1
        velocity = {k: beta1 * v + (1.0 - beta1) * grads[k] for k, v in state.velocity.items()}
        square = {
            k: beta2 * s + (1.0 - beta2) * grads[k] ** 2 for k, s in state.square_average.items()
        }
        correction1 = 1.0 - beta1**count
        correction2 = 1.0 - beta2**count
        directions = {
            k: (velocity[k] / correction1) / (np.sqrt(square[k] / correction2) + epsilon)
            for k in velocity
        }
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
    the training loop, not of the optimizer.
    """
    check_choice("optimizer", name, OPTIMIZERS)
    constructor, accepted = OPTIMIZERS[name]
    return constructor(**{k: v for k, v in hyperparameters.items() if k in accepted and v is not None})


def apply_updates(params, directions, learning_rate):
    """``params - learning_rate * directions`` per model.

    learning_rate : (S, 1, 1) array (zero for a model that must not move).
    """
    return {k: p - learning_rate * directions[k] for k, p in params.items()}
