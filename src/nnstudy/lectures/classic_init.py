"""The classic initialization experiments, on a study dataset.

* **Glorot and Bengio (2010).** A 5-hidden-layer tanh network at
  initialization, with the "standard" rule ``U(-1/sqrt(n_in), 1/sqrt(n_in))``
  against the "normalized" one ``U(-sqrt(6/(n_in + n_out)), +...)``: per
  layer, the distribution of the activations and of the back-propagated
  gradients (the cost's gradient with respect to each layer's
  pre-activation). Under the standard rule the activations' spread shrinks
  layer after layer and the back-propagated gradients shrink towards the
  input; the normalized rule keeps both about level. Tables
  ``classic_histograms`` (bins) and ``classic_layer_stats`` (quantiles).
* **He et al. (2015).** A 30-layer ReLU network trained by mini-batch
  gradient descent with momentum 0.9 (as they trained) from Xavier
  (variance ``1/n_in``) and from He (``2/n_in``) weights: with Xavier the
  signal halves in variance at every ReLU layer, 30 layers shrink it by
  about ``2**-29``, and the network does not learn; He's weights keep it.
  Table ``classic_relu_curves``.
* **Saxe et al. (2014).** Deep *linear* networks trained by full-batch
  gradient descent from orthogonal weights and from scaled Gaussian ones
  (variance ``1/n_in``), the rate divided by the number of weight layers:
  the steps to a target training cost stay about flat with depth from
  orthogonal weights (every singular value of the product is 1) and grow
  from Gaussian ones (the product's singular values spread out). Table
  ``classic_linear_depth``.
"""

import math

import numpy as np

from nnstudy.core import network, rng
from nnstudy.core.initializers import initialize
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, TrainData, train
from nnstudy.data.datasets import one_hot_targets
from nnstudy.study.experiment import architecture_for

# rule -> the half-width of the uniform weights of a layer (Glorot and Bengio 2010, eqs. 1 and 16)
UNIFORM_RULES = {
    "standard": lambda n_in, n_out: 1.0 / math.sqrt(n_in),
    "normalized": lambda n_in, n_out: math.sqrt(6.0 / (n_in + n_out)),
}

# He et al. (2015) trained with momentum 0.9; plain gradient descent barely
# moves a 30-layer network within a small budget even from He weights.
HE_MOMENTUM = 0.9

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTITIES = ("activation", "gradient")


def uniform_params(arch, rule, seed):
    """One model's weights drawn uniformly under ``rule``, biases 0: ``{"W1": (1, n_1, n_0), ...}``.

    Both rules rescale the same draws from the model's "init" stream.
    """
    gen = rng.generator(seed, "init")
    params = {}
    for l in range(1, arch.n_layers + 1):
        n_in, n_out = arch.layer_sizes[l - 1], arch.layer_sizes[l]
        params[f"W{l}"] = gen.uniform(-1.0, 1.0, (1, n_out, n_in)) * UNIFORM_RULES[rule](n_in, n_out)
        params[f"b{l}"] = np.zeros((1, n_out, 1))
    return params


def layer_signals(params, X, Y, arch):
    """Per hidden layer, the activations and the back-propagated gradients of one model.

    The gradient is that of the mean cost over the m samples with respect to
    the layer's pre-activation Z_l. Returns ``(activations, gradients)``:
    two lists of (n_l, m) arrays, from the first hidden layer up.
    """
    logits, cache = network.forward(params, X, arch)
    derivative = network.ACTIVATIONS[arch.hidden_activation][1]
    probabilities = network.OUTPUTS[arch.output][0](logits)
    dZ = (probabilities - Y) / X.shape[-1]
    gradients = []
    for l in range(arch.n_layers - 1, 0, -1):
        Z = cache[l][0]
        dZ = (params[f"W{l + 1}"].transpose(0, 2, 1) @ dZ) * derivative(Z)
        gradients.append(dZ[0])
    activations = [layer[1][0] for layer in cache[1:]]
    return activations, gradients[::-1]


def glorot_tables(splits, *, width, hidden_layers, samples, bins, seed):
    """The histograms and quantiles of every hidden layer's signals under both uniform rules.

    Bin edges are shared by both rules and all layers of a quantity
    (activations over [-1, 1]; gradients symmetric about 0 out to the
    largest |value|), so the histograms compare directly. Returns
    ``(histogram rows, stats rows)``.
    """
    n = min(samples, splits.X_train.shape[-1])
    X = splits.X_train[:, :n]
    Y = one_hot_targets(splits.y_train[:n], splits.n_classes)
    arch = architecture_for(splits, [width] * hidden_layers, "tanh")
    signals = {}
    for rule in UNIFORM_RULES:
        activations, gradients = layer_signals(uniform_params(arch, rule, seed), X, Y, arch)
        signals[rule] = {"activation": activations, "gradient": gradients}
    reach = max(np.abs(g).max() for rule in signals for g in signals[rule]["gradient"])
    edges = {"activation": np.linspace(-1.0, 1.0, bins + 1), "gradient": np.linspace(-reach, reach, bins + 1)}
    histograms, stats = [], []
    for rule, by_quantity in signals.items():
        for quantity in QUANTITIES:
            for layer, values in enumerate(by_quantity[quantity], start=1):
                values = values.ravel()
                counts, _ = np.histogram(values, edges[quantity])
                for b, count in enumerate(counts):
                    histograms.append({
                        "rule": rule, "quantity": quantity, "layer": layer, "bin": b,
                        "left": float(edges[quantity][b]), "right": float(edges[quantity][b + 1]),
                        "fraction": count / values.size,
                    })
                row = {"rule": rule, "quantity": quantity, "layer": layer, "values": int(values.size),
                       "mean": float(values.mean()), "std": float(values.std())}
                quantiles = np.quantile(values, QUANTILES)
                row.update({f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, quantiles)})
                stats.append(row)
    return histograms, stats


def relu_curves(splits, *, depth, width, initializers, seeds, samples, epochs, batch_size, learning_rate,
                eval_every):
    """Deep ReLU networks trained by mini-batch gradient descent with momentum 0.9 from each initializer.

    ``depth`` weight layers of ``width`` units, the first ``samples``
    training examples; every (initializer, seed) is one model of one batch.
    One row per model and record: step, epoch, training cost and accuracy.
    """
    n = min(samples, splits.X_train.shape[-1])
    X, y = splits.X_train[:, :n], splits.y_train[:n]
    arch = architecture_for(splits, [width] * (depth - 1), "relu")
    names = [name for name in initializers for _ in seeds]
    model_seeds = [s for _ in initializers for s in seeds]
    params = initialize(arch.layer_sizes, names, model_seeds, inputs=X, hidden_activation="relu")
    data = TrainData(X, one_hot_targets(y, splits.n_classes), y)
    result = train(params, arch, make_optimizer("momentum", beta=HE_MOMENTUM), data,
                   TrainConfig(epochs=epochs, batch_size=batch_size, eval_every=eval_every),
                   learning_rate=learning_rate, seeds=model_seeds)
    history = result.history
    rows = []
    for s, (name, seed) in enumerate(zip(names, model_seeds)):
        for r, step in enumerate(history["step"]):
            rows.append({
                "initializer": name, "seed": seed, "depth": depth, "width": width,
                "step": int(step), "epoch": float(step / result.steps_per_epoch),
                "cost": float(history["cost"][s, r]), "train_accuracy": float(history["train_accuracy"][s, r]),
                "status": str(result.status[s]),
            })
    return rows


def steps_to_target(steps, costs, target):
    """The first recorded step whose cost is at or below ``target``; NaN if none is."""
    reached = np.flatnonzero(np.nan_to_num(costs, nan=np.inf) <= target)
    return float(steps[reached[0]]) if len(reached) else math.nan


def linear_depth_table(splits, *, depths, width, initializers, seeds, samples, steps, learning_rate,
                       eval_every, target_cost):
    """Deep linear networks: steps to ``target_cost`` against depth for each initializer.

    Full-batch gradient descent at ``learning_rate / depth`` (``depth``
    weight layers of ``width`` linear units). One row per (depth,
    initializer, seed): the steps to the target (NaN if not reached within
    ``steps``), the initial and final cost.
    """
    n = min(samples, splits.X_train.shape[-1])
    X, y = splits.X_train[:, :n], splits.y_train[:n]
    data = TrainData(X, one_hot_targets(y, splits.n_classes), y)
    names = [name for name in initializers for _ in seeds]
    model_seeds = [s for _ in initializers for s in seeds]
    rows = []
    for depth in depths:
        arch = architecture_for(splits, [width] * (depth - 1), "linear")
        params = initialize(arch.layer_sizes, names, model_seeds, inputs=X, hidden_activation="linear")
        rate = learning_rate / depth
        result = train(params, arch, make_optimizer("gd"), data, TrainConfig(epochs=steps, eval_every=eval_every),
                       learning_rate=rate, seeds=model_seeds)
        history = result.history
        for s, (name, seed) in enumerate(zip(names, model_seeds)):
            rows.append({
                "depth": depth, "initializer": name, "seed": seed, "width": width, "learning_rate": rate,
                "steps_to_target": steps_to_target(history["step"], history["cost"][s], target_cost),
                "target_cost": float(target_cost), "budget": int(steps),
                "initial_cost": float(history["cost"][s, 0]), "final_cost": float(history["cost"][s, -1]),
                "status": str(result.status[s]),
            })
    return rows


def stage(config, splits):
    """The classic-experiments stage: {table name: rows}. splits: the section's dataset."""
    section = config["lectures"]["classic_init"]
    glorot, relu, linear = section["glorot"], section["relu"], section["linear"]
    histograms, stats = glorot_tables(splits, **glorot)
    return {
        "classic_histograms": histograms,
        "classic_layer_stats": stats,
        "classic_relu_curves": relu_curves(splits, **relu),
        "classic_linear_depth": linear_depth_table(splits, **linear),
    }
