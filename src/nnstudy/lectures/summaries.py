"""The lecture stages' summaries over seeds: the numbers their figures draw.

Each function takes a stage's tables (rows or pandas frames) and returns
one summary frame; :data:`SUMMARIES` names, per stage, the summary tables it
writes beside its own, and :func:`with_summaries` adds them to a stage's
tables. The figures (:mod:`nnstudy.report.lecture_figures`) draw medians and
means from these tables only, so every number on a figure is in a table.
Pure pandas; nothing is trained.
"""

import pandas as pd

from nnstudy.lectures import augmentation, bias_variance


def _frame(rows):
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)


def depth_medians(norms):
    """Median over seeds of each layer's RMS activation and weight-gradient norm at initialization.

    One row per (activation, depth, initializer, layer), in the order of ``norms``.
    """
    keys = ["activation", "depth", "initializer", "layer"]
    grouped = _frame(norms).groupby(keys, sort=False)
    out = grouped[["activation_rms", "gradient_norm"]].median()
    out.insert(0, "seeds", grouped.size())
    return out.reset_index()


def depth_cells(training):
    """One cell per (activation, initializer, depth) of the trainability panel.

    best_train_accuracy : median over seeds. steps_to_target : median over
    the seeds that reached the target at some step. mark : "div" when every seed
    diverged, else the median step the target was reached, or "-" if no seed
    reached it (the text the panel writes in the cell).
    """
    rows = []
    for (activation, initializer, depth), cell in _frame(training).groupby(
        ["activation", "initializer", "depth"], sort=False
    ):
        diverged = bool((cell["status"] == "diverged").all())
        succeeded = bool(cell["succeeded"].any())
        steps = float(cell["steps_to_target"].median())
        rows.append({
            "activation": activation,
            "initializer": initializer,
            "depth": depth,
            "seeds": len(cell),
            "best_train_accuracy": float(cell["best_train_accuracy"].median()),
            "all_diverged": diverged,
            "any_succeeded": succeeded,
            "steps_to_target": steps,
            "mark": "div" if diverged else (f"{steps:.0f}" if succeeded else "-"),
        })
    return pd.DataFrame(rows)


def normalization_rates(runs):
    """Per (problem, scaling, learning rate): median steps to target over seeds, and stability.

    stable : every seed's cost never rose.
    """
    grouped = _frame(runs).groupby(["problem", "scaling", "learning_rate"], sort=False)
    out = grouped.agg(seeds=("stable", "size"), steps_to_target=("steps_to_target", "median"),
                      stable=("stable", "all"))
    return out.reset_index()


def learning_curve_summary(rows):
    """Mean train and dev error over seeds per (dataset, regularizer, training-set size)."""
    return pd.DataFrame(bias_variance.curve_summary(_frame(rows).to_dict("records")))


def augmentation_summary(rows):
    """Mean and standard deviation over seeds of each accuracy per method, and the median steps."""
    return pd.DataFrame(augmentation.summary(_frame(rows).to_dict("records")))


# stage -> {summary table: (function, the stage's table it reads)}
SUMMARIES = {
    "depth": {"depth_medians": (depth_medians, "depth_norms"), "depth_cells": (depth_cells, "depth_training")},
    "normalization": {"normalization_rates": (normalization_rates, "normalization_runs")},
    "learning_curves": {"learning_curve_summary": (learning_curve_summary, "learning_curves")},
    "augmentation": {"augmentation_summary": (augmentation_summary, "augmentation")},
}


def with_summaries(stage, tables):
    """``tables`` {name: rows or frame} of ``stage`` with its summary tables added."""
    out = dict(tables)
    for name, (summarize, source) in SUMMARIES.get(stage, {}).items():
        out[name] = summarize(tables[source])
    return out

