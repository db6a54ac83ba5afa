"""One bias / variance reading: the lecture stage's table and the report's derived table agree."""

import math

import pandas as pd
import pytest

from nnstudy.analysis import derived
from nnstudy.analysis.bias_variance import reading_columns
from nnstudy.lectures import bias_variance as lecture

KEYS = ["dataset", "initializer", "regularizer", "optimizer"]


def test_reading_columns_subtract_the_bayes_proxy_and_compare_each_gap_with_its_tolerance():
    frame = pd.DataFrame({
        "dataset": ["a", "a", "b", "c"],
        "train_error": [0.02, 0.20, 0.12, math.nan],
        "dev_error": [0.04, 0.40, 0.13, math.nan],
    })
    out = reading_columns(frame, {"b": 0.10}, bias_tolerance=0.05, variance_tolerance=0.10)
    assert out["bayes_error"].tolist() == [0.0, 0.0, 0.10, 0.0]
    assert out["avoidable_bias"].tolist()[:3] == pytest.approx([0.02, 0.20, 0.02])
    assert out["variance"].tolist()[:3] == pytest.approx([0.02, 0.20, 0.01])
    # 0.20 > 0.05 bias and 0.20 > 0.10 variance; b is near its Bayes error.
    assert out["reading"].tolist() == ["neither", "high bias and high variance", "neither", "diverged"]
    assert out["next_step"].iloc[3].startswith("every seed diverged")
    assert "reading" not in frame  # a copy, the input is left alone


def _runs():
    rows = []
    # (dataset, regularizer) -> per-seed (train, dev) accuracies
    planted = {
        ("a", "none"): [(0.99, 0.85), (0.97, 0.87)],  # 2% train, 14% dev error: variance
        ("a", "l2"): [(0.97, 0.96), (0.97, 0.95)],  # 3% train error, small gap: neither
        ("b", "none"): [(0.80, 0.79), (0.82, 0.80)],  # 19% train error: bias beyond b's 10% proxy
        ("b", "l2"): [(0.88, 0.87), (0.90, 0.88)],  # 11% train error: within b's proxy
    }
    for (dataset, regularizer), seeds in planted.items():
        for seed, (train, dev) in enumerate(seeds):
            rows.append({"dataset": dataset, "initializer": "he", "regularizer": regularizer, "optimizer": "adam",
                         "seed": seed, "status": "ok", "train_accuracy": train, "dev_accuracy": dev})
    return pd.DataFrame(rows)


def test_the_lecture_table_and_the_report_table_read_the_same_numbers_alike():
    runs = _runs()
    bayes, bias_tolerance, variance_tolerance = {"b": 0.10}, 0.05, 0.05
    lecture_table = lecture.reading_table(runs, bayes, bias_tolerance, variance_tolerance)
    # The report reads the summary's mean accuracies and the run labels.
    summary = (runs.groupby(KEYS, sort=False)
               .agg(runs=("seed", "size"), train_mean=("train_accuracy", "mean"), dev_mean=("dev_accuracy", "mean"))
               .reset_index())
    labels = runs[KEYS].assign(label="converged")
    report_table = derived.bias_variance(summary, labels, bayes, bias_tolerance, variance_tolerance)
    assert lecture_table["reading"].tolist() == ["high variance", "neither", "high bias", "neither"]
    assert report_table["reading"].tolist() == lecture_table["reading"].tolist()
    for column in ("train_error", "dev_error", "bayes_error", "avoidable_bias", "variance"):
        assert report_table[column].tolist() == pytest.approx(lecture_table[column].tolist()), column


def test_the_report_reads_with_the_lecture_sections_tolerances_when_it_is_configured():
    section = {"bayes_error": {"b": 0.1}, "bias_tolerance": 0.02, "variance_tolerance": 0.07}
    assert derived.recipe_settings({"lectures": {"bias_variance": section}}) == ({"b": 0.1}, 0.02, 0.07)
    threshold = derived.BIAS_VARIANCE_THRESHOLD
    assert derived.recipe_settings({"lectures": {}}) == ({}, threshold, threshold)
