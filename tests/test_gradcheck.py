"""Backprop against central differences over every network variant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudy.core import gradcheck, network

S, M = 2, 6


@st.composite
def problems(draw):
    """A random architecture, parameters, data and, optionally, L2 and fixed dropout draws."""
    hidden = draw(st.lists(st.integers(1, 5), min_size=0, max_size=2))  # depth 1-3
    output = draw(st.sampled_from(["sigmoid", "softmax"]))
    activation = draw(st.sampled_from(["relu", "tanh", "linear"]))
    n_in = draw(st.integers(1, 5))
    n_out = 1 if output == "sigmoid" else draw(st.integers(2, 5))
    lambd = draw(st.sampled_from([0.0, 0.7]))
    dropout = bool(hidden) and draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))

    arch = network.Architecture((n_in, *hidden, n_out), activation, output)
    g = np.random.default_rng(seed)
    # Biases are random too: with zero biases a unit whose inputs were all dropped
    # sits exactly at the ReLU kink, where no derivative exists.
    params = {k: g.standard_normal((S, *shape)) for k, shape in arch.parameter_shapes.items()}
    X = g.standard_normal((n_in, M))
    labels = g.integers(0, max(n_out, 2), M)
    Y = labels[None].astype(float) if output == "sigmoid" else np.eye(n_out)[:, labels]
    keep_prob = uniforms = None
    if dropout:
        keep_prob = network.per_model([0.6, 0.85], S)
        uniforms = [g.random((S, n, M)) for n in hidden]
    return arch, params, X, Y, lambd, keep_prob, uniforms


@settings(max_examples=60, deadline=None)
@given(problems())
def test_backprop_matches_central_differences(problem):
    arch, params, X, Y, lambd, keep_prob, uniforms = problem
    result = gradcheck.gradient_check(
        params, X, Y, arch, lambd=lambd, keep_prob=keep_prob, uniforms=uniforms
    )
    assert result.difference.shape == (S,)
    assert np.all(result.difference < 1e-7), (arch, lambd, keep_prob is not None, result.difference)
    assert set(result.blocks) == set(arch.parameter_shapes)


def test_dropout_draws_really_change_the_gradient():
    arch = network.Architecture((3, 4, 1), "tanh", "sigmoid")
    g = np.random.default_rng(0)
    params = {k: g.standard_normal((1, *s)) for k, s in arch.parameter_shapes.items()}
    X = g.standard_normal((3, 5))
    Y = g.integers(0, 2, (1, 5)).astype(float)
    uniforms = [g.random((1, 4, 5))]
    keep = network.per_model(0.5, 1)
    with_dropout = gradcheck.gradient_check(params, X, Y, arch, keep_prob=keep, uniforms=uniforms)
    without = gradcheck.gradient_check(params, X, Y, arch)
    assert with_dropout.difference[0] < 1e-7 and without.difference[0] < 1e-7
    assert not np.allclose(with_dropout.gradient, without.gradient)


def test_a_broken_backward_is_caught_and_located():
    arch = network.Architecture((3, 4, 1), "relu", "sigmoid")
    g = np.random.default_rng(1)
    params = {k: g.standard_normal((2, *s)) for k, s in arch.parameter_shapes.items()}
    X = g.standard_normal((3, 8))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]])

    def broken(*args, **kwargs):
        grads = network.backward(*args, **kwargs)
        grads["b2"] = grads["b2"] * 1.1
        return grads

    good = gradcheck.gradient_check(params, X, Y, arch)
    bad = gradcheck.gradient_check(params, X, Y, arch, backward=broken)
    assert np.all(good.difference < 1e-7)
    assert np.all(bad.difference > 1e-4)
    for s in range(2):
        assert bad.worst_block(s) == "b2"
        # A 10 % error in one scalar: |0.1 g| / (|1.1 g| + |g|) = 0.1 / 2.1 for that block.
        assert bad.blocks["b2"][s] == pytest.approx(0.1 / 2.1, rel=1e-5)
        assert all(bad.blocks[name][s] < 1e-7 for name in ("W1", "b1", "W2"))


def test_relative_difference():
    grad = np.array([[3.0, 4.0], [0.0, 0.0]])
    approx = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_array_equal(gradcheck.relative_difference(grad, approx), [0.0, 0.0])
    # ||(0, 5)|| / (||(3, 4)|| + ||(3, -1)||) = 5 / (5 + sqrt(10))
    np.testing.assert_allclose(
        gradcheck.relative_difference(np.array([3.0, 4.0]), np.array([3.0, -1.0])),
        5.0 / (5.0 + np.sqrt(10.0)),
    )


def test_packing_layout_is_row_major_in_parameter_order():
    arch = network.Architecture((2, 3, 1))
    packing = gradcheck.Packing.of(arch)
    # W1 (3 x 2) = 6, b1 3, W2 (1 x 3) = 3, b2 1
    assert packing.size == 13
    assert packing.slices == {
        "W1": (0, 6, (3, 2)),
        "b1": (6, 9, (3, 1)),
        "W2": (9, 12, (1, 3)),
        "b2": (12, 13, (1, 1)),
    }
    vector = np.arange(26, dtype=float).reshape(2, 13)
    blocks = packing.unpack(vector)
    np.testing.assert_array_equal(blocks["W1"][0], [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(blocks["b1"][1], [[19], [20], [21]])
    np.testing.assert_array_equal(blocks["W2"][0], [[9, 10, 11]])
    np.testing.assert_array_equal(blocks["b2"][:, 0, 0], [12, 25])
    # Views: writing through the flat vector is seen by the named blocks.
    vector[0, 12] = -1.0
    assert blocks["b2"][0, 0, 0] == -1.0


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.integers(1, 3), st.integers(0, 1000))
def test_pack_unpack_round_trip(sizes, n_models, seed):
    arch = network.Architecture(sizes, output="softmax" if sizes[-1] > 1 else "sigmoid")
    packing = gradcheck.Packing.of(arch)
    g = np.random.default_rng(seed)
    params = {k: g.standard_normal((n_models, *s)) for k, s in arch.parameter_shapes.items()}
    vector = packing.pack(params)
    assert vector.shape == (n_models, packing.size)
    assert packing.size == sum(int(np.prod(s)) for s in arch.parameter_shapes.values())
    back = packing.unpack(vector)
    assert list(back) == list(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    np.testing.assert_array_equal(packing.pack(back), vector)


# ---------------------------------------------------------------------------
# Checking a sample of each block's entries


def test_checked_coordinates_take_small_blocks_whole_and_a_seeded_sample_of_large_ones():
    slices = gradcheck.Packing.of(network.Architecture((50, 4, 1))).slices  # W1 200, b1 4, W2 4, b2 1
    chosen = gradcheck.checked_coordinates(slices, 10, seed=3)
    start, stop, _ = slices["W1"]
    in_w1 = chosen[(chosen >= start) & (chosen < stop)]
    assert len(in_w1) == 10 and len(set(in_w1.tolist())) == 10
    assert np.all(np.diff(chosen) > 0)
    # Every entry of every block at most 10 long.
    assert set(range(200, 209)) <= set(chosen.tolist()) and len(chosen) == 10 + 9
    np.testing.assert_array_equal(chosen, gradcheck.checked_coordinates(slices, 10, seed=3))
    assert not np.array_equal(chosen, gradcheck.checked_coordinates(slices, 10, seed=4))
    np.testing.assert_array_equal(gradcheck.checked_coordinates(slices, None, seed=3), np.arange(209))


def big_input_problem(seed=2):
    arch = network.Architecture((60, 5, 3, 1), "relu", "sigmoid")
    g = np.random.default_rng(seed)
    params = {k: g.standard_normal((2, *s)) * 0.3 for k, s in arch.parameter_shapes.items()}
    X = g.standard_normal((60, 9))
    Y = g.integers(0, 2, (1, 9)).astype(float)
    return arch, params, X, Y


def test_a_sampled_check_gives_the_full_checks_numbers_on_its_coordinates():
    arch, params, X, Y = big_input_problem()
    full = gradcheck.gradient_check(params, X, Y, arch, lambd=0.3)
    coordinates = gradcheck.checked_coordinates(full.slices, 25, seed=0)
    sampled = gradcheck.gradient_check(params, X, Y, arch, lambd=0.3, coordinates=coordinates)
    np.testing.assert_array_equal(sampled.gradient, full.gradient[:, coordinates])
    np.testing.assert_array_equal(sampled.approximation, full.approximation[:, coordinates])
    start, stop, _ = sampled.slices["W1"]
    assert stop - start == 25
    assert sampled.slices["b3"][1] == len(coordinates)
    assert np.all(sampled.difference < 1e-7)


def test_a_sampled_check_still_catches_a_wrong_weight_block():
    # A bug that scales one large block's gradient by 1.01 (a wrong factor in
    # its product): every sampled entry of it is off, so the sample finds it.
    arch, params, X, Y = big_input_problem()

    def broken(*args, **kwargs):
        grads = network.backward(*args, **kwargs)
        grads["W1"] = grads["W1"] * 1.01
        return grads

    coordinates = gradcheck.checked_coordinates(gradcheck.Packing.of(arch).slices, 20, seed=0)
    bad = gradcheck.gradient_check(params, X, Y, arch, backward=broken, coordinates=coordinates)
    for s in range(2):
        assert bad.worst_block(s) == "W1"
        assert bad.blocks["W1"][s] == pytest.approx(0.01 / 2.01, rel=1e-4)
