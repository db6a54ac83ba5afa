"""The course's experiments, rerun through the package's engine under the course's seeding.

Long module: one runner per course exercise, each following that exercise's
own seeding protocol, beside the published numbers they are checked against.

The course seeds NumPy's *global* generator (``np.random.seed``) at fixed
points: before generating its toy datasets, before drawing initial weights,
before each epoch's mini-batch permutation, and at the start of every
dropout forward pass. To reproduce its published numbers we must make the
same global draws in the same order. This module is the only place in the
package that touches the global generator; everything else takes explicit
seeds (see :mod:`nnstudy.core.rng`).

The legacy draws enter the engine through two doors only:

* :func:`course_initialization` builds the initial parameters from the
  course's draws and gives them a leading model axis of length 1;
* :class:`CourseSampler` has the interface of
  :class:`nnstudy.core.batches.CounterSampler` and serves the course's
  mini-batch permutations and dropout draws to :func:`nnstudy.core.training.train`.

Training, costs, gradients and accuracies are the engine's own
(:mod:`nnstudy.core.network`, :mod:`nnstudy.core.training`, :mod:`nnstudy.core.optimizers`),
with ``S = 1``. Where they differ from the course's own formulas in the last
bits (the engine's sigmoid and cost are computed from the logits), the
course's published accuracies still come out exactly; the costs are the
engine's. The N-dimensional gradient check is the exception: its published
difference is the rounding noise of the course's own cost, so it is computed
with the course's formulas (:mod:`nnstudy.study.course_gradcheck`), and the
engine's check of the same case is reported beside it.

:func:`run_all` runs the experiments and returns one tidy table. It writes
no files, and it restores the global generator's state after each
experiment, so calling it leaves no trace; the building blocks below reseed
the global generator by design, as the course does.
"""

import contextlib
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from nnstudy.core import batches, gradcheck, network, training
from nnstudy.study import course_gradcheck
from nnstudy.data.course_files import DATA_DIR_VARIABLE, REPLICATION_FILES, data_folder
from nnstudy.data.datasets import load_cat_h5, load_mat
from nnstudy.errors import check_choice, invalid
from nnstudy.core.optimizers import make_optimizer

COLUMNS = ("experiment", "variant", "metric", "value")

# ---------------------------------------------------------------------------
# Legacy randomness


@contextlib.contextmanager
def preserved_global_rng():
    """Restore the global generator's state on exit, so a replication leaves no trace."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


# scheme -> weights of one layer from its shape (n_l, n_{l-1}), drawn from the
# global generator with the course's exact floating-point operations.
COURSE_WEIGHTS = {
    "zeros": lambda shape: np.zeros(shape),
    "random": lambda shape: np.random.randn(*shape) * 10,
    "he": lambda shape: np.random.randn(*shape) * np.sqrt(2 / shape[1]),
    # The regularization assignment's scaling: divide by the root of the fan-in.
    "fan_in": lambda shape: np.random.randn(*shape) / np.sqrt(shape[1]),
}


def course_initialization(layer_sizes, scheme, seed=3):
    """The course's initial parameters for one model, with a model axis of 1.

    layer_sizes : (n_0, ..., n_L), the input size first.
    scheme : a key of :data:`COURSE_WEIGHTS`.
    The global generator is seeded with ``seed`` (the course's 3), then each
    layer's weights are drawn in order, W1 first; biases are zero. (The
    course does not seed before its all-zero weights; seeding changes nothing
    there.)
    Returns ``{"W1": (1, n_1, n_0), "b1": (1, n_1, 1), ...}``.
    """
    check_choice("scheme", scheme, COURSE_WEIGHTS)
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise invalid("layer_sizes", tuple(layer_sizes), "at least two positive sizes")
    np.random.seed(seed)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = COURSE_WEIGHTS[scheme]((sizes[l], sizes[l - 1]))[np.newaxis]
        params[f"b{l}"] = np.zeros((1, sizes[l], 1))
    return params


class CourseSampler:
    """Mini-batch orders and dropout draws from the global generator, seeded as the course does.

    first_shuffle_seed : epoch ``e`` (from 0) reseeds the generator with
        ``first_shuffle_seed + e`` and draws ``np.random.permutation(m)``
        (the optimization assignment starts its counter at 10 and increments
        it before each epoch, hence 11).
    dropout_seed : every dropout forward pass reseeds the generator with it
        and draws ``np.random.rand(n_l, m)`` layer by layer. With a fixed
        seed the masks are the same at every step; that is the course's
        behaviour, reproduced here on purpose.
    Either may be None when the experiment does not need it.
    """

    def __init__(self, first_shuffle_seed=None, dropout_seed=None):
        self.first_shuffle_seed = first_shuffle_seed
        self.dropout_seed = dropout_seed

    def order(self, epoch, m):
        """(1, m) permutation of the samples for ``epoch``."""
        if self.first_shuffle_seed is None:
            raise invalid("first_shuffle_seed", None, "a seed for mini-batch training")
        np.random.seed(self.first_shuffle_seed + epoch)
        return np.random.permutation(m)[np.newaxis]

    def uniforms(self, step, shapes):
        """Per hidden layer, (1, n_l, m_batch) uniform draws; ``step`` is ignored."""
        if self.dropout_seed is None:
            raise invalid("dropout_seed", None, "a seed for dropout training")
        np.random.seed(self.dropout_seed)
        return [np.random.rand(*shape)[np.newaxis] for shape in shapes]


# ---------------------------------------------------------------------------
# The course's data


def _targets(y):
    """Labels (m,) -> sigmoid targets (1, m)."""
    return np.asarray(y, dtype=float)[np.newaxis]


def course_circles(train_seed=1, test_seed=2):
    """The initialization assignment's circles.

    Returns ``(X (2, 300), y (300,), X_test (2, 100), y_test (100,))``.
    """
    from sklearn.datasets import make_circles

    # random_state=None makes scikit-learn draw from the global generator.
    np.random.seed(train_seed)
    X, y = make_circles(n_samples=300, noise=0.05)
    np.random.seed(test_seed)
    X_test, y_test = make_circles(n_samples=100, noise=0.05)
    return X.T, y, X_test.T, y_test


def course_moons(seed=3):
    """The optimization assignment's data: ``(X (2, 300), y (300,))``; it has no test set."""
    from sklearn.datasets import make_moons

    np.random.seed(seed)
    X, y = make_moons(n_samples=300, noise=0.2)
    return X.T, y


# ---------------------------------------------------------------------------
# Running one course model through the engine


def _train(params, arch, X, y, optimizer, learning_rate, epochs, *, batch_size=None,
           lambd=0.0, keep_prob=1.0, sampler=None):
    """Train one model with :func:`nnstudy.core.training.train`.

    params : {"W1": (1, n_1, n_0), ...}; X (n_0, m); y (m,) labels 0/1.
    batch_size None is full-batch gradient descent (``epochs`` steps).
    Returns the final parameters and the engine's full-batch cost of them
    (with the L2 penalty, without dropout).
    """
    m = X.shape[-1]
    steps = epochs * batches.steps_per_epoch(m, batch_size)
    # Only the final cost is reported, so record just the first and last steps.
    config = training.TrainConfig(epochs=epochs, batch_size=batch_size, eval_every=steps)
    data = training.TrainData(X=X, Y=_targets(y), y=y)
    result = training.train(
        params, arch, optimizer, data, config,
        learning_rate=learning_rate, lambd=lambd, keep_prob=keep_prob,
        sampler=sampler if sampler is not None else CourseSampler(),
    )
    return result.params, float(result.history["cost"][0, -1])


def _rows(experiment, variant, params, arch, cost, X, y, X_test=None, y_test=None):
    """The table rows of one trained model."""
    rows = [
        (experiment, variant, "train_accuracy", float(network.accuracy(params, X, y, arch)[0]))
    ]
    if X_test is not None:
        test = float(network.accuracy(params, X_test, y_test, arch)[0])
        rows.append((experiment, variant, "test_accuracy", test))
    rows.append((experiment, variant, "final_cost", cost))
    return rows


# ---------------------------------------------------------------------------
# The experiments: the course's settings, and one function each returning table rows

INITIALIZATION = {
    "data_seeds": (1, 2),
    "layer_sizes": (2, 10, 5, 1),
    "schemes": ("zeros", "random", "he"),
    "init_seed": 3,
    "learning_rate": 0.01,
    "iterations": 15000,
}
OPTIMIZATION = {
    "data_seed": 3,
    "layer_sizes": (2, 5, 2, 1),
    "scheme": "he",
    "init_seed": 3,
    "learning_rate": 0.0007,
    "epochs": 10000,
    "batch_size": 64,
    "first_shuffle_seed": 11,
    "optimizers": {
        "gd": {},
        "momentum": {"beta": 0.9},
        "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    },
}
REGULARIZATION = {
    "layer_sizes": (2, 20, 3, 1),
    "scheme": "fan_in",
    "init_seed": 3,
    "learning_rate": 0.3,
    "iterations": 30000,
    "variants": {
        "none": {},
        "l2": {"lambd": 0.7},
        # The course's dropout: the same masks at every step (CourseSampler).
        "dropout": {"keep_prob": 0.86, "dropout_seed": 1},
        # Honest dropout for comparison: fresh masks at every step from the
        # engine's CounterSampler with this fixed seed.
        "dropout_fresh_masks": {"keep_prob": 0.86, "fresh_masks_seed": 1},
    },
}
GRADIENT_CHECK = {"x": 2.0, "theta": 4.0, "epsilon": 1e-7, "seed": 1, "layer_sizes": (4, 5, 3, 1)}
LOGISTIC_REGRESSION = {
    "scheme": "zeros",
    # learning rate -> iterations
    "runs": {0.005: 2000, 0.01: 1500, 0.001: 1500, 0.0001: 1500},
}


def run_initialization():
    """Zeros, random (x10) and He initialization on the circles, full-batch GD."""
    s = INITIALIZATION
    X, y, X_test, y_test = course_circles(*s["data_seeds"])
    arch = network.Architecture(s["layer_sizes"])
    rows = []
    for scheme in s["schemes"]:
        params = course_initialization(arch.layer_sizes, scheme, s["init_seed"])
        params, cost = _train(
            params, arch, X, y, make_optimizer("gd"), s["learning_rate"], s["iterations"]
        )
        rows += _rows("initialization", scheme, params, arch, cost, X, y, X_test, y_test)
    return rows


def run_optimization():
    """Mini-batch GD, momentum and Adam on the moons; training accuracy only (no test set)."""
    s = OPTIMIZATION
    X, y = course_moons(s["data_seed"])
    arch = network.Architecture(s["layer_sizes"])
    rows = []
    for variant, hyperparameters in s["optimizers"].items():
        params = course_initialization(arch.layer_sizes, s["scheme"], s["init_seed"])
        params, cost = _train(
            params, arch, X, y, make_optimizer(variant, **hyperparameters),
            s["learning_rate"], s["epochs"], batch_size=s["batch_size"],
            sampler=CourseSampler(first_shuffle_seed=s["first_shuffle_seed"]),
        )
        rows += _rows("optimization", variant, params, arch, cost, X, y)
    return rows


def _regularization_options(variant):
    """``_train`` keywords of one regularization variant."""
    options = dict(REGULARIZATION["variants"][variant])
    if "dropout_seed" in options:
        options["sampler"] = CourseSampler(dropout_seed=options.pop("dropout_seed"))
    if "fresh_masks_seed" in options:
        options["sampler"] = batches.CounterSampler([options.pop("fresh_masks_seed")])
    return options


def run_regularization(mat_path):
    """No regularization, L2 and dropout on the 2-D data.mat, full-batch GD."""
    s = REGULARIZATION
    data = load_mat(mat_path)
    X, y, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
    arch = network.Architecture(s["layer_sizes"])
    rows = []
    for variant in s["variants"]:
        params = course_initialization(arch.layer_sizes, s["scheme"], s["init_seed"])
        params, cost = _train(
            params, arch, X, y, make_optimizer("gd"), s["learning_rate"], s["iterations"],
            **_regularization_options(variant),
        )
        rows += _rows("regularization", variant, params, arch, cost, X, y, X_test, y_test)
    return rows


def gradient_check_1d(x=2.0, theta=4.0, epsilon=1e-7):
    """The course's one-dimensional check of ``J(theta) = theta * x``.

    The exact derivative is ``x``; the approximation is the two-sided
    difference of J, computed as the course does. Returns their relative
    difference ``|g - g_approx| / (|g| + |g_approx|)``.
    """
    grad = np.array([x])
    approx = np.array([((theta + epsilon) * x - (theta - epsilon) * x) / (2 * epsilon)])
    return float(gradcheck.relative_difference(grad, approx))


def course_gradient_check_case(seed=1, layer_sizes=(4, 5, 3, 1)):
    """The course's N-dimensional test case: ``(params, X (4, 3), Y (1, 3), arch)``.

    After seeding, X is drawn first, then W1, b1, W2, b2, W3, b3 in that
    order; the parameters get a model axis of 1.
    """
    arch = network.Architecture(layer_sizes)
    np.random.seed(seed)
    X = np.random.randn(arch.layer_sizes[0], 3)
    Y = np.array([[1.0, 1.0, 0.0]])
    params = {
        name: np.random.randn(*shape)[np.newaxis] for name, shape in arch.parameter_shapes.items()
    }
    return params, X, Y, arch


def gradient_check_nd(seed=1, epsilon=1e-7, mistakes=None):
    """The course's N-dimensional check of its test case, computed the course's way.

    Forward pass, cost, backward pass and parameter vector are the course's
    (:mod:`nnstudy.study.course_gradcheck`); ``mistakes`` plants the
    exercise's errors in the backward pass (e.g.
    :data:`~nnstudy.study.course_gradcheck.COURSE_MISTAKES`).
    """
    params, X, Y, _ = course_gradient_check_case(seed)
    plain = {name: value[0] for name, value in params.items()}
    return course_gradcheck.gradient_check(X, Y, plain, epsilon, mistakes)


def gradient_check_nd_engine(seed=1, epsilon=1e-7):
    """The same case through the engine's check (:func:`nnstudy.core.gradcheck.gradient_check`).

    The engine's cost from the logits is more accurate than the course's, so
    this difference is about a hundred times smaller than the course's.
    """
    params, X, Y, arch = course_gradient_check_case(seed)
    return float(gradcheck.gradient_check(params, X, Y, arch, epsilon=epsilon).difference[0])


def run_gradient_check():
    """The course's gradient checks, and the engine's check of the same N-D case."""
    s = GRADIENT_CHECK
    seed, epsilon = s["seed"], s["epsilon"]
    differences = {
        "1d": gradient_check_1d(s["x"], s["theta"], epsilon),
        "nd": gradient_check_nd(seed, epsilon),
        "nd_with_mistakes": gradient_check_nd(seed, epsilon, course_gradcheck.COURSE_MISTAKES),
        "nd_engine": gradient_check_nd_engine(seed, epsilon),
    }
    return [("gradient_check", variant, "difference", value) for variant, value in differences.items()]


def run_logistic_regression(train_path, test_path):
    """Logistic regression on cat/non-cat: the engine with no hidden layer, full-batch GD."""
    s = LOGISTIC_REGRESSION
    data = load_cat_h5(train_path, test_path)
    X, y, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
    arch = network.Architecture((X.shape[0], 1))
    rows = []
    for learning_rate, iterations in s["runs"].items():
        params = course_initialization(arch.layer_sizes, s["scheme"])
        params, cost = _train(params, arch, X, y, make_optimizer("gd"), learning_rate, iterations)
        variant = f"lr_{learning_rate}"
        rows += _rows("logistic_regression", variant, params, arch, cost, X, y, X_test, y_test)
    return rows


class Experiment(NamedTuple):
    """One course experiment: its function, the files it takes (in order), its settings."""

    run: Callable
    files: tuple
    settings: dict


EXPERIMENTS = {
    name: Experiment(run, REPLICATION_FILES[name], settings)
    for name, run, settings in (
        ("initialization", run_initialization, INITIALIZATION),
        ("optimization", run_optimization, OPTIMIZATION),
        ("regularization", run_regularization, REGULARIZATION),
        ("gradient_check", run_gradient_check, GRADIENT_CHECK),
        ("logistic_regression", run_logistic_regression, LOGISTIC_REGRESSION),
    )
}


def run_all(data_dir=None, experiments=None):
    """Run the course's experiments; return ``(table, skipped)``.

    data_dir : the folder holding the course files; default the environment
        variable ``NNSTUDY_DATA_DIR``. An experiment whose files are missing
        is skipped, not failed.
    experiments : names from :data:`EXPERIMENTS` (default all, in that order).
    Returns a pandas DataFrame with columns experiment, variant, metric
    (train_accuracy, test_accuracy, final_cost or difference) and value,
    and a list of ``(experiment, reason)`` for the skipped experiments.
    """
    names = list(EXPERIMENTS) if experiments is None else list(experiments)
    for name in names:
        check_choice("experiment", name, EXPERIMENTS)
    data_dir = data_folder(data_dir)
    rows, skipped = [], []
    for name in names:
        experiment = EXPERIMENTS[name]
        if experiment.files and data_dir is None:
            needed = ", ".join(experiment.files)
            skipped.append(
                (name, f"no data folder: pass data_dir or set {DATA_DIR_VARIABLE} (needs {needed})")
            )
            continue
        paths = [data_dir / file for file in experiment.files]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            skipped.append((name, f"missing file(s): {', '.join(missing)}"))
            continue
        with preserved_global_rng():
            rows += experiment.run(*paths)
    return pd.DataFrame(rows, columns=list(COLUMNS)), skipped
