"""Gradient checking: backprop against two-sided finite differences.

Parameters are packed into one flat vector per model (each block row-major,
in the order W1, b1, W2, b2, ...), so a numerical derivative is one loop over
coordinates. Every model of the batch is perturbed at the same coordinate at
once: models are independent, so S checks cost the same number of passes as
one.

A finite difference cannot resolve an error smaller than the rounding error
of the costs it subtracts: each evaluation of a cost ``C`` is off by up to
about :data:`ROUNDING` ``* |C|``, so each coordinate of the approximation by
``ROUNDING * |C| / epsilon`` and a block of ``n`` coordinates by
``sqrt(n)`` times that (:meth:`GradientCheck.resolution`). A strong L2
penalty makes ``C`` large while some blocks' gradients (the biases') stay
small, so the gate compares each block's difference with the threshold plus
that resolution relative to the block's own gradient
(:meth:`GradientCheck.tolerance`), instead of with the threshold alone,
which would raise false alarms on correct code.

A network on 12,288 inputs (the cat / non-cat images) has about 250,000
parameters, two cost evaluations each. :func:`checked_coordinates` then
picks a fixed-size, seeded sample of the entries of every block (a block no
larger than the sample is checked whole), and the check compares the
gradient with the central differences on those coordinates only. A backward
pass that gets a block wrong gets most of its entries wrong (a missing term,
a wrong factor, a transposed product), so a sample of a few hundred finds it.
"""

from dataclasses import dataclass

import numpy as np

from nnstudy.core import network


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


# Rounding error of one evaluation of the cost, relative to the cost: a few
# units of double precision for every sum over samples and weights, with a
# margin. Measured on correct code: at lambd up to 1e3 the differences stay
# below a tenth of the resolution this gives.
ROUNDING = 16 * np.finfo(float).eps


@dataclass(frozen=True)
class GradientCheck:
    """Outcome per model: overall difference (S,), per block {name: (S,)}.

    cost : (S,) the cost at the checked parameters; epsilon the step of the
    central differences.
    """

    difference: np.ndarray
    blocks: dict
    gradient: np.ndarray
    approximation: np.ndarray
    cost: np.ndarray = None
    epsilon: float = 1e-7
    slices: dict = None

    def worst_block(self, s=0):
        """The name of the block that disagrees most for model ``s``."""
        return max(self.blocks, key=lambda name: self.blocks[name][s])

    def resolution(self, n):
        """(S,) the norm of the rounding error of ``n`` approximated coordinates."""
        return ROUNDING * np.abs(self.cost) / self.epsilon * np.sqrt(n)

    def tolerance(self, threshold, block="all"):
        """(S,) the largest difference rounding and ``threshold`` allow for ``block``.

        ``threshold`` plus the resolution over the block, relative to the
        block's own gradient (``||g|| + ||g_approx||``) as the difference is.
        ``block`` is a parameter name or "all", the whole vector.
        """
        start, stop = (0, self.gradient.shape[1]) if block == "all" else self.slices[block][:2]
        scale = np.linalg.norm(self.gradient[:, start:stop], axis=-1) + np.linalg.norm(
            self.approximation[:, start:stop], axis=-1
        )
        floor = self.resolution(stop - start)
        with np.errstate(divide="ignore", invalid="ignore"):
            return threshold + np.where(scale > 0, floor / scale, np.inf)


def checked_coordinates(slices, per_block, seed):
    """The sorted flat coordinates to check: every block's entries, or a sample of ``per_block`` of them.

    slices : :attr:`Packing.slices`; per_block : None checks every entry;
    seed : seeds the draw, so that a check is repeatable.
    """
    gen = np.random.default_rng(seed)
    chosen = []
    for start, stop, _ in slices.values():
        size = stop - start
        if per_block is None or size <= per_block:
            chosen.append(np.arange(start, stop))
        else:
            chosen.append(start + np.sort(gen.choice(size, per_block, replace=False)))
    return np.concatenate(chosen)


def gradient_check(params, X, Y, arch, lambd=0.0, keep_prob=None, uniforms=None, epsilon=1e-7,
                   backward=network.backward, gradients=None, n_train=None, coordinates=None):
    """Compare a gradient with central differences of the cost.

    params : {"W1": (S, n_1, n_0), ...}; X (n_0, m) or (S, n_0, m); Y (n_L, m)
        or (S, n_L, m).
    lambd : scalar or (S,) L2 strengths, included in cost and gradient.
    keep_prob, uniforms : as for :func:`nnstudy.core.network.forward`; the same
        draws are used for every evaluation, so dropout is checked under a
        fixed mask.
    backward : the backward pass under test (a deliberately broken one in
        tests shows which block disagrees).
    gradients : instead of ``backward``, a function of ``params`` returning
        the gradients under test (a training engine's, say), keyed like them.
    n_train : training-set size for the L2 penalty, as for
        :func:`nnstudy.core.network.cost`; None when X is the whole set.
    coordinates : sorted flat coordinates to check (:func:`checked_coordinates`),
        None for all of them. The result's gradient, approximation and
        ``slices`` then cover those coordinates only, block by block.
    """
    n_models = arch.check_params(params)
    lambd_b = network.per_model(lambd, n_models)
    packing = Packing.of(arch)
    theta = packing.pack(params).astype(float)

    if gradients is None:
        logits, cache = network.forward(params, X, arch, keep_prob, uniforms)
        # Older backward passes (the lectures' planted bugs) take no n_train.
        extra = {} if n_train is None else {"n_train": n_train}
        grads = backward(params, cache, logits, Y, arch, lambd_b, keep_prob, **extra)
    else:
        grads = gradients(params)
    gradient = packing.pack(grads)
    if coordinates is None:
        coordinates = np.arange(theta.shape[1])
    gradient = gradient[:, coordinates]
    # Each block's checked coordinates are one run of ``coordinates`` (sorted, blocks contiguous).
    slices = {
        name: (int(np.searchsorted(coordinates, start)), int(np.searchsorted(coordinates, stop)), shape)
        for name, (start, stop, shape) in packing.slices.items()
    }

    def cost(vector):
        return network.cost(
            packing.unpack(vector), X, Y, arch, lambd_b[:, 0, 0], keep_prob, uniforms, n_train
        )

    approximation = np.empty_like(gradient)
    for k, i in enumerate(coordinates):
        original = theta[:, i].copy()
        theta[:, i] = original + epsilon
        plus = cost(theta)
        theta[:, i] = original - epsilon
        minus = cost(theta)
        theta[:, i] = original
        approximation[:, k] = (plus - minus) / (2 * epsilon)

    blocks = {
        name: relative_difference(gradient[:, start:stop], approximation[:, start:stop])
        for name, (start, stop, _) in slices.items()
    }
    return GradientCheck(
        difference=relative_difference(gradient, approximation),
        blocks=blocks,
        gradient=gradient,
        approximation=approximation,
        cost=cost(theta),
        epsilon=epsilon,
        slices=slices,
    )
