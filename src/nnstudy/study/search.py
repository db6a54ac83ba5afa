"""A declared hyperparameter search space and its quasi-random trials.

A space maps each hyperparameter to a range and a scale::

    learning_rate: {low: 1.0e-4, high: 3.0, scale: log}
    beta1:         {low: 0.5, high: 0.999, scale: log1m}   # log of 1 - beta
    keep_prob:     {low: 0.5, high: 1.0, scale: linear}
    patience:      {low: 2, high: 20, scale: int}

:func:`trials` draws K points of a scrambled Sobol sequence and maps each
coordinate through its scale, so every tuning unit that declares the same
space and seed gets the same K trials: an equal budget, spread more evenly
than random search (each of the first 2^m points falls in its own 1/2^m
slice of every dimension).
"""

import math
from dataclasses import dataclass

import numpy as np

from nnstudy.errors import check_choice, invalid


def _log(low, high, u):
    return np.exp(np.log(low) + u * (np.log(high) - np.log(low)))


def _log1m(low, high, u):
    # Uniform in log(1 - value): betas near 1 get as much room as betas near 0.5.
    return 1.0 - _log(1.0 - high, 1.0 - low, 1.0 - u)


def _linear(low, high, u):
    return low + u * (high - low)


def _int(low, high, u):
    return np.minimum(low + np.floor(u * (high - low + 1)), high).astype(int)


SCALES = {"log": _log, "log1m": _log1m, "linear": _linear, "int": _int}

# The Playbook's warning zone: a chosen value in the outer tenth of its
# dimension's range (on the dimension's scale) suggests the range is too narrow.
EDGE_MARGIN = 0.1


def _log_position(low, high, v):
    return (np.log(v) - np.log(low)) / (np.log(high) - np.log(low))


def _log1m_position(low, high, v):
    return 1.0 - _log_position(1.0 - high, 1.0 - low, 1.0 - v)


def _linear_position(low, high, v):
    return (v - low) / (high - low)


POSITIONS = {"log": _log_position, "log1m": _log1m_position, "linear": _linear_position,
             "int": _linear_position}


@dataclass(frozen=True)
class Dimension:
    name: str
    low: float
    high: float
    scale: str

    def value(self, u):
        """Map unit-interval coordinates ``u`` to this dimension's values."""
        return SCALES[self.scale](self.low, self.high, np.asarray(u, dtype=float))

    def position(self, value):
        """Where ``value`` lies in this dimension's range on its scale: 0 at low, 1 at high."""
        return POSITIONS[self.scale](self.low, self.high, np.asarray(value, dtype=float))

    def at_edge(self, value):
        """Whether ``value`` lies within the outer :data:`EDGE_MARGIN` of the range."""
        position = float(self.position(value))
        return position < EDGE_MARGIN or position > 1.0 - EDGE_MARGIN


def dimension(name, entry):
    """A :class:`Dimension` from its config entry ``{low, high, scale}``, checked."""
    scale = check_choice(f"{name}.scale", entry.get("scale"), SCALES)
    low, high = entry["low"], entry["high"]
    if not low < high:
        raise invalid(f"{name}.low", low, f"less than high={high!r}")
    if scale == "log" and low <= 0:
        raise invalid(f"{name}.low", low, "a positive number on a log scale")
    if scale == "log1m" and not (low < 1 and high < 1):
        raise invalid(f"{name}.high", high, "below 1 on a log(1 - value) scale")
    if scale == "int" and not (float(low).is_integer() and float(high).is_integer()):
        raise invalid(f"{name}.low", low, "integer bounds on an integer scale")
    return Dimension(name, low, high, scale)


def dimensions(space):
    """Every dimension of a declared space, in its declared order."""
    return [dimension(name, entry) for name, entry in space.items()]


def unit_points(n_dimensions, count, seed):
    """The first ``count`` points of a scrambled Sobol sequence in [0, 1)^d."""
    if count < 1:
        raise invalid("trials", count, "at least 1")
    from scipy.stats import qmc  # here, so that training jobs, which read trials, import only numpy

    sobol = qmc.Sobol(d=n_dimensions, scramble=True, seed=np.random.default_rng(seed))
    # Draw the next power of two, whose balance Sobol guarantees, and keep its prefix.
    return sobol.random_base2(math.ceil(math.log2(count)))[:count]


def trials(space, count, seed):
    """``count`` trials of ``space``: a list of {name: value} dicts, the same for the same seed."""
    dims = dimensions(space)
    points = unit_points(len(dims), count, seed)
    columns = {d.name: d.value(points[:, i]) for i, d in enumerate(dims)}
    return [{name: column[k].item() for name, column in columns.items()} for k in range(count)]
