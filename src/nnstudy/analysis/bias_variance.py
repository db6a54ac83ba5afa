"""The basic recipe's bias / variance reading: the one reading the report and the lectures share.

The gap between the training error and the best achievable error (a
Bayes-error proxy given per dataset; 0 where none is given) is the
avoidable bias; the gap between the dev and the training error is the
variance. A gap is high when it exceeds its tolerance. The lecture stage
(:mod:`nnstudy.lectures.bias_variance`) and the report's derived table
(:func:`nnstudy.analysis.derived.bias_variance`) both read through
:func:`reading_columns`, so the same errors always give the same reading.
"""

import math

# reading -> the recipe's next step
RECIPE = {
    "high bias": "bigger network or longer training (then look at variance)",
    "high variance": "more data or regularization",
    "high bias and high variance": "reduce bias first: bigger network or longer training",
    "neither": "done: bias and variance both within tolerance",
    "diverged": "every seed diverged: lower the learning rate",
}


def read(avoidable_bias, variance, bias_tolerance, variance_tolerance):
    """The recipe's reading of one combination (a key of :data:`RECIPE`).

    avoidable_bias : training error minus the Bayes-error proxy.
    variance : dev error minus training error. NaN inputs read "diverged".
    A gap counts as high when it exceeds its tolerance.
    """
    if math.isnan(avoidable_bias) or math.isnan(variance):
        return "diverged"
    high_bias = avoidable_bias > bias_tolerance
    high_variance = variance > variance_tolerance
    if high_bias and high_variance:
        return "high bias and high variance"
    if high_bias:
        return "high bias"
    if high_variance:
        return "high variance"
    return "neither"


def reading_columns(frame, bayes_error, bias_tolerance, variance_tolerance):
    """``frame`` (columns dataset, train_error, dev_error) with the recipe's columns added.

    Adds bayes_error (the dataset's proxy from ``bayes_error``, 0 if not
    named), avoidable_bias, variance, reading and next_step; returns a copy.
    """
    out = frame.copy()
    out["bayes_error"] = [float(bayes_error.get(d, 0.0)) for d in out["dataset"]]
    out["avoidable_bias"] = out["train_error"] - out["bayes_error"]
    out["variance"] = out["dev_error"] - out["train_error"]
    out["reading"] = [
        read(float(b), float(v), bias_tolerance, variance_tolerance)
        for b, v in zip(out["avoidable_bias"], out["variance"])
    ]
    out["next_step"] = out["reading"].map(RECIPE)
    return out
