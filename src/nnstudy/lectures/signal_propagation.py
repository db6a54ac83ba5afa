"""Signal propagation: the mean-field theory of initialization beside random networks.

Why do some weight scales train deep networks and others not? In a wide
random network the length ``q`` of a signal and the correlation ``c`` of two
signals follow deterministic maps from layer to layer
(:mod:`nnstudy.lectures.meanfield`). Their fixed points and the slope ``chi_1`` say
whether a deep stack forgets its input (ordered phase, ``chi_1 < 1``:
gradients vanish), scrambles it (chaotic, ``chi_1 > 1``: gradients explode),
or keeps it over ``xi_c`` layers and more (the critical line ``chi_1 = 1``).

This stage writes three tables:

* ``signal_theory``: q*, chi_1, c*, chi_c and the depth scales over a grid
  of ``sigma_w^2`` and ``sigma_b^2``, per activation;
* ``signal_critical``: the critical line, the ``sigma_w^2`` with ``chi_1 = 1``
  at each ``sigma_b^2``;
* ``signal_layers``: layer by layer, the theory's q^l, c^l and chi^l beside
  the same quantities measured on random networks of finite width (mean and
  95% interval over seeds).

Weights of a layer with ``n`` inputs are N(0, sigma_w^2 / n): He is
``sigma_w^2 = 2``, Xavier ``sigma_w^2 = 1``.
"""

import math

import numpy as np
from scipy import stats as scipy_stats

from nnstudy.core import rng
from nnstudy.lectures import meanfield
from nnstudy.core.network import ACTIVATIONS

INTERVAL_LEVEL = 0.95


def input_pair(width, q0, c0, generator):
    """Two inputs of mean square ``q0`` and correlation exactly ``c0``: shape (width, 2).

    Built from two random orthonormal directions, so that the network, not
    the inputs, is the only source of fluctuation.
    """
    basis, _ = np.linalg.qr(generator.standard_normal((width, 2)))
    a = basis[:, 0]
    b = c0 * basis[:, 0] + math.sqrt(1.0 - c0 * c0) * basis[:, 1]
    return math.sqrt(q0 * width) * np.stack([a, b], axis=1)


def random_network_signals(activation, sigma_w2, sigma_b2, *, width, layers, q0, c0, seed):
    """q^l, c^l and chi^l of one random network of ``layers`` layers of ``width`` units.

    Pre-activations ``h^1 = W^1 x + b^1`` and ``h^{l+1} = W^{l+1} phi(h^l) +
    b^{l+1}``, weights N(0, sigma_w^2 / width), biases N(0, sigma_b^2), all
    drawn from the seed's "init" stream. For the input pair of
    :func:`input_pair`: q^l is the mean square of both inputs'
    pre-activations, c^l their correlation. chi^l is the ratio of squared
    norms of the gradients with respect to h^l and h^{l+1}, back-propagated
    from a random direction at the last layer through the first input's
    network. Returns three (layers,) arrays; chi's last entry is NaN.
    """
    phi, derivative = ACTIVATIONS[activation]
    generator = rng.generator(seed, "init")
    x = input_pair(width, q0, c0, generator)
    weights, pre = [], []
    signal = x
    with np.errstate(all="ignore"):
        for _ in range(layers):
            W = generator.standard_normal((width, width)) * math.sqrt(sigma_w2 / width)
            b = generator.standard_normal((width, 1)) * math.sqrt(sigma_b2)
            h = W @ signal + b
            weights.append(W)
            pre.append(h)
            signal = phi(h)
        q = np.array([np.mean(h**2) for h in pre])
        c = np.array([h[:, 0] @ h[:, 1] / math.sqrt((h[:, 0] @ h[:, 0]) * (h[:, 1] @ h[:, 1])) for h in pre])
        chi = np.full(layers, np.nan)
        delta = generator.standard_normal(width)
        for l in range(layers - 2, -1, -1):
            previous = delta
            delta = derivative(pre[l][:, 0]) * (weights[l + 1].T @ previous)
            chi[l] = (delta @ delta) / (previous @ previous)
    return q, c, chi


def mean_interval(values, level=INTERVAL_LEVEL):
    """Mean and Student-t interval of the mean over the first axis.

    values : (seeds, ...), at least two seeds. Returns (mean, low, high),
    each of shape ``values.shape[1:]``; a column with a non-finite value gives NaN.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    with np.errstate(all="ignore"):
        mean = values.mean(axis=0)
        half = scipy_stats.t.ppf(0.5 + level / 2.0, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def layer_table(settings, *, width, layers, q0, c0, seeds):
    """Theory and measurement of every layer of every setting: one row per (setting, layer).

    settings : [{"activation", "sigma_w2", "sigma_b2"}, ...].
    Columns: the setting, ``layer``, and for q, c and chi: ``{x}_theory``,
    ``{x}_mean``, ``{x}_low``, ``{x}_high`` (interval of the mean over seeds),
    plus ``seeds`` and ``width``.
    """
    rows = []
    for setting in settings:
        activation, sigma_w2, sigma_b2 = setting["activation"], setting["sigma_w2"], setting["sigma_b2"]
        theory = meanfield.trajectory(activation, q0, c0, sigma_w2, sigma_b2, layers)
        measured = [
            np.array([random_network_signals(activation, sigma_w2, sigma_b2, width=width, layers=layers,
                                             q0=q0, c0=c0, seed=seed)[k] for seed in seeds])
            for k in range(3)
        ]
        summaries = [mean_interval(values) for values in measured]
        for l in range(layers):
            row = {"activation": activation, "sigma_w2": float(sigma_w2), "sigma_b2": float(sigma_b2),
                   "layer": l + 1}
            for name, predicted, (mean, low, high) in zip(("q", "c", "chi"), theory, summaries):
                has_next = name != "chi" or l < layers - 1
                row[f"{name}_theory"] = float(predicted[l]) if has_next else math.nan
                row[f"{name}_mean"] = float(mean[l])
                row[f"{name}_low"] = float(low[l])
                row[f"{name}_high"] = float(high[l])
            row.update({"width": int(width), "seeds": len(seeds)})
            rows.append(row)
    return rows


def stage(config):
    """The signal-propagation stage of the configuration: {table name: rows}."""
    section = config["lectures"]["signal_propagation"]
    experiment = section["experiment"]
    return {
        "signal_theory": meanfield.phase_table(section["activations"], section["sigma_w2"], section["sigma_b2"]),
        "signal_critical": meanfield.critical_line(section["activations"], section["critical_sigma_b2"]),
        "signal_layers": layer_table(
            experiment["settings"], width=experiment["width"], layers=experiment["layers"],
            q0=experiment["q0"], c0=experiment["c0"], seeds=experiment["seeds"],
        ),
    }
