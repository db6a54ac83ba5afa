"""The training loop: S models trained together, each with its own state.

Long module: the loop, the per-chunk standing of its models and the history it
records change together; the engines and the batch draws live apart.

One code path covers full-batch and mini-batch training, every optimizer,
L2, dropout and early stopping. Per-model quantities (learning rate, L2
strength, keep probability, patience) are arrays along the model axis, so a
step never loops over models. A model that diverges (see
:func:`diverging`) is marked ``diverged`` at that step and frozen; the rest of
its batch goes on.

Models never interact, so the batch is trained in chunks of models sized to
stay in the processor's cache. Each chunk runs one engine
(:mod:`nnstudy.core.engines`): the plain engine is the reference, the fused
engine gives the same numbers several times faster. The ``engine`` argument
of :func:`train` chooses one by name, or "auto" for the fastest that
supports the batch.
"""

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from nnstudy.core import batches, engines, network, snapshots
from nnstudy.errors import invalid
from nnstudy.core.schedules import check_schedule, learning_rate_at

# Progress lines per chunk of models, logged only at history records (where
# the loop stops anyway), so that logging never touches the training steps.
PROGRESS_LINES = 10

log = logging.getLogger(__name__)

STATUSES = ("ok", "diverged", "stopped_early")
HISTORY_KEYS = ("cost", "train_accuracy", "dev_cost", "dev_accuracy", "grad_norm", "weight_norm")


# The divergence rule. A run has diverged at the first step where its logits
# are non-finite, or at the first record (every ``eval_every`` steps) where
# its regularized training cost exceeds DIVERGENCE_COST_FACTOR times the
# larger of its initial cost and 1, or where the Frobenius norm of any weight
# matrix exceeds DIVERGENCE_WEIGHT_NORM. A run that converges never comes
# near either bound: the cost of a trained network is below its initial cost,
# and the largest initial weights of the study (random x10, 64 x 32) have a
# norm of about 450. A run whose learning rate is far too large crosses them
# within a few steps, long before its numbers overflow.
DIVERGENCE_COST_FACTOR = 1e3
DIVERGENCE_WEIGHT_NORM = 1e4


def diverging(cost, initial_cost, weight_norms):
    """(S,) flags: which models have diverged by the rule above.

    cost, initial_cost : (S,) regularized training costs now and at step 0.
    weight_norms : (S, L) Frobenius norms of the weight matrices now.
    """
    ceiling = DIVERGENCE_COST_FACTOR * np.maximum(initial_cost, 1.0)
    return (
        ~np.isfinite(cost)
        | (cost > ceiling)
        | ~(weight_norms <= DIVERGENCE_WEIGHT_NORM).all(axis=-1)
    )


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
    """Training inputs, targets and labels, and an optional dev split.

    Shared by every model: X (n_0, m), Y (n_L, m), y (m,). Or several sets
    of equal sizes, when models train on different splits: X (K, n_0, m),
    Y (K, n_L, m), y (K, m), and ``sets`` (S,) the set of each model (None:
    set s is model s's). The dev arrays follow the training arrays' layout.
    Many models share a set (every initializer of a seed), so the sets are
    stored once and a chunk of models gets its own copy only while it trains.
    X_probe (n_0, P), or (K, n_0, P) like X: optional grid points whose
    output probabilities every record stores (:mod:`nnstudy.core.snapshots`).
    """

    X: np.ndarray
    Y: np.ndarray
    y: np.ndarray
    X_dev: np.ndarray | None = None
    Y_dev: np.ndarray | None = None
    y_dev: np.ndarray | None = None
    sets: np.ndarray | None = None
    X_probe: np.ndarray | None = None

    @property
    def per_model(self):
        """Whether models have their own samples (a leading set axis)."""
        return self.X.ndim == 3

    def n_models(self):
        """How many models the per-model data serve (None when shared)."""
        if not self.per_model:
            return None
        return len(self.sets) if self.sets is not None else self.X.shape[0]

    def subset(self, index):
        """The data of models ``index``: itself when shared, one set per model otherwise."""
        if not self.per_model:
            return self
        rows = index if self.sets is None else np.asarray(self.sets)[index]
        return TrainData(*(None if a is None else a[rows] for a in (
            self.X, self.Y, self.y, self.X_dev, self.Y_dev, self.y_dev)),
            X_probe=None if self.X_probe is None else self.X_probe[rows])


@dataclass
class TrainResult:
    """Final parameters, history and outcome of every model of a batch.

    history : "step" (R,), and per model (S, R) arrays "cost" (regularized,
        full training set), "train_accuracy", "dev_cost", "dev_accuracy",
        plus (S, R, L) per-layer "grad_norm" (full-batch gradient, no
        dropout) and "weight_norm" (Frobenius norms); with grid points
        (``TrainData.X_probe``) also (S, R, P) "boundary" probabilities.
    status : (S,) one of STATUSES; stop_step (S,) the step at which a model
        diverged or stopped early (-1 otherwise); best_step (S,) the recorded
        step with the lowest dev cost, the record early stopping keeps (training
        cost without a dev split).
    """

    params: dict
    history: dict
    status: np.ndarray
    stop_step: np.ndarray
    best_step: np.ndarray
    steps: int
    steps_per_epoch: int
    wall_time: float = field(default=0.0)


def _norms(arrays, arch, prefix="W"):
    return np.stack(
        [np.sqrt((arrays[f"{prefix}{l}"] ** 2).sum(axis=(-2, -1))) for l in range(1, arch.n_layers + 1)],
        axis=-1,
    )


@dataclass
class _Schedule:
    """What every chunk of a batch shares: data, budget, records."""

    data: TrainData
    config: TrainConfig
    arch: object
    full_batch: bool
    batch_size: int
    record_steps: list


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
    engine="auto",
):
    """Train S models together and return a :class:`TrainResult`.

    params : initial parameters, {"W1": (S, n_1, n_0), ...} (not modified).
    optimizer : a GradientTransformation from :mod:`nnstudy.core.optimizers`.
    data : TrainData, shared by all models or one set per model.
    learning_rate, lambd, keep_prob : scalars or (S,) arrays.
    patience : scalar or (S,) ints; > 0 enables early stopping on the dev
        cost after that many records without improvement (needs a dev split),
        restoring the best recorded weights.
    seeds : (S,) ints for the default :class:`~nnstudy.core.batches.CounterSampler`, or give
        ``sampler`` (an object with ``order`` and ``uniforms``) directly.
    engine : a name of :data:`nnstudy.core.engines.ENGINES`, or "auto" for
        the fastest engine that supports the architecture, optimizer and
        regularizers (the choice is logged). A named engine that does not
        support them raises ConfigError.
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
        sampler = batches.CounterSampler(seeds)
    if data.per_model and data.n_models() != n_models:
        raise invalid("data.sets", data.n_models(), f"{n_models}: one set per model")
    if optimizer.n_models is not None and optimizer.n_models != n_models:
        raise invalid("optimizer hyperparameters", f"{optimizer.n_models} per-model values", f"{n_models}, one per model")
    settings = engines.settings_in_use(lambd, keep_prob, patience)
    engine_class = engines.choose_engine(engine, arch, optimizer, settings)

    m = data.X.shape[-1]
    full_batch = config.batch_size is None or config.batch_size >= m
    batch_size = m if full_batch else config.batch_size
    steps_per_epoch = batches.steps_per_epoch(m, config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    record_steps = list(range(0, total_steps + 1, config.eval_every))
    if record_steps[-1] != total_steps:
        record_steps.append(total_steps)
    n_records = len(record_steps)
    history = {"step": np.array(record_steps), **_empty_history(n_models, n_records, arch.n_layers, data)}
    status = np.array(["ok"] * n_models, dtype="<U13")
    stop_step = np.full(n_models, -1)
    final = {k: np.empty(np.shape(v)) for k, v in params.items()}
    schedule = _Schedule(data, config, arch, full_batch, batch_size, record_steps)

    # A sampler without ``subset`` cannot hand a chunk its models' draws.
    size = engine_class.chunk_size(arch, batch_size, n_models) if hasattr(sampler, "subset") else n_models
    chunks = np.array_split(np.arange(n_models), math.ceil(n_models / size))

    start = time.perf_counter()
    steps = 0
    for number, index in enumerate(chunks, 1):
        part = {
            "data": schedule.data.subset(index),
            "params": {k: np.asarray(v, dtype=float)[index] for k, v in params.items()},
            "learning_rate": learning_rate[index],
            "lambd": lambd[index],
            "keep_prob": keep_prob[index],
            "patience": patience[index],
            "sampler": sampler if len(chunks) == 1 else sampler.subset(index),
        }
        label = f"models {index[0] + 1}-{index[-1] + 1} of {n_models} (chunk {number} of {len(chunks)})"
        chunk_optimizer = optimizer if len(chunks) == 1 else optimizer.for_models(index)
        outcome = _train_chunk(engine_class, chunk_optimizer, schedule, label=label, **part)
        for k in final:
            final[k][index] = outcome["params"][k]
        for k in outcome["history"]:
            history[k][index] = outcome["history"][k]
        status[index] = outcome["status"]
        stop_step[index] = outcome["stop_step"]
        steps = max(steps, outcome["steps"])

    # The best record is the one early stopping keeps: lowest dev cost (training cost without a dev split).
    reference = history["dev_cost"] if data.X_dev is not None else history["cost"]
    filled = np.where(np.isnan(reference), np.inf, reference)
    best_step = history["step"][np.argmin(filled, axis=1)]
    return TrainResult(
        params=final,
        history=history,
        status=status,
        stop_step=stop_step,
        best_step=best_step,
        steps=steps,
        steps_per_epoch=steps_per_epoch,
        wall_time=time.perf_counter() - start,
    )


def _progress_records(n_records):
    """Indexes of the records after which a chunk logs its progress (the last one included)."""
    last = n_records - 1
    return {math.ceil(k * last / PROGRESS_LINES) for k in range(1, PROGRESS_LINES + 1)} - {0}


def _log_progress(label, step, total_steps, started, history, r, status):
    """One line: how far the chunk is, how its models do, how many left the race."""
    accuracy = history["dev_accuracy"][:, r]
    if np.isnan(accuracy).all():
        accuracy = history["train_accuracy"][:, r]
    finite = accuracy[np.isfinite(accuracy)]
    median = f"{np.median(finite):.3f}" if finite.size else "n/a"
    log.info(
        "%s: step %d of %d (%.0f%%) after %.1f s; median accuracy %s; %d diverged, %d stopped early",
        label, step, total_steps, 100.0 * step / max(total_steps, 1), time.perf_counter() - started,
        median, np.sum(status == "diverged"), np.sum(status == "stopped_early"),
    )


def _empty_history(n_models, n_records, n_layers, data):
    """NaN-filled per-model records of every key of HISTORY_KEYS, and of the snapshots ``data`` asks for."""
    return {
        **{k: np.full((n_models, n_records), np.nan) for k in HISTORY_KEYS[:4]},
        "grad_norm": np.full((n_models, n_records, n_layers), np.nan),
        "weight_norm": np.full((n_models, n_records, n_layers), np.nan),
        **snapshots.empty(data, n_models, n_records),
    }


@dataclass
class _Standing:
    """Where each model of a chunk stands: training, diverged or stopped early; early stopping's memory.

    Arrays are (C,) along the chunk's models. ``all_active`` is
    ``active.all()``, kept up to date where ``active`` changes, so that a
    step does not recompute it. best_params holds the weights of each model's
    best record (None without early stopping).
    """

    active: np.ndarray
    status: np.ndarray
    stop_step: np.ndarray
    patience: np.ndarray
    initial_cost: np.ndarray
    best_dev_cost: np.ndarray
    stale: np.ndarray
    best_params: dict | None
    all_active: bool = True

    @classmethod
    def start(cls, patience, params):
        n_models = len(patience)
        early = patience > 0
        return cls(
            active=np.ones(n_models, dtype=bool),
            status=np.array(["ok"] * n_models, dtype="<U13"),
            stop_step=np.full(n_models, -1),
            patience=patience,
            initial_cost=np.full(n_models, np.nan),
            best_dev_cost=np.full(n_models, np.inf),
            stale=np.zeros(n_models, dtype=int),
            best_params={k: v.copy() for k, v in params.items()} if early.any() else None,
        )

    def stop(self, which, step, status):
        """Stop models ``which`` ((C,) flags) at ``step`` with ``status``."""
        self.active[which] = False
        self.all_active = bool(self.active.all())
        self.status[which] = status
        self.stop_step[which] = step

    def mark_diverged(self, newly, step):
        if newly.any():
            self.stop(newly, step, "diverged")

    def watch_dev_cost(self, dev_cost, step, params):
        """Early stopping at a record: keep improved weights, stop models out of patience."""
        watching = (self.patience > 0) & self.active
        improved = watching & (dev_cost < self.best_dev_cost)
        self.best_dev_cost[improved] = dev_cost[improved]
        self.stale[improved] = 0
        self.stale[watching & ~improved] += 1
        for k in self.best_params:
            self.best_params[k][improved] = params[k][improved]
        self.stop(watching & (self.stale >= self.patience), step, "stopped_early")

    def final_params(self, params):
        """A copy of ``params``, with the best recorded weights of every early-stopping model."""
        final = {k: v.copy() for k, v in params.items()}
        if self.best_params is not None:
            early = self.patience > 0
            for k in final:
                final[k][early] = self.best_params[k][early]
        return final


def _record(engine, data, arch, lambd, history, r, step, standing):
    """Write record ``r`` (after ``step`` steps) of a chunk's models, then apply the stopping rules.

    lambd : (C,) L2 strengths, for the regularized training cost.
    """
    m = data.X.shape[-1]
    params = engine.params
    predict = network.OUTPUTS[arch.output][2]
    logits, grads = engine.evaluate(data.X, data.Y)
    cost = network.data_loss(logits, data.Y, arch) + network.l2_penalty(params, lambd, m)
    history["cost"][:, r] = cost
    history["train_accuracy"][:, r] = (predict(logits) == data.y).mean(axis=-1)
    history["grad_norm"][:, r] = _norms(grads, arch)
    weight_norms = history["weight_norm"][:, r] = _norms(params, arch)
    if r == 0:
        standing.initial_cost[:] = cost
    if data.X_dev is not None:
        dev_logits = engine.logits(data.X_dev)
        dev_cost = network.data_loss(dev_logits, data.Y_dev, arch)
        history["dev_cost"][:, r] = dev_cost
        history["dev_accuracy"][:, r] = (predict(dev_logits) == data.y_dev).mean(axis=-1)
    snapshots.record(engine, data, arch, history, r)
    standing.mark_diverged(standing.active & diverging(cost, standing.initial_cost, weight_norms), step)
    if standing.best_params is not None:
        standing.watch_dev_cost(dev_cost, step, engine.params)
    for key in history:
        history[key][standing.status == "diverged", r] = np.nan


def _dropout_draws(engine, sampler, step, width, hidden_sizes, keep_prob, keep_b):
    """The dropout draws of ``step`` in the form ``engine`` takes: keep masks or uniforms.

    keep_prob : (C,) keep probabilities; keep_b : the same as (C, 1, 1).
    """
    shapes = [(n, width) for n in hidden_sizes]
    if engine.wants_masks and hasattr(sampler, "keep_masks"):
        return sampler.keep_masks(step, shapes, keep_prob)
    uniforms = sampler.uniforms(step, shapes)
    return [u < keep_b for u in uniforms] if engine.wants_masks else uniforms


def _hold_after_stop(history, r, status):
    """Fill the records from ``r`` on, which a chunk whose models all stopped did not reach.

    Each model keeps its last values, exactly what recording it frozen would
    have given: a stopped model's record repeats, a diverged model's is NaN.
    """
    for key in history:
        for later in range(r, history[key].shape[1]):
            history[key][:, later] = history[key][:, r - 1]
        history[key][status == "diverged", r:] = np.nan


def _train_chunk(engine_class, optimizer, schedule, *, data, params, learning_rate, lambd,
                 keep_prob, patience, sampler, label="models"):
    """Train some models of a batch (all of them, or one chunk, with its data) from start to end.

    ``label`` names the chunk in the progress lines logged to ``nnstudy.core.training``.

    Returns a dict with their final params, history (without "step"),
    status, stop_step and the number of steps taken.
    """
    config, arch, record_steps = schedule.config, schedule.arch, schedule.record_steps
    n_models, n_records, total_steps = len(learning_rate), len(record_steps), record_steps[-1]
    m = data.X.shape[-1]
    lr0 = learning_rate.reshape(-1, 1, 1)
    lambd_b, keep_b = engines.per_model_settings(lambd, keep_prob, n_models)
    use_dropout = bool(np.any(keep_prob < 1))
    engine = engine_class(params, arch, optimizer, lambd_b, keep_b, n_train=m)
    standing = _Standing.start(patience, engine.params)
    history = _empty_history(n_models, n_records, arch.n_layers, data)

    started = time.perf_counter()
    progress = _progress_records(n_records) if log.isEnabledFor(logging.INFO) else set()
    step, r = 0, 0
    # Diverging models overflow by design; their status reports it instead.
    with np.errstate(all="ignore"):
        _record(engine, data, arch, lambd, history, r, step, standing)
        r += 1
        for epoch in range(config.epochs):
            if not standing.active.any():
                if progress:
                    _log_progress(label, step, total_steps, started, history, r - 1, standing.status)
                break
            rate = learning_rate_at(config.schedule, lr0, epoch, config.decay_rate, config.decay_interval)
            order = None if schedule.full_batch else sampler.order(epoch, m)
            for X_b, Y_b in engine.batches(data.X, data.Y, order, schedule.batch_size):
                dropout = None
                if use_dropout:
                    dropout = _dropout_draws(
                        engine, sampler, step, X_b.shape[-1], arch.layer_sizes[1:-1], keep_prob, keep_b
                    )
                finite = engine.gradients(X_b, Y_b, dropout)
                if finite is not None and not finite.all():
                    standing.mark_diverged(standing.active & ~finite, step)
                engine.update(rate, None if standing.all_active else standing.active)
                step += 1
                if r < n_records and step == record_steps[r]:
                    _record(engine, data, arch, lambd, history, r, step, standing)
                    if r in progress:
                        _log_progress(label, step, total_steps, started, history, r, standing.status)
                    r += 1
        _hold_after_stop(history, r, standing.status)
    return {
        "params": standing.final_params(engine.params),
        "history": history,
        "status": standing.status,
        "stop_step": standing.stop_step,
        "steps": step,
    }
