"""How a training set is cut into mini-batches, counted once for every caller."""

import math


def steps_per_epoch(m, batch_size):
    """Update steps in one pass over ``m`` examples.

    batch_size None, or not smaller than ``m``, is full-batch training: one
    step. Otherwise one step per mini-batch, the last partial batch kept.
    """
    if batch_size is None or batch_size >= m:
        return 1
    return math.ceil(m / batch_size)
