"""Weight initializers, by name: each maps a layer's fan-in and fan-out to the
standard deviation of its normally distributed weights. Biases start at zero.
"""

import math

import numpy as np

from nnstudy.core import rng
from nnstudy.errors import check_choice, invalid

# name -> (standard deviation as a function of (n_in, n_out, scale), default scale)
INITIALIZERS = {
    "zeros": (lambda n_in, n_out, scale: 0.0, None),
    "random": (lambda n_in, n_out, scale: scale, 10.0),
    "small": (lambda n_in, n_out, scale: scale, 0.01),
    "xavier": (lambda n_in, n_out, scale: math.sqrt(1.0 / n_in), None),
    "he": (lambda n_in, n_out, scale: math.sqrt(2.0 / n_in), None),
    "glorot": (lambda n_in, n_out, scale: math.sqrt(2.0 / (n_in + n_out)), None),
}


def weight_std(name, n_in, n_out, scale=None):
    """Standard deviation of a layer's weights under initializer ``name``."""
    check_choice("initializer", name, INITIALIZERS)
    std_fn, default_scale = INITIALIZERS[name]
    if scale is None:
        scale = default_scale
    elif default_scale is None:
        raise invalid("scale", scale, f"no scale for initializer {name!r}")
    elif not (scale > 0 and math.isfinite(scale)):
        raise invalid("scale", scale, "a positive finite number")
    return std_fn(n_in, n_out, scale)


def initialize(layer_sizes, initializers, seeds, scales=None):
    """Initial parameters for S models.

    layer_sizes : (n_0, n_1, ..., n_L), the input size first.
    initializers : one name for all models, or a sequence of S names.
    seeds : sequence of S ints; model s draws its standard normals from its
        own "init" stream, layer by layer, so models with the same seed and
        different initializers start from the same draws, rescaled.
    scales : None, one scale, or S scales (for "random" and "small").
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

    params = {}
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        params[f"W{l}"] = np.empty((n_models, n_out, n_in))
        params[f"b{l}"] = np.zeros((n_models, n_out, 1))
    for s, (seed, name, scale) in enumerate(zip(seeds, initializers, scales)):
        gen = rng.generator(seed, "init")
        for l in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
            std = weight_std(name, n_in, n_out, scale)
            params[f"W{l}"][s] = gen.standard_normal((n_out, n_in)) * std
    return params
