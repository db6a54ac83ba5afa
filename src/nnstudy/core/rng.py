"""Explicit, order-independent randomness.

Each model gets its randomness from its own ``seed`` alone, split into named
streams (train/dev/test split, initial weights, mini-batch order, dropout
masks) spawned from one ``SeedSequence``, so that turning dropout on never
changes the initial weights or the split, each source of variance can be held
fixed while another varies, and a model's trajectory does not depend on which
other models share its batch.

Initial weights come from a ``numpy.random.Generator`` per model (drawn once,
outside the training loop). Mini-batch orders and dropout masks are needed at
every step for every model at once, so they come from a counter-based
generator: random bits are a hash of (model key, counter, position),
computed for all models in one vectorized expression.

Two resolutions are offered. :func:`counter_uniform` spends one 64-bit hash
per number and keeps 53 bits (mini-batch orders: once per epoch, cheap).
:func:`counter_bits` splits every hash into two 32-bit numbers, which halves
the hashing cost of dropout, drawn at every step for every hidden unit; a
32-bit draw ``u = bits / 2**32`` is kept where ``u < keep_prob``, and
:func:`keep_thresholds` turns that comparison into an exact integer one.
"""

import numpy as np

STREAMS = {"init": 0, "shuffle": 1, "dropout": 2, "split": 3}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_BITS32 = 2.0**32

# n -> arange(n) * golden (mod 2**64): the Weyl positions of a draw of n numbers.
_weyl_cache = {}


def seed_sequence(seed, stream):
    """The ``SeedSequence`` of one model's named stream.

    The child ``STREAMS[stream]`` of ``SeedSequence(seed).spawn(len(STREAMS))``,
    built directly: a child is its parent's entropy with its index as spawn key.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(STREAMS[stream],))


def stream_seed(seed, stream):
    """A 32-bit integer seed drawn from one model's named stream (for APIs that take an int)."""
    return int(seed_sequence(seed, stream).generate_state(1)[0])


def generator(seed, stream):
    """A ``numpy.random.Generator`` for one model's named stream."""
    return np.random.default_rng(seed_sequence(seed, stream))


def stream_keys(seeds, stream):
    """One 64-bit key per model for a counter-based stream: shape ``(S,)`` uint64."""
    return np.array(
        [seed_sequence(s, stream).generate_state(1, np.uint64)[0] for s in seeds],
        dtype=np.uint64,
    )


def _mix64(x, scratch):
    """SplitMix64's finalizer, in place on a uint64 array: a bijective scramble."""
    np.right_shift(x, _SHIFTS[0], out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    np.multiply(x, _MIX1, out=x)
    np.right_shift(x, _SHIFTS[1], out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    np.multiply(x, _MIX2, out=x)
    np.right_shift(x, _SHIFTS[2], out=scratch)
    np.bitwise_xor(x, scratch, out=x)
    return x


def _weyl(n):
    base = _weyl_cache.get(n)
    if base is None:
        base = np.arange(n, dtype=np.uint64) * _GOLDEN
        if len(_weyl_cache) > 64:
            _weyl_cache.clear()
        _weyl_cache[n] = base
    return base


def _hashes(keys, counter, n):
    """(S, n) uint64: the mixed Weyl sequence ``((counter << 32) + i) * golden + key``.

    Distinct counters occupy disjoint position ranges as long as one draw has
    fewer than 2**32 numbers. Multiplication distributes modulo 2**64, so the
    positions times golden are computed once per size and reused.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    start = np.array([counter], dtype=np.uint64) << np.uint64(32)
    offset = start * _GOLDEN + keys
    x = np.add(_weyl(n), offset[:, None])
    return _mix64(x, np.empty_like(x))


def counter_uniform(keys, counter, shape):
    """Uniform numbers in [0, 1) with 53 random bits, for every model at one counter value.

    keys : (S,) uint64 stream keys.
    counter : non-negative int naming the draw (for example the epoch).
    shape : shape of the draw per model.
    Returns an array of shape ``(S, *shape)``; row ``s`` depends only on
    ``keys[s]``, ``counter`` and ``shape``.
    """
    x = _hashes(keys, counter, int(np.prod(shape)))
    # The top 53 bits give an exactly representable double in [0, 1).
    return ((x >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape((len(keys), *shape))


def counter_bits(keys, counter, n):
    """``n`` random 32-bit numbers per model at one counter value: shape ``(S, n)`` uint32.

    Each 64-bit hash gives two numbers, its low half first (fixed byte order,
    so the stream is the same on every machine). Row ``s`` depends only on
    ``keys[s]``, ``counter`` and ``n``.
    """
    x = _hashes(keys, counter, (n + 1) // 2)
    bits = x.astype("<u8", copy=False).view("<u4")
    return bits[:, :n]


def bits_to_uniform(bits):
    """32-bit numbers as uniform doubles ``bits / 2**32`` in [0, 1) (exact)."""
    return bits * (1.0 / _BITS32)


def keep_thresholds(keep_prob):
    """Per-model uint32 ``t`` with ``bits <= t`` exactly when ``bits / 2**32 < keep_prob``.

    keep_prob : (S,) numbers in (0, 1]. ``bits / 2**32 < p`` holds exactly when
    ``bits < p * 2**32`` (both scalings by 2**32 are exact), that is when
    ``bits <= ceil(p * 2**32) - 1``.
    """
    limit = np.ceil(np.asarray(keep_prob, dtype=np.float64) * _BITS32) - 1.0
    return limit.astype(np.uint32)


# The 53 bits of a uniform number and a sample index share one 64-bit word up
# to this many samples (11 index bits).
_PACKED_SORT_MAX = 1 << (64 - 53)


def stable_argsort_53(values):
    """``np.argsort(values, axis=1, kind="stable")`` of (S, m) uint64 values below 2**53.

    For m up to 2048, each value shifted left and or-ed with its index is a
    distinct 64-bit word ordered as (value, index): sorting the words (a
    vectorized sort, over twice as fast as a stable argsort) gives the
    stable order, ties broken by index as a stable sort breaks them.
    """
    m = values.shape[-1]
    if m > _PACKED_SORT_MAX:
        return np.argsort(values, axis=-1, kind="stable")
    index_bits = np.uint64(max(1, (m - 1).bit_length()))
    words = np.left_shift(values, index_bits)
    np.bitwise_or(words, np.arange(m, dtype=np.uint64), out=words)
    words.sort(axis=-1)
    np.bitwise_and(words, (np.uint64(1) << index_bits) - np.uint64(1), out=words)
    return words.astype(np.intp)


def counter_permutations(keys, counter, m):
    """One permutation of ``range(m)`` per model: shape ``(S, m)``.

    The stable argsort of :func:`counter_uniform`'s numbers, computed on
    their 53 integer bits (the numbers are those bits times 2**-53, so both
    sort alike).
    """
    x = _hashes(keys, counter, m)
    return stable_argsort_53(np.right_shift(x, np.uint64(11), out=x))
