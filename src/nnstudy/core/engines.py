"""The training engines behind one contract, and the choice between them.

An engine trains one chunk of models: it holds their parameters (``params``)
and optimizer state, and offers ``batches``, ``gradients``, ``update``,
``evaluate``, ``logits`` and ``last_gradients`` to the training loop
(:mod:`nnstudy.core.training`). Two engines exist:

- ``plain``, the reference: :func:`nnstudy.core.network.forward`,
  :func:`nnstudy.core.network.backward` and the optimizer as written. It runs
  everything the registries hold.
- ``fused``: the same arithmetic in place (:mod:`nnstudy.core.fused`), bit for
  bit the same numbers, several times faster, for what it has kernels for.

Each engine declares what it supports, in names of the registries
(:meth:`supports`), and says why it refuses a batch (:meth:`refusal`); both
come from the same predicates, so the declaration cannot drift from the check.
Asking an engine for something it does not support is an error naming it;
only the ``"auto"`` choice falls back, to the reference, and logs why.
"""

import logging
from dataclasses import dataclass

import numpy as np

from nnstudy.core import fused, network, optimizers, regularizers
from nnstudy.errors import ConfigError, check_choice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Support:
    """What an engine runs: registry names of each kind."""

    activations: frozenset
    outputs: frozenset
    optimizers: frozenset
    regularizers: frozenset


def settings_in_use(lambd, keep_prob, patience):
    """The regularizer settings (keys of ``regularizers.NEUTRAL``) some model of a batch uses.

    lambd, keep_prob, patience : (S,) arrays.
    """
    used = {"lambd": np.any(lambd > 0), "keep_prob": np.any(keep_prob < 1), "patience": np.any(patience > 0)}
    assert used.keys() == regularizers.NEUTRAL.keys()
    return frozenset(k for k, v in used.items() if v)


def per_model_settings(lambd, keep_prob, n_models):
    """The engines' (S, 1, 1) L2 strengths (None without L2) and keep probabilities."""
    lambd_b = network.per_model(lambd, n_models) if np.any(np.asarray(lambd) > 0) else None
    return lambd_b, network.per_model(keep_prob, n_models)


class _Engine:
    """What every engine declares; the predicates are overridden where an engine is narrower."""

    name = None
    # Which regularizer settings the engine carries out (all of them, for both engines).
    SETTINGS = frozenset(regularizers.NEUTRAL)

    @classmethod
    def runs_activation(cls, name):
        return name in network.ACTIVATIONS

    @classmethod
    def runs_output(cls, name):
        return name in network.OUTPUTS

    @classmethod
    def optimizer_refusal(cls, optimizer):
        """Why the engine cannot apply ``optimizer`` (a GradientTransformation) as written, or None."""
        return None

    @classmethod
    def supports(cls):
        """A :class:`Support` of the registry entries this engine runs, read from the registries now."""
        return Support(
            activations=frozenset(a for a in network.ACTIVATIONS if cls.runs_activation(a)),
            outputs=frozenset(o for o in network.OUTPUTS if cls.runs_output(o)),
            optimizers=frozenset(
                o for o in optimizers.OPTIMIZERS if cls.optimizer_refusal(optimizers.make_optimizer(o)) is None
            ),
            regularizers=frozenset(
                r for r, keys in regularizers.REGULARIZERS.items() if set(keys) <= cls.SETTINGS
            ),
        )

    @classmethod
    def refusal(cls, arch, optimizer, settings=frozenset()):
        """Why this engine cannot train ``arch`` with ``optimizer`` and ``settings``, or None.

        settings : regularizer settings in use (see :func:`settings_in_use`).
        """
        support = cls.supports()
        # Without a hidden layer the activation is never applied.
        if arch.n_layers > 1 and arch.hidden_activation not in support.activations:
            return _unsupported(cls, "hidden activation", arch.hidden_activation, support.activations)
        if arch.output not in support.outputs:
            return _unsupported(cls, "output", arch.output, support.outputs)
        why = cls.optimizer_refusal(optimizer)
        if why is not None:
            return f"engine {cls.name!r} does not support this optimizer: {why} (it supports: {', '.join(sorted(support.optimizers))})"
        if not settings <= cls.SETTINGS:
            return _unsupported(cls, "regularizer setting", sorted(settings - cls.SETTINGS), cls.SETTINGS)
        return None


def _unsupported(engine, kind, value, supported):
    return f"engine {engine.name!r} does not support {kind} {value!r} (it supports: {', '.join(sorted(supported))})"


class PlainEngine(_Engine):
    """The reference engine: network.forward / network.backward, the optimizer as written.

    Dropout comes as uniform draws, compared with the keep probability inside
    network.forward.
    """

    name = "plain"
    wants_masks = False

    def __init__(self, params, arch, optimizer, lambd=None, keep=None, n_train=None):
        self.arch = arch
        self.optimizer = optimizer
        self.lambd = lambd
        self.n_train = n_train
        self.keep = keep
        self.params = {k: v.copy() for k, v in params.items()}
        self.state = optimizer.init(self.params)
        self._grads = None

    @staticmethod
    def chunk_size(arch, width, n_models):
        """All models at once: the reference is written for clarity, not for the cache."""
        return n_models

    def batches(self, X, Y, order, batch_size):
        """(X_b, Y_b) pairs for one epoch: the whole set, or (S, n, b) mini-batches in ``order``."""
        if order is None:
            yield X, Y
            return
        m = order.shape[-1]
        for start in range(0, m, batch_size):
            idx = order[:, start : start + batch_size]
            if X.ndim == 2:
                yield np.moveaxis(X[:, idx], 1, 0), np.moveaxis(Y[:, idx], 1, 0)
            else:
                yield fused.gather_samples(X, idx).swapaxes(-1, -2), fused.gather_samples(Y, idx).swapaxes(-1, -2)

    def gradients(self, X, Y, uniforms=None):
        """Forward and backward on one batch; returns (S,) finite-logits flags."""
        keep = self.keep if uniforms is not None else None
        logits, cache = network.forward(self.params, X, self.arch, keep, uniforms)
        self._grads = network.backward(
            self.params, cache, logits, Y, self.arch, self.lambd, keep, self.n_train
        )
        return np.isfinite(logits).all(axis=(-2, -1))

    def last_gradients(self):
        """A copy of the gradients of the last :meth:`gradients` call, keyed like the parameters."""
        return {k: v.copy() for k, v in self._grads.items()}

    def update(self, rate, active=None):
        """Move every active model by ``-rate * direction``; the others keep their weights.

        active : (S,) booleans, None when all are.
        """
        directions, self.state = self.optimizer.update(self._grads, self.state)
        # A stopped model keeps its weights: 0 * a non-finite direction would be NaN.
        moved = optimizers.apply_updates(self.params, directions, rate)
        keep = np.ones((len(rate), 1, 1), dtype=bool) if active is None else active.reshape(-1, 1, 1)
        self.params = {k: np.where(keep, moved[k], self.params[k]) for k in self.params}

    def evaluate(self, X, Y):
        """(logits, grads) on the whole set ``X``, without dropout, L2 included."""
        logits, cache = network.forward(self.params, X, self.arch)
        return logits, network.backward(
            self.params, cache, logits, Y, self.arch, self.lambd, n_train=self.n_train
        )

    def logits(self, X):
        """Logits on ``X`` without dropout."""
        return network.forward(self.params, X, self.arch)[0]


class FusedEngine(_Engine):
    """One chunk of models trained with :class:`nnstudy.core.fused.FusedNetwork` passes.

    params : {"W1": (C, n_1, n_0), ...} initial parameters (copied).
    optimizer : an elementwise GradientTransformation: it is applied to the
        flat (C, size) gradient rows, which gives the numbers it would give
        layer by layer.
    lambd : None or (C, 1, 1) L2 strengths; keep : (C, 1, 1) keep probabilities.
    n_train : training-set size, which scales the L2 term of every batch.
    """

    name = "fused"
    wants_masks = True

    @classmethod
    def runs_activation(cls, name):
        return fused.hidden_kernel(name) is not None

    @classmethod
    def runs_output(cls, name):
        return fused.output_kernel(name) is not None

    @classmethod
    def optimizer_refusal(cls, optimizer):
        # One flat row per model gives the layer-by-layer numbers only for an elementwise update.
        return None if optimizer.elementwise else "it is not elementwise"

    @staticmethod
    def chunk_size(arch, width, n_models):
        """As many models as fit in the processor's cache (:func:`nnstudy.core.fused.chunk_size`)."""
        return fused.chunk_size(arch, width, n_models)

    def __init__(self, params, arch, optimizer, lambd=None, keep=None, n_train=None):
        self.arch = arch
        self.optimizer = optimizer
        self.layout = layout = fused.Layout(arch)
        self.flat = layout.pack(params)
        self.params = layout.views(self.flat)
        self.n_models = len(self.flat)
        self.grad_flat = np.zeros_like(self.flat)
        self.bound = fused.Bound(layout, self.flat, self.grad_flat, arch.n_layers)
        self.state = optimizer.init({"flat": self.flat})
        self.keep = keep
        self.lambd = None if lambd is None else lambd.reshape(-1, 1)
        self.n_train = n_train
        self._step = np.empty_like(self.flat)
        self._rate = self._rate_row = None
        self._weights = self.flat[:, : layout.n_weights]
        self._l2 = np.empty_like(self._weights)
        self._networks = {}
        self._eval_networks = {}
        self._eval_bound = None
        self._rows = {}

    def _network(self, width, keep, cache):
        net = cache.get(width)
        if net is None:
            net = cache[width] = fused.FusedNetwork(self.arch, self.n_models, width, keep)
        return net

    def batches(self, X, Y, order, batch_size):
        """(X_b, Y_b) pairs for one epoch: the whole set, or (C, n, b) mini-batches in ``order``.

        X, Y : shared (n, m) or per model (C, n, m). The epoch's samples are
        gathered once per model, as (C, m, n) rows, and each batch is a
        transposed slice. That is the memory layout of the plain engine's
        ``np.moveaxis(X[:, idx], 1, 0)``, and it matters: the layout decides
        which BLAS variant multiplies a batch, and with it the last bit of
        the gradients.
        """
        if order is None:
            yield X, Y
            return
        X_rows = fused.gather_rows(self._sample_rows(X), order)
        Y_rows = fused.gather_rows(self._sample_rows(Y), order)
        for start in range(0, order.shape[-1], batch_size):
            stop = start + batch_size
            yield X_rows[:, start:stop].transpose(0, 2, 1), Y_rows[:, start:stop].transpose(0, 2, 1)

    def _sample_rows(self, A):
        # The training data are the same arrays every epoch: transpose them once.
        kept = self._rows.get(id(A))
        if kept is None or kept[0] is not A:
            kept = self._rows[id(A)] = (A, fused.sample_rows(A))
        return kept[1]

    def _add_l2(self, grad_flat, width):
        # The reference adds lambd / n_train * W to each dW after its product.
        weight_grads = grad_flat[:, : self.layout.n_weights]
        np.multiply(self._weights, self.lambd / (self.n_train or width), out=self._l2)
        np.add(weight_grads, self._l2, out=weight_grads)

    def gradients(self, X, Y, masks=None):
        """Forward and backward on one batch.

        Returns None if every model's logits are finite, else (C,) flags.

        masks : None or boolean keep masks (C, n_l, b) per hidden layer.
        """
        width = X.shape[-1]
        net = self._networks.get(width) or self._network(width, self.keep, self._networks)
        net.forward(self.bound, X, masks)
        finite = net.finite()
        net.backward(self.bound, X.swapaxes(-1, -2), Y)
        if self.lambd is not None:
            self._add_l2(self.grad_flat, width)
        return finite

    def last_gradients(self):
        """A copy of the gradients of the last :meth:`gradients` call, keyed like the parameters."""
        return {k: v.copy() for k, v in self.bound.grads.items()}

    def update(self, rate, active=None):
        """Move every active model by ``-rate * direction``; the others keep their weights.

        rate : (C, 1, 1) learning rates; active : (C,) booleans, None when all are.
        """
        if rate is not self._rate:
            self._rate, self._rate_row = rate, rate.reshape(-1, 1)
        directions, self.state = self.optimizer.update({"flat": self.grad_flat}, self.state)
        np.multiply(directions["flat"], self._rate_row, out=self._step)
        if active is None:
            np.subtract(self.flat, self._step, out=self.flat)
        else:
            np.subtract(self.flat, self._step, out=self.flat, where=active[:, None])

    def evaluate(self, X, Y):
        """(logits, grads) on the whole set ``X``, without dropout, L2 included."""
        if self._eval_bound is None:
            self._eval_bound = fused.Bound(self.layout, self.flat, np.empty_like(self.flat), self.arch.n_layers)
        bound = self._eval_bound
        net = self._network(X.shape[-1], None, self._eval_networks)
        logits = net.forward(bound, X)
        net.backward(bound, X.swapaxes(-1, -2), Y)
        if self.lambd is not None:
            self._add_l2(bound.grad_flat, X.shape[-1])
        return logits, bound.grads

    def logits(self, X):
        """Logits on ``X`` without dropout (a forward pass only)."""
        net = self._network(X.shape[-1], None, self._eval_networks)
        return net.forward(self.bound, X, derivatives=False)


# Every engine a training step can take, by name; the gradient-check gate
# checks each one (nnstudy.study.grid.gradcheck_cell).
ENGINES = {"plain": PlainEngine, "fused": FusedEngine}

# What "auto" tries, fastest first; the reference runs everything, so the list always ends well.
AUTO_ORDER = ("fused", "plain")


def choose_engine(name, arch, optimizer, settings=frozenset()):
    """The engine class to train ``arch`` with ``optimizer`` and regularizer ``settings``.

    name : a key of :data:`ENGINES`, or "auto" for the first engine of
        :data:`AUTO_ORDER` that supports the batch (the choice is logged).
    Raises ConfigError naming what a named engine does not support.
    """
    check_choice("engine", name, [*ENGINES, "auto"])
    if name != "auto":
        reason = ENGINES[name].refusal(arch, optimizer, settings)
        if reason is not None:
            raise ConfigError(reason)
        return ENGINES[name]
    reasons = []
    for candidate in AUTO_ORDER:
        reason = ENGINES[candidate].refusal(arch, optimizer, settings)
        if reason is None:
            log.info("engine auto: %s%s", candidate, "".join(f"; {r}" for r in reasons))
            return ENGINES[candidate]
        reasons.append(reason)
    raise ConfigError("no engine supports this batch: " + "; ".join(reasons))


def step_gradients(engine_class, params, X, Y, arch, lambd, keep_prob, uniforms, n_train):
    """The gradients a training step of ``engine_class`` computes on one batch.

    Built as :func:`nnstudy.core.training.train` builds them: the engine's own
    forward and backward passes, its L2 term and its dropout (masks from
    ``uniforms`` for an engine that wants masks), so a gradient check of this
    function checks the code that trains.
    params : {"W1": (S, n_1, n_0), ...}; X (n_0, b); Y (n_L, b).
    lambd, keep_prob : (S,) arrays; uniforms : None or per hidden layer
        (S, n_l, b) draws; n_train : the training-set size.
    Raises ConfigError if the engine does not support ``arch``.
    """
    n_models = arch.check_params(params)
    gd = optimizers.identity()
    reason = engine_class.refusal(arch, gd)
    if reason is not None:
        raise ConfigError(reason)
    lambd_b, keep_b = per_model_settings(lambd, keep_prob, n_models)
    engine = engine_class(params, arch, gd, lambd_b, keep_b, n_train=n_train)
    dropout = None
    if uniforms is not None and np.any(np.asarray(keep_prob) < 1):
        dropout = [u < keep_b for u in uniforms] if engine.wants_masks else uniforms
    engine.gradients(X, Y, dropout)
    return engine.last_gradients()
