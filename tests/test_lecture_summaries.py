"""The lecture stages' summary tables, and figures that draw their numbers from them only."""

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt

from nnstudy import lectures
from nnstudy.lectures import summaries
from nnstudy.report import lecture_figures


def _depth_norms():
    rows = []
    # Three seeds; the medians are the middle value: 2, 20 for layer 1 and 4, 40 for layer 2.
    for seed, scale in enumerate((1.0, 5.0, 0.5)):
        for layer, rms, grad in ((1, 2.0, 20.0), (2, 4.0, 40.0)):
            rows.append({"activation": "relu", "depth": 2, "initializer": "he", "seed": seed, "layer": layer,
                         "activation_rms": rms * scale if seed != 0 else rms,
                         "gradient_norm": grad * scale if seed != 0 else grad})
    return pd.DataFrame(rows)


def _depth_training():
    def run(init, seed, accuracy, status="ok", steps=math.nan):
        return {"activation": "relu", "initializer": init, "depth": 2, "seed": seed, "status": status,
                "best_train_accuracy": accuracy, "succeeded": not math.isnan(steps) and status != "diverged",
                "steps_to_target": steps, "steps": 50, "learning_rate": 0.1}

    return pd.DataFrame([
        run("he", 0, 0.9, steps=10.0), run("he", 1, 0.8), run("he", 2, 1.0, steps=30.0),
        run("zeros", 0, 0.5), run("zeros", 1, 0.5), run("zeros", 2, 0.6),
        run("huge", 0, math.nan, "diverged"), run("huge", 1, math.nan, "diverged"),
    ])


def test_depth_medians_are_per_layer_medians_over_seeds():
    table = summaries.depth_medians(_depth_norms())
    assert table["layer"].tolist() == [1, 2]
    assert table["seeds"].tolist() == [3, 3]
    assert table["activation_rms"].tolist() == [2.0, 4.0]
    assert table["gradient_norm"].tolist() == [20.0, 40.0]


def test_depth_cells_hold_the_median_accuracy_and_the_text_of_each_cell():
    table = summaries.depth_cells(_depth_training()).set_index("initializer")
    assert table.loc["he", "best_train_accuracy"] == pytest.approx(0.9)
    assert table.loc["he", "steps_to_target"] == 20.0  # median of 10 and 30; the third never reached it
    assert table["mark"].to_dict() == {"he": "20", "zeros": "-", "huge": "div"}
    assert table.loc["zeros", "best_train_accuracy"] == 0.5
    assert bool(table.loc["huge", "all_diverged"]) and not bool(table.loc["zeros", "any_succeeded"])


def test_normalization_rates_take_the_median_steps_and_call_a_rate_stable_only_if_every_seed_was():
    runs = pd.DataFrame([
        {"problem": "p", "scaling": "raw", "learning_rate": 0.1, "seed": s, "steps_to_target": t, "stable": ok}
        for s, t, ok in ((0, 4.0, True), (1, 8.0, True), (2, 100.0, False))
    ] + [{"problem": "p", "scaling": "raw", "learning_rate": 1.0, "seed": 0, "steps_to_target": 2.0,
          "stable": True}])
    table = summaries.normalization_rates(runs)
    assert table["learning_rate"].tolist() == [0.1, 1.0]
    assert table["steps_to_target"].tolist() == [8.0, 2.0]
    assert table["stable"].tolist() == [False, True]
    assert table["seeds"].tolist() == [3, 1]


def test_learning_curve_summary_averages_over_seeds_per_size():
    rows = [{"dataset": "d", "regularizer": "none", "train_size": n, "seed": s, "train_error": tr, "dev_error": dv}
            for n, s, tr, dv in ((10, 0, 0.0, 0.4), (10, 1, 0.1, 0.2), (20, 0, 0.05, 0.1), (20, 1, 0.05, 0.3))]
    table = summaries.learning_curve_summary(rows)
    assert table["train_size"].tolist() == [10, 20]
    assert table["train_error"].tolist() == pytest.approx([0.05, 0.05])
    assert table["dev_error"].tolist() == pytest.approx([0.3, 0.2])


def test_augmentation_summary_means_skip_missing_seeds():
    rows = [{"dataset": "digits", "method": "shift", "kind": "augmentation", "seed": s, "steps": 40,
             "train_accuracy": tr, "dev_accuracy": dv, "test_accuracy": te}
            for s, tr, dv, te in ((0, 1.0, 0.8, 0.7), (1, 0.9, math.nan, 0.9))]
    table = summaries.augmentation_summary(rows)
    assert table.loc[0, "train_mean"] == pytest.approx(0.95)
    assert table.loc[0, "dev_mean"] == pytest.approx(0.8)
    assert table.loc[0, "test_mean"] == pytest.approx(0.8)
    assert table.loc[0, "steps"] == 40


def test_every_summary_is_a_declared_table_of_its_stage():
    for stage, names in summaries.SUMMARIES.items():
        for name, (_, source) in names.items():
            assert name in lectures.STAGES[stage] and source in lectures.STAGES[stage]


def test_with_summaries_adds_the_stages_summaries_and_keeps_its_tables():
    tables = {"depth_norms": _depth_norms(), "depth_growth": [], "depth_training": _depth_training()}
    out = summaries.with_summaries("depth", tables)
    assert set(out) == set(lectures.STAGES["depth"])
    assert out["depth_norms"] is tables["depth_norms"]
    assert summaries.with_summaries("gradcheck", {"gradcheck_practice": []}) == {"gradcheck_practice": []}


# ---------------------------------------------------------------------------
# The figures draw the summary tables' numbers


def _lines(ax):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}


def test_the_depth_figure_draws_the_medians_and_cells_of_its_tables():
    norms, training = _depth_norms(), _depth_training()
    medians = summaries.depth_medians(norms)
    cells = summaries.depth_cells(training)
    # Planted: a median table that differs from the raw norms' medians, so that
    # a figure recomputing them from depth_norms would draw other numbers.
    medians["gradient_norm"] = [3.0, 7.0]
    tables = {"depth_norms": norms.iloc[0:0], "depth_growth": pd.DataFrame(), "depth_training": training,
              "depth_medians": medians, "depth_cells": cells}
    fig, caption = lecture_figures.depth_figure(tables, {})
    rms_ax, grad_ax, cell_ax = fig.axes[:3]
    assert _lines(grad_ax)["he"] == ([1, 2], [3.0, 7.0])
    assert _lines(rms_ax)["he"] == ([1], [2.0])  # hidden layers only
    image = cell_ax.get_images()[0].get_array()
    initializers = list(dict.fromkeys(cells["initializer"]))
    assert image[initializers.index("he"), 0] == pytest.approx(0.9)
    assert sorted(t.get_text() for t in cell_ax.texts) == ["-", "20", "div"]
    assert "depth_medians" in caption and "depth_cells" in caption
    plt.close(fig)


def test_the_learning_curve_figure_draws_the_summary_means():
    curves = pd.DataFrame([{"dataset": "d", "optimizer": "adam", "regularizer": "none", "train_size": 10}])
    summary = pd.DataFrame({"dataset": ["d", "d"], "regularizer": ["none", "none"], "train_size": [20, 10],
                            "train_error": [0.05, 0.01], "dev_error": [0.2, 0.3]})
    fig, _ = lecture_figures.learning_curves_figure(
        {"learning_curves": curves, "learning_curve_summary": summary}, {})
    lines = _lines(fig.axes[0])
    assert lines["none: dev"] == ([10, 20], [0.3, 0.2])
    assert lines["none: train"] == ([10, 20], [0.01, 0.05])
    plt.close(fig)


def test_the_augmentation_figure_marks_the_summary_means():
    runs = pd.DataFrame([{"dataset": "digits", "method": "shift", "kind": "augmentation", "steps": 40,
                          "train_accuracy": a, "dev_accuracy": a, "test_accuracy": a} for a in (0.6, 1.0)])
    summary = summaries.augmentation_summary(runs)
    summary["dev_mean"] = 0.123  # planted: not the mean of the runs
    fig, _ = lecture_figures.augmentation_figure({"augmentation": runs, "augmentation_summary": summary}, {})
    means = {line.get_label(): line.get_xdata()[0] for line in fig.axes[0].get_lines()}
    assert means["dev"] == pytest.approx(0.123)
    assert means["train (original images)"] == pytest.approx(0.8)
    plt.close(fig)


def test_the_normalization_figure_draws_the_rates_table():
    rates = pd.DataFrame({"problem": ["p", "p"], "scaling": ["raw", "raw"], "learning_rate": [1.0, 0.1],
                          "seeds": [1, 1], "steps_to_target": [5.0, 50.0], "stable": [False, True]})
    runs = pd.DataFrame([{"problem": "p", "scaling": "raw", "learning_rate": 0.1, "target_accuracy": 0.9,
                          "steps_to_target": 999.0, "stable": True}])
    summary = pd.DataFrame([{"problem": "p", "scaling": "raw", "largest_stable_rate": 0.1, "best_rate": 0.1,
                             "steps_to_target": 50.0}])
    tables = {"normalization_surface": pd.DataFrame(), "normalization_runs": runs, "normalization_rates": rates,
              "normalization_curvature": pd.DataFrame(columns=["problem", "scaling", "condition"]),
              "normalization": summary}
    fig, _ = lecture_figures.normalization_figure(tables, {})
    ax = fig.axes[0]
    drawn = _lines(ax)["raw"]
    assert drawn == ([0.1, 1.0], [50.0, 5.0])
    filled, hollow = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    assert np.asarray(filled).tolist() == [[0.1, 50.0]] and np.asarray(hollow).tolist() == [[1.0, 5.0]]
    plt.close(fig)
