"""Cross-checks of the per-cell results before they are aggregated.

A training job writes two files per (dataset, optimizer, regularizer) cell:
the rows (``.csv``, one per initializer x seed) and the run (``.h5``, the
trained models with their specs and metrics). Aggregation believes neither
blindly: a row deleted or edited by hand, a file left over from another
configuration, or a truncated HDF5 file would otherwise flow into every
table and figure without a word. :func:`check_cells` stops with one message
naming the file and how to regenerate it.
"""

import math
from pathlib import Path

import numpy as np

from nnstudy import io
from nnstudy.study.grid import cell_runs, model_seed

# Columns of a row that must agree with the run file, value for value.
CHECKED_METRICS = ("train_accuracy", "dev_accuracy", "test_accuracy")


class ResultError(RuntimeError):
    """A result file of the study is unreadable or disagrees with the configuration."""


def _regenerate(rows_path, run_path):
    return (
        f"; regenerate the cell with `snakemake --forcerun {rows_path}` "
        f"(or delete {rows_path} and {run_path}) and run again"
    )


def _read(rows_path, run_path):
    """(rows, run arrays, run metadata); ResultError for a file that cannot be read."""
    try:
        rows = io.read_rows(rows_path)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ResultError(f"{rows_path}: cannot read the rows ({err})" + _regenerate(rows_path, run_path)) from None
    try:
        arrays, metadata = io.read_run(run_path)
        cell = list(metadata["cell"])
        specs = arrays["specs"]
        initializers, seeds = list(specs["initializer"]), list(specs["seed"])
        metrics = {key: np.asarray(arrays["metrics"][key], dtype=float) for key in CHECKED_METRICS}
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ResultError(
            f"{run_path}: cannot read the run (truncated or damaged: {err})" + _regenerate(rows_path, run_path)
        ) from None
    return rows, cell, initializers, seeds, metrics


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_cell(rows_path, run_path, config):
    """Check one cell's rows and run against each other and ``config``.

    The rows must hold exactly one row per (initializer, seed) of the
    configuration, in the order they were trained, all of the cell named in
    the run file; the run file must hold the same models (initializer and
    model seed) and the same accuracies. Raises :class:`ResultError`.
    """
    rows, cell, initializers, seeds, metrics = _read(rows_path, run_path)
    expected = cell_runs(config)
    dataset = cell[0]

    def fail(path, problem):
        raise ResultError(f"{path}: {problem}" + _regenerate(rows_path, run_path))

    needed = ("dataset", "optimizer", "regularizer", "initializer", "seed", *CHECKED_METRICS)
    for line, row in enumerate(rows, start=2):
        missing_columns = [c for c in needed if c not in row]
        if missing_columns:
            fail(rows_path, f"line {line} lacks column(s) {missing_columns}")
    found = [(row["initializer"], row["seed"]) for row in rows]
    if found != expected:
        absent = [key for key in expected if key not in found]
        extra = [key for key in found if key not in expected or found.count(key) > 1]
        fail(
            rows_path,
            f"{len(found)} rows where the configuration expects {len(expected)} "
            f"({len(config['initializers'])} initializers x {len(config['seeds'])} seeds); "
            f"missing (initializer, seed) {absent[:5]}, unexpected or repeated {sorted(set(extra))[:5]}",
        )
    other = [row for row in rows if [row["dataset"], row["optimizer"], row["regularizer"]] != cell]
    if other:
        fail(rows_path, f"row of cell {other[0]['dataset']}/{other[0]['optimizer']}/{other[0]['regularizer']}, "
                        f"but the run is of {'/'.join(cell)}")
    expected_models = [(init, model_seed(dataset, seed)) for init, seed in expected]
    if list(zip(initializers, seeds)) != expected_models:
        fail(run_path, f"holds {len(initializers)} models that are not the configuration's "
                       f"{len(expected)} (initializer, seed) runs")
    for index, row in enumerate(rows):
        for key in CHECKED_METRICS:
            if not _same(float(row[key]), float(metrics[key][index])):
                fail(rows_path, f"{key} of ({row['initializer']}, seed {row['seed']}) is {row[key]!r} "
                                f"but the run file {run_path} says {metrics[key][index]!r}")


def check_cells(rows_paths, run_paths, config):
    """Check every cell (see :func:`check_cell`); rows and runs pair by file name."""
    runs = {Path(path).with_suffix(""): path for path in run_paths}
    for rows_path in rows_paths:
        key = Path(rows_path).with_suffix("")
        if key not in runs:
            raise ResultError(f"{rows_path}: no run file beside it among the inputs")
        check_cell(rows_path, runs[key], config)
