"""The course's data files: the regularization assignment's data.mat and the cat / non-cat images.

Each loader checks everything it reads and raises
:class:`~nnstudy.errors.DataError` naming the file and the key; it returns a
:class:`FileData` (a training pool and the file's own test set) in the
package layout. SciPy and h5py are imported inside the loaders.
"""

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nnstudy.data.splits import validate_arrays
from nnstudy.errors import DataError

# File names of the course's data inside its folder: the regularization
# assignment's 2-D points and the cat/non-cat images.
MAT_FILE = "data.mat"
CAT_TRAIN_FILE = "train_catvnoncat.h5"
CAT_TEST_FILE = "test_catvnoncat.h5"


# Names make_dataset accepts besides the generators; these need ``path``.
FILE_SOURCES = ("mat", "cat")


class FileData(NamedTuple):
    """What a course-file loader returns: a training pool and a fixed test set.

    ``X_*`` are ``(n_features, m)`` float64, ``y_*`` are ``(m,)`` int64;
    ``class_names`` lists the name of each class (``None`` if the file has none).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: list | None = None


# ---------------------------------------------------------------------------
# The course's files


def _require_file(path):
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    return path


def load_mat(path):
    """Read the course's ``.mat`` layout (the regularization assignment's data.mat).

    The file holds ``X`` ``(m, n)`` and ``y`` ``(m, 1)`` (training points, one
    per row) and ``Xval`` ``(m_val, n)`` and ``yval`` ``(m_val, 1)``.
    Returns a :class:`FileData` with ``X_train`` ``(n, m)``, ``y_train``
    ``(m,)``, ``X_test`` ``(n, m_val)`` and ``y_test`` ``(m_val,)``.
    """
    from scipy.io import loadmat

    path = _require_file(path)
    try:
        content = loadmat(path)
    # loadmat signals a damaged file with several unrelated types (MatReadError,
    # OSError, ValueError, zlib and struct errors), so take any of them.
    except Exception as err:
        raise DataError(f"{path}: cannot read as a .mat file ({err})") from err

    missing = [key for key in ("X", "y", "Xval", "yval") if key not in content]
    if missing:
        raise DataError(f"{path}: missing key(s) {missing}")

    parts = []
    for x_key, y_key in (("X", "y"), ("Xval", "yval")):
        X, y = np.asarray(content[x_key]), np.asarray(content[y_key])
        if X.ndim != 2:
            raise DataError(f"{path}: {x_key!r} has shape {X.shape}, expected (m, n_features)")
        if y.ndim != 2 or y.shape[1] != 1:
            raise DataError(f"{path}: {y_key!r} has shape {y.shape}, expected (m, 1)")
        if y.shape[0] != X.shape[0]:
            raise DataError(
                f"{path}: {x_key!r} has {X.shape[0]} rows but {y_key!r} has {y.shape[0]}"
            )
        parts.append((X.T, y[:, 0], x_key, y_key))

    (X, y, x_key, y_key), (X_val, y_val, xv_key, yv_key) = parts
    if X_val.shape[0] != X.shape[0]:
        raise DataError(
            f"{path}: {xv_key!r} has {X_val.shape[0]} features but {x_key!r} has {X.shape[0]}"
        )
    X, y = validate_arrays(X, y, path, names=(x_key, y_key))
    n_classes = int(y.max()) + 1
    X_val, y_val = validate_arrays(X_val, y_val, path, n_classes, names=(xv_key, yv_key))
    return FileData(X, y, X_val, y_val, n_classes)


def _read_cat_file(path, prefix, need_classes):
    """Read ``{prefix}_x`` (m, h, w, c) and ``{prefix}_y`` (m,) from one cat file."""
    import h5py

    path = _require_file(path)
    keys = [f"{prefix}_x", f"{prefix}_y"] + (["list_classes"] if need_classes else [])
    try:
        with h5py.File(path, "r") as f:
            missing = [key for key in keys if not isinstance(f.get(key), h5py.Dataset)]
            if missing:
                raise DataError(f"{path}: missing dataset(s) {missing}")
            arrays = {key: f[key][()] for key in keys}
    except OSError as err:
        raise DataError(f"{path}: cannot read as HDF5 ({err})") from err

    x_key, y_key = keys[:2]
    images, y = np.asarray(arrays[x_key]), np.asarray(arrays[y_key])
    if images.ndim != 4:
        raise DataError(f"{path}: {x_key!r} has shape {images.shape}, expected (m, h, w, c)")
    if y.ndim != 1:
        raise DataError(f"{path}: {y_key!r} has shape {y.shape}, expected (m,)")
    if y.shape[0] != images.shape[0]:
        raise DataError(
            f"{path}: {x_key!r} has {images.shape[0]} images but {y_key!r} has {y.shape[0]} labels"
        )
    if images.dtype != np.uint8 and images.dtype.kind in "biuf" and images.size:
        low, high = np.nanmin(images), np.nanmax(images)
        if low < 0 or high > 255:
            raise DataError(
                f"{path}: {x_key!r} has values in [{low}, {high}], expected pixels in [0, 255]"
            )
    names = None
    if need_classes:
        names = np.asarray(arrays["list_classes"])
        if names.ndim != 1 or names.size < 2:
            raise DataError(
                f"{path}: 'list_classes' has shape {names.shape}, expected (K,) with K >= 2"
            )
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist()]
    return images, y, names, (x_key, y_key)


def load_cat_h5(train_path, test_path):
    """Read the course's cat/non-cat HDF5 files.

    The training file holds ``train_set_x`` ``(m, 64, 64, 3)`` uint8,
    ``train_set_y`` ``(m,)`` and ``list_classes`` ``(K,)``; the test file
    ``test_set_x`` and ``test_set_y``. Each image becomes one column, flattened
    row-major (:func:`nnstudy.core.basics.images_to_columns`) and divided by 255.
    Returns a :class:`FileData`: ``X_train`` ``(h*w*c, m)`` with values in
    [0, 1], ``y_train`` ``(m,)``, the same for test, and the class names.
    """
    from nnstudy.core.basics import images_to_columns

    images, y, names, keys = _read_cat_file(train_path, "train_set", need_classes=True)
    test_images, y_test, _, test_keys = _read_cat_file(test_path, "test_set", need_classes=False)
    if test_images.shape[1:] != images.shape[1:]:
        raise DataError(
            f"{test_path}: {test_keys[0]!r} images have shape {test_images.shape[1:]}, "
            f"but the training images in {train_path} have {images.shape[1:]}"
        )
    n_classes = len(names)
    X, y = validate_arrays(images_to_columns(images) / 255.0, y, train_path, n_classes, names=keys)
    X_test, y_test = validate_arrays(
        images_to_columns(test_images) / 255.0, y_test, test_path, n_classes, names=test_keys
    )
    return FileData(X, y, X_test, y_test, n_classes, names)


def source_files(name, path=None):
    """The files dataset source ``name`` reads: none for a generator.

    ``"mat"`` reads the file ``path``; ``"cat"`` the training and test files
    inside the folder ``path``. The workflow makes them the inputs of the
    dataset job, so that editing one reruns what depends on it.
    """
    if name == "mat":
        return [Path(path)]
    if name == "cat":
        return [Path(path) / CAT_TRAIN_FILE, Path(path) / CAT_TEST_FILE]
    return []


def file_sha256(path):
    """The SHA-256 of a file's bytes, in hex, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_origin(paths):
    """Where file data came from: each file's name and SHA-256."""
    return "; ".join(f"file {Path(p).name} (sha256 {file_sha256(p)})" for p in paths)
