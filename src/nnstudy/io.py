"""Disk formats: HDF5 for arrays (runs, datasets), CSV with a JSON sidecar for tables.

Every file is written to a temporary name in its destination folder and then
renamed, so a killed job never leaves a truncated file under the final name.
Every file carries its metadata (resolved configuration, seed, package
version) beside the data.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from nnstudy import __version__


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def dumps_metadata(metadata):
    """Serialize metadata deterministically (sorted keys) as JSON."""
    return json.dumps(_to_jsonable(metadata), sort_keys=True)


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
        frame.to_csv(tmp, index=False, float_format="%.17g", lineterminator="\n")
    if metadata is not None:
        meta_path = path.with_name(path.name + ".meta.json")
        with atomic_path(meta_path) as tmp:
            tmp.write_text(dumps_metadata({"nnstudy_version": __version__, **metadata}) + "\n")
