"""Explicit, order-independent randomness.

Each model gets its randomness from its own ``seed`` alone, split into named
streams (initial weights, mini-batch order, dropout masks), so that turning
dropout on never changes the initial weights and a model's trajectory does not
depend on which other models share its batch.

Initial weights come from a ``numpy.random.Generator`` per model (drawn once,
outside the training loop). Mini-batch orders and dropout masks are needed at
every step for every model at once, so they come from a counter-based
generator: uniform numbers are a hash of (model key, counter, position),
computed for all models in one vectorized expression.
"""

import numpy as np

STREAMS = {"init": 0, "shuffle": 1, "dropout": 2}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def seed_sequence(seed, stream):
    """The ``SeedSequence`` of one model's named stream."""
    return np.random.SeedSequence([int(seed), STREAMS[stream]])


def generator(seed, stream):
    """A ``numpy.random.Generator`` for one model's named stream."""
    return np.random.default_rng(seed_sequence(seed, stream))


def stream_keys(seeds, stream):
    """One 64-bit key per model for a counter-based stream: shape ``(S,)`` uint64."""
    return np.array(
        [seed_sequence(s, stream).generate_state(1, np.uint64)[0] for s in seeds],
        dtype=np.uint64,
    )


def _mix64(x):
    """SplitMix64's finalizer, in place on a uint64 array: a bijective scramble."""
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def counter_uniform(keys, counter, shape):
    """Uniform numbers in [0, 1) for every model at one counter value.

    keys : (S,) uint64 stream keys.
    counter : non-negative int naming the draw (for example the step).
    shape : shape of the draw per model.
    Returns an array of shape ``(S, *shape)``; row ``s`` depends only on
    ``keys[s]``, ``counter`` and ``shape``.
    """
    n = int(np.prod(shape))
    # A Weyl sequence position per element, offset by the key: distinct
    # counters occupy disjoint ranges as long as one draw has < 2**32 elements.
    position = np.uint64(counter) << np.uint64(32)
    x = np.arange(n, dtype=np.uint64)
    x += position
    x = x[None, :] * _GOLDEN + keys[:, None]
    _mix64(x)
    # The top 53 bits give an exactly representable double in [0, 1).
    return ((x >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape((len(keys), *shape))


def counter_permutations(keys, counter, m):
    """One permutation of ``range(m)`` per model: shape ``(S, m)``."""
    return np.argsort(counter_uniform(keys, counter, (m,)), axis=1, kind="stable")
