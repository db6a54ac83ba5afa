"""Published baselines beside our best accuracy, per dataset source.

The published numbers are package data (``analysis/baselines.csv``: source,
model, metric, value and where the number is printed), so that adding one
is adding a row.
"""

from importlib import resources

import pandas as pd


def published_baselines():
    """The published baselines: source, model, metric, value, reference."""
    text = resources.files("nnstudy").joinpath("analysis/baselines.csv").read_text()
    return pd.read_csv(pd.io.common.StringIO(text))


def with_baselines(datasets, summary, baselines=None):
    """The dataset table with our best test accuracy beside a published one.

    datasets : :func:`nnstudy.analysis.derived.dataset_table`; summary : one
    row per combination with ``test_mean``. Adds ``best_test_mean`` (the
    highest mean test accuracy over the combinations: picked on test, as a
    published best is), and for sources with a published test accuracy
    ``published_test`` (with ``published_model`` and ``published_reference``);
    NaN / empty elsewhere.
    """
    baselines = published_baselines() if baselines is None else baselines
    tests = baselines[baselines["metric"] == "test_accuracy"].drop_duplicates("source").set_index("source")
    out = datasets.copy()
    best = summary.groupby("dataset")["test_mean"].max()
    out["best_test_mean"] = out["dataset"].map(best)
    out["published_test"] = out["source"].map(tests["value"])
    out["published_model"] = out["source"].map(tests["model"]).fillna("")
    out["published_reference"] = out["source"].map(tests["reference"]).fillna("")
    return out
