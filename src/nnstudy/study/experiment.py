"""One batch of models on one dataset: build, train, evaluate.

The command line (``nnstudy train``) and the study's rules both describe a
batch as a list of :class:`ModelSpec` sharing an architecture, an optimizer
and a training budget; :func:`run_batch` turns it into one call of the
batched training loop and per-model metrics.
"""

from dataclasses import asdict, dataclass

import numpy as np

from nnstudy.core import network
from nnstudy.data.datasets import one_hot_targets, output_layer
from nnstudy.core.initializers import initialize
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.batches import CounterSampler
from nnstudy.core.training import TrainConfig, TrainData, train
from nnstudy.study.threads import one_blas_thread


@dataclass(frozen=True)
class ModelSpec:
    """Everything that may differ between the models of one batch.

    ``seed`` feeds the initial weights, and the mini-batch order and dropout
    masks unless ``shuffle_seed`` or ``dropout_seed`` name other seeds, so
    that one source of randomness can vary while the others stay fixed.
    The optimizer's hyperparameters (``beta`` ... ``epsilon``) are the
    batch's own unless a model names its own: a tuning batch gives every
    model its own.
    """

    initializer: str
    seed: int
    learning_rate: float
    scale: float | None = None
    lambd: float = 0.0
    keep_prob: float = 1.0
    patience: int = 0
    shuffle_seed: int | None = None
    dropout_seed: int | None = None
    beta: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    epsilon: float | None = None

    def stream_seeds(self):
        """The seeds of the (init, shuffle, dropout) streams."""
        return (
            self.seed,
            self.seed if self.shuffle_seed is None else self.shuffle_seed,
            self.seed if self.dropout_seed is None else self.dropout_seed,
        )


@dataclass(frozen=True)
class BatchOutcome:
    """The training result plus final metrics, each an (S,) array."""

    specs: list
    result: object
    metrics: dict

    def rows(self):
        """One dict per model: its spec, status and metrics (for tables)."""
        rows = []
        for s, spec in enumerate(self.specs):
            row = asdict(spec)
            row["status"] = str(self.result.status[s])
            row.update({k: v[s].item() for k, v in self.metrics.items()})
            rows.append(row)
        return rows


# The optimizer hyperparameters a ModelSpec may set for itself.
OPTIMIZER_FIELDS = ("beta", "beta1", "beta2", "epsilon")


def per_model_optimizer_params(optimizer_params, specs):
    """The batch's optimizer hyperparameters, as (S,) arrays where a model sets its own.

    A model that leaves a hyperparameter unset takes the batch's value.
    """
    merged = dict(optimizer_params)
    for key in OPTIMIZER_FIELDS:
        own = [getattr(spec, key) for spec in specs]
        if all(value is None for value in own):
            continue
        shared = optimizer_params.get(key)
        if shared is None and None in own:
            raise ValueError(f"{key} is set for some models of the batch only, and the batch has no value")
        merged[key] = np.array([shared if value is None else value for value in own], dtype=float)
    return merged


def architecture_for(splits, hidden_layers, hidden_activation="relu"):
    """The network for a dataset: sigmoid output for 2 classes, softmax above."""
    output, n_out = output_layer(splits.n_classes)
    return network.Architecture(
        (splits.n_features, *hidden_layers, n_out), hidden_activation, output
    )


def train_data(splits, probe=None):
    """TrainData from a dataset's train and dev parts.

    splits : one :class:`~nnstudy.data.datasets.Splits` shared by every model, or a
        list with one per model (parts of equal sizes): each distinct Splits
        object is stacked once along a leading set axis, and ``sets`` says
        which one each model trains on.
    probe : None, or (n_features, P) raw (unstandardized) inputs whose output
        probabilities training records (:mod:`nnstudy.core.snapshots`); each
        split sees them standardized with its own statistics.
    """
    if not isinstance(splits, (list, tuple)):
        has_dev = splits.X_dev.shape[-1] > 0
        if probe is not None and splits.stats is not None:
            probe = (probe - splits.stats["mean"]) / splits.stats["std"]
        return TrainData(
            X=splits.X_train,
            Y=one_hot_targets(splits.y_train, splits.n_classes),
            y=splits.y_train,
            X_dev=splits.X_dev if has_dev else None,
            Y_dev=one_hot_targets(splits.y_dev, splits.n_classes) if has_dev else None,
            y_dev=splits.y_dev if has_dev else None,
            X_probe=probe,
        )
    distinct, sets = _distinct(splits)
    parts = [train_data(s, probe) for s in distinct]
    shapes = {(p.X.shape, None if p.X_dev is None else p.X_dev.shape) for p in parts}
    if len(shapes) != 1:
        raise ValueError(f"per-model splits must have equal sizes, got {sorted(map(str, shapes))}")
    stacked = {
        name: None if getattr(parts[0], name) is None else np.stack([getattr(p, name) for p in parts])
        for name in ("X", "Y", "y", "X_dev", "Y_dev", "y_dev", "X_probe")
    }
    return TrainData(**stacked, sets=sets)


def _distinct(splits):
    """The distinct Splits objects of a per-model list, and each model's index among them."""
    index = {}
    sets = np.array([index.setdefault(id(s), len(index)) for s in splits])
    distinct = list({id(s): s for s in splits}.values())
    return distinct, sets


def _accuracies(params, splits, part, arch):
    """(S,) accuracy of every model on ``part`` of its own split (NaN for an empty part).

    Models sharing a Splits object are evaluated together on its shared arrays.
    """
    n_models = len(next(iter(params.values())))
    per_model = splits if isinstance(splits, (list, tuple)) else [splits] * n_models
    distinct, sets = _distinct(per_model)
    acc = np.full(n_models, np.nan)
    for k, split in enumerate(distinct):
        X, y = split.part(part)
        if X.shape[-1] == 0:
            continue
        models = np.flatnonzero(sets == k)
        acc[models] = network.accuracy({n: v[models] for n, v in params.items()}, X, y, arch)
    return acc


def run_batch(splits, arch, optimizer, optimizer_params, config, specs, engine="auto", probe=None):
    """Train every model of ``specs`` together on ``splits`` and evaluate it.

    splits : one Splits for every model, or a list of one Splits per model
        (each model trains and is evaluated on its own split).

    optimizer : a name from :data:`nnstudy.core.optimizers.OPTIMIZERS`.
    optimizer_params : its hyperparameters (beta, beta1, beta2, epsilon).
    config : a :class:`TrainConfig`.
    engine : the training engine, by name (see :func:`nnstudy.core.training.train`).
    probe : None, or raw 2-D grid points whose probabilities every record stores (see :func:`train_data`).
    Returns a :class:`BatchOutcome` with, per model, train / dev / test
    accuracy, the final regularized training cost, the steps trained and the
    epoch of the lowest dev cost (the record early stopping keeps). Diverged models report NaN accuracies.
    """
    if not specs:
        raise ValueError("a batch needs at least one model")
    if isinstance(splits, (list, tuple)) and len(splits) != len(specs):
        raise ValueError(f"{len(splits)} splits for {len(specs)} models")
    init_seeds, shuffle_seeds, dropout_seeds = zip(*(s.stream_seeds() for s in specs))
    params = initialize(
        arch.layer_sizes,
        [s.initializer for s in specs],
        init_seeds,
        [s.scale for s in specs],
        inputs=[s.X_train for s in splits] if isinstance(splits, (list, tuple)) else splits.X_train,
        hidden_activation=arch.hidden_activation,
    )
    with one_blas_thread():
        result = train(
            params,
            arch,
            make_optimizer(optimizer, **per_model_optimizer_params(optimizer_params, specs)),
            train_data(splits, probe),
            config,
            learning_rate=[s.learning_rate for s in specs],
            lambd=[s.lambd for s in specs],
            keep_prob=[s.keep_prob for s in specs],
            patience=[s.patience for s in specs],
            sampler=CounterSampler(shuffle_seeds, dropout_seeds),
            engine=engine,
        )
    diverged = result.status == "diverged"
    metrics = {}
    with np.errstate(all="ignore"):
        for part in ("train", "dev", "test"):
            acc = _accuracies(result.params, splits, part, arch)
            metrics[f"{part}_accuracy"] = np.where(diverged, np.nan, acc)
    metrics["final_cost"] = result.history["cost"][:, -1]
    steps = np.where(result.stop_step >= 0, result.stop_step, result.steps)
    metrics["steps"] = steps.astype(np.int64)
    metrics["best_epoch"] = (result.best_step // result.steps_per_epoch).astype(np.int64)
    metrics["stop_step"] = result.stop_step.astype(np.int64)
    return BatchOutcome(list(specs), result, metrics)
