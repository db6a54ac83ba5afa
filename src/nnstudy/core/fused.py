"""The training step without the overhead: forward, backward and update in place.

:func:`nnstudy.core.network.forward` and :func:`nnstudy.core.network.backward` are the
readable reference; a training step built from them spends most of its time
allocating temporaries and dispatching small NumPy calls. This module performs
the same floating-point operations, on the same operands, in the same order,
but into buffers allocated once per chunk of models, and with all parameters
(and all gradients) of a model in one flat row so that an optimizer update is
a handful of calls for every layer at once. The results are bit for bit those
of the reference (``tests/test_fastpath.py``), with one licence: an outer
product ``(n, 1) @ (1, m)`` is computed by broadcasting instead of NumPy's
non-BLAS matmul loop, which is many times slower; the two differ at most in
the sign of an exact zero, which no later operation can turn into a nonzero
difference.

Matrix products stay ``np.matmul`` calls on stacks of per-model matrices,
exactly as in the reference: NumPy then calls BLAS once per model with that
model's shapes, so a model's numbers never depend on how many models share
the stack (one large product over all models would be faster but is not
bit-identical: BLAS blocks it differently).

Relu layers keep one boolean array ``A > 0`` per layer. It is the derivative
of relu (``A > 0`` exactly where ``Z > 0``, NaN included), and under dropout
it is and-ed with the keep mask: multiplying by it gives the same numbers as
multiplying by the mask and then by the derivative, as the reference does.
"""

import numpy as np

from nnstudy.core import basics


# Bytes of step buffers per chunk of models. Measured (bench/README.md, "The
# knee"): the cost per model-step falls as a chunk grows, since NumPy's call
# overhead is shared by more models, until the chunk's buffers reach about
# 2-3 MiB (the per-core L2 cache is 2 MiB), and rises beyond.
CHUNK_BYTES = 2 << 20


def working_set(arch, width):
    """Bytes one model touches in a training step on ``width`` samples."""
    hidden = sum(arch.layer_sizes[1:-1])
    n_params = sum(int(np.prod(s)) for s in arch.parameter_shapes.values())
    # A, dZ (and the relu/tanh derivative) per hidden unit; logits, dZ and
    # temporaries at the output; inputs; parameters, gradients, optimizer state.
    per_sample = hidden * 17 + arch.layer_sizes[-1] * 24 + 24 + arch.layer_sizes[0] * 8
    return per_sample * width + n_params * 8 * 6


def chunk_size(arch, width, n_models):
    """How many models to train together: as many as fit in :data:`CHUNK_BYTES`."""
    return int(max(1, min(n_models, CHUNK_BYTES // working_set(arch, width))))


def gather_samples(X, order):
    """The samples of every model in its own ``order``, one sample per row: (S, k, n).

    X : (n, m) shared or (S, n, m) per model; order : (S, k) sample indices.
    The rows are contiguous, whatever the layout of ``X``, so that a
    model's mini-batches reach BLAS in the same layout in both engines.
    """
    if X.ndim == 2:
        return X.T[order]
    return np.ascontiguousarray(np.take_along_axis(X.swapaxes(-1, -2), order[:, :, None], axis=1))


class Layout:
    """Where each parameter lives in a model's flat row: every W, then every b.

    Keeping the weights in one block makes the L2 term a single operation.
    """

    def __init__(self, arch):
        shapes = arch.parameter_shapes
        names = [n for n in shapes if n[0] == "W"] + [n for n in shapes if n[0] == "b"]
        self.shapes = shapes
        self.offsets = {}
        offset = 0
        for name in names:
            size = int(np.prod(shapes[name]))
            self.offsets[name] = (offset, offset + size)
            offset += size
        self.size = offset
        self.n_weights = self.offsets[f"W{arch.n_layers}"][1]

    def views(self, flat):
        """``{"W1": (C, n_1, n_0) view, "b1": ..., ...}`` of ``flat`` (C, size), in parameter order."""
        return {
            name: flat[:, slice(*self.offsets[name])].reshape(flat.shape[0], *shape)
            for name, shape in self.shapes.items()
        }

    def pack(self, params):
        """A new (C, size) array holding ``params``."""
        n_models = next(iter(params.values())).shape[0]
        flat = np.empty((n_models, self.size))
        for name, view in self.views(flat).items():
            view[...] = params[name]
        return flat


class Bound:
    """Per-layer views of one parameter row buffer and one gradient row buffer.

    Bound once, so that a step only indexes lists: W[l], b[l], W_T[l] (the
    transposes), dW[l], and db_all, every bias gradient as one (C, units) view.
    """

    def __init__(self, layout, flat, grad_flat, n_layers):
        P = layout.views(flat)
        G = layout.views(grad_flat)
        layers = range(1, n_layers + 1)
        self.W = [None] + [P[f"W{l}"] for l in layers]
        self.b = [None] + [P[f"b{l}"] for l in layers]
        self.W_T = [None] + [w.swapaxes(-1, -2) for w in self.W[1:]]
        self.dW = [None] + [G[f"W{l}"] for l in layers]
        self.db_all = grad_flat[:, layout.n_weights :]
        self.grad_flat = grad_flat
        self.grads = G


class FusedNetwork:
    """Buffers and in-place passes for C models on batches of ``width`` samples.

    keep : None, or (C, 1, 1) keep probabilities when dropout masks are given
        to :meth:`forward`.
    The hidden activations ``self.A`` (post-dropout) and logits are valid after
    :meth:`forward`; :meth:`backward` then writes gradients into bound views.
    """

    def __init__(self, arch, n_models, width, keep=None):
        self.width = width
        self.keep = keep
        self.n_layers = L = arch.n_layers
        sizes = arch.layer_sizes
        C = n_models
        self.relu = arch.hidden_activation == "relu"
        self.tanh = arch.hidden_activation == "tanh"
        self.sigmoid = arch.output == "sigmoid"
        # Z and A share one buffer per hidden layer: no derivative needs Z itself.
        self.A = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
        self.A_T = [None] + [a.swapaxes(-1, -2) for a in self.A[1:]]
        # The derivative as 0.0 / 1.0 (relu) or 1 - A**2 (tanh): a float
        # array, because NumPy multiplies float by float several times faster
        # than float by bool. Under dropout, relu's is and-ed with the mask.
        if self.relu or self.tanh:
            self.D = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
            self._alive = [None] + [np.empty((C, sizes[l], width), dtype=bool) for l in range(1, L)]
        else:
            self.D = [None] * L
        self.masks = [None] * L
        self.logits = np.empty((C, sizes[L], width))
        # dZ of every layer in one buffer, units in parameter order, so that
        # one reduction gives every bias gradient (the flat rows hold b1..bL
        # contiguously). Hidden dZ are computed in place from dA.
        self.dZ_all = np.empty((C, sum(sizes[1:]), width))
        ends = np.cumsum(sizes[1:])
        self.dZ = [None] + [self.dZ_all[:, end - n : end] for n, end in zip(sizes[1:], ends)]
        self.inner_one = [None] + [sizes[l] == 1 for l in range(1, L + 1)]
        self._finite = np.empty((C, sizes[L] * width), dtype=bool)
        self._finite_all = self._finite.reshape(-1)
        self._logits_rows = self.logits.reshape(C, -1)

    # -- forward ----------------------------------------------------------

    def forward(self, P, X, masks=None, derivatives=True):
        """Logits (C, n_L, width) of parameters ``P`` (a :class:`Bound`) on inputs ``X``.

        X : (n_0, width) shared or (C, n_0, width).
        masks : None or a boolean keep mask (C, n_l, width) per hidden layer.
        derivatives : False skips what only :meth:`backward` needs.
        """
        L = self.n_layers
        keep = self.keep
        W, b, buffers, D_all = P.W, P.b, self.A, self.D
        A = X
        for l in range(1, L):
            Z = buffers[l]
            np.matmul(W[l], A, out=Z)
            np.add(Z, b[l], out=Z)
            mask = None if masks is None else masks[l - 1]
            self.masks[l] = mask
            if self.relu:
                basics.relu(Z, out=Z)
                if mask is not None:
                    # Multiplying by (A > 0) & mask equals multiplying by the
                    # mask: where A > 0 is false, A is 0 or NaN already.
                    alive, D = self._alive[l], D_all[l]
                    np.greater(Z, 0.0, out=alive)
                    np.logical_and(alive, mask, out=D)
                    np.multiply(Z, D, out=Z)
                    np.divide(Z, keep, out=Z)
                elif derivatives:
                    np.greater(Z, 0.0, out=D_all[l])
            else:
                if self.tanh:
                    np.tanh(Z, out=Z)
                    if derivatives:
                        D = self.D[l]
                        np.square(Z, out=D)
                        np.subtract(1.0, D, out=D)
                if mask is not None:
                    np.multiply(Z, mask, out=Z)
                    np.divide(Z, keep, out=Z)
            A = Z
        logits = self.logits
        np.matmul(W[L], A, out=logits)
        np.add(logits, b[L], out=logits)
        return logits

    def finite(self):
        """None if every logit of the last forward pass is finite, else (C,) flags per model."""
        np.isfinite(self._logits_rows, out=self._finite)
        if np.logical_and.reduce(self._finite_all):
            return None
        return np.logical_and.reduce(self._finite, axis=1)

    # -- backward ---------------------------------------------------------

    def _output_gradient(self, Y):
        """dZ_L = (probabilities - Y) / m, with the reference's probabilities."""
        x = self.logits
        dZ = self.dZ[-1]
        # The same functions as the reference path, written into the buffer.
        if self.sigmoid:
            basics.sigmoid(x, out=dZ)
        else:
            basics.softmax(x, axis=-2, out=dZ)
        np.subtract(dZ, Y, out=dZ)
        np.divide(dZ, self.width, out=dZ)
        return dZ

    def backward(self, P, X_T, Y):
        """Gradients of the data loss into ``P``'s gradient views, after :meth:`forward`.

        X_T : the transposed inputs, (width, n_0) or (C, width, n_0).
        The L2 term is added by the caller, to all weights at once.
        """
        L = self.n_layers
        keep = self.keep
        dW, W_T, A_T, dZ_all, D_all = P.dW, P.W_T, self.A_T, self.dZ, self.D
        dZ = self._output_gradient(Y)
        for l in range(L, 0, -1):
            np.matmul(dZ, X_T if l == 1 else A_T[l - 1], out=dW[l])
            if l == 1:
                break
            dA = dZ_all[l - 1]
            if self.inner_one[l]:
                np.multiply(W_T[l], dZ, out=dA)
            else:
                np.matmul(W_T[l], dZ, out=dA)
            mask = self.masks[l - 1]
            if self.relu:
                # ((dA * mask) / keep) * (Z > 0) of the reference, as (dA * D) / keep.
                np.multiply(dA, D_all[l - 1], out=dA)
                if mask is not None:
                    np.divide(dA, keep, out=dA)
            else:
                if mask is not None:
                    np.multiply(dA, mask, out=dA)
                    np.divide(dA, keep, out=dA)
                if self.tanh:
                    np.multiply(dA, D_all[l - 1], out=dA)
            dZ = dA
        # Row sums over the samples, as dZ.sum(axis=-1) does them, for every layer at once.
        np.add.reduce(self.dZ_all, axis=-1, out=P.db_all)


class FusedEngine:
    """One chunk of models trained with :class:`FusedNetwork` passes.

    The interface the training loop uses (shared with the plain engine in
    :mod:`nnstudy.core.training`): ``params``, ``batches``, ``gradients``,
    ``update``, ``evaluate`` and ``logits``; and ``last_gradients``, which the
    gradient-check gate reads.

    params : {"W1": (C, n_1, n_0), ...} initial parameters (copied).
    optimizer : an elementwise GradientTransformation: it is applied to the
        flat (C, size) gradient rows, which gives the numbers it would give
        layer by layer.
    lambd : None or (C, 1, 1) L2 strengths; keep : (C, 1, 1) keep probabilities.
    n_train : training-set size, which scales the L2 term of every batch.
    """

    wants_masks = True

    def __init__(self, params, arch, optimizer, lambd=None, keep=None, n_train=None):
        self.arch = arch
        self.optimizer = optimizer
        self.layout = layout = Layout(arch)
        self.flat = layout.pack(params)
        self.params = layout.views(self.flat)
        self.n_models = len(self.flat)
        self.grad_flat = np.zeros_like(self.flat)
        self.bound = Bound(layout, self.flat, self.grad_flat, arch.n_layers)
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

    def _network(self, width, keep, cache):
        net = cache.get(width)
        if net is None:
            net = cache[width] = FusedNetwork(self.arch, self.n_models, width, keep)
        return net

    def batches(self, X, Y, order, batch_size):
        """(X_b, Y_b) pairs for one epoch: the whole set, or (C, n, b) mini-batches in ``order``.

        X, Y : shared (n, m) or per model (C, n, m). The epoch's samples are gathered once per model, as (C, m, n) rows,
        and each batch is a transposed slice. That is the memory layout of
        the plain engine's ``np.moveaxis(X[:, idx], 1, 0)``, and it matters:
        the layout decides which BLAS variant multiplies a batch, and with
        it the last bit of the gradients.
        """
        if order is None:
            yield X, Y
            return
        X_rows = gather_samples(X, order)
        Y_rows = gather_samples(Y, order)
        for start in range(0, order.shape[-1], batch_size):
            stop = start + batch_size
            yield X_rows[:, start:stop].transpose(0, 2, 1), Y_rows[:, start:stop].transpose(0, 2, 1)

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
            self._eval_bound = Bound(self.layout, self.flat, np.empty_like(self.flat), self.arch.n_layers)
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
