"""The training loop: S models trained together, each with its own state.

One code path covers full-batch and mini-batch training, every optimizer,
L2, dropout and early stopping. Per-model quantities (learning rate, L2
strength, keep probability, patience) are arrays along the model axis, so a
step never loops over models. A model whose cost becomes non-finite is marked
``diverged`` and frozen; the rest of its batch goes on.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from nnstudy import network, rng
from nnstudy.errors import invalid
from nnstudy.optimizers import apply_updates
from nnstudy.schedules import check_schedule, learning_rate_at

STATUSES = ("ok", "diverged", "stopped_early")
HISTORY_KEYS = ("cost", "train_accuracy", "dev_cost", "dev_accuracy", "grad_norm", "weight_norm")


def _positive_int(value):
    # int() of inf or NaN raises its own unhelpful error, so test finiteness first.
    return value >= 1 and math.isfinite(value) and int(value) == value


@dataclass(frozen=True)
class TrainConfig:
    """What is shared by every model of a batch.

    batch_size None (or >= m) means full-batch training without shuffling;
    otherwise mini-batches from a fresh permutation every epoch, the last
    partial batch kept. History is recorded every ``eval_every`` steps.
    """

    epochs: int
    batch_size: int | None = None
    schedule: str = "constant"
    decay_rate: float = 0.0
    decay_interval: int = 1
    eval_every: int = 100

    def __post_init__(self):
        if not _positive_int(self.epochs):
            raise invalid("epochs", self.epochs, "a positive integer")
        if self.batch_size is not None and not _positive_int(self.batch_size):
            raise invalid("batch_size", self.batch_size, "a positive integer or None")
        if not _positive_int(self.eval_every):
            raise invalid("eval_every", self.eval_every, "a positive integer")
        check_schedule(self.schedule, self.decay_rate, self.decay_interval)


@dataclass(frozen=True)
class TrainData:
    """Training inputs (n_0, m), targets (n_L, m) and labels (m,); optional dev split."""

    X: np.ndarray
    Y: np.ndarray
    y: np.ndarray
    X_dev: np.ndarray | None = None
    Y_dev: np.ndarray | None = None
    y_dev: np.ndarray | None = None


@dataclass
class TrainResult:
    """Final parameters, history and outcome of every model of a batch.

    history : "step" (R,), and per model (S, R) arrays "cost" (regularized,
        full training set), "train_accuracy", "dev_cost", "dev_accuracy",
        plus (S, R, L) per-layer "grad_norm" (full-batch gradient, no
        dropout) and "weight_norm" (Frobenius norms).
    status : (S,) one of STATUSES; stop_step (S,) the step at which a model
        diverged or stopped early (-1 otherwise); best_step (S,) the recorded
        step with the best dev accuracy (train accuracy without a dev split).
    """

    params: dict
    history: dict
    status: np.ndarray
    stop_step: np.ndarray
    best_step: np.ndarray
    steps: int
    steps_per_epoch: int
    wall_time: float = field(default=0.0)


class CounterSampler:
    """Mini-batch orders and dropout draws from each model's own seed."""

    def __init__(self, seeds):
        self.shuffle_keys = rng.stream_keys(seeds, "shuffle")
        self.dropout_keys = rng.stream_keys(seeds, "dropout")

    def order(self, epoch, m):
        """(S, m) permutation of the samples for ``epoch``."""
        return rng.counter_permutations(self.shuffle_keys, epoch, m)

    def uniforms(self, step, shapes):
        """Per hidden layer, (S, n_l, m_batch) uniform draws for ``step``."""
        # 64 counters per step leave room for any depth up to 64 layers.
        return [
            rng.counter_uniform(self.dropout_keys, step * 64 + l, shape)
            for l, shape in enumerate(shapes)
        ]


def _norms(arrays, arch, prefix="W"):
    return np.stack(
        [np.sqrt((arrays[f"{prefix}{l}"] ** 2).sum(axis=(-2, -1))) for l in range(1, arch.n_layers + 1)],
        axis=-1,
    )


def _batches(X, Y, order, batch_size):
    """Yield (X_b, Y_b) mini-batches, (S, n, b) each, following ``order`` (S, m)."""
    m = order.shape[-1]
    for start in range(0, m, batch_size):
        idx = order[:, start : start + batch_size]
        yield np.moveaxis(X[:, idx], 1, 0), np.moveaxis(Y[:, idx], 1, 0)


def train(
    params,
    arch,
    optimizer,
    data,
    config,
    *,
    learning_rate,
    lambd=0.0,
    keep_prob=1.0,
    patience=0,
    seeds=None,
    sampler=None,
):
    """Train S models together and return a :class:`TrainResult`.

    params : initial parameters, {"W1": (S, n_1, n_0), ...} (not modified).
    optimizer : a GradientTransformation from :mod:`nnstudy.optimizers`.
    data : TrainData, shared by all models.
    learning_rate, lambd, keep_prob : scalars or (S,) arrays.
    patience : scalar or (S,) ints; > 0 enables early stopping on the dev
        cost after that many records without improvement (needs a dev split),
        restoring the best recorded weights.
    seeds : (S,) ints for the default :class:`CounterSampler`, or give
        ``sampler`` (an object with ``order`` and ``uniforms``) directly.
    """
    n_models = arch.check_params(params)
    arch.check_inputs(data.X, data.Y)
    learning_rate = np.broadcast_to(np.asarray(learning_rate, dtype=float), (n_models,))
    if not np.all((learning_rate > 0) & np.isfinite(learning_rate)):
        raise invalid("learning_rate", learning_rate.tolist(), "positive finite numbers")
    lambd = np.broadcast_to(np.asarray(lambd, dtype=float), (n_models,))
    if not np.all((lambd >= 0) & np.isfinite(lambd)):
        raise invalid("lambd", lambd.tolist(), "non-negative finite numbers")
    keep_prob = np.broadcast_to(np.asarray(keep_prob, dtype=float), (n_models,))
    if not np.all((keep_prob > 0) & (keep_prob <= 1)):
        raise invalid("keep_prob", keep_prob.tolist(), "numbers in (0, 1]")
    patience = np.broadcast_to(np.asarray(patience, dtype=int), (n_models,))
    if np.any(patience < 0) or (np.any(patience > 0) and data.X_dev is None):
        raise invalid("patience", patience.tolist(), "non-negative ints, and a dev split to use them")
    if sampler is None:
        if seeds is None or len(seeds) != n_models:
            raise invalid("seeds", seeds, f"{n_models} seeds, one per model")
        sampler = CounterSampler(seeds)

    m = data.X.shape[-1]
    full_batch = config.batch_size is None or config.batch_size >= m
    batch_size = m if full_batch else config.batch_size
    steps_per_epoch = math.ceil(m / batch_size)
    total_steps = config.epochs * steps_per_epoch
    lr0 = learning_rate.reshape(-1, 1, 1)
    lambd_b = network.per_model(lambd, n_models) if np.any(lambd > 0) else None
    keep_b = network.per_model(keep_prob, n_models)
    use_dropout = bool(np.any(keep_prob < 1))
    hidden_sizes = arch.layer_sizes[1:-1]

    active = np.ones(n_models, dtype=bool)
    status = np.array(["ok"] * n_models, dtype="<U13")
    stop_step = np.full(n_models, -1)
    early = patience > 0
    best_dev_cost = np.full(n_models, np.inf)
    stale = np.zeros(n_models, dtype=int)
    best_params = {k: v.copy() for k, v in params.items()} if early.any() else None

    record_steps = list(range(0, total_steps + 1, config.eval_every))
    if record_steps[-1] != total_steps:
        record_steps.append(total_steps)
    n_records = len(record_steps)
    n_layers = arch.n_layers
    history = {
        "step": np.array(record_steps),
        **{k: np.full((n_models, n_records), np.nan) for k in HISTORY_KEYS[:4]},
        "grad_norm": np.full((n_models, n_records, n_layers), np.nan),
        "weight_norm": np.full((n_models, n_records, n_layers), np.nan),
    }

    def record(r, step):
        logits, cache = network.forward(params, data.X, arch)
        grads = network.backward(params, cache, logits, data.Y, arch, lambd_b)
        cost = network.data_loss(logits, data.Y, arch) + network.l2_penalty(params, lambd, m)
        history["cost"][:, r] = cost
        history["train_accuracy"][:, r] = (
            network.OUTPUTS[arch.output][2](logits) == data.y
        ).mean(axis=-1)
        history["grad_norm"][:, r] = _norms(grads, arch)
        history["weight_norm"][:, r] = _norms(params, arch)
        if data.X_dev is not None:
            dev_logits, _ = network.forward(params, data.X_dev, arch)
            dev_cost = network.data_loss(dev_logits, data.Y_dev, arch)
            history["dev_cost"][:, r] = dev_cost
            history["dev_accuracy"][:, r] = (
                network.OUTPUTS[arch.output][2](dev_logits) == data.y_dev
            ).mean(axis=-1)
        newly = active & ~np.isfinite(cost)
        _mark_diverged(newly, step)
        if early.any():
            _early_stopping(step, dev_cost)
        for key in HISTORY_KEYS:
            history[key][status == "diverged", r] = np.nan

    def _mark_diverged(newly, step):
        if newly.any():
            active[newly] = False
            status[newly] = "diverged"
            stop_step[newly] = step

    def _early_stopping(step, dev_cost):
        watching = early & active
        improved = watching & (dev_cost < best_dev_cost)
        best_dev_cost[improved] = dev_cost[improved]
        stale[improved] = 0
        stale[watching & ~improved] += 1
        for k in params:
            best_params[k][improved] = params[k][improved]
        stopping = watching & (stale >= patience)
        active[stopping] = False
        status[stopping] = "stopped_early"
        stop_step[stopping] = step

    start = time.perf_counter()
    step, r = 0, 0
    state = optimizer.init(params)
    # Diverging models overflow by design; their status reports it instead.
    with np.errstate(all="ignore"):
        record(r, step)
        r += 1
        for epoch in range(config.epochs):
            if not active.any():
                break
            rate = learning_rate_at(
                config.schedule, lr0, epoch, config.decay_rate, config.decay_interval
            )
            if full_batch:
                batches = [(data.X, data.Y)]
            else:
                batches = _batches(data.X, data.Y, sampler.order(epoch, m), batch_size)
            for X_b, Y_b in batches:
                uniforms = None
                if use_dropout:
                    b = X_b.shape[-1]
                    uniforms = sampler.uniforms(step, [(n, b) for n in hidden_sizes])
                logits, cache = network.forward(params, X_b, arch, keep_b, uniforms)
                _mark_diverged(active & ~np.isfinite(logits).all(axis=(-2, -1)), step)
                grads = network.backward(params, cache, logits, Y_b, arch, lambd_b, keep_b)
                directions, state = optimizer.update(grads, state)
                # A stopped model keeps its weights: 0 * a non-finite direction would be NaN.
                moved = apply_updates(params, directions, rate)
                params = {k: np.where(active.reshape(-1, 1, 1), moved[k], params[k]) for k in params}
                step += 1
                if r < n_records and step == record_steps[r]:
                    record(r, step)
                    r += 1
        # Models stopped before the end keep their last values in the history,
        # exactly what recording them frozen would have given.
        for key in HISTORY_KEYS:
            for rr in range(r, n_records):
                history[key][:, rr] = history[key][:, r - 1]
    if best_params is not None:
        for k in params:
            params[k][early] = best_params[k][early]

    reference = history["dev_accuracy"] if data.X_dev is not None else history["train_accuracy"]
    filled = np.where(np.isnan(reference), -np.inf, reference)
    best_step = history["step"][np.argmax(filled, axis=1)]
    return TrainResult(
        params=params,
        history=history,
        status=status,
        stop_step=stop_step,
        best_step=best_step,
        steps=step,
        steps_per_epoch=steps_per_epoch,
        wall_time=time.perf_counter() - start,
    )
