"""Splitting, standardization and checking of datasets in the package layout.

``X`` has shape ``(n_features, m)`` (float64, samples on the last axis) and
``y`` shape ``(m,)`` (int64, classes ``0..K-1``). :func:`validate_arrays`
checks a pair at the boundary; :func:`split` draws a stratified train / dev /
test split, :func:`standardize` scales it with training statistics, and a
:class:`Pool` (a dataset before it is split) gives one :class:`Splits` per
split seed (:func:`split_pool`). Only NumPy is imported.
"""

from dataclasses import dataclass, field, replace

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
        splits, _ = standardize(splits)
    return splits


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
