"""Disk formats: HDF5 for arrays (runs, datasets), CSV with a JSON sidecar for tables.

Every file is written to a temporary name in its destination folder and then
renamed, so a killed job never leaves a truncated file under the final name.
Every file carries its metadata (resolved configuration, seed, package
version) beside the data.
"""

import contextlib
import csv
import io as io_module
import json
import os
from pathlib import Path

import h5py
import numpy as np

from nnstudy import __version__


def temporary_path(path):
    """The one temporary name of ``path`` while it is written: ``.{name}.tmp`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary name depends on ``path`` alone, not on chance: a job
    killed with SIGKILL (which no ``finally`` survives) leaves its temporary
    file behind, and the rerun that resumes the study writes the same name
    again, overwriting the leftover and renaming it away. Each file has one
    writer at a time (one job per output, Snakemake's lock per directory).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    # A leftover of a killed writer: start afresh, with the usual umask-based mode.
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def dumps_metadata(metadata):
    """Serialize metadata deterministically (sorted keys) as JSON."""
    return json.dumps(to_jsonable(metadata), sort_keys=True)


def _write_group(group, arrays):
    for name, value in arrays.items():
        if isinstance(value, dict):
            _write_group(group.create_group(name), value)
        else:
            value = np.asarray(value)
            if value.dtype.kind == "U":
                value = value.astype("S")
            # Fixed settings keep identical arrays byte-identical across runs.
            group.create_dataset(name, data=value, track_times=False)


def _read_group(group):
    out = {}
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            out[name] = _read_group(item)
        else:
            value = item[()]
            if isinstance(value, np.ndarray) and value.dtype.kind == "S":
                value = value.astype("U")
            elif isinstance(value, bytes):
                value = value.decode()
            out[name] = value
    return out


def write_h5(path, arrays, metadata):
    """Write a nested dict of arrays to HDF5 at ``path`` atomically.

    ``metadata`` (a JSON-serializable dict) is stored as the root attribute
    ``metadata`` together with the package version.
    """
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["metadata"] = dumps_metadata(metadata)
            f.attrs["nnstudy_version"] = __version__
            _write_group(f, arrays)


def read_h5(path):
    """Read a file written by :func:`write_h5`: ``(arrays, metadata)``."""
    with h5py.File(path, "r") as f:
        metadata = json.loads(f.attrs.get("metadata", "{}"))
        return _read_group(f), metadata


def write_table(frame, path, metadata=None):
    """Write a pandas frame as CSV, atomically, with ``<path>.meta.json`` beside it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    if metadata is not None:
        meta_path = path.with_name(path.name + ".meta.json")
        with atomic_path(meta_path) as tmp:
            tmp.write_text(dumps_metadata({"nnstudy_version": __version__, **metadata}) + "\n")


# ---------------------------------------------------------------------------
# Datasets: nnstudy.data.datasets.Splits on disk


def write_dataset(path, splits, metadata=None, pool=None):
    """Write a :class:`nnstudy.data.datasets.Splits` to HDF5 at ``path``, atomically.

    Layout: groups ``train``, ``dev`` and ``test``, each holding ``X``
    ``(n_features, m)`` float64 and ``y`` ``(m,)`` int64; the scalar
    ``n_classes``; and, for standardized data, the group ``standardization``
    with ``mean`` and ``std`` ``(n_features, 1)``. The statistics are arrays,
    not metadata, because for image data they are too large for an HDF5
    attribute. ``metadata`` (default ``splits.metadata``) is the JSON
    attribute.

    ``pool`` (a :class:`nnstudy.data.datasets.Pool`), when given, is stored too,
    so that other splits of the same data can be drawn from the file
    (:func:`read_pool`): group ``pool`` with ``X``, ``y`` and, for a fixed
    test set, ``X_test`` and ``y_test``; its settings and metadata go into
    the JSON attribute under ``"pool"``.
    """
    from nnstudy.data.datasets import PARTS

    arrays = {part: dict(zip(("X", "y"), splits.part(part))) for part in PARTS}
    arrays["n_classes"] = np.int64(splits.n_classes)
    if splits.stats is not None:
        arrays["standardization"] = {"mean": splits.stats["mean"], "std": splits.stats["std"]}
    metadata = dict(splits.metadata if metadata is None else metadata)
    if pool is not None:
        arrays["pool"] = {"X": pool.X, "y": pool.y}
        if pool.X_test is not None:
            arrays["pool"].update(X_test=pool.X_test, y_test=pool.y_test)
        metadata["pool"] = {
            "n_classes": pool.n_classes,
            "dev_fraction": pool.dev_fraction,
            "test_fraction": pool.test_fraction,
            "standardize": pool.standardize,
            "metadata": pool.metadata,
        }
    write_h5(path, arrays, metadata)


def read_pool(path):
    """The :class:`nnstudy.data.datasets.Pool` stored by :func:`write_dataset` in ``path``.

    Raises :class:`~nnstudy.errors.DataError` when the file holds no pool or
    its arrays are not a dataset.
    """
    from nnstudy.data.datasets import Pool, validate_arrays
    from nnstudy.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    arrays, metadata = read_h5(path)
    group, settings = arrays.get("pool"), metadata.get("pool")
    if not isinstance(group, dict) or not isinstance(settings, dict):
        raise DataError(f"{path}: no 'pool' group: the file holds one split only")
    n_classes = settings["n_classes"]
    X, y = validate_arrays(group.get("X"), group.get("y"), path, n_classes, names=("pool/X", "pool/y"))
    X_test = y_test = None
    if "X_test" in group:
        X_test, y_test = validate_arrays(
            group["X_test"], group.get("y_test"), path, n_classes, names=("pool/X_test", "pool/y_test")
        )
    return Pool(X, y, n_classes, settings["dev_fraction"], settings["test_fraction"],
                settings["standardize"], X_test, y_test, settings["metadata"])


def read_dataset(path):
    """Read a file written by :func:`write_dataset` and check all of it.

    Returns a :class:`nnstudy.data.datasets.Splits` with the file's metadata and
    standardization statistics. Raises :class:`~nnstudy.errors.DataError`,
    naming the file and the key, when the file is missing or unreadable, a
    group or dataset is missing, or an array has the wrong shape or values.
    """
    from nnstudy.data.datasets import PARTS, Splits, validate_arrays
    from nnstudy.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        arrays, metadata = read_h5(path)
    except (OSError, ValueError) as err:  # ValueError: a damaged metadata attribute
        raise DataError(f"{path}: cannot read as an nnstudy dataset ({err})") from err
    if not isinstance(metadata, dict):
        raise DataError(f"{path}: attribute 'metadata' is not a JSON object")

    n_classes = arrays.get("n_classes")
    if n_classes is None:
        raise DataError(f"{path}: missing dataset 'n_classes'")
    n_classes = np.asarray(n_classes)
    if n_classes.shape != () or n_classes.dtype.kind not in "iu" or n_classes < 2:
        raise DataError(f"{path}: 'n_classes' is {n_classes!r}, expected an integer >= 2")
    n_classes = int(n_classes)

    parts = {}
    for part in PARTS:
        group = arrays.get(part)
        if not isinstance(group, dict):
            raise DataError(f"{path}: missing group {part!r}")
        for key in ("X", "y"):
            if not isinstance(group.get(key), np.ndarray):
                raise DataError(f"{path}: missing dataset '{part}/{key}'")
        # Dev and test may legitimately be empty; training data may not.
        parts[f"X_{part}"], parts[f"y_{part}"] = validate_arrays(
            group["X"],
            group["y"],
            path,
            n_classes,
            names=(f"{part}/X", f"{part}/y"),
            min_classes=2 if part == "train" else 0,
        )
    n_features = parts["X_train"].shape[0]
    for part in PARTS[1:]:
        if parts[f"X_{part}"].shape[0] != n_features:
            raise DataError(
                f"{path}: '{part}/X' has {parts[f'X_{part}'].shape[0]} features "
                f"but 'train/X' has {n_features}"
            )

    stats = None
    if "standardization" in arrays:
        group = arrays["standardization"]
        if not isinstance(group, dict):
            raise DataError(f"{path}: 'standardization' is not a group")
        stats = {}
        for key in ("mean", "std"):
            value = group.get(key)
            name = f"standardization/{key}"
            if not isinstance(value, np.ndarray):
                raise DataError(f"{path}: missing dataset {name!r}")
            if value.shape != (n_features, 1) or value.dtype.kind != "f":
                raise DataError(
                    f"{path}: {name!r} has shape {value.shape} and dtype {value.dtype}, "
                    f"expected float ({n_features}, 1)"
                )
            if not np.isfinite(value).all():
                raise DataError(f"{path}: {name!r} has NaN or infinite values")
            stats[key] = value
        if (stats["std"] <= 0).any():
            raise DataError(f"{path}: 'standardization/std' has values <= 0")

    return Splits(**parts, n_classes=n_classes, metadata=metadata, stats=stats)


# ---------------------------------------------------------------------------
# Runs, rows and timings


def write_run(path, outcome, metadata):
    """Write a batch of trained models (:class:`nnstudy.study.experiment.BatchOutcome`).

    Layout: ``params`` (W1, b1, ... with the model axis first), ``history``
    (see :class:`nnstudy.core.training.TrainResult`), ``specs`` (one array per
    :class:`~nnstudy.study.experiment.ModelSpec` field), ``metrics``, ``status``,
    ``stop_step``, ``best_step``, ``steps`` and ``steps_per_epoch``. The wall
    time is deliberately left out so that reruns give identical files.
    Decision-boundary snapshots, when recorded, are stored as one byte per
    probability (:func:`nnstudy.core.snapshots.quantize`).
    """
    from dataclasses import fields

    from nnstudy.core import snapshots

    result = outcome.result
    history = dict(result.history)
    if snapshots.HISTORY_KEY in history:
        history[snapshots.HISTORY_KEY] = snapshots.quantize(history[snapshots.HISTORY_KEY])
    specs = {
        f.name: np.array([np.nan if getattr(s, f.name) is None else getattr(s, f.name) for s in outcome.specs])
        for f in fields(outcome.specs[0])
    }
    arrays = {
        "params": result.params,
        "history": history,
        "specs": specs,
        "metrics": outcome.metrics,
        "status": result.status,
        "stop_step": result.stop_step,
        "best_step": result.best_step,
        "steps": np.int64(result.steps),
        "steps_per_epoch": np.int64(result.steps_per_epoch),
    }
    write_h5(path, arrays, metadata)


def read_run(path):
    """Read a file written by :func:`write_run`: ``(arrays, metadata)``."""
    return read_h5(path)


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # shortest exact round-trip form
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    return str(value)


def write_rows(path, rows):
    """Write a list of flat dicts as CSV (no pandas: training jobs stay light)."""
    columns = list(rows[0]) if rows else []
    buffer = io_module.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[c]) for c in columns] for row in rows)
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())


def _parse(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


def read_rows(path):
    """Read a CSV written by :func:`write_rows` into dicts of ints, floats and strings."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        columns = next(reader, None)
        if columns is None:
            return []
        return [dict(zip(columns, map(_parse, line))) for line in reader]


def write_timing(path, **fields):
    """Write one job's wall times as JSON (kept apart from the reproducible results)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(fields), sort_keys=True) + "\n")
