"""Why zeros, a constant and x10 weights fail: each failure measured on a small case."""

import math

import numpy as np
import pandas as pd
import pytest

from nnstudy.data import datasets
from nnstudy.lectures import init_failures


def test_the_float64_sigmoid_rounds_to_one_beyond_about_37():
    threshold = init_failures.saturation_threshold()
    assert threshold == pytest.approx(36.7368005696771, rel=1e-12)
    assert init_failures.course_sigmoid(threshold) == 1.0
    assert init_failures.course_sigmoid(np.nextafter(threshold, 0.0)) < 1.0


def test_the_course_cost_is_infinite_where_the_logit_cost_is_finite():
    logits = np.array([40.0, -3.0])
    y = np.array([0.0, 0.0])
    assert init_failures.cost_from_probabilities(logits, y) == math.inf
    # log(1 + e^40) is 40 to 1e-17; log(1 + e^-3) = 0.04858735.
    assert init_failures.cost_from_logits(logits, y) == pytest.approx((40.0 + 0.0485873515737) / 2, rel=1e-10)
    # A probability that rounds to its own label is dropped by the course's nansum, not infinite.
    assert init_failures.cost_from_probabilities(np.array([40.0]), np.array([1.0])) == 0.0


def test_effective_rank_and_distinct_rows():
    assert init_failures.effective_rank(np.zeros((3, 4))) == 0.0
    assert init_failures.effective_rank(np.outer([1.0, 2.0], [1.0, -1.0, 3.0])) == pytest.approx(1.0)
    assert init_failures.effective_rank(np.eye(4)) == pytest.approx(4.0)
    W = np.array([[1.0, 2.0], [1.0, 2.0 + 1e-12], [0.5, 2.0]])
    assert init_failures.distinct_rows(W) == 2


@pytest.fixture(scope="module")
def symmetry():
    splits = datasets.make_dataset("breast_cancer", 11)
    rows = init_failures.symmetry_table(splits, hidden_layers=[6, 4], activations=["relu", "tanh"], constant=0.5,
                                        steps=50, learning_rate=0.1)
    return {(r["activation"], r["initializer"]): r for r in rows}


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zeros_kill_every_hidden_unit_and_only_the_output_bias_learns(symmetry, activation):
    row = symmetry[(activation, "zeros")]
    assert row["zero_activations_at_init"] == 1.0 and row["zero_weight_gradients_at_init"] == 1.0
    assert row["zero_hidden_bias_gradients_at_init"] == 1.0
    assert row["weight_change"] == 0.0
    # 212 / 357 classes: the output bias moves towards the class prior.
    assert row["output_bias_gradient_at_init"] > 0.05 and row["output_bias_change"] > 0
    assert row["effective_rank_last_hidden"] == 0.0


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_constant_keeps_the_units_of_a_layer_copies_while_he_does_not(symmetry, activation):
    constant = symmetry[(activation, "constant_0.5")]
    assert constant["weight_change"] > 0.01 and constant["distinct_units"] == "1/1"
    assert constant["unit_spread"] < 1e-9
    assert constant["effective_rank_last_hidden"] == pytest.approx(1.0, abs=1e-6)
    assert symmetry[(activation, "he")]["distinct_units"] == "6/4"


def test_the_course_x10_run_starts_infinite_and_becomes_finite():
    rows = init_failures.saturation_table(iterations=1000, record_every=500)
    assert [r["step"] for r in rows] == [0, 500, 1000]
    first = rows[0]
    assert first["cost_from_probabilities"] == math.inf
    assert math.isfinite(first["cost_from_logits"]) and first["cost_from_logits"] > 100
    assert first["max_abs_logit"] > first["threshold"] and first["saturated_at_one_with_label_0"] > 0
    # By step 1000 no probability is exactly 0 or 1 any more, and the two costs agree (0.6246).
    last = rows[-1]
    assert last["saturated_at_one"] == last["saturated_at_zero"] == 0
    assert last["cost_from_probabilities"] == pytest.approx(last["cost_from_logits"], rel=1e-9)
    assert last["cost_from_logits"] == pytest.approx(0.6245, abs=1e-4)


@pytest.fixture(scope="module")
def diagnostics():
    splits = datasets.make_dataset("breast_cancer", 11)
    rows = init_failures.diagnostics_table(splits, hidden_layers=[6, 4], activations=["relu", "tanh"], constant=0.5,
                                           steps=50, learning_rate=0.1, record_every=20)
    return pd.DataFrame(rows)


def test_diagnostics_are_recorded_per_layer_at_every_record(diagnostics):
    assert sorted(diagnostics["step"].unique()) == [0, 20, 40, 50]
    assert sorted(diagnostics["layer"].unique()) == [1, 2, 3]
    assert len(diagnostics) == 2 * 3 * 4 * 3  # activations x initializers x records x layers


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_zeros_have_rank_0_and_only_zero_gradients_a_constant_rank_1_and_he_full_rank(diagnostics, activation):
    part = diagnostics[diagnostics["activation"] == activation]
    zeros = part[part["initializer"] == "zeros"]
    assert (zeros["effective_rank"] == 0).all() and (zeros["zero_gradients"] == 1.0).all()
    constant = part[part["initializer"] == "constant_0.5"]
    # Every row of every layer the same throughout training: one direction.
    np.testing.assert_allclose(constant["effective_rank"], 1.0, atol=1e-6)
    assert (constant["zero_gradients"] < 1.0).all()
    he = part[(part["initializer"] == "he") & (part["layer"] < 3)]
    assert (he["effective_rank"] > 0.5 * he["full_rank"]).all() and (he["effective_rank"] > 1.5).all()
    # The hidden representations say the same on the data: nothing, one direction, many.
    hidden = part["layer"] < 3
    assert (zeros.loc[hidden, "representation_rank"] == 0).all()
    np.testing.assert_allclose(constant.loc[hidden, "representation_rank"], 1.0, atol=1e-6)
    assert (he["representation_rank"] > 1.5).all()
    assert part.loc[~hidden, "representation_rank"].isna().all()
