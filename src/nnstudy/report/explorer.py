"""The explorer at the top of the report: every run's curves, norms and decision boundary, embedded.

The page's script (``templates/explorer.js``) lets a reader pick a dataset,
initializer, regularizer, optimizer and seed and shows that run; this module
packs what it needs, read from the tables and the run files only:

* ``meta`` (JSON): the levels, one compact row per run (its final numbers,
  label, learning rate, score and where its series start in the blobs), the
  record steps and frame steps of every cell, the rank of every combination
  within its dataset, the study's paired comparisons per dataset (the
  ``dataset=<name>`` rows of ``verdict_details``), Student-t quantiles for
  the paired difference of two combinations over seeds (the interval
  :func:`nnstudy.analysis.verdicts.t_summary` gives), and the grid and
  training points of each 2-D dataset;
* ``series`` (uint16): per run, the four curves and the per-layer weight and
  gradient norms at every record (:func:`encode_series`);
* ``frames`` (uint8): per run of a 2-D dataset, at most FRAME_CAP frames of
  the decision-boundary snapshots the training jobs recorded
  (:mod:`nnstudy.core.snapshots`), one byte per grid point.

Each part is gzip-compressed and base64-encoded; the browser inflates it
with its built-in ``DecompressionStream``.

Size: a frame is 20 x 20 = 400 bytes, so a 2-D run costs at most
12 x 400 = 4,800 bytes of frames, and the default study's 3,000 runs on its
four 2-D datasets 14.4 MB before compression. Its 4,500 runs have at most 41
records of 4 curves and 2 x 3 norms, 2 bytes each: 3.7 MB. Incompressible,
base64 would make that 24 MB, too close to the page's 25 MB budget; but the
frames are smooth and mostly saturated (the smoke study's compress 4.7
times, its series 2.5 times), which puts the default study's explorer near
6 MB. The page states what it embeds; FRAME_CAP is the knob if it grows.
"""

import base64
import gzip
import json
import math

import numpy as np
from scipy import stats as scipy_stats

from nnstudy import io
from nnstudy.analysis import verdicts
from nnstudy.analysis.derived import levels_of
from nnstudy.core import snapshots

# Decision-boundary frames kept per run: records evenly spread over training, first and last included.
FRAME_CAP = 12
# Training points drawn over a boundary, at most (an even subsample of the dataset's pool).
POINTS_CAP = 300
CURVES = ("cost", "dev_cost", "train_accuracy", "dev_accuracy")
NORMS = ("weight_norm", "grad_norm")
# Series are uint16: accuracies linear on [0, 1]; costs and norms log10 on LOG_RANGE.
LOG_RANGE = (-10.0, 6.0)
SERIES_LEVELS = 65534
SERIES_MISSING = 65535
RUN_FIELDS = ("cell", "initializer", "seed", "status", "label", "train_accuracy", "dev_accuracy",
              "test_accuracy", "score", "learning_rate", "series", "frames")


def frame_records(n_records, cap=FRAME_CAP):
    """Indexes of the records shown as frames: at most ``cap``, evenly spread, first and last included."""
    return np.unique(np.round(np.linspace(0, n_records - 1, min(cap, n_records))).astype(int))


def encode_series(values, accuracy):
    """uint16 codes of a series (NaN -> SERIES_MISSING); accuracies linear, costs and norms on a log scale."""
    v = np.asarray(values, dtype=float)
    missing = ~np.isfinite(v)
    if accuracy:
        unit = np.clip(np.nan_to_num(v), 0.0, 1.0)
    else:
        low, high = LOG_RANGE
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(missing | (v <= 0), 10.0 ** low, v))
        unit = (np.clip(logs, low, high) - low) / (high - low)
    codes = np.round(unit * SERIES_LEVELS).astype(np.uint16)
    codes[missing] = SERIES_MISSING
    return codes


def _packed(data):
    """gzip (no timestamp, so pages are reproducible) and base64 of bytes."""
    return base64.b64encode(gzip.compress(bytes(data), mtime=0)).decode("ascii")


def _number(value, digits=4):
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _points(data_file):
    """[x1 list, x2 list, labels] of up to POINTS_CAP samples of a 2-D pool, in its raw coordinates."""
    pool = io.read_pool(data_file)
    every = max(1, math.ceil(pool.y.size / POINTS_CAP))
    return [[_number(v, 3) for v in pool.X[0, ::every]], [_number(v, 3) for v in pool.X[1, ::every]],
            pool.y[::every].astype(int).tolist()]


def explorer_data(runs, derived, run_files, data_files, config, seed_numbers):
    """{"meta": JSON text, "series": base64, "frames": base64, "bytes": embedded size, "runs": n}.

    runs : the rows of ``results/tables/runs.csv``. derived : the report's
    derived tables (datasets, run_labels, verdict_details). run_files : the
    run files' paths; data_files : {dataset: dataset file};
    seed_numbers : {(dataset, model seed): seed number}.
    """
    levels = {**levels_of(config), "dataset": list(config["datasets"]), "seed": list(config["seeds"])}
    keys = ["dataset", "initializer", "regularizer", "optimizer", "seed"]
    chance = derived["datasets"].set_index("dataset")[["chance_train", "chance_test", "n_train"]]
    scored = verdicts.prepare_runs(runs, chance)
    labels = derived["run_labels"].set_index(keys)["label"]
    rows = scored.set_index(keys)
    combos = scored.groupby(keys[:4], sort=False)["score"].mean().reset_index()
    combos["rank"] = combos.groupby("dataset")["score"].rank(ascending=False, method="min")
    combos["of"] = combos.groupby("dataset")["score"].transform("size")

    series, frames, run_rows, cells, grids = [], [], [], [], {}
    series_at = frames_at = 0
    for path in run_files:
        arrays, meta = io.read_run(path)
        dataset, optimizer, regularizer = meta["cell"]
        history = arrays["history"]
        n_records = len(history["step"])
        shown = frame_records(n_records)
        has_frames = snapshots.HISTORY_KEY in history and meta.get("boundary_axes") is not None
        if has_frames and dataset not in grids:
            grids[dataset] = {"axes": [[_number(v) for v in axis] for axis in meta["boundary_axes"]],
                              "points": _points(data_files[dataset])}
        cells.append({"dataset": dataset, "optimizer": optimizer, "regularizer": regularizer,
                      "steps": history["step"].tolist(), "frames": shown.tolist() if has_frames else [],
                      "layers": int(history["weight_norm"].shape[-1])})
        for s, initializer in enumerate(np.asarray(arrays["specs"]["initializer"]).astype(str)):
            seed = seed_numbers[(dataset, int(arrays["specs"]["seed"][s]))]
            key = (dataset, initializer, regularizer, optimizer, seed)
            row = rows.loc[key]
            parts = [encode_series(history[c][s], c.endswith("accuracy")) for c in CURVES]
            parts += [encode_series(history[n][s].T, False).ravel() for n in NORMS]
            block = np.concatenate(parts)
            series.append(block)
            frame_offset = -1
            if has_frames:
                block8 = np.ascontiguousarray(history[snapshots.HISTORY_KEY][s, shown]).ravel()
                frames.append(block8)
                frame_offset = frames_at
                frames_at += block8.size
            run_rows.append([
                len(cells) - 1, levels["initializer"].index(initializer), levels["seed"].index(seed),
                str(row["status"]), str(labels.loc[key]), _number(row["train_accuracy"]),
                _number(row["dev_accuracy"]), _number(row["test_accuracy"]), _number(row["score"]),
                float(row["learning_rate"]), series_at, frame_offset,
            ])
            series_at += block.size
    details = derived["verdict_details"]
    per_dataset = details[details["scope"].str.startswith("dataset=")]
    comparisons = [
        [r.factor, r.level_a, r.level_b, r.scope.split("=", 1)[1], _number(r.estimate, 6), _number(r.ci_low, 6),
         _number(r.ci_high, 6), r.verdict, int(r.n_blocks)]
        for r in per_dataset.itertuples()
    ]
    meta = {
        "levels": levels,
        "fields": list(RUN_FIELDS),
        "runs": run_rows,
        "cells": cells,
        "ranks": {"|".join(map(str, k)): [int(r), int(n)] for *k, r, n in
                  combos[[*keys[:4], "rank", "of"]].itertuples(index=False)},
        "comparisons": comparisons,
        "t975": [None, *(float(scipy_stats.t.ppf(0.975, df)) for df in range(1, len(levels["seed"])))],
        # The hyperparameters each level sets (the learning rate is per run).
        "settings": {factor: {name: io.to_jsonable(config[factor + "s"][name] or {}) for name in levels[factor]}
                     for factor in ("regularizer", "optimizer")},
        "grids": grids,
        "grid_points": snapshots.GRID_POINTS,
        "frame_cap": FRAME_CAP,
        "curves": list(CURVES),
        "log_range": list(LOG_RANGE),
        "series_levels": SERIES_LEVELS,
        "series_missing": SERIES_MISSING,
        "probability_levels": snapshots.LEVELS,
        "probability_missing": snapshots.MISSING,
    }
    meta_text = _packed(json.dumps(meta, separators=(",", ":"), allow_nan=False).encode())
    series_text = _packed(np.concatenate(series).astype("<u2").tobytes() if series else b"")
    frames_text = _packed(np.concatenate(frames).tobytes() if frames else b"")
    return {
        "meta": meta_text,
        "series": series_text,
        "frames": frames_text,
        "bytes": len(meta_text) + len(series_text) + len(frames_text),
        "runs": len(run_rows),
        "frame_runs": sum(1 for r in run_rows if r[-1] >= 0),
    }


CONTROLS = (("dataset", "Dataset"), ("initializer", "Initializer"), ("regularizer", "Regularizer"),
            ("optimizer", "Optimizer"), ("seed", "Seed"))


def section_html(data):
    """The explorer's <section>: controls, panels, the packed data and its script."""
    from importlib import resources

    import jinja2

    templates = resources.files("nnstudy.report") / "templates"
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string((templates / "explorer.html.j2").read_text(encoding="utf-8"))
    return template.render(
        controls=CONTROLS, meta=data["meta"], series=data["series"], frames=data["frames"],
        runs=data["runs"], frame_runs=data["frame_runs"], grid=snapshots.GRID_POINTS, frame_cap=FRAME_CAP,
        megabytes=data["bytes"] / 1e6, js=(templates / "explorer.js").read_text(encoding="utf-8"),
    )
