"""The course's NumPy building blocks, checked against the course's own numbers."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnstudy.core import basics

FAST = settings(max_examples=40, deadline=None)

finite = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False)
matrices = hnp.arrays(float, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=finite)
vectors = hnp.arrays(float, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=finite)


def test_sigmoid_course_values():
    np.testing.assert_allclose(
        basics.sigmoid(np.array([1, 2, 3])), [0.73105858, 0.88079708, 0.95257413], rtol=0, atol=1e-8
    )


def test_sigmoid_derivative_course_values():
    np.testing.assert_allclose(
        basics.sigmoid_derivative(np.array([1, 2, 3])),
        [0.19661193, 0.10499359, 0.04517666],
        rtol=0,
        atol=1e-8,
    )


def test_sigmoid_extreme_inputs_are_exact_and_silent():
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = basics.sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
        derivative = basics.sigmoid_derivative(np.array([-1000.0, 1000.0]))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(derivative))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5
    # Far in the negative tail the result is exp(x), not a rounded 0.
    assert out[1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    np.testing.assert_array_equal(derivative, [0.0, 0.0])


def test_relu_and_derivatives():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(basics.relu(x), [0.0, 0.0, 3.0])
    # The derivative at the kink is taken as 0.
    np.testing.assert_array_equal(basics.relu_derivative(x), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(
        basics.tanh_derivative(np.array([0.0, 1.0])), [1.0, 0.41997434161402614]
    )


def test_normalize_rows_course_values():
    np.testing.assert_allclose(
        basics.normalize_rows(np.array([[0, 3, 4], [1, 6, 4]])),
        [[0.0, 0.6, 0.8], [0.13736056, 0.82416338, 0.54944226]],
        rtol=0,
        atol=1e-8,
    )


def test_normalize_rows_keeps_zero_rows_zero_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = basics.normalize_rows(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]])


def test_softmax_course_values_row_wise():
    out = basics.softmax(np.array([[9, 2, 5, 0, 0], [7, 5, 0, 0, 0]]), axis=1)
    np.testing.assert_allclose(
        out,
        [
            [9.80897665e-01, 8.94462891e-04, 1.79657674e-02, 1.21052389e-04, 1.21052389e-04],
            [8.78679856e-01, 1.18916387e-01, 8.01252314e-04, 8.01252314e-04, 8.01252314e-04],
        ],
        rtol=1e-7,
    )


def test_softmax_axis_matters():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(basics.softmax(x, axis=0).sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(basics.softmax(x, axis=0), basics.softmax(x.T, axis=1).T)
    assert not np.allclose(basics.softmax(x, axis=0), basics.softmax(x, axis=1))


def test_softmax_and_log_softmax_of_huge_inputs_are_finite():
    x = np.array([[1000.0, 0.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = basics.softmax(x, axis=1)
        logp = basics.log_softmax(x, axis=1)
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(logp, [[0.0, -1000.0, -2000.0]])


def test_course_losses():
    yhat = np.array([0.9, 0.2, 0.1, 0.4, 0.9])
    y = np.array([1, 0, 0, 1, 1])
    assert basics.l1_loss(yhat, y) == pytest.approx(1.1, abs=1e-12)
    assert basics.l2_loss(yhat, y) == pytest.approx(0.43, abs=1e-12)


def test_losses_accept_matrices():
    yhat = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.zeros((2, 2))
    assert basics.l1_loss(yhat, y) == 10.0
    assert basics.l2_loss(yhat, y) == 30.0


@FAST
@given(matrices)
def test_softmax_rows_sum_to_one_and_are_shift_invariant(x):
    p = basics.softmax(x, axis=1)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    shift = np.linspace(-30.0, 30.0, x.shape[0])[:, None]
    np.testing.assert_allclose(basics.softmax(x + shift, axis=1), p, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.exp(basics.log_softmax(x, axis=1)), p, rtol=1e-9, atol=1e-300)


@FAST
@given(vectors)
def test_sigmoid_is_symmetric(x):
    np.testing.assert_allclose(basics.sigmoid(-x), 1.0 - basics.sigmoid(x), rtol=0, atol=1e-15)
    assert np.all((basics.sigmoid(x) >= 0) & (basics.sigmoid(x) <= 1))


@FAST
@given(hnp.arrays(float, hnp.array_shapes(min_dims=3, max_dims=3, max_side=5), elements=finite))
def test_image_to_vector_round_trip_row_major(image):
    vector = basics.image_to_vector(image)
    h, w, c = image.shape
    assert vector.shape == (h * w * c, 1)
    # Row-major: channel fastest, then width, then height.
    i, j, k = h - 1, w // 2, c - 1
    assert vector[(i * w + j) * c + k, 0] == image[i, j, k]
    np.testing.assert_array_equal(basics.vector_to_image(vector, image.shape), image)


@FAST
@given(hnp.arrays(float, hnp.array_shapes(min_dims=3, max_dims=4, max_side=5), elements=finite))
def test_images_to_columns_one_column_per_image(images):
    columns = basics.images_to_columns(images)
    m = images.shape[0]
    assert columns.shape == (images[0].size, m)
    for j in range(m):
        np.testing.assert_array_equal(columns[:, j : j + 1], basics.image_to_vector(images[j]))
        np.testing.assert_array_equal(
            basics.vector_to_image(columns[:, j], images.shape[1:]), images[j]
        )
