"""Why the course's failing initializations fail, measured.

Two questions learners ask, each answered by one table:

* **Zeros against a constant.** With all-zero weights every hidden
  pre-activation is 0, and ReLU and tanh both map 0 to 0: every hidden
  activation is exactly zero, so every weight gradient is exactly zero and
  only the output bias learns. A constant non-zero initialization is a
  different failure, *symmetry*: the hidden units of a layer compute the same
  function and receive the same gradient, so they stay copies of one another
  (one distinct unit per layer) however long they train; in floating point
  only rounding differences between rows (about 1e-16) tell them apart, and
  training amplifies those slowly. He weights are the control. Table
  ``init_symmetry``; table ``init_diagnostics`` follows the same networks
  through training: per layer, the effective rank of the weights (0 for
  zeros, 1 for a constant: every row the same) and the fraction of weight
  gradients that are exactly 0.
* **The x10 initialization's infinite cost.** In float64, ``1 / (1 +
  exp(-z))`` rounds to exactly 1 once ``exp(-z)`` is below half an ulp of 1,
  that is beyond ``z`` of about 36.7; a sample of label 0 with such a logit
  makes ``log(1 - a)`` the log of 0, and the course's cost, computed from
  the probabilities, is infinite. Computed from the logits, as
  :mod:`nnstudy.core.network` does, the same cost is large but finite. Table
  ``init_saturation``: both costs along the course's training run, with the
  largest logit and the number of saturated samples.
"""

import numpy as np

from nnstudy.core import network
from nnstudy.study import replication
from nnstudy.data.datasets import one_hot_targets
from nnstudy.study.experiment import architecture_for
from nnstudy.core.initializers import initialize
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, TrainData, train


def constant_params(arch, value):
    """Every weight ``value``, every bias 0, for one model: ``{"W1": (1, n_1, n_0), ...}``."""
    return {name: np.full((1, *shape), value if name[0] == "W" else 0.0)
            for name, shape in arch.parameter_shapes.items()}


# Which data the stage's seeds see (written into its tables' metadata).
SPLIT = ("one split, the study's first seed's: dead units, symmetry and saturation are properties of "
         "the initialization, measured on one set of inputs")

# Rows of a weight matrix closer than this (relative to its largest entry) are
# one unit: rounding differences of 1e-16 between the rows of a matrix product
# do break exact symmetry, and gradient descent amplifies them slowly
# (``unit_spread`` in the table shows how far).
SAME_UNIT = 1e-6


def distinct_rows(W, tolerance=SAME_UNIT):
    """Number of distinct rows of ``W`` (n_out, n_in), rows equal within ``tolerance`` (relative) counted once."""
    scale = max(float(np.abs(W).max()), 1e-300)
    rounded = np.round(W / scale / tolerance)
    return len(np.unique(rounded, axis=0))


def effective_rank(A):
    """exp of the entropy of the normalized singular values of ``A`` (n, m) (Roy and Vetterli 2007); 0 for A = 0."""
    s = np.linalg.svd(A, compute_uv=False)
    if s.sum() == 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def hidden_activations(params, X, arch):
    """The hidden layers' activations of one model: a list of (n_l, m) arrays."""
    _, cache = network.forward(params, X, arch)
    return [layer[1][0] for layer in cache[1:]]


def symmetry_row(splits, arch, params, *, steps, learning_rate, label):
    """Train one model by full-batch gradient descent and measure what zeros and constants do to it."""
    Y = one_hot_targets(splits.y_train, splits.n_classes)
    L = arch.n_layers
    logits, cache = network.forward(params, splits.X_train, arch)
    grads = network.backward(params, cache, logits, Y, arch)
    hidden = hidden_activations(params, splits.X_train, arch)
    weight_grads = np.concatenate([grads[f"W{l}"].ravel() for l in range(1, L + 1)])
    hidden_bias_grads = np.concatenate([grads[f"b{l}"].ravel() for l in range(1, L)])
    result = train(params, arch, make_optimizer("gd"), TrainData(splits.X_train, Y, splits.y_train),
                   TrainConfig(epochs=steps, batch_size=None, eval_every=steps), learning_rate=learning_rate,
                   seeds=[0])
    trained = result.params
    change = {name: float(np.abs(trained[name] - params[name]).max()) for name in params}
    trained_hidden = hidden_activations(trained, splits.X_train, arch)
    return {
        "activation": arch.hidden_activation,
        "initializer": label,
        "zero_activations_at_init": float(np.mean(np.concatenate([h.ravel() for h in hidden]) == 0.0)),
        "zero_weight_gradients_at_init": float(np.mean(weight_grads == 0.0)),
        "zero_hidden_bias_gradients_at_init": float(np.mean(hidden_bias_grads == 0.0)),
        "output_bias_gradient_at_init": float(np.abs(grads[f"b{L}"]).max()),
        "weight_change": max(change[f"W{l}"] for l in range(1, L + 1)),
        "output_bias_change": change[f"b{L}"],
        "distinct_units": "/".join(str(distinct_rows(trained[f"W{l}"][0])) for l in range(1, L)),
        "hidden_units": "/".join(str(n) for n in arch.layer_sizes[1:-1]),
        "unit_spread": max(float(np.abs(trained[f"W{l}"][0] - trained[f"W{l}"][0][:1]).max()) for l in range(1, L)),
        "effective_rank_last_hidden": effective_rank(trained_hidden[-1]),
        "train_accuracy": float(network.accuracy(trained, splits.X_train, splits.y_train, arch)[0]),
        "test_accuracy": float(network.accuracy(trained, splits.X_test, splits.y_test, arch)[0]),
        "steps": int(steps),
        "learning_rate": float(learning_rate),
    }


def starting_points(arch, constant, seed):
    """The compared initializations: ``[(label, params of one model)]`` for zeros, the constant and He."""
    return [
        ("zeros", initialize(arch.layer_sizes, "zeros", [seed])),
        (f"constant_{constant:g}", constant_params(arch, constant)),
        ("he", initialize(arch.layer_sizes, "he", [seed])),
    ]


def symmetry_table(splits, *, hidden_layers, activations, constant, steps, learning_rate, seed=0):
    """Zeros, a constant and He weights under each activation: one row each."""
    rows = []
    for activation in activations:
        arch = architecture_for(splits, hidden_layers, activation)
        for label, params in starting_points(arch, constant, seed):
            rows.append(symmetry_row(splits, arch, params, steps=steps, learning_rate=learning_rate, label=label))
    return rows


def diagnostics_rows(splits, arch, params, *, steps, learning_rate, record_every, label):
    """One model trained by full-batch gradient descent, measured every ``record_every`` steps.

    One row per record and weight layer: the effective rank of W_l (and the
    largest it could be), the effective rank of the layer's hidden
    representation on the training inputs (its activations, n_l x m; NaN for
    the output layer) and the fraction of the entries of the cost's gradient
    with respect to W_l that are exactly 0.
    """
    Y = one_hot_targets(splits.y_train, splits.n_classes)
    data = TrainData(splits.X_train, Y, splits.y_train)
    rows = []
    step = 0
    while True:
        logits, cache = network.forward(params, splits.X_train, arch)
        grads = network.backward(params, cache, logits, Y, arch)
        hidden = hidden_activations(params, splits.X_train, arch)
        for l in range(1, arch.n_layers + 1):
            W = params[f"W{l}"][0]
            A = hidden[l - 1] if l < arch.n_layers else None
            rows.append({
                "activation": arch.hidden_activation, "initializer": label, "step": step, "layer": l,
                "effective_rank": effective_rank(W), "full_rank": min(W.shape),
                "representation_rank": effective_rank(A) if A is not None else float("nan"),
                "representation_full_rank": min(A.shape) if A is not None else 0,
                "zero_gradients": float(np.mean(grads[f"W{l}"] == 0.0)),
            })
        if step >= steps:
            return rows
        chunk = min(record_every, steps - step)
        params = train(params, arch, make_optimizer("gd"), data, TrainConfig(epochs=chunk, eval_every=chunk),
                       learning_rate=learning_rate, seeds=[0]).params
        step += chunk


def diagnostics_table(splits, *, hidden_layers, activations, constant, steps, learning_rate, record_every, seed=0):
    """:func:`diagnostics_rows` for zeros, the constant and He weights under each activation."""
    rows = []
    for activation in activations:
        arch = architecture_for(splits, hidden_layers, activation)
        for label, params in starting_points(arch, constant, seed):
            rows += diagnostics_rows(splits, arch, params, steps=steps, learning_rate=learning_rate,
                                     record_every=record_every, label=label)
    return rows


# ---------------------------------------------------------------------------
# Saturation


def course_sigmoid(z):
    """The course's ``1 / (1 + exp(-z))``, rounding and all (overflow gives 0 below z of about -709)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def cost_from_probabilities(logits, y):
    """The course's cross-entropy from ``a = course_sigmoid(z)``, as its ``compute_loss`` writes it.

    ``nansum(-log(a) * y - log(1 - a) * (1 - y)) / m``: a sample whose
    probability rounds to its own label gives ``0 * inf = NaN``, which the
    course's ``nansum`` drops; one that rounds to the other label gives
    ``inf``, and so does the cost. logits, y : (m,).
    """
    a = course_sigmoid(logits)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nansum(-np.log(a) * y - np.log(1 - a) * (1 - y)) / len(y))


def cost_from_logits(logits, y):
    """The same cross-entropy from the logits, as the engine computes it: finite for finite logits."""
    return float(network.data_loss(logits.reshape(1, 1, -1), y.reshape(1, -1), network.Architecture((1, 1)))[0])


def saturation_threshold():
    """The smallest float64 z with ``course_sigmoid(z) == 1.0``, by bisection on the float line."""
    low, high = 1.0, 100.0
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            return high
        low, high = (low, middle) if course_sigmoid(middle) == 1.0 else (middle, high)


def saturation_table(*, iterations, record_every, scale=10.0):
    """The course's x10 experiment on its circles: both costs every ``record_every`` steps.

    The course's data, layer sizes (2, 10, 5, 1), weights (``randn * 10``
    from seed 3, through :mod:`nnstudy.study.replication`) and learning rate 0.01;
    the engine trains, S = 1. ``scale`` other than 10 rescales the course's
    draws. One row per record: the step, both costs, the largest |logit|,
    and how many samples have a probability that is exactly 1 or exactly 0.
    """
    setting = replication.INITIALIZATION
    with replication.preserved_global_rng():
        X, y, _, _ = replication.course_circles(*setting["data_seeds"])
        params = replication.course_initialization(setting["layer_sizes"], "random", setting["init_seed"])
    params = {k: v * (scale / 10.0) if k[0] == "W" else v for k, v in params.items()}
    arch = network.Architecture(setting["layer_sizes"])
    data = TrainData(X, np.asarray(y, dtype=float)[None], np.asarray(y))
    threshold = saturation_threshold()
    rows = []
    step = 0
    while True:
        logits = network.forward(params, X, arch)[0][0, 0]
        probabilities = course_sigmoid(logits)
        rows.append({
            "step": step, "scale": float(scale),
            "cost_from_probabilities": cost_from_probabilities(logits, y),
            "cost_from_logits": cost_from_logits(logits, y),
            "max_abs_logit": float(np.abs(logits).max()),
            "saturated_at_one": int(np.sum(probabilities == 1.0)),
            "saturated_at_one_with_label_0": int(np.sum((probabilities == 1.0) & (y == 0))),
            "saturated_at_zero": int(np.sum(probabilities == 0.0)),
            "samples": int(len(y)),
            "threshold": threshold,
        })
        if step >= iterations:
            return rows
        chunk = min(record_every, iterations - step)
        params = train(params, arch, make_optimizer("gd"), data, TrainConfig(epochs=chunk, eval_every=chunk),
                       learning_rate=setting["learning_rate"], seeds=[0]).params
        step += chunk


def stage(config, splits):
    """The initialization-failures stage: {"init_symmetry": rows, "init_diagnostics": rows, "init_saturation": rows}."""
    section = config["lectures"]["init_failures"]
    symmetry, saturation = section["symmetry"], section["saturation"]
    # splits: the section's dataset.
    return {
        "init_symmetry": symmetry_table(
            splits, hidden_layers=symmetry["hidden_layers"], activations=symmetry["activations"],
            constant=symmetry["constant"], steps=symmetry["steps"], learning_rate=symmetry["learning_rate"],
        ),
        "init_diagnostics": diagnostics_table(
            splits, hidden_layers=symmetry["hidden_layers"], activations=symmetry["activations"],
            constant=symmetry["constant"], steps=symmetry["steps"], learning_rate=symmetry["learning_rate"],
            record_every=symmetry["record_every"],
        ),
        "init_saturation": saturation_table(iterations=saturation["iterations"],
                                            record_every=saturation["record_every"]),
    }
