"""Gradient checking: backprop against two-sided finite differences.

Parameters are packed into one flat vector per model (each block row-major,
in the order W1, b1, W2, b2, ...), so a numerical derivative is one loop over
coordinates. Every model of the batch is perturbed at the same coordinate at
once: models are independent, so S checks cost the same number of passes as
one.
"""

from dataclasses import dataclass

import numpy as np

from nnstudy import network


@dataclass(frozen=True)
class Packing:
    """Where each named block lives in the flat vector: name -> (start, stop, shape)."""

    slices: dict

    @classmethod
    def of(cls, arch):
        slices, start = {}, 0
        for name, shape in arch.parameter_shapes.items():
            stop = start + int(np.prod(shape))
            slices[name] = (start, stop, shape)
            start = stop
        return cls(slices)

    @property
    def size(self):
        return max(stop for _, stop, _ in self.slices.values())

    def pack(self, arrays):
        """{name: (S, *shape)} -> (S, P)."""
        return np.concatenate(
            [arrays[name].reshape(arrays[name].shape[0], -1) for name in self.slices], axis=1
        )

    def unpack(self, vector):
        """(S, P) -> {name: (S, *shape)} (views into ``vector``)."""
        n_models = vector.shape[0]
        return {
            name: vector[:, start:stop].reshape(n_models, *shape)
            for name, (start, stop, shape) in self.slices.items()
        }


def relative_difference(grad, approx, axis=-1):
    """``||g - g_approx|| / (||g|| + ||g_approx||)`` along ``axis``."""
    numerator = np.linalg.norm(grad - approx, axis=axis)
    denominator = np.linalg.norm(grad, axis=axis) + np.linalg.norm(approx, axis=axis)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


@dataclass(frozen=True)
class GradientCheck:
    """Outcome per model: overall difference (S,), per block {name: (S,)}."""

    difference: np.ndarray
    blocks: dict
    gradient: np.ndarray
    approximation: np.ndarray

    def worst_block(self, s=0):
        """The name of the block that disagrees most for model ``s``."""
        return max(self.blocks, key=lambda name: self.blocks[name][s])


def gradient_check(params, X, Y, arch, lambd=0.0, keep_prob=None, uniforms=None, epsilon=1e-7,
                   backward=network.backward):
    """Compare ``backward`` with central differences of the cost.

    params : {"W1": (S, n_1, n_0), ...}; X (n_0, m); Y (n_L, m).
    lambd : scalar or (S,) L2 strengths, included in cost and gradient.
    keep_prob, uniforms : as for :func:`nnstudy.network.forward`; the same
        draws are used for every evaluation, so dropout is checked under a
        fixed mask.
    backward : the backward pass under test (a deliberately broken one in
        tests shows which block disagrees).
    """
    n_models = arch.check_params(params)
    lambd_b = network.per_model(lambd, n_models)
    packing = Packing.of(arch)
    theta = packing.pack(params).astype(float)

    logits, cache = network.forward(params, X, arch, keep_prob, uniforms)
    grads = backward(params, cache, logits, Y, arch, lambd_b, keep_prob)
    gradient = packing.pack(grads)

    def cost(vector):
        return network.cost(packing.unpack(vector), X, Y, arch, lambd_b[:, 0, 0], keep_prob, uniforms)

    approximation = np.empty_like(theta)
    for i in range(theta.shape[1]):
        original = theta[:, i].copy()
        theta[:, i] = original + epsilon
        plus = cost(theta)
        theta[:, i] = original - epsilon
        minus = cost(theta)
        theta[:, i] = original
        approximation[:, i] = (plus - minus) / (2 * epsilon)

    blocks = {
        name: relative_difference(gradient[:, start:stop], approximation[:, start:stop])
        for name, (start, stop, _) in packing.slices.items()
    }
    return GradientCheck(
        difference=relative_difference(gradient, approximation),
        blocks=blocks,
        gradient=gradient,
        approximation=approximation,
    )
