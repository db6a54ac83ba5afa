"""Learning-rate decay schedules, by name: the rate used in a given epoch.

Every schedule maps ``(learning_rate, epoch, decay_rate, decay_interval)`` to
that epoch's rate; ``learning_rate`` may be a per-model array.
"""

import math

import numpy as np

from nnstudy.errors import check_choice, invalid

SCHEDULES = {
    "constant": lambda lr, epoch, rate, interval: lr,
    # lr0 / (1 + rate * epoch)
    "inverse_time": lambda lr, epoch, rate, interval: lr / (1.0 + rate * epoch),
    # lr0 * exp(-rate * epoch)
    "exponential": lambda lr, epoch, rate, interval: lr * math.exp(-rate * epoch),
    # lr0 / (1 + rate * floor(epoch / interval)): the course's "scheduled" decay
    "step": lambda lr, epoch, rate, interval: lr / (1.0 + rate * (epoch // interval)),
}


def check_schedule(name, decay_rate=0.0, decay_interval=1):
    """Validate a schedule's name and parameters (ConfigError otherwise)."""
    check_choice("schedule", name, SCHEDULES)
    if not (decay_rate >= 0 and math.isfinite(decay_rate)):
        raise invalid("decay_rate", decay_rate, "a non-negative finite number")
    finite = decay_interval >= 1 and math.isfinite(decay_interval)
    if not finite or int(decay_interval) != decay_interval:
        raise invalid("decay_interval", decay_interval, "a positive integer")


def learning_rate_at(name, learning_rate, epoch, decay_rate=0.0, decay_interval=1):
    """The learning rate(s) in effect during ``epoch`` (counted from 0)."""
    return SCHEDULES[name](np.asarray(learning_rate, dtype=float), epoch, decay_rate, decay_interval)
