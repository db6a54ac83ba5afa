"""The trainability phase diagram: which (sigma_w^2, depth) train in a fixed budget.

Schoenholz et al. (2017) found that a deep network trains when its depth is
below about six correlation depth scales ``xi_c`` of the mean-field theory
(:mod:`nnstudy.lectures.meanfield`), so that the region of trainable depths is a
ridge centred on the critical line ``chi_1 = 1``. Here every
(activation, keep probability, depth) trains one batch of models, one per
(sigma_w^2, seed), with weights N(0, sigma_w^2 / fan-in) and biases
N(0, sigma_b^2) in every layer, by mini-batch gradient descent at one
learning rate for one budget; the table records the test accuracy, and the
summary puts the theory's ``6 xi_c`` beside it.

Networks have ``depth`` weight layers: ``depth - 1`` hidden layers of
``width`` units and the dataset's output layer (softmax for digits).
"""

import math

import numpy as np

from nnstudy.core import network, rng
from nnstudy.lectures import meanfield
from nnstudy.data.datasets import one_hot_targets
from nnstudy.study.experiment import architecture_for
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, TrainData, train

# Which data the stage's seeds see (written into its tables' metadata).
SPLIT = ("one split, the study's first seed's: the phase diagram is over weight variance and depth, "
         "its seeds vary the initial weights, batch orders and dropout masks only")

# Schoenholz et al.: networks deeper than about this many correlation depth scales do not train.
DEPTH_SCALES = 6


def gaussian_params(arch, sigma_w2s, sigma_b2, seeds):
    """Parameters of ``len(sigma_w2s) * len(seeds)`` models, sigma_w^2-major.

    Model ``(i, s)`` has weights ``sqrt(sigma_w2s[i] / n_in)`` times the
    standard normals of seed ``seeds[s]``'s "init" stream, and biases
    ``sqrt(sigma_b2)`` times normals drawn after them: models with the same
    seed share their draws at every weight variance.
    Returns ``{"W1": (S, n_1, n_0), "b1": (S, n_1, 1), ...}``.
    """
    draws = []
    for seed in seeds:
        generator = rng.generator(seed, "init")
        draws.append({name: generator.standard_normal(shape) for name, shape in arch.parameter_shapes.items()})
    params = {}
    for name, shape in arch.parameter_shapes.items():
        stacked = np.stack([d[name] for d in draws])
        if name[0] == "W":
            scales = np.sqrt(np.asarray(sigma_w2s, dtype=float) / shape[1])
        else:
            scales = np.full(len(sigma_w2s), math.sqrt(sigma_b2))
        params[name] = (scales[:, None, None, None] * stacked[None]).reshape(-1, *shape)
    return params


def train_grid(splits, *, activation, keep_prob, depth, width, sigma_w2s, sigma_b2, seeds, epochs, batch_size,
               learning_rate):
    """Train every (sigma_w^2, seed) at one depth as one batch; one row per model.

    Rows carry the setting, the status, the training cost at the start and
    the end, and train and test accuracy (NaN for a diverged model).
    """
    arch = architecture_for(splits, [width] * (depth - 1), activation)
    params = gaussian_params(arch, sigma_w2s, sigma_b2, seeds)
    data = TrainData(splits.X_train, one_hot_targets(splits.y_train, splits.n_classes), splits.y_train)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, eval_every=10**9)
    model_seeds = [seed for _ in sigma_w2s for seed in seeds]
    result = train(params, arch, make_optimizer("gd"), data, config, learning_rate=learning_rate,
                   keep_prob=keep_prob, seeds=model_seeds)
    diverged = result.status == "diverged"
    with np.errstate(all="ignore"):
        test = np.where(diverged, np.nan, network.accuracy(result.params, splits.X_test, splits.y_test, arch))
    train_accuracy = result.history["train_accuracy"][:, -1]
    rows = []
    for i, (sigma_w2, seed) in enumerate((w, s) for w in sigma_w2s for s in seeds):
        rows.append({
            "activation": activation, "keep_prob": float(keep_prob), "depth": int(depth),
            "sigma_w2": float(sigma_w2), "sigma_b2": float(sigma_b2), "seed": int(seed),
            "width": int(width), "epochs": int(epochs), "steps": int(result.steps),
            "learning_rate": float(learning_rate), "status": str(result.status[i]),
            "initial_cost": float(result.history["cost"][i, 0]), "final_cost": float(result.history["cost"][i, -1]),
            "train_accuracy": float(train_accuracy[i]), "test_accuracy": float(test[i]),
        })
    return rows


def summary(rows, n_classes):
    """Per (activation, keep_prob, sigma_w^2, depth): mean test accuracy and the theory's depth scale.

    A diverged model counts as chance (``1 / n_classes``) in
    ``mean_test_accuracy``; ``diverged`` counts them. ``xi_c`` is the
    mean-field correlation depth scale of the setting (with its keep
    probability) and ``trainable_depth`` is :data:`DEPTH_SCALES` times it.
    """
    import pandas as pd

    frame = pd.DataFrame(rows)
    chance = 1.0 / n_classes
    frame["scored"] = frame["test_accuracy"].fillna(chance)
    keys = ["activation", "keep_prob", "sigma_b2", "sigma_w2", "depth"]
    out = frame.groupby(keys, sort=False).agg(
        mean_test_accuracy=("scored", "mean"), min_test_accuracy=("scored", "min"),
        max_test_accuracy=("scored", "max"), seeds=("seed", "count"),
        diverged=("status", lambda s: int((s == "diverged").sum())),
    ).reset_index()
    theory = {}
    for key in out[["activation", "keep_prob", "sigma_b2", "sigma_w2"]].drop_duplicates().itertuples(index=False):
        theory[tuple(key)] = meanfield.phase(key.activation, key.sigma_w2, key.sigma_b2, key.keep_prob)
    settings = list(zip(out["activation"], out["keep_prob"], out["sigma_b2"], out["sigma_w2"]))
    out["chi_1"] = [theory[k].chi_1 for k in settings]
    out["xi_c"] = [theory[k].xi_c for k in settings]
    out["trainable_depth"] = DEPTH_SCALES * out["xi_c"]
    out["chance"] = chance
    return out


def stage(config, splits):
    """The trainability stage: {"trainability": rows, "trainability_summary": frame}."""
    section = config["lectures"]["trainability"]
    rows = []
    for activation in section["activations"]:
        for keep_prob in section["keep_probs"]:
            for depth in section["depths"]:
                rows += train_grid(
                    splits, activation=activation, keep_prob=keep_prob, depth=depth, width=section["width"],
                    sigma_w2s=section["sigma_w2"], sigma_b2=section["sigma_b2"], seeds=section["seeds"],
                    epochs=section["epochs"], batch_size=section["batch_size"],
                    learning_rate=section["learning_rate"],
                )
    return {"trainability": rows, "trainability_summary": summary(rows, splits.n_classes)}
