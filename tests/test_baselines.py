"""Published baselines beside our best test accuracy (nnstudy.analysis.baselines)."""

import math

import pandas as pd
import pytest

from nnstudy.analysis.baselines import published_baselines, with_baselines


def test_the_mnist1d_mlp_baseline_is_the_papers_and_says_where_it_is_printed():
    table = published_baselines()
    row = table[(table["source"] == "mnist1d") & (table["model"] == "MLP")].iloc[0]
    assert row["metric"] == "test_accuracy" and row["value"] == pytest.approx(0.68)
    assert "Greydanus" in row["reference"] and "2011.14439" in row["reference"]


def test_the_dataset_table_gets_our_best_test_mean_beside_the_published_one():
    datasets = pd.DataFrame({"dataset": ["sequences", "moons"], "source": ["mnist1d", "moons"]})
    summary = pd.DataFrame({
        "dataset": ["sequences", "sequences", "moons"],
        "test_mean": [0.41, 0.57, 0.9],
    })
    out = with_baselines(datasets, summary)
    first, second = out.iloc[0], out.iloc[1]
    assert first["best_test_mean"] == pytest.approx(0.57)
    assert first["published_test"] == pytest.approx(0.68) and first["published_model"] == "MLP"
    assert second["best_test_mean"] == pytest.approx(0.9)
    assert math.isnan(second["published_test"]) and second["published_model"] == ""
    assert list(datasets.columns) == ["dataset", "source"]  # the input is left alone
