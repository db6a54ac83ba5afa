"""Regularizers, by name: which per-model settings each one switches on.

A regularizer is not code of its own: L2 is a penalty strength, dropout a
keep probability and early stopping a patience, all handled by the training
loop per model. A name selects which of them take effect; the others stay
at their neutral values (lambd 0, keep_prob 1, patience 0).
"""

from nnstudy.errors import check_choice, invalid

NEUTRAL = {"lambd": 0.0, "keep_prob": 1.0, "patience": 0}

REGULARIZERS = {
    "none": (),
    "l2": ("lambd",),
    "dropout": ("keep_prob",),
    "l2_dropout": ("lambd", "keep_prob"),
    "early_stopping": ("patience",),
}


def regularizer_settings(name, **values):
    """The per-model settings of regularizer ``name``.

    values : lambd, keep_prob and/or patience; those the regularizer uses
    are required and checked, the rest are ignored.
    Returns ``{"lambd": ..., "keep_prob": ..., "patience": ...}``.
    """
    check_choice("regularizer", name, REGULARIZERS)
    settings = dict(NEUTRAL)
    for key in REGULARIZERS[name]:
        value = values.get(key)
        if value is None:
            raise invalid(key, value, f"a value, since regularizer {name!r} uses it")
        settings[key] = value
    if not settings["lambd"] >= 0:
        raise invalid("lambd", settings["lambd"], "a non-negative number")
    if not 0 < settings["keep_prob"] <= 1:
        raise invalid("keep_prob", settings["keep_prob"], "a number in (0, 1]")
    if int(settings["patience"]) != settings["patience"] or settings["patience"] < 0:
        raise invalid("patience", settings["patience"], "a non-negative integer")
    return settings
