"""Explicit randomness: named streams per seed and the counter-based generator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudy.core import rng

FAST = settings(max_examples=25, deadline=None)

seed_lists = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6)


def test_named_streams_are_reproducible_and_distinct():
    a = rng.generator(7, "init").standard_normal(5)
    np.testing.assert_array_equal(a, rng.generator(7, "init").standard_normal(5))
    assert not np.array_equal(a, rng.generator(8, "init").standard_normal(5))
    assert not np.array_equal(a, rng.generator(7, "dropout").standard_normal(5))


def test_stream_keys_one_per_seed_and_per_stream():
    keys = rng.stream_keys([1, 2, 3], "shuffle")
    assert keys.dtype == np.uint64 and keys.shape == (3,)
    assert len(set(keys.tolist())) == 3
    np.testing.assert_array_equal(keys, rng.stream_keys([1, 2, 3], "shuffle"))
    assert not np.any(keys == rng.stream_keys([1, 2, 3], "dropout"))
    # A model's key does not depend on the other seeds in its batch.
    np.testing.assert_array_equal(keys[1:2], rng.stream_keys([2], "shuffle"))


@FAST
@given(seed_lists, st.integers(0, 10**6), st.sampled_from([(1,), (7,), (3, 4), (2, 1, 5)]))
def test_counter_uniform_range_shape_determinism(seeds, counter, shape):
    keys = rng.stream_keys(seeds, "dropout")
    u = rng.counter_uniform(keys, counter, shape)
    assert u.shape == (len(seeds), *shape)
    assert u.dtype == np.float64
    assert np.all((u >= 0.0) & (u < 1.0))
    np.testing.assert_array_equal(u, rng.counter_uniform(keys, counter, shape))


@FAST
@given(seed_lists, st.integers(0, 10**6))
def test_counter_uniform_row_depends_only_on_its_key(seeds, counter):
    keys = rng.stream_keys(seeds, "dropout")
    batch = rng.counter_uniform(keys, counter, (3, 5))
    for s in range(len(seeds)):
        alone = rng.counter_uniform(keys[s : s + 1], counter, (3, 5))
        np.testing.assert_array_equal(batch[s], alone[0])
    reversed_batch = rng.counter_uniform(keys[::-1], counter, (3, 5))
    np.testing.assert_array_equal(reversed_batch, batch[::-1])


def test_counter_uniform_changes_with_counter_and_key():
    keys = rng.stream_keys([0, 1], "dropout")
    u0 = rng.counter_uniform(keys, 0, (50,))
    u1 = rng.counter_uniform(keys, 1, (50,))
    assert not np.any(u0 == u1)
    assert not np.any(u0[0] == u0[1])
    assert len(np.unique(u0)) == u0.size


def test_counter_uniform_is_roughly_uniform():
    keys = rng.stream_keys([3], "dropout")
    u = rng.counter_uniform(keys, 5, (100_000,))[0]
    # Standard error of the mean is 0.29 / sqrt(1e5) ~ 1e-3.
    assert abs(u.mean() - 0.5) < 0.005
    assert abs(u.var() - 1.0 / 12.0) < 0.002
    counts, _ = np.histogram(u, bins=10, range=(0.0, 1.0))
    # Each decile expects 10,000 with a standard deviation of about 95.
    assert np.all(np.abs(counts - 10_000) < 500)
    # Consecutive draws are not correlated (the counter is scrambled).
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


@FAST
@given(seed_lists, st.integers(0, 1000), st.integers(1, 40))
def test_counter_permutations_are_permutations(seeds, counter, m):
    keys = rng.stream_keys(seeds, "shuffle")
    perms = rng.counter_permutations(keys, counter, m)
    assert perms.shape == (len(seeds), m)
    for row in perms:
        np.testing.assert_array_equal(np.sort(row), np.arange(m))
    np.testing.assert_array_equal(perms, rng.counter_permutations(keys, counter, m))


def test_counter_permutations_differ_between_counters_and_models():
    keys = rng.stream_keys([0, 1], "shuffle")
    p0 = rng.counter_permutations(keys, 0, 30)
    p1 = rng.counter_permutations(keys, 1, 30)
    assert not np.array_equal(p0[0], p0[1])
    assert not np.array_equal(p0[0], p1[0])


def test_named_streams_are_children_spawned_from_one_seed_sequence():
    children = np.random.SeedSequence(1234).spawn(len(rng.STREAMS))
    for stream, index in rng.STREAMS.items():
        np.testing.assert_array_equal(
            rng.seed_sequence(1234, stream).generate_state(4), children[index].generate_state(4)
        )
    assert len({rng.stream_seed(1234, s) for s in rng.STREAMS}) == len(rng.STREAMS)


@pytest.mark.parametrize("m", [1, 2, 3, 300, 1079, 2048, 2049, 3000])
def test_counter_permutations_are_the_stable_argsort_of_the_uniforms(m):
    # The permutation that defines the shuffle stream: sorting the packed
    # integer words must give it exactly, on both sides of the packing limit.
    keys = rng.stream_keys(range(5), "shuffle")
    expected = np.argsort(rng.counter_uniform(keys, 7, (m,)), axis=1, kind="stable")
    np.testing.assert_array_equal(rng.counter_permutations(keys, 7, m), expected)


@pytest.mark.parametrize("m", [2, 17, 64, 2048])
def test_stable_argsort_53_breaks_ties_by_index(m):
    # Planted ties (few distinct values, the largest allowed among them):
    # equal values keep their index order, as a stable argsort keeps them.
    g = np.random.default_rng(m)
    levels = np.array([0, 1, 2**52, 2**53 - 1], dtype=np.uint64)
    values = levels[g.integers(0, len(levels), size=(3, m))]
    expected = np.argsort(values, axis=1, kind="stable")
    np.testing.assert_array_equal(rng.stable_argsort_53(values), expected)
