"""The vectorization lesson: loops and vectorized forms agree; the table is complete."""

import numpy as np
import pytest

from nnstudy.lectures import vectorization


@pytest.mark.parametrize("operation", list(vectorization.OPERATIONS))
def test_loop_and_vectorized_forms_agree(operation):
    loop, vectorized, _ = vectorization.OPERATIONS[operation]
    args = vectorization._inputs(operation, 7, np.random.default_rng(1))
    np.testing.assert_allclose(loop(*args), vectorized(*args), rtol=1e-12, atol=1e-12)


def test_measure_reports_every_operation_and_size():
    rows = vectorization.measure(sizes=(10, 100), layer_sizes=(2, 4), repeats=1)
    assert {r["operation"] for r in rows} == set(vectorization.OPERATIONS)
    assert len(rows) == 2 * len(vectorization.OPERATIONS)
    for row in rows:
        assert row["loop_seconds"] > 0 and row["vectorized_seconds"] > 0
        assert row["speedup"] == pytest.approx(row["loop_seconds"] / row["vectorized_seconds"])


def test_a_wrong_vectorized_form_is_refused(monkeypatch):
    loop, _, meaning = vectorization.OPERATIONS["dot"]
    monkeypatch.setitem(vectorization.OPERATIONS, "dot", (loop, lambda x, y: np.dot(x, y) + 1, meaning))
    with pytest.raises(AssertionError, match="dot"):
        vectorization.measure(sizes=(10,), layer_sizes=(2,), repeats=1)
