"""How a training set is cut into mini-batches, and each model's draws for them.

:func:`steps_per_epoch` counts the steps once for every caller;
:class:`CounterSampler` gives each model its own batch orders and dropout
draws from its own seed streams (:mod:`nnstudy.core.rng`).
"""

import math

import numpy as np

from nnstudy.core import rng


def steps_per_epoch(m, batch_size):
    """Update steps in one pass over ``m`` examples.

    batch_size None, or not smaller than ``m``, is full-batch training: one
    step. Otherwise one step per mini-batch, the last partial batch kept.
    """
    if batch_size is None or batch_size >= m:
        return 1
    return math.ceil(m / batch_size)


class CounterSampler:
    """Mini-batch orders and dropout draws from each model's own seed.

    A sampler is anything with ``order(epoch, m)`` and ``uniforms(step,
    shapes)``; this one also offers ``keep_masks`` (the comparison with the
    keep probability done on integers) and ``subset`` (the sampler of some
    of its models), which the fused engine uses when they exist.
    """

    def __init__(self, seeds, dropout_seeds=None):
        """seeds : (S,) ints; dropout_seeds : (S,) ints for the dropout stream, default ``seeds``."""
        self.shuffle_keys = rng.stream_keys(seeds, "shuffle")
        self.dropout_keys = rng.stream_keys(seeds if dropout_seeds is None else dropout_seeds, "dropout")

    def subset(self, index):
        """The sampler of models ``index``: their draws are unchanged."""
        part = object.__new__(CounterSampler)
        part.shuffle_keys = self.shuffle_keys[index]
        part.dropout_keys = self.dropout_keys[index]
        return part

    def order(self, epoch, m):
        """(S, m) permutation of the samples for ``epoch``."""
        return rng.counter_permutations(self.shuffle_keys, epoch, m)

    def _draw(self, step, shapes):
        # One draw per step for all hidden layers: (S, sum of sizes) bits.
        sizes = [int(np.prod(shape)) for shape in shapes]
        return rng.counter_bits(self.dropout_keys, step, sum(sizes)), sizes

    @staticmethod
    def _split(draw, sizes, shapes):
        """Layer by layer views of a (S, sum of sizes) draw."""
        ends = np.cumsum(sizes)
        return [
            draw[:, end - size : end].reshape(len(draw), *shape)
            for size, end, shape in zip(sizes, ends, shapes)
        ]

    def uniforms(self, step, shapes):
        """Per hidden layer, (S, n_l, m_batch) uniform draws in [0, 1) for ``step``."""
        bits, sizes = self._draw(step, shapes)
        return self._split(rng.bits_to_uniform(bits), sizes, shapes)

    def keep_masks(self, step, shapes, keep_prob):
        """``[u < keep_prob for u in uniforms(step, shapes)]``, without building the floats.

        keep_prob : (S,) keep probabilities.
        """
        bits, sizes = self._draw(step, shapes)
        keep = bits <= rng.keep_thresholds(keep_prob)[:, None]
        return self._split(keep, sizes, shapes)
