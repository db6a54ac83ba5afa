"""Decision-boundary snapshots: output probabilities on a fixed grid, recorded during training.

A 2-D dataset gets a square grid over its input plane (:func:`boundary_grid`,
in the data's raw coordinates, so that every seed's picture shares one frame
although each seed standardizes its inputs with its own split). At every
history record the training loop evaluates each model on its own copy of the
grid (``TrainData.X_probe``, in that model's input coordinates) in the same
forward-only way as the dev set, and stores, per grid point, the probability
of class 1 (two classes) or of the predicted class (more). The extra forward
pass reads the weights and changes none of them, so every trained number is
the one training without snapshots gives.
"""

import numpy as np

from nnstudy.core import network

# Points per axis of the grid, and its margin around the data (a fraction of
# the data's range). 20 x 20 = 400 points per frame: small enough that the
# default study's 3,000 two-dimensional runs fit in the explorable report
# (see nnstudy.report.explorer), fine enough for the boundaries of circles,
# moons and spirals once drawn smoothed.
GRID_POINTS = 20
GRID_MARGIN = 0.15

HISTORY_KEY = "boundary"


def boundary_grid(X):
    """The grid over the plane of 2-D inputs ``X`` (2, m): (axes (2, G), points (2, G * G)).

    Points run along the first axis fastest (row r of the picture is x2 = axes[1][r]).
    """
    X = np.asarray(X, dtype=float)
    low, high = X.min(axis=1), X.max(axis=1)
    pad = GRID_MARGIN * (high - low)
    axes = np.stack([np.linspace(low[i] - pad[i], high[i] + pad[i], GRID_POINTS) for i in range(2)])
    g1, g2 = np.meshgrid(axes[0], axes[1])
    return axes, np.stack([g1.ravel(), g2.ravel()])


def empty(data, n_models, n_records):
    """{HISTORY_KEY: (S, R, P) NaN} when ``data`` has grid points to record, else {}."""
    if data.X_probe is None:
        return {}
    return {HISTORY_KEY: np.full((n_models, n_records, data.X_probe.shape[-1]), np.nan, dtype=np.float32)}


def record(engine, data, arch, history, r):
    """Store record ``r`` of the chunk's models' probabilities on their grid points (if any)."""
    if data.X_probe is None:
        return
    probabilities = network.OUTPUTS[arch.output][0](engine.logits(data.X_probe))
    if probabilities.shape[-2] == 1:
        history[HISTORY_KEY][:, r] = probabilities[:, 0, :]
    else:
        history[HISTORY_KEY][:, r] = probabilities.max(axis=-2)


# On disk and in the report a probability is one byte: round(p * LEVELS),
# with MISSING for a diverged model's frames. 254 levels keep 0.5 exact.
LEVELS = 254
MISSING = 255


def quantize(probabilities):
    """uint8 codes of ``probabilities`` (any shape, NaN allowed): round(p * LEVELS), NaN -> MISSING."""
    p = np.asarray(probabilities, dtype=float)
    codes = np.round(np.clip(np.nan_to_num(p, nan=0.0), 0.0, 1.0) * LEVELS).astype(np.uint8)
    codes[np.isnan(p)] = MISSING
    return codes
