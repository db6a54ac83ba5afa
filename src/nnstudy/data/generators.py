"""Built-in dataset sources: generators of 2-D problems and of problems of stated difficulty, packaged real data, MNIST-1D.

A generator maps ``(seed, **params)`` to the whole pool ``(X (n, m), y (m,))``;
:data:`PACKAGE_SPLITS` sources come with their own test set (a
:class:`~nnstudy.data.files.FileData`). scikit-learn and mnist1d are imported
inside the functions that need them.
"""

import inspect
import math

import numpy as np

from nnstudy.data.files import FileData
from nnstudy.data.splits import _check_count, _check_fraction, validate_arrays
from nnstudy.errors import DataError, check_choice, invalid

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
    "n_features": lambda value: _check_count("n_features", value, 2),
    "n_informative": lambda value: _check_count("n_informative", value, 1),
    "n_classes": lambda value: _check_count("n_classes", value, 2),
    "class_sep": lambda value: _check_fraction("class_sep", value, high=10.0, include_high=True),
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


def iris(seed):
    """Fisher's iris (scikit-learn), 4 features, 150 samples, 3 classes.

    Fixed data: ``seed`` only affects the split.
    """
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X.T, y


def wine(seed):
    """Wine recognition (scikit-learn), 13 chemical features, 178 samples, 3 cultivars.

    Fixed data: ``seed`` only affects the split.
    """
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    return X.T, y


def _flip_labels(y, label_noise, n_classes, rng):
    """``y`` with a fraction ``label_noise`` of labels, drawn at random, moved to another class at random."""
    y = y.copy()
    flip = rng.uniform(size=y.shape[0]) < label_noise
    y[flip] = (y[flip] + rng.integers(1, n_classes, size=int(flip.sum()))) % n_classes
    return y


def _check_classification(n_features, n_informative, n_classes, **_):
    # make_classification puts 2 clusters per class on the vertices of an
    # n_informative-dimensional hypercube, and the informative features are
    # some of the features.
    if n_informative > n_features:
        raise invalid("n_informative", n_informative, f"at most n_features ({n_features})")
    if 2 * n_classes > 2**n_informative:
        raise invalid("n_informative", n_informative,
                      f"at least log2(2 n_classes) = {math.log2(2 * n_classes):g} for {n_classes} classes")


def classification(seed, n_samples=400, n_features=10, n_informative=4, n_classes=2, class_sep=1.0,
                   label_noise=0.05):
    """A problem of stated difficulty: scikit-learn ``make_classification``, then label noise.

    ``n_informative`` features carry the classes (two Gaussian clusters per
    class, centred on vertices of a hypercube of side ``2 class_sep``: the
    smaller ``class_sep``, the more the classes overlap); the other
    ``n_features - n_informative`` are independent noise. Then exactly
    the stated fraction ``label_noise`` of labels, on average, is moved to
    another class (scikit-learn's own ``flip_y`` redraws a label, which keeps
    it a ``1 / n_classes`` of the time).
    """
    from sklearn.datasets import make_classification

    n_samples, n_features, n_informative, n_classes, class_sep, label_noise = _checked(
        n_samples=n_samples, n_features=n_features, n_informative=n_informative, n_classes=n_classes,
        class_sep=class_sep, label_noise=label_noise)
    _check_classification(n_features, n_informative, n_classes)
    sklearn_seed, noise_seed = np.random.SeedSequence(seed).generate_state(2)
    X, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=n_informative, n_redundant=0,
        n_repeated=0, n_classes=n_classes, n_clusters_per_class=2, flip_y=0.0, class_sep=class_sep,
        shuffle=True, random_state=int(sklearn_seed),
    )
    return X.T, _flip_labels(y, label_noise, n_classes, np.random.default_rng(noise_seed))


def xor(seed, n_samples=400, n_features=2, label_noise=0.0):
    """XOR: points uniform in ``[-1, 1]^n_features``, class 1 where exactly one of x1, x2 is positive.

    No single feature says anything about the class (each quadrant pair
    balances it), so a linear model stays at chance; features beyond the
    first two are distractors. A fraction ``label_noise`` of labels is flipped.
    """
    n_samples, n_features, label_noise = _checked(n_samples=n_samples, n_features=n_features,
                                                  label_noise=label_noise)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n_features, n_samples))
    y = ((X[0] > 0) != (X[1] > 0)).astype(np.int64)
    return X, _flip_labels(y, label_noise, 2, rng)


def gaussian_quantiles(seed, n_samples=400, n_features=2, n_classes=3, label_noise=0.0):
    """Nested shells of one Gaussian (scikit-learn ``make_gaussian_quantiles``), then label noise.

    A standard normal in ``n_features`` dimensions, cut by its chi-squared
    quantiles into ``n_classes`` concentric shells of equal probability: the
    class is a function of the distance to the centre only. A fraction
    ``label_noise`` of labels is moved to another class.
    """
    from sklearn.datasets import make_gaussian_quantiles

    n_samples, n_features, n_classes, label_noise = _checked(
        n_samples=n_samples, n_features=n_features, n_classes=n_classes, label_noise=label_noise)
    sklearn_seed, noise_seed = np.random.SeedSequence(seed).generate_state(2)
    X, y = make_gaussian_quantiles(n_samples=n_samples, n_features=n_features, n_classes=n_classes,
                                   random_state=int(sklearn_seed))
    return X.T, _flip_labels(y, label_noise, n_classes, np.random.default_rng(noise_seed))


GENERATORS = {
    "circles": circles,
    "moons": moons,
    "spirals": spirals,
    "football": football,
    "breast_cancer": breast_cancer,
    "digits": digits,
    "iris": iris,
    "wine": wine,
    "classification": classification,
    "xor": xor,
    "gaussian_quantiles": gaussian_quantiles,
}

# Checks that involve several parameters of one generator, run by
# generator_params (configuration validation) as by the generator itself.
CONSISTENCY_CHECKS = {"classification": _check_classification}

def mnist1d():
    """MNIST-1D (Greydanus 2020), made by the ``mnist1d`` package's generator, at its standard split.

    ``mnist1d.data.make_dataset`` with the package's default arguments
    (seed 42) builds 5,000 sequences of length 40 from ten digit templates
    in its code, procedurally: no download path is taken. The first 4,000
    are the training pool, the last 1,000 the test set, as the package
    splits them. The package seeds NumPy's and Python's global generators;
    their states are restored afterwards. Returns a :class:`FileData` (the
    package's sequences are centred and scaled to unit std as a whole).
    """
    import random

    try:
        from mnist1d.data import get_dataset_args, make_dataset as make_mnist1d
    except ImportError as err:
        raise DataError(
            "source 'mnist1d' needs the mnist1d package (pip install mnist1d), "
            f"which cannot be imported here ({err})"
        ) from err
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_mnist1d(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    X, y = validate_arrays(data["x"].T, data["y"], "mnist1d", 10)
    X_test, y_test = validate_arrays(data["x_test"].T, data["y_test"], "mnist1d", 10, names=("x_test", "y_test"))
    return FileData(X, y, X_test, y_test, 10, [str(c) for c in range(10)])


# Sources with their own fixed test set, made by a package rather than read
# from a file: name -> function returning a FileData.
PACKAGE_SPLITS = {"mnist1d": mnist1d}

# Sources that are fixed data shipped inside a package, by the package
# whose version their provenance records; the other generators draw
# their samples from their parameters and seed.
PACKAGED = {"breast_cancer": "scikit-learn", "digits": "scikit-learn", "iris": "scikit-learn",
            "wine": "scikit-learn", "mnist1d": "mnist1d"}


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
    if name in CONSISTENCY_CHECKS:
        CONSISTENCY_CHECKS[name](**resolved)
    return resolved


def generator_origin(name, params, data_seed):
    """Where generated or packaged data came from, in words.

    Packaged data (:data:`PACKAGED`): the package and its installed version;
    generated data: the generator, its parameters and its data seed.
    """
    if name in PACKAGED:
        from importlib.metadata import version

        package = PACKAGED[name]
        how = " make_dataset, default arguments" if name in PACKAGE_SPLITS else ""
        return f"package {package} {version(package)} ({name}{how})"
    settings = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return f"generator {name}({settings}), data seed {data_seed}"
