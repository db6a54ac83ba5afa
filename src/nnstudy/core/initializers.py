"""Weight initializers, by name. Biases start at zero.

Every model draws one standard normal matrix per layer from its own "init"
stream, and its initializer turns that draw into the layer's weights: the
Gaussian ones rescale it, ``orthogonal`` orthogonalizes it, ``lsuv``
orthogonalizes it and then rescales layer by layer on a batch of training
inputs, ``constant`` ignores it (every weight the same value: the symmetry
failure). So models with the same seed and different initializers start
from the same draws.
"""

import math
from dataclasses import dataclass

import numpy as np

from nnstudy.core import rng
from nnstudy.core.network import ACTIVATIONS
from nnstudy.errors import check_choice, invalid


def _gaussian(z, std, scale):
    return z * std


def orthogonal(z):
    """The orthogonal factor of ``z`` (n_out, n_in), with the sign correction of Saxe et al. (2014).

    Orthonormal rows when n_out <= n_in (``W W^T = I``), orthonormal columns
    otherwise (``W^T W = I``). Multiplying Q's columns by the signs of R's
    diagonal makes Q Haar-distributed for a Gaussian ``z`` (Mezzadri 2007),
    rather than biased by the QR routine's sign convention.
    """
    wide = z.shape[0] < z.shape[1]
    q, r = np.linalg.qr(z.T if wide else z)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q.T if wide else q


def _orthogonal(z, std, scale):
    return orthogonal(z) * scale


def _constant(z, std, scale):
    return np.full_like(z, scale)


@dataclass(frozen=True)
class Initializer:
    """One registry entry.

    rms : (n_in, n_out, scale) -> the root mean square of the layer's weights
        (their standard deviation for the Gaussian ones; NaN where it depends
        on the data).
    default_scale : the scale used when none is given; None when the
        initializer takes no scale.
    draw : (standard normal draw, rms, scale) -> the weights.
    needs_data : whether the weights are rescaled on training inputs.
    """

    rms: object
    default_scale: float | None = None
    draw: object = _gaussian
    needs_data: bool = False


INITIALIZERS = {
    "zeros": Initializer(lambda n_in, n_out, scale: 0.0),
    "random": Initializer(lambda n_in, n_out, scale: scale, 10.0),
    "small": Initializer(lambda n_in, n_out, scale: scale, 0.01),
    "xavier": Initializer(lambda n_in, n_out, scale: math.sqrt(1.0 / n_in)),
    "he": Initializer(lambda n_in, n_out, scale: math.sqrt(2.0 / n_in)),
    "glorot": Initializer(lambda n_in, n_out, scale: math.sqrt(2.0 / (n_in + n_out))),
    # LeCun et al. (1998): variance 1 / fan_in (the course's "xavier" is the same spread).
    "lecun_normal": Initializer(lambda n_in, n_out, scale: math.sqrt(1.0 / n_in)),
    # Saxe et al. (2014); scale is the gain. Unit rows (or columns) of
    # max(n_in, n_out) entries: rms gain / sqrt(max(n_in, n_out)).
    "orthogonal": Initializer(lambda n_in, n_out, scale: scale / math.sqrt(max(n_in, n_out)), 1.0, _orthogonal),
    # Mishkin and Matas (2016): orthogonal, then unit output variance per layer.
    "lsuv": Initializer(lambda n_in, n_out, scale: math.nan, None, lambda z, std, scale: orthogonal(z),
                        needs_data=True),
    # Every weight ``scale``: the units of a layer start, and stay, copies.
    "constant": Initializer(lambda n_in, n_out, scale: scale, 0.5, _constant),
}

# LSUV's batch of training inputs, the tolerance on each layer's output
# variance, and the most rescalings per layer. With zero biases one
# rescaling already gives variance 1 up to rounding; the loop is the paper's.
LSUV_BATCH = 256
LSUV_TOLERANCE = 1e-3
LSUV_MAX_ITERATIONS = 10


def _resolved_scale(name, scale):
    check_choice("initializer", name, INITIALIZERS)
    default_scale = INITIALIZERS[name].default_scale
    if scale is None:
        return default_scale
    if default_scale is None:
        raise invalid("scale", scale, f"no scale for initializer {name!r}")
    if not (scale > 0 and math.isfinite(scale)):
        raise invalid("scale", scale, "a positive finite number")
    return scale


def weight_std(name, n_in, n_out, scale=None):
    """Root mean square of a layer's weights under initializer ``name`` (the standard deviation
    of the Gaussian ones; NaN for the data-dependent ``lsuv``)."""
    scale = _resolved_scale(name, scale)
    return INITIALIZERS[name].rms(n_in, n_out, scale)


def lsuv_rescale(weights, X, activation, *, tolerance=LSUV_TOLERANCE, max_iterations=LSUV_MAX_ITERATIONS):
    """Rescale ``weights`` [W1 (n_1, n_0), ...] in place, layer by layer, to unit output variance on ``X``.

    X : (n_0, m) the batch; activation : the hidden layers' function (the
    last layer is linear). Layer l's output ``W_l a_{l-1}`` (biases are
    zero) is divided by the square root of its variance over units and
    samples until that variance is within ``tolerance`` of 1, after the
    layers below it are settled (Mishkin and Matas 2016, Algorithm 1). A
    layer whose output is identically zero is left alone.
    Returns the output variance of each layer after rescaling.
    """
    variances = []
    A = X
    for l, W in enumerate(weights):
        Z = W @ A
        variance = float(Z.var())
        for _ in range(max_iterations):
            if abs(variance - 1.0) < tolerance or not variance > 0 or not math.isfinite(variance):
                break
            W /= math.sqrt(variance)
            Z = W @ A
            variance = float(Z.var())
        variances.append(variance)
        A = activation(Z) if l < len(weights) - 1 else Z
    return variances


def lsuv_batch(gen, X, size=LSUV_BATCH):
    """``size`` distinct columns of ``X`` (n_0, m), chosen by ``gen`` (all of them when m <= size)."""
    m = X.shape[-1]
    if m <= size:
        return X
    return X[:, np.sort(gen.choice(m, size=size, replace=False))]


def initialize(layer_sizes, initializers, seeds, scales=None, *, inputs=None, hidden_activation="relu"):
    """Initial parameters for S models.

    layer_sizes : (n_0, n_1, ..., n_L), the input size first.
    initializers : one name for all models, or a sequence of S names.
    seeds : sequence of S ints; model s draws its standard normals from its
        own "init" stream, layer by layer, so models with the same seed and
        different initializers start from the same draws, transformed.
    scales : None, one scale, or S scales (for "random", "small", the
        gain of "orthogonal" and the value of "constant").
    inputs : training inputs (n_0, m), or a sequence of S of them, one per
        model; needed by "lsuv" only, which rescales on a batch of their
        columns drawn from the model's init stream after its weights.
    hidden_activation : the hidden layers' activation (for "lsuv").
    Returns ``{"W1": (S, n_1, n_0), "b1": (S, n_1, 1), ...}``.
    """
    seeds = list(seeds)
    n_models = len(seeds)
    if isinstance(initializers, str):
        initializers = [initializers] * n_models
    if scales is None or np.isscalar(scales):
        scales = [scales] * n_models
    if len(initializers) != n_models or len(scales) != n_models:
        raise invalid("initializers", len(initializers), f"{n_models} entries, one per seed")
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise invalid("layer_sizes", tuple(layer_sizes), "at least two positive sizes")
    if inputs is not None and not isinstance(inputs, (list, tuple)):
        inputs = [inputs] * n_models

    params = {}
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        params[f"W{l}"] = np.empty((n_models, n_out, n_in))
        params[f"b{l}"] = np.zeros((n_models, n_out, 1))
    for s, (seed, name, scale) in enumerate(zip(seeds, initializers, scales)):
        scale = _resolved_scale(name, scale)
        entry = INITIALIZERS[name]
        if entry.needs_data and inputs is None:
            raise invalid("inputs", None, f"training inputs for initializer {name!r}")
        gen = rng.generator(seed, "init")
        for l in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
            z = gen.standard_normal((n_out, n_in))
            params[f"W{l}"][s] = entry.draw(z, entry.rms(n_in, n_out, scale), scale)
        if entry.needs_data:
            check_choice("hidden_activation", hidden_activation, ACTIVATIONS)
            X = lsuv_batch(gen, np.asarray(inputs[s], dtype=float))
            weights = [params[f"W{l}"][s] for l in range(1, len(layer_sizes))]
            lsuv_rescale(weights, X, ACTIVATIONS[hidden_activation][0])
    return params
