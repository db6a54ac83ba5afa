"""The training step without the overhead: forward, backward and update in place.

:func:`nnstudy.network.forward` and :func:`nnstudy.network.backward` are the
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


# Bytes of step buffers per chunk of models: the size of the working set
# beyond which the cost per model-step rises (bench/README.md, "chunk size").
CHUNK_BYTES = 1 << 20


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


def _transposed(a):
    return np.swapaxes(a, -1, -2)


def _product(a, b, out):
    """``out = a @ b`` per model; an inner size of 1 is an outer product, by broadcasting."""
    if a.shape[-1] == 1:
        return np.multiply(a, b, out=out)
    return np.matmul(a, b, out=out)


class FusedNetwork:
    """Buffers and in-place passes for C models on batches of ``width`` samples.

    keep : None, or (C, 1, 1) keep probabilities when dropout masks are given
        to :meth:`forward`.
    The hidden activations ``self.A`` (post-dropout) and logits are valid after
    :meth:`forward`; :meth:`backward` then writes gradients into views.
    """

    def __init__(self, arch, n_models, width, keep=None):
        self.arch = arch
        self.width = width
        self.keep = keep
        L = arch.n_layers
        sizes = arch.layer_sizes
        C = n_models
        self.activation = arch.hidden_activation
        # Z and A share one buffer per hidden layer: no derivative needs Z itself.
        self.A = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
        self.A_T = [None] + [_transposed(a) for a in self.A[1:]]
        if self.activation == "relu":
            self.D = [None] + [np.empty((C, sizes[l], width), dtype=bool) for l in range(1, L)]
        elif self.activation == "tanh":
            self.D = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
        else:
            self.D = [None] * L
        self.masks = [None] * L
        self.logits = np.empty((C, sizes[L], width))
        # dZ[l] for every layer; the hidden ones are computed in place from dA.
        self.dZ = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L + 1)]
        self.output = arch.output
        out_shape = (C, 1, width)
        self._t = np.empty(out_shape)
        self._q = np.empty(out_shape)
        self._pos = np.empty(out_shape, dtype=bool)
        self._finite = np.empty((C, sizes[L], width), dtype=bool)

    # -- forward ----------------------------------------------------------

    def forward(self, P, X, masks=None, derivatives=True):
        """Logits (C, n_L, width) of parameters ``P`` (views) on inputs ``X``.

        X : (n_0, width) shared or (C, n_0, width).
        masks : None or a boolean keep mask (C, n_l, width) per hidden layer.
        derivatives : False skips what only :meth:`backward` needs.
        """
        L = self.arch.n_layers
        keep = self.keep
        A = X
        for l in range(1, L):
            Z = self.A[l]
            np.matmul(P[f"W{l}"], A, out=Z)
            np.add(Z, P[f"b{l}"], out=Z)
            mask = None if masks is None else masks[l - 1]
            self.masks[l] = mask
            if self.activation == "relu":
                np.maximum(Z, 0.0, out=Z)
                if mask is not None:
                    # Multiplying by (A > 0) & mask equals multiplying by the
                    # mask: where A > 0 is false, A is 0 or NaN already.
                    D = self.D[l]
                    np.greater(Z, 0.0, out=D)
                    np.logical_and(D, mask, out=D)
                    np.multiply(Z, D, out=Z)
                    np.divide(Z, keep, out=Z)
                elif derivatives:
                    np.greater(Z, 0.0, out=self.D[l])
            else:
                if self.activation == "tanh":
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
        np.matmul(P[f"W{L}"], A, out=logits)
        np.add(logits, P[f"b{L}"], out=logits)
        return logits

    def finite(self):
        """(C,) True where every logit of the last forward pass is finite."""
        np.isfinite(self.logits, out=self._finite)
        return self._finite.all(axis=(-2, -1))

    # -- backward ---------------------------------------------------------

    def _output_gradient(self, Y):
        """dZ_L = (probabilities - Y) / m, with the reference's probabilities."""
        x = self.logits
        dZ = self.dZ[-1]
        if self.output == "sigmoid":
            # basics.sigmoid: 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x))
            # otherwise; exp(-|x|) is the exponential of either branch.
            t, q, pos = self._t, self._q, self._pos
            np.abs(x, out=t)
            np.negative(t, out=t)
            np.exp(t, out=t)
            np.add(t, 1.0, out=q)
            np.divide(t, q, out=dZ)
            np.greater_equal(x, 0.0, out=pos)
            np.divide(1.0, q, out=dZ, where=pos)
        else:
            # basics.softmax along the unit axis.
            t = self._t
            np.max(x, axis=-2, keepdims=True, out=t)
            np.subtract(x, t, out=dZ)
            np.exp(dZ, out=dZ)
            np.sum(dZ, axis=-2, keepdims=True, out=t)
            np.divide(dZ, t, out=dZ)
        np.subtract(dZ, Y, out=dZ)
        np.divide(dZ, self.width, out=dZ)
        return dZ

    def backward(self, P, G, X, Y, X_T=None):
        """Gradients of the data loss into ``G`` (views shaped like ``P``), after :meth:`forward`.

        The L2 term is added by the caller, to all weights at once.
        X_T : the transpose of ``X`` if the caller keeps one.
        """
        L = self.arch.n_layers
        keep = self.keep
        dZ = self._output_gradient(Y)
        for l in range(L, 0, -1):
            if l == 1:
                A_prev_T = _transposed(X) if X_T is None else X_T
            else:
                A_prev_T = self.A_T[l - 1]
            np.matmul(dZ, A_prev_T, out=G[f"W{l}"])
            np.sum(dZ, axis=-1, keepdims=True, out=G[f"b{l}"])
            if l == 1:
                break
            dA = self.dZ[l - 1]
            _product(_transposed(P[f"W{l}"]), dZ, dA)
            mask = self.masks[l - 1]
            if self.activation == "relu":
                # ((dA * mask) / keep) * (Z > 0) of the reference, as (dA * D) / keep.
                np.multiply(dA, self.D[l - 1], out=dA)
                if mask is not None:
                    np.divide(dA, keep, out=dA)
            else:
                if mask is not None:
                    np.multiply(dA, mask, out=dA)
                    np.divide(dA, keep, out=dA)
                if self.activation == "tanh":
                    np.multiply(dA, self.D[l - 1], out=dA)
            dZ = dA


class FusedEngine:
    """One chunk of models trained with :class:`FusedNetwork` passes.

    The interface the training loop uses (shared with the plain engine in
    :mod:`nnstudy.training`): ``params``, ``batches``, ``gradients``,
    ``update``, ``evaluate`` and ``logits``.

    params : {"W1": (C, n_1, n_0), ...} initial parameters (copied).
    optimizer : an elementwise GradientTransformation: it is applied to the
        flat (C, size) gradient rows, which gives the numbers it would give
        layer by layer.
    lambd : None or (C, 1, 1) L2 strengths; keep : (C, 1, 1) keep probabilities.
    """

    wants_masks = True

    def __init__(self, params, arch, optimizer, lambd=None, keep=None):
        self.arch = arch
        self.optimizer = optimizer
        self.layout = Layout(arch)
        self.flat = self.layout.pack(params)
        self.params = self.layout.views(self.flat)
        self.grad_flat = np.zeros_like(self.flat)
        self.grads = self.layout.views(self.grad_flat)
        self.state = optimizer.init({"flat": self.flat})
        self.keep = keep
        self.n_models = self.flat.shape[0]
        self._step = np.empty_like(self.flat)
        nw = self.layout.n_weights
        self._weights = self.flat[:, :nw]
        self._weight_grads = self.grad_flat[:, :nw]
        self._l2 = np.empty_like(self._weights)
        self.lambd = lambd
        self._networks = {}
        self._eval = {}
        self._eval_grad_flat = None

    def _network(self, width, keep, cache):
        net = cache.get(width)
        if net is None:
            net = cache[width] = FusedNetwork(self.arch, self.n_models, width, keep)
        return net

    def batches(self, X, Y, order, batch_size):
        """(X_b, Y_b) pairs for one epoch: the whole set, or (C, n, b) mini-batches in ``order``.

        The epoch's samples are gathered once per model, as (C, m, n) rows,
        and each batch is a transposed slice. That is the memory layout of
        the plain engine's ``np.moveaxis(X[:, idx], 1, 0)``, and it matters:
        the layout decides which BLAS variant multiplies a batch, and with
        it the last bit of the gradients.
        """
        if order is None:
            yield X, Y
            return
        X_rows = X.T[order]
        Y_rows = Y.T[order]
        for start in range(0, order.shape[-1], batch_size):
            stop = start + batch_size
            yield X_rows[:, start:stop].transpose(0, 2, 1), Y_rows[:, start:stop].transpose(0, 2, 1)

    def _add_l2(self, weight_grads, coefficient):
        np.multiply(self._weights, coefficient, out=self._l2)
        np.add(weight_grads, self._l2, out=weight_grads)

    def gradients(self, X, Y, masks=None):
        """Forward and backward on one batch; returns (C,) finite-logits flags.

        masks : None or boolean keep masks (C, n_l, b) per hidden layer.
        """
        net = self._network(X.shape[-1], self.keep, self._networks)
        net.forward(self.params, X, masks)
        finite = net.finite()
        net.backward(self.params, self.grads, X, Y)
        if self.lambd is not None:
            # The reference adds lambd / m * W to each dW after its product.
            self._add_l2(self._weight_grads, self.lambd.reshape(-1, 1) / X.shape[-1])
        return finite

    def update(self, rate, active):
        """Move every active model by ``-rate * direction``; the others keep their weights.

        rate : (C, 1, 1) learning rates; active : (C,) booleans.
        """
        directions, self.state = self.optimizer.update({"flat": self.grad_flat}, self.state)
        np.multiply(directions["flat"], rate.reshape(-1, 1), out=self._step)
        if active.all():
            np.subtract(self.flat, self._step, out=self.flat)
        else:
            np.subtract(self.flat, self._step, out=self.flat, where=active[:, None])

    def evaluate(self, X, Y):
        """(logits, grads) on the whole set ``X``, without dropout, L2 included."""
        net = self._network(X.shape[-1], None, self._eval)
        if self._eval_grad_flat is None:
            self._eval_grad_flat = np.empty_like(self.flat)
            self._eval_grads = self.layout.views(self._eval_grad_flat)
        flat, grads = self._eval_grad_flat, self._eval_grads
        logits = net.forward(self.params, X)
        net.backward(self.params, grads, X, Y)
        if self.lambd is not None:
            self._add_l2(flat[:, : self.layout.n_weights], self.lambd.reshape(-1, 1) / X.shape[-1])
        return logits, grads

    def logits(self, X):
        """Logits on ``X`` without dropout (a forward pass only)."""
        net = self._network(X.shape[-1], None, self._eval)
        return net.forward(self.params, X, derivatives=False)
