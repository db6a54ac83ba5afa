"""Datasets: built-in generators, the course's files, splitting and standardization.

Every source ends in the package layout: ``X`` of shape ``(n_features, m)``
(float64, samples on the last axis) and labels ``y`` of shape ``(m,)``
(int64, classes ``0..K-1``). :func:`make_dataset` is the one entry point;
the pieces it chains (generate or load, :func:`validate_arrays`,
:func:`split`, :func:`standardize`) are public so that each can be tested
on its own.

Only NumPy is imported here; scikit-learn, SciPy and h5py are imported
inside the functions that need them, so ``import nnstudy.data.datasets`` stays
cheap for code that only reads finished dataset files.
"""

import inspect
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nnstudy.errors import DataError, check_choice, invalid

# Below this a feature counts as constant: dividing by its std would only
# amplify rounding noise.
STD_FLOOR = 1e-12

# The largest feature magnitude a dataset may hold. Standardization sums the
# squares of a feature over the samples, and the network puts products of
# features into its pre-activations (W X, then the first layer's weight
# gradient dZ X^T, which W X meets again one step later): terms of order x^2,
# summed over samples and features. With |x| at most this bound, x^2 <= 1.8e300,
# and a sum of up to 1e8 such terms stays below float64's largest value
# (1.8e308) instead of overflowing to inf and turning the data or the
# network into NaN. Real features are many orders of magnitude smaller.
MAX_TERMS = 1e8
MAX_FEATURE_MAGNITUDE = float(np.sqrt(np.finfo(np.float64).max / MAX_TERMS))

# File names of the course's cat/non-cat data inside its folder.
CAT_TRAIN_FILE = "train_catvnoncat.h5"
CAT_TEST_FILE = "test_catvnoncat.h5"


# The parts of a split, in the order they are stored and reported.
PARTS = ("train", "dev", "test")


# ---------------------------------------------------------------------------
# Containers


@dataclass(frozen=True, eq=False)
class Splits:
    """A dataset split into train, dev and test parts.

    ``X_*`` have shape ``(n_features, m_part)`` (float64) and ``y_*`` shape
    ``(m_part,)`` (int64, values in ``0..n_classes-1``); dev or test may be
    empty (``m_part == 0``). ``stats`` holds the standardization statistics
    ``{"mean": (n_features, 1), "std": (n_features, 1)}`` once
    :func:`standardize` has been applied, else ``None``. ``metadata`` is a
    JSON-serializable record of how the data were made.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    metadata: dict = field(default_factory=dict)
    stats: dict | None = None

    @property
    def n_features(self):
        return self.X_train.shape[0]

    def part(self, name):
        """``(X, y)`` of the part ``name`` in {"train", "dev", "test"}."""
        check_choice("part", name, PARTS)
        return getattr(self, f"X_{name}"), getattr(self, f"y_{name}")


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
# Validation


def validate_arrays(X, y, source, n_classes=None, *, names=("X", "y"), min_classes=2):
    """Check one ``(X, y)`` pair and return it as ``(float64 X, int64 y)``.

    ``X`` must have shape ``(n_features, m)`` with ``n_features >= 1`` and
    only finite values of magnitude at most :data:`MAX_FEATURE_MAGNITUDE`
    (about 1.3e150, see there: larger ones overflow float64 in the
    standardization or the network); ``y`` shape ``(m,)`` with integer values in
    ``0..K-1``. ``K`` is ``n_classes`` when given; otherwise it is inferred
    as ``max(y) + 1`` and every class ``0..K-1`` must occur (labels that skip
    a class are not a ``0..K-1`` coding). At least ``min_classes`` distinct
    labels must be present (``min_classes=0`` accepts an empty part).

    ``source`` (a file name, or a short description such as "generator
    'moons'") and ``names`` (what the two arrays are called there) go into
    every message. Raises :class:`~nnstudy.errors.DataError`.
    """
    x_name, y_name = names
    where = f"{source}: "
    X = np.asarray(X)
    y = np.asarray(y)

    if X.dtype.kind not in "biuf":
        raise DataError(f"{where}{x_name!r} has dtype {X.dtype}, expected real numbers")
    if y.dtype.kind not in "biuf":
        raise DataError(f"{where}{y_name!r} has dtype {y.dtype}, expected integer labels")
    if X.ndim != 2:
        raise DataError(f"{where}{x_name!r} has shape {X.shape}, expected (n_features, m)")
    if y.ndim != 1:
        raise DataError(f"{where}{y_name!r} has shape {y.shape}, expected (m,)")
    n_features, m = X.shape
    if n_features == 0:
        raise DataError(f"{where}{x_name!r} has no features (shape {X.shape})")
    if y.shape[0] != m:
        raise DataError(f"{where}{x_name!r} has {m} samples but {y_name!r} has {y.shape[0]} labels")
    if m == 0 and min_classes > 0:
        raise DataError(f"{where}{x_name!r} and {y_name!r} hold no samples")

    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        n_nan = int(np.isnan(X).sum())
        raise DataError(
            f"{where}{x_name!r} has {n_nan} NaN and {int(bad.sum()) - n_nan} infinite values"
        )
    if X.size:
        magnitude = np.abs(X).max(axis=1)
        huge = np.flatnonzero(magnitude > MAX_FEATURE_MAGNITUDE)
        if huge.size:
            raise DataError(
                f"{where}{x_name!r} feature {int(huge[0])} (0-based) reaches magnitude "
                f"{magnitude[huge[0]]:.3g}, above the bound {MAX_FEATURE_MAGNITUDE:.3g} beyond which "
                f"float64 overflows in standardization or training ({huge.size} such feature(s))"
            )

    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise DataError(f"{where}{y_name!r} has NaN or infinite labels")
        if (y != np.round(y)).any():
            raise DataError(f"{where}{y_name!r} has labels that are not whole numbers")
    if m and y.min() < 0:
        raise DataError(f"{where}{y_name!r} has negative label {y.min()!r}, expected 0..K-1")
    if n_classes is not None and m and y.max() > n_classes - 1:
        raise DataError(f"{where}{y_name!r} has label {y.max()!r}, expected 0..{n_classes - 1}")
    # Compare before casting: a huge float label would wrap around in int64.
    if m and y.max() > np.iinfo(np.int64).max // 2:
        raise DataError(f"{where}{y_name!r} has label {y.max()!r}, far beyond any class count")
    y = y.astype(np.int64)

    present = np.unique(y)
    if n_classes is None and m and len(present) != int(present[-1]) + 1:
        # With L distinct labels, some class in 0..L is absent: no need to look further.
        missing = np.setdiff1d(np.arange(len(present) + 1), present)[:5].tolist()
        raise DataError(f"{where}{y_name!r} labels are not 0..K-1: class(es) {missing} never occur")
    if len(present) < min_classes:
        raise DataError(
            f"{where}{y_name!r} has {len(present)} class(es) present "
            f"({present.tolist()}), at least {min_classes} needed"
        )
    return X, y


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise invalid("seed", seed, "a non-negative integer")
    return int(seed)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise invalid(name, value, f"an integer >= {minimum}")
    return int(value)


def _check_fraction(name, value, high=1.0, include_high=False):
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    ok = ok and 0.0 <= value and (value <= high if include_high else value < high)
    if not ok:
        bracket = "]" if include_high else ")"
        raise invalid(name, value, f"a number in [0, {high}{bracket}")
    return float(value)


# ---------------------------------------------------------------------------
# Built-in generators: (seed, **params) -> (X (n, m), y (m,)), the whole pool

# The check of every generator parameter, by name: a name means the same
# thing, with the same range, in every generator that takes it. Configuration
# validation uses the same checks (generator_params), without generating.
PARAMETER_CHECKS = {
    "n_samples": lambda value: _check_count("n_samples", value, 4),
    "noise": lambda value: _check_fraction("noise", value, high=10.0, include_high=True),
    "factor": lambda value: _check_fraction("factor", value),
    "n_arms": lambda value: _check_count("n_arms", value, 2),
    "turns": lambda value: _check_fraction("turns", value, high=10.0, include_high=True),
    "jitter": lambda value: _check_fraction("jitter", value, high=10.0, include_high=True),
    "label_noise": lambda value: _check_fraction("label_noise", value, high=0.5),
}


def _checked(**values):
    """The checked values of some generator parameters, in the order given."""
    return [PARAMETER_CHECKS[name](value) for name, value in values.items()]



def circles(seed, n_samples=400, noise=0.05, factor=0.5):
    """Two concentric noisy circles (scikit-learn ``make_circles``), 2 features."""
    from sklearn.datasets import make_circles

    n_samples, noise, factor = _checked(n_samples=n_samples, noise=noise, factor=factor)
    X, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return X.T, y


def moons(seed, n_samples=400, noise=0.2):
    """Two interleaving half-moons (scikit-learn ``make_moons``), 2 features."""
    from sklearn.datasets import make_moons

    n_samples, noise = _checked(n_samples=n_samples, noise=noise)
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X.T, y


def spirals(seed, n_samples=400, n_arms=2, turns=1.5, noise=0.05):
    """Interleaved spiral arms in the unit disc, one class per arm, 2 features.

    Arm ``k`` is the curve ``r * (cos a, sin a)`` with ``r = 0.1 + 0.9 t``
    and ``a = 2 pi (turns * t + k / n_arms)`` for ``t`` uniform in [0, 1];
    Gaussian noise of standard deviation ``noise`` is added to both
    coordinates. With 1.5 turns the arms wrap around each other, so a linear
    or single-bend boundary (enough for moons) fails.
    """
    n_samples, n_arms, turns, noise = _checked(n_samples=n_samples, n_arms=n_arms, turns=turns, noise=noise)
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_arms
    t = rng.uniform(0.0, 1.0, n_samples)
    radius = 0.1 + 0.9 * t
    angle = 2.0 * np.pi * (turns * t + y / n_arms)
    X = radius * np.stack([np.cos(angle), np.sin(angle)])
    X += noise * rng.standard_normal(X.shape)
    return X, y


def football(seed, n_samples=400, jitter=0.05, label_noise=0.1):
    """A stand-in for the course's regularization data: who gets the ball.

    Points are uniform in the square ``[-0.75, 0.75]^2`` (the goalkeeper's
    kick lands somewhere on the field); the label says which team's player
    heads it, 1 above the wavy line ``x2 = 0.2 sin(4 x1) + 0.1 x1`` and 0
    below. The line is blurred by Gaussian noise of standard deviation
    ``jitter``, and a fraction ``label_noise`` of labels is flipped, so a
    large unregularized network fits isolated points that do not
    generalize.
    """
    n_samples, jitter, label_noise = _checked(n_samples=n_samples, jitter=jitter, label_noise=label_noise)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.75, 0.75, size=(2, n_samples))
    boundary = 0.2 * np.sin(4.0 * X[0]) + 0.1 * X[0]
    y = (X[1] > boundary + jitter * rng.standard_normal(n_samples)).astype(np.int64)
    flip = rng.uniform(size=n_samples) < label_noise
    y[flip] = 1 - y[flip]
    return X, y


def breast_cancer(seed):
    """Wisconsin breast cancer (scikit-learn), 30 features, 569 samples, binary.

    Label 1 is benign, 0 malignant. Fixed data: ``seed`` is accepted for a
    uniform signature and only affects the split.
    """
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return X.T, y


def digits(seed):
    """Handwritten digits 8x8 (scikit-learn), 64 features in 0..16, 1797 samples, 10 classes.

    Fixed data: ``seed`` only affects the split.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.T, y


GENERATORS = {
    "circles": circles,
    "moons": moons,
    "spirals": spirals,
    "football": football,
    "breast_cancer": breast_cancer,
    "digits": digits,
}

# Names make_dataset accepts besides the generators; these need ``path``.
FILE_SOURCES = ("mat", "cat")


def generator_params(name, params=None):
    """The generator's parameters with defaults filled in, e.g. for metadata.

    Raises ConfigError for an unknown generator or parameter, or a value out
    of its range (:data:`PARAMETER_CHECKS`); the message starts with the
    parameter's name.
    """
    check_choice("dataset", name, GENERATORS)
    params = dict(params or {})
    signature = inspect.signature(GENERATORS[name])
    defaults = {key: p.default for key, p in signature.parameters.items() if key != "seed"}
    for key in params:
        if key not in defaults:
            allowed = ", ".join(map(repr, defaults)) or "no parameters"
            raise invalid(key, params[key], f"a parameter of generator {name!r} ({allowed})")
    resolved = {**defaults, **params}
    for key, value in params.items():
        PARAMETER_CHECKS[key](value)
    return resolved


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


# ---------------------------------------------------------------------------
# Splitting and standardization


def _allocate(total, counts):
    """Split ``total`` over classes in proportion to ``counts`` (largest remainder)."""
    exact = total * counts / counts.sum()
    share = np.floor(exact).astype(np.int64)
    # Stable order: ties in the remainder go to the lower class index.
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: total - share.sum()]] += 1
    return share


def split(X, y, seed, dev_fraction, test_fraction):
    """Stratified, deterministic shuffle split into train, dev and test.

    ``X`` ``(n_features, m)``, ``y`` ``(m,)`` with classes ``0..K-1``.
    The dev and test parts get ``round(m * fraction)`` samples each,
    shared among classes in proportion to their counts; every class keeps
    at least one training sample. Within each part the order is shuffled.
    Returns :class:`Splits` with ``n_classes = max(y) + 1`` and no metadata.
    """
    seed = _check_seed(seed)
    dev_fraction = _check_fraction("dev_fraction", dev_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if dev_fraction + test_fraction >= 1.0:
        raise invalid("dev_fraction + test_fraction", dev_fraction + test_fraction, "less than 1")
    y = np.asarray(y)
    m = y.shape[0]
    n_classes = int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes)
    n_test = _allocate(round(m * test_fraction), counts)
    n_dev = _allocate(round(m * dev_fraction), counts)
    short = np.flatnonzero(n_test + n_dev >= counts)
    if short.size:
        c = int(short[0])
        raise DataError(
            f"class {c} has {counts[c]} samples: too few for dev_fraction={dev_fraction} "
            f"and test_fraction={test_fraction} while keeping one for training"
        )

    rng = np.random.default_rng(seed)
    parts = {name: [] for name in PARTS}
    for c in range(n_classes):
        members = rng.permutation(np.flatnonzero(y == c))
        parts["test"].append(members[: n_test[c]])
        parts["dev"].append(members[n_test[c] : n_test[c] + n_dev[c]])
        parts["train"].append(members[n_test[c] + n_dev[c] :])
    arrays = {}
    for name in PARTS:
        index = rng.permutation(np.concatenate(parts[name]))
        arrays[f"X_{name}"] = X[:, index]
        arrays[f"y_{name}"] = y[index]
    return Splits(**arrays, n_classes=n_classes)


def standardize(splits):
    """Center and scale every part with the mean and std of the training part.

    Statistics come from the training part only, so nothing about dev or
    test leaks into the model's inputs. A constant feature (std below
    ``STD_FLOOR``) is only centered. Returns ``(new_splits, stats)`` with
    ``stats = {"mean": (n_features, 1), "std": (n_features, 1)}``, the
    std being the divisor actually used; ``new_splits.stats`` is the same.
    """
    mean = splits.X_train.mean(axis=1, keepdims=True)
    std = splits.X_train.std(axis=1, keepdims=True)
    std = np.where(std < STD_FLOOR, 1.0, std)
    stats = {"mean": mean, "std": std}
    scaled = {f"X_{name}": (splits.part(name)[0] - mean) / std for name in PARTS}
    return replace(splits, **scaled, stats=stats), stats


def _child_seeds(seed):
    """Independent seeds for data generation and splitting, from one seed.

    Separate streams keep the split from depending on how many random
    numbers the generator drew (and vice versa).
    """
    children = np.random.SeedSequence(seed).spawn(2)
    return [int(child.generate_state(1)[0]) for child in children]


@dataclass(frozen=True, eq=False)
class Pool:
    """A dataset before it is split: what every replicate's split is drawn from.

    ``X`` ``(n_features, m)`` (raw, not standardized) and ``y`` ``(m,)`` are
    the samples to split; ``X_test`` ``(n_features, m_test)`` and ``y_test``
    are a fixed test set (the course files' own), or ``None`` when the test
    part is drawn from the pool by ``test_fraction``. ``metadata`` records
    how the pool was made (no split seed: that belongs to a split).
    """

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    dev_fraction: float
    test_fraction: float
    standardize: bool = True
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)


def make_pool(name, seed, params=None, dev_fraction=0.2, test_fraction=0.2, standardize=True, path=None):
    """Generate (or read) the samples of one dataset description, unsplit.

    Arguments as for :func:`make_dataset`; ``seed`` seeds the generator's
    data stream. Returns a :class:`Pool`.
    """
    check_choice("dataset", name, tuple(GENERATORS) + FILE_SOURCES)
    seed = _check_seed(seed)
    data_seed, _ = _child_seeds(seed)
    metadata = {"dataset": name, "seed": seed, "data_seed": data_seed}
    if name in GENERATORS:
        if path is not None:
            raise invalid("path", path, f"None for the generated dataset {name!r}")
        resolved = generator_params(name, params)
        X, y = GENERATORS[name](data_seed, **resolved)
        X, y = validate_arrays(X, y, f"generator {name!r}")
        metadata.update(params=resolved, dev_fraction=dev_fraction, test_fraction=test_fraction)
        return Pool(X, y, int(y.max()) + 1, dev_fraction, test_fraction, bool(standardize),
                    metadata=metadata)
    if path is None:
        raise invalid("path", path, f"a path for the file dataset {name!r}")
    if params:
        raise invalid("params", params, f"no parameters for the file dataset {name!r}")
    path = Path(path)
    if name == "mat":
        data = load_mat(path)
    else:
        data = load_cat_h5(*source_files(name, path))
    metadata.update(
        params={},
        path=str(path),
        class_names=data.class_names,
        dev_fraction=dev_fraction,
        test_fraction=None,
    )
    return Pool(data.X_train, data.y_train, data.n_classes, dev_fraction, 0.0, bool(standardize),
                data.X_test, data.y_test, metadata)


def split_pool(pool, split_seed, metadata=None):
    """One stratified split of a :class:`Pool`, standardized if the pool says so.

    ``split_seed`` alone decides which samples go to train, dev and test;
    every split of one pool has the same part sizes and class counts.
    Returns :class:`Splits` whose metadata is the pool's, the split seed,
    ``metadata`` (extra entries), the class counts of every part and
    whether the data were standardized.
    """
    splits = split(pool.X, pool.y, split_seed, pool.dev_fraction, pool.test_fraction)
    if pool.X_test is not None:
        splits = replace(splits, X_test=pool.X_test, y_test=pool.y_test)
    splits = replace(splits, n_classes=pool.n_classes)
    metadata = {**pool.metadata, "split_seed": int(split_seed), **(metadata or {})}
    metadata["n_classes"] = splits.n_classes
    metadata["n_features"] = splits.n_features
    metadata["class_counts"] = {
        part: np.bincount(splits.part(part)[1], minlength=splits.n_classes).tolist()
        for part in PARTS
    }
    metadata["standardized"] = pool.standardize
    splits = replace(splits, metadata=metadata)
    if pool.standardize:
        splits, _ = _standardize(splits)
    return splits


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


def make_dataset(
    name,
    seed,
    params=None,
    dev_fraction=0.2,
    test_fraction=0.2,
    standardize=True,
    path=None,
):
    """Build a split, optionally standardized dataset from one description.

    ``name`` is a key of :data:`GENERATORS` (with ``params`` for it), or
    ``"mat"`` (``path`` to a .mat file, see :func:`load_mat`) or ``"cat"``
    (``path`` to a folder holding the two files of :func:`load_cat_h5`).
    For generators the whole pool is split by ``dev_fraction`` and
    ``test_fraction``; for files the file's own test set is the test part,
    the training pool is split into train and dev, and ``test_fraction`` is
    not used (recorded as ``None``). ``seed`` seeds both the data and the
    split, through two independent child seeds.

    Returns :class:`Splits` whose ``metadata`` records the source, the
    resolved parameters, the seeds, the fractions, the class counts of every
    part and whether the data were standardized (the statistics themselves
    are in ``splits.stats``).
    """
    pool = make_pool(name, seed, params, dev_fraction, test_fraction, standardize, path)
    _, split_seed = _child_seeds(pool.metadata["seed"])
    return split_pool(pool, split_seed)


_standardize = standardize  # make_dataset's flag of the same name hides the function


def output_layer(n_classes):
    """The output of a network for ``n_classes`` classes: ``(activation, units)``.

    Two classes are one sigmoid unit (the probability of class 1), as in the
    course; more are a softmax over one unit per class.
    """
    return ("sigmoid", 1) if n_classes == 2 else ("softmax", n_classes)


def one_hot_targets(y, n_classes):
    """Network targets for labels ``y`` ``(m,)``.

    Binary (``n_classes == 2``): shape ``(1, m)``, the label itself as 0.0/1.0,
    for one sigmoid output. ``n_classes > 2``: one-hot ``(n_classes, m)`` for a
    softmax output.
    """
    n_classes = _check_count("n_classes", n_classes, 2)
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"labels have shape {y.shape}, expected (m,)")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(f"labels span {y.min()}..{y.max()}, expected 0..{n_classes - 1}")
    if output_layer(n_classes)[1] == 1:
        return y[np.newaxis, :].astype(np.float64)
    return np.eye(n_classes)[:, y]
