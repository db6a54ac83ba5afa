"""Data augmentation as a regularizer: shifted and rotated 8x8 digits.

The lecture lists augmentation beside L2, dropout and early stopping: new
training examples that are cheap distortions of the old ones (a digit moved
by a pixel, or turned a little, is still the same digit) tell the network
which changes must not matter. Here the training images get ``copies``
distorted versions each (a random shift of up to ``max_shift`` pixels in
each direction, not both zero, and optionally a rotation by up to
``max_rotation`` degrees), and the enlarged set trains the same network,
with the same optimizer, learning rate and number of update steps as the
regularizers it is compared with.

Images are the 8x8 pixel grids of scikit-learn's digits, flattened
row-major into the 64 features (as :func:`nnstudy.data.datasets.digits` stores
them). Distortions act on raw pixels. Every model then sees pixels centred
and scaled by one mean and one standard deviation, those of all pixels of
the original training images: per-pixel statistics would not do, because a
border pixel that is almost always blank has a tiny standard deviation, and
a shift that moves ink there would turn it into an input of hundreds. Dev
and test inputs are the same for every method.
"""

import math
from dataclasses import replace

import numpy as np

from nnstudy.core import network
from nnstudy.core.batches import steps_per_epoch
from nnstudy.data import datasets
from nnstudy.study.experiment import ModelSpec, run_batch
from nnstudy.core.regularizers import regularizer_settings
from nnstudy.study.grid import (architecture, build_pool, model_seed, optimizer_params, replicate_split,
                                train_config)

# Which data the stage's seeds see (written into its tables' metadata).
SPLIT = "each seed its own split: the study's split of that seed number"

SHAPE = (8, 8)


def shift(images, dy, dx):
    """Move every image of ``images`` (k, h, w) by (dy, dx) pixels, filling with zeros."""
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        :, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def rotate(images, angles):
    """Turn each image (k, h, w) about its centre by its angle (k,) in degrees (bilinear, zero fill)."""
    from scipy import ndimage

    return np.stack(
        [ndimage.rotate(image, angle, reshape=False, order=1, mode="constant", cval=0.0)
         for image, angle in zip(images, angles)]
    )


def augment(X, y, gen, copies, max_shift=1, max_rotation=0.0, shape=SHAPE):
    """The original images followed by ``copies`` distorted versions of each.

    X : (h*w, m) raw pixels, one image per column (row-major); y : (m,).
    gen : a numpy Generator (the offsets and angles are drawn from it).
    Returns ``(X_aug (h*w, m * (copies + 1)), y_aug)``.
    """
    m = X.shape[1]
    images = X.T.reshape(m, *shape)
    offsets = [(dy, dx) for dy in range(-max_shift, max_shift + 1)
               for dx in range(-max_shift, max_shift + 1) if (dy, dx) != (0, 0)]
    parts, labels = [X], [y]
    for _ in range(copies):
        choice = gen.integers(len(offsets), size=m) if offsets else np.zeros(m, dtype=int)
        moved = images.copy()
        for k, (dy, dx) in enumerate(offsets):
            chosen = choice == k
            moved[chosen] = shift(images[chosen], dy, dx)
        if max_rotation > 0:
            moved = rotate(moved, gen.uniform(-max_rotation, max_rotation, size=m))
        parts.append(moved.reshape(m, -1).T)
        labels.append(y)
    return np.concatenate(parts, axis=1), np.concatenate(labels)


def pixel_statistics(X):
    """One mean and one standard deviation over every pixel of X (n, m), as (n, 1) arrays."""
    shape = (X.shape[0], 1)
    return {"mean": np.full(shape, X.mean()), "std": np.full(shape, X.std())}


def standardized_with(splits, stats):
    """Every part of ``splits`` scaled with the given statistics ((n, 1) mean and std)."""
    scaled = {f"X_{p}": (splits.part(p)[0] - stats["mean"]) / stats["std"] for p in datasets.PARTS}
    return replace(splits, **scaled, stats=stats)


def compare(config, name, optimizer, regularizers, augmentations, seeds, learning_rate, initializer="he"):
    """Train the regularizers and the augmentations on the same budget; one row per model.

    config : the study's configuration (dataset ``name`` must be digits; its
    network, batch size and budget are the study's, and seed ``k`` trains on
    the study's split of seed number ``k``, with its own distortions).
    regularizers : names of the study's regularizers (their settings too).
    augmentations : {method: {"copies", "max_shift", "max_rotation"}}, each
    trained without other regularization.
    ``train_accuracy`` is measured on the original training images for every
    method (``augmented_train_accuracy`` on the enlarged set). Every method gets the number of update steps of ``epochs`` passes over
    the original training set (augmented sets are larger, so they see fewer
    passes), and records every ``eval_every`` of those epochs.
    """
    # Each seed trains on its own split, as the study's runs of that seed number do.
    pool = replace(build_pool(config, name), standardize=False)
    raws = {seed: replicate_split(pool, name, seed) for seed in seeds}
    stats = {seed: pixel_statistics(raw.X_train) for seed, raw in raws.items()}
    bases = {seed: standardized_with(raw, stats[seed]) for seed, raw in raws.items()}
    first = bases[seeds[0]]
    arch = architecture(config, name, first)
    method = config["optimizers"][optimizer]["method"]
    reference = train_config(config, name, optimizer, first)
    m = first.X_train.shape[-1]  # stratified splits of one pool: the same size for every seed
    batch = reference.batch_size
    budget = reference.epochs * steps_per_epoch(m, batch)

    rows = []

    def record(labels, outcome, size):
        # Training accuracy on the original images for every method, so that
        # the train-dev gaps compare; the augmented set's accuracy beside it.
        params = outcome.result.params
        original = [
            network.accuracy({k: v[i : i + 1] for k, v in params.items()}, bases[seed].X_train,
                             bases[seed].y_train, arch)[0]
            for i, (_, _, seed) in enumerate(labels)
        ]
        for i, ((method_name, kind, seed), row) in enumerate(zip(labels, outcome.rows())):
            diverged = row["status"] == "diverged"
            rows.append(
                {
                    "dataset": name,
                    "method": method_name,
                    "kind": kind,
                    "seed": seed,
                    "train_size": size,
                    "learning_rate": float(learning_rate),
                    "steps": row["steps"],
                    "status": row["status"],
                    "train_accuracy": math.nan if diverged else float(original[i]),
                    "augmented_train_accuracy": row["train_accuracy"] if kind == "augmentation" else math.nan,
                    "dev_accuracy": row["dev_accuracy"],
                    "test_accuracy": row["test_accuracy"],
                }
            )

    # Every regularizer x seed trains as one batch on the original images.
    specs, labels = [], []
    for regularizer in regularizers:
        settings = regularizer_settings(regularizer, **config["regularizers"][regularizer])
        for seed in seeds:
            specs.append(ModelSpec(initializer, model_seed(name, seed), learning_rate, **settings))
            labels.append((regularizer, "regularizer", seed))
    if specs:
        own = [bases[seed] for _, _, seed in labels]
        record(labels, run_batch(own, arch, method, optimizer_params(config, optimizer), reference, specs), m)

    for offset, (method_name, options) in enumerate(augmentations.items()):
        enlarged = []
        for seed in seeds:
            gen = np.random.default_rng([model_seed(name, "augmentation"), offset, seed])
            X_aug, y_aug = augment(
                raws[seed].X_train, raws[seed].y_train, gen, options["copies"], options["max_shift"],
                options["max_rotation"],
            )
            enlarged.append(standardized_with(replace(raws[seed], X_train=X_aug, y_train=y_aug), stats[seed]))
        m_aug = X_aug.shape[1]
        per_epoch = steps_per_epoch(m_aug, batch)
        config_aug = replace(reference, epochs=max(1, round(budget / per_epoch)))
        specs = [ModelSpec(initializer, model_seed(name, s), learning_rate) for s in seeds]
        outcome = run_batch(enlarged, arch, method, optimizer_params(config, optimizer), config_aug, specs)
        record([(method_name, "augmentation", s) for s in seeds], outcome, m_aug)
    return rows


def summary(rows):
    """Mean and standard deviation over seeds of each accuracy, per method."""
    groups = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["method"], row["kind"]), []).append(row)
    out = []
    for (dataset, method, kind), group in groups.items():
        record = {"dataset": dataset, "method": method, "kind": kind, "runs": len(group),
                  "steps": int(np.median([r["steps"] for r in group]))}
        for part in ("train", "dev", "test"):
            values = np.array([r[f"{part}_accuracy"] for r in group], dtype=float)
            record[f"{part}_mean"] = float(np.nanmean(values))
            record[f"{part}_std"] = float(np.nanstd(values, ddof=1)) if len(values) > 1 else math.nan
        out.append(record)
    return out


def stage(config, learning_rate):
    """The augmentation stage: {"augmentation": rows}; ``learning_rate`` is the study's choice."""
    section = config["lectures"]["augmentation"]
    rows = compare(
        config, section["dataset"], section["optimizer"], section["regularizers"], section["augmentations"],
        section["seeds"], learning_rate, section["initializer"],
    )
    return {"augmentation": rows}
