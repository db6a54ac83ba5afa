"""Depth sweep: vanishing and exploding signals, and whether deep networks train.

The lecture's argument: in a deep stack of layers, every layer multiplies the
signal's scale by a factor set by the weights' variance. With ``n`` inputs
per unit and weight standard deviation ``s``, a linear layer multiplies the
root-mean-square activation by ``sqrt(n) s`` and a ReLU layer by
``sqrt(n / 2) s``; a little above 1 and the signal explodes exponentially
with depth, a little below and it vanishes. He weights (``s^2 = 2 / n``)
make the ReLU factor exactly 1, Xavier weights (``s^2 = 1 / n``) the linear
one (and tanh's near zero).

Networks here have ``L`` weight layers (``depth = L``): the dataset's inputs,
``L - 1`` hidden layers of equal ``width``, and the dataset's output layer.
Every initializer of the study is swept, plus the activation's matched
initializer (:data:`MATCHED`) times a few gains, which shows the
"a little above or below" case directly.
"""

import math
from dataclasses import dataclass

import numpy as np

from nnstudy.core import network
from nnstudy.study.experiment import architecture_for
from nnstudy.core.initializers import initialize, weight_std
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, TrainData, train

# Which data the stage's seeds see (written into its tables' metadata).
SPLIT = ("one split, the study's first seed's: the stage measures networks at and after a short training, "
         "its seeds vary the initial weights only")

# The initializer whose variance keeps the activation's signal at a constant
# scale: 2/n for ReLU, 1/n for linear units (and tanh, which is linear near 0).
MATCHED = {"relu": "he", "tanh": "xavier", "linear": "xavier"}

# Factor by which a unit's mean square output shrinks relative to its input's
# variance: ReLU zeroes half of a symmetric input; a linear unit keeps it all.
# tanh has no closed form (it depends on the scale), so no prediction.
SQUARE_GAIN = {"relu": 0.5, "linear": 1.0}


@dataclass(frozen=True)
class Variant:
    """One way to draw the initial weights: a registry initializer times ``gain``."""

    label: str
    initializer: str
    scale: float | None = None
    gain: float = 1.0


def variants(initializers, activation, gains=()):
    """Every initializer of the study, then the matched one times each gain.

    initializers : {name: options or None}, as in the configuration.
    Returns a list of :class:`Variant`, labelled ``"he"``, ``"he_x1.25"``, ...
    """
    out = [Variant(name, name, (options or {}).get("scale")) for name, options in initializers.items()]
    base = MATCHED[activation]
    out += [Variant(f"{base}_x{gain:g}", base, None, float(gain)) for gain in gains]
    return out


def deep_architecture(splits, depth, width, activation):
    """``depth`` weight layers: ``depth - 1`` hidden layers of ``width`` units."""
    return architecture_for(splits, [width] * (depth - 1), activation)


def initial_params(arch, variant_list, seeds, X=None):
    """Parameters of ``len(variant_list) * len(seeds)`` models, variant-major.

    X : training inputs (n_0, m), for the data-dependent initializers (LSUV).

    Model ``(v, s)`` draws its weights from seed ``seeds[s]``, so matched
    seeds share their draws across variants (rescaled), and its weights are
    multiplied by the variant's gain.
    """
    names = [v.initializer for v in variant_list for _ in seeds]
    scales = [v.scale for v in variant_list for _ in seeds]
    params = initialize(arch.layer_sizes, names, [s for _ in variant_list for s in seeds], scales, inputs=X,
                        hidden_activation=arch.hidden_activation)
    gains = np.repeat([v.gain for v in variant_list], len(seeds)).reshape(-1, 1, 1)
    return {k: (v * gains if k[0] == "W" else v) for k, v in params.items()}


def predicted_factor(variant, activation, width):
    """The expected per-layer factor of the RMS activation in a hidden layer.

    ``sqrt(width * s^2 * g)`` with ``g`` from :data:`SQUARE_GAIN`; NaN for tanh.
    """
    if activation not in SQUARE_GAIN:
        return math.nan
    std = weight_std(variant.initializer, width, width, variant.scale) * variant.gain
    return math.sqrt(width * std**2 * SQUARE_GAIN[activation])


def layer_norms(params, X, Y, arch):
    """Per-layer signal sizes of S models at these parameters.

    params : {"W1": (S, n_1, n_0), ...}; X (n_0, m); Y (n_L, m).
    Returns ``(activation_rms, gradient_norm)``, each (S, L): the root mean
    square of layer l's output over units and samples (the logits for the
    last layer), and the Frobenius norm of the cost's gradient with respect
    to ``W_l``. Exploding models give inf or NaN, not an error.
    """
    activation = network.ACTIVATIONS[arch.hidden_activation][0]
    L = arch.n_layers
    rms = np.empty((arch.check_params(params), L))
    with np.errstate(all="ignore"):
        A = X
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            A = activation(Z) if l < L else Z
            rms[:, l - 1] = np.sqrt(np.mean(A**2, axis=(-2, -1)))
        logits, cache = network.forward(params, X, arch)
        grads = network.backward(params, cache, logits, Y, arch)
        gradient = np.stack(
            [np.sqrt((grads[f"W{l}"] ** 2).sum(axis=(-2, -1))) for l in range(1, L + 1)], axis=-1
        )
    return rms, gradient


def per_layer_factor(values):
    """Geometric mean ratio between consecutive entries along the last axis.

    values : (..., k) positive numbers (k >= 2). ``(v[-1] / v[0]) ** (1 / (k - 1))``;
    NaN where that is undefined (zero, inf or NaN at either end).
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        ratio = values[..., -1] / values[..., 0]
        factor = ratio ** (1.0 / (values.shape[-1] - 1))
    return np.where(np.isfinite(factor) & (factor > 0), factor, np.nan)


def norms_at_initialization(splits, depths, width, activation, variant_list, seeds, samples=None):
    """Norms of every layer, every depth, every variant and seed, at initialization.

    splits : a dataset; the first ``samples`` examples of its training
    split (all of them for None) are the input and the targets.
    Returns ``(rows, growth)``: one row per (depth, variant, seed, layer)
    with ``activation_rms`` and ``gradient_norm``; and one row per (depth,
    variant) with the median over seeds of the measured per-layer factor of
    the hidden activations (``activation_factor``, hidden layers 1 to L-1),
    the factor of the weight-gradient norms from layer L-1 back to layer 1
    (``gradient_factor``; below 1 the gradient shrinks towards the input),
    the RMS of the last hidden layer, and the predicted factor.
    """
    from nnstudy.data.datasets import one_hot_targets

    X = splits.X_train[:, :samples]
    Y = one_hot_targets(splits.y_train[:samples], splits.n_classes)
    rows, growth = [], []
    n_seeds = len(seeds)
    for depth in depths:
        arch = deep_architecture(splits, depth, width, activation)
        params = initial_params(arch, variant_list, seeds, X)
        rms, gradient = layer_norms(params, X, Y, arch)
        hidden = slice(0, depth - 1)
        act_factor = per_layer_factor(rms[:, hidden]) if depth >= 3 else np.full(len(rms), np.nan)
        grad_factor = (
            per_layer_factor(gradient[:, hidden][:, ::-1]) if depth >= 3 else np.full(len(rms), np.nan)
        )
        for v, variant in enumerate(variant_list):
            block = slice(v * n_seeds, (v + 1) * n_seeds)
            for s, seed in enumerate(seeds):
                i = v * n_seeds + s
                for l in range(depth):
                    rows.append(
                        {
                            "activation": activation,
                            "depth": depth,
                            "initializer": variant.label,
                            "seed": seed,
                            "layer": l + 1,
                            "activation_rms": float(rms[i, l]),
                            "gradient_norm": float(gradient[i, l]),
                        }
                    )
            with np.errstate(all="ignore"):
                growth.append(
                    {
                        "activation": activation,
                        "depth": depth,
                        "initializer": variant.label,
                        "gain": variant.gain,
                        "predicted_factor": predicted_factor(variant, activation, width),
                        "activation_factor": _median(act_factor[block]),
                        "gradient_factor": _median(grad_factor[block]),
                        "last_hidden_rms": _median(rms[block, depth - 2]),
                        "first_gradient_norm": _median(gradient[block, 0]),
                    }
                )
    return rows, growth


def _median(values):
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else math.nan


def trainability(splits, depths, width, activation, variant_list, seeds, *, samples, steps,
                 learning_rate, target_accuracy, eval_every):
    """Train every depth and variant for ``steps`` full-batch gradient-descent steps.

    The first ``samples`` training examples are the training set; every
    model gets the same learning rate, so the comparison shows what the
    initial scale alone does. A model "succeeds" when its training accuracy
    reaches ``target_accuracy`` at some record within the budget.
    Returns one row per (depth, variant, seed) with the status, the step the
    target was first reached (NaN if never), the final cost and accuracy,
    and ``weight_change``: the Frobenius norm of the change of all weight
    matrices (0 means the weights never moved).
    """
    from nnstudy.data.datasets import one_hot_targets

    n = min(samples, splits.X_train.shape[-1])
    X, y = splits.X_train[:, :n], splits.y_train[:n]
    data = TrainData(X, one_hot_targets(y, splits.n_classes), y)
    config = TrainConfig(epochs=steps, batch_size=None, eval_every=eval_every)
    rows = []
    for depth in depths:
        arch = deep_architecture(splits, depth, width, activation)
        params = initial_params(arch, variant_list, seeds, X)
        model_seeds = [s for _ in variant_list for s in seeds]
        result = train(params, arch, make_optimizer("gd"), data, config,
                       learning_rate=learning_rate, seeds=model_seeds)
        accuracy = result.history["train_accuracy"]
        reached = np.nan_to_num(accuracy, nan=-1.0) >= target_accuracy
        first = np.where(reached.any(axis=1), result.history["step"][np.argmax(reached, axis=1)], -1)
        with np.errstate(all="ignore"):
            change = np.sqrt(
                sum(((result.params[k] - params[k]) ** 2).sum(axis=(-2, -1)) for k in params if k[0] == "W")
            )
        for i, (variant, seed) in enumerate((v, s) for v in variant_list for s in seeds):
            rows.append(
                {
                    "activation": activation,
                    "depth": depth,
                    "initializer": variant.label,
                    "seed": seed,
                    "learning_rate": float(learning_rate),
                    "steps": int(steps),
                    "status": str(result.status[i]),
                    "initial_cost": float(result.history["cost"][i, 0]),
                    "final_cost": float(result.history["cost"][i, -1]),
                    "final_train_accuracy": float(accuracy[i, -1]),
                    "best_train_accuracy": _max(accuracy[i]),
                    "steps_to_target": float(first[i]) if first[i] >= 0 else math.nan,
                    "succeeded": bool(first[i] >= 0 and result.status[i] != "diverged"),
                    "weight_change": float(change[i]),
                }
            )
    return rows


def _max(values):
    values = values[~np.isnan(values)]
    return float(values.max()) if len(values) else math.nan


def stage(config, splits):
    """The depth stage of the configuration: {table name: rows}.

    config : the study's configuration (its ``initializers`` and the
    ``lectures.depth`` section); splits : the section's dataset.
    """
    section = config["lectures"]["depth"]
    training = section["training"]
    tables = {"depth_norms": [], "depth_growth": [], "depth_training": []}
    for activation in section["activations"]:
        variant_list = variants(config["initializers"], activation, section["gains"])
        rows, growth = norms_at_initialization(
            splits, section["depths"], section["width"], activation, variant_list, section["seeds"],
            section["samples"],
        )
        tables["depth_norms"] += rows
        tables["depth_growth"] += growth
    for activation in training.get("activations") or section["activations"]:
        variant_list = variants(config["initializers"], activation, section["gains"])
        tables["depth_training"] += trainability(
            splits, training["depths"], section["width"], activation, variant_list, training["seeds"],
            samples=training["samples"], steps=training["steps"], learning_rate=training["learning_rate"],
            target_accuracy=training["target_accuracy"], eval_every=training["eval_every"],
        )
    return tables
