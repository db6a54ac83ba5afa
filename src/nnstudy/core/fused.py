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

The passes know an activation or an output only through a kernel for its
entry of the registries (:data:`HIDDEN_KERNELS`, :data:`OUTPUT_KERNELS`),
keyed by the registry's functions themselves: a new registry entry, or an
entry pointing to other functions, has no kernel, and the fused engine
(:class:`nnstudy.core.engines.FusedEngine`) refuses it.

An activation whose derivative is 0 or 1 only (relu) keeps it as one array
per layer, and-ed with the keep mask under dropout: multiplying by it gives
the same numbers as multiplying by the mask and then by the derivative, as
the reference does.
"""

from typing import Callable, NamedTuple

import numpy as np

from nnstudy.core import network
from nnstudy.errors import ConfigError


class HiddenKernel(NamedTuple):
    """How the fused passes run one hidden activation of the registry.

    in_place : the registry's function is applied as ``f(Z, out=Z)``; False
        for the identity, which leaves Z as it is.
    derivative : ``derivative(A, out=D)`` writes the activation's derivative
        at Z from its output A (Z itself is overwritten by A), bit for bit the
        registry's derivative at Z; None when the derivative is 1 everywhere.
    indicator : the derivative is 0 or 1 only, and the activation is 0 (or
        NaN) wherever it is 0 (relu): the derivative can then be and-ed with
        the dropout mask, since multiplying by 0 or 1 is exact in any order
        and multiplying A by it changes nothing but what the mask drops.
    """

    in_place: bool
    derivative: Callable | None
    indicator: bool


def _relu_derivative_from_output(A, out):
    # relu(Z) > 0 exactly where Z > 0, NaN included.
    return np.greater(A, 0.0, out=out)


def _tanh_derivative_from_output(A, out):
    # 1 - tanh(Z)**2 with A = tanh(Z).
    np.square(A, out=out)
    return np.subtract(1.0, out, out=out)


# Registry entry (function, derivative) -> its kernel. Keyed by the entries as
# the registry holds them, never by name.
HIDDEN_KERNELS = {
    network.ACTIVATIONS["relu"]: HiddenKernel(True, _relu_derivative_from_output, True),
    network.ACTIVATIONS["tanh"]: HiddenKernel(True, _tanh_derivative_from_output, False),
    network.ACTIVATIONS["linear"]: HiddenKernel(False, None, False),
}

# Output probability functions of the registry that can write into ``out``.
OUTPUT_KERNELS = frozenset({network.OUTPUTS["sigmoid"][0], network.OUTPUTS["softmax"][0]})


def hidden_kernel(name):
    """The kernel of hidden activation ``name`` of the registry, or None if the passes have none."""
    entry = network.ACTIVATIONS.get(name)
    return HIDDEN_KERNELS.get(entry) if entry is not None else None


def output_kernel(name):
    """The registry's probability function of output ``name`` if it can write into ``out``, or None."""
    entry = network.OUTPUTS.get(name)
    return entry[0] if entry is not None and entry[0] in OUTPUT_KERNELS else None


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


def sample_rows(X):
    """The samples of ``X`` as contiguous rows: (m, n) for (n, m), (S, m, n) for (S, n, m).

    A sample's features are strided in ``X``; gathered from ``X`` itself,
    each epoch reads every feature from a different cache line (on the
    12,288 cat features that gather cost more than the epoch's arithmetic).
    One transposed copy makes every later gather a copy of whole rows.
    """
    return np.ascontiguousarray(X.swapaxes(-1, -2))


def gather_rows(rows, order):
    """Every model's samples in its own ``order``, one per row: (S, k, n).

    rows : :func:`sample_rows` of shared (m, n) or per-model (S, m, n) data;
    order : (S, k) sample indices.
    """
    if rows.ndim == 2:
        # np.take along the rows: the same copy as rows[order], faster on small sets.
        return np.take(rows, order, axis=0)
    return rows[np.arange(len(order))[:, None], order]


def gather_samples(X, order):
    """The samples of every model in its own ``order``, one sample per row: (S, k, n).

    X : (n, m) shared or (S, n, m) per model; order : (S, k) sample indices.
    The rows are contiguous, whatever the layout of ``X``, so that a
    model's mini-batches reach BLAS in the same layout in both engines.
    """
    return gather_rows(sample_rows(X), order)


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
        self.activation = network.ACTIVATIONS[arch.hidden_activation][0]
        self.kernel = hidden_kernel(arch.hidden_activation)
        self.probabilities = output_kernel(arch.output)
        if (L > 1 and self.kernel is None) or self.probabilities is None:
            raise ConfigError(
                f"the fused passes have no kernel for {arch.hidden_activation!r} / {arch.output!r}"
            )
        # Z and A share one buffer per hidden layer: no derivative needs Z itself.
        self.A = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
        self.A_T = [None] + [a.swapaxes(-1, -2) for a in self.A[1:]]
        # The derivative as a float array (0.0 / 1.0 for an indicator),
        # because NumPy multiplies float by float several times faster than
        # float by bool. Under dropout, an indicator is and-ed with the mask.
        if L > 1 and self.kernel.derivative is not None:
            self.D = [None] + [np.empty((C, sizes[l], width)) for l in range(1, L)]
            self._alive = [None] + [np.empty((C, sizes[l], width), dtype=bool) for l in range(1, L)]
            # An indicator is computed as bools and copied from their bytes:
            # a comparison or logical_and writing floats casts through a
            # buffer, about 1.2x the time of the two steps.
            self._alive_bytes = [None] + [a.view(np.uint8) for a in self._alive[1:]]
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
        kernel, activation = self.kernel, self.activation
        A = X
        for l in range(1, L):
            Z = buffers[l]
            np.matmul(W[l], A, out=Z)
            np.add(Z, b[l], out=Z)
            mask = None if masks is None else masks[l - 1]
            self.masks[l] = mask
            if kernel.in_place:
                activation(Z, out=Z)
            if mask is not None and kernel.indicator:
                # Multiplying by f'(Z) & mask equals multiplying by the mask:
                # where f'(Z) is 0, A is 0 or NaN already (see HiddenKernel).
                alive, D = self._alive[l], D_all[l]
                kernel.derivative(Z, out=alive)
                np.logical_and(alive, mask, out=alive)
                np.copyto(D, self._alive_bytes[l])
                np.multiply(Z, D, out=Z)
                np.divide(Z, keep, out=Z)
            else:
                if derivatives and kernel.indicator:
                    kernel.derivative(Z, out=self._alive[l])
                    np.copyto(D_all[l], self._alive_bytes[l])
                elif derivatives and kernel.derivative is not None:
                    kernel.derivative(Z, out=D_all[l])
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
        dZ = self.dZ[-1]
        # The registry's function, as the reference path calls it, written into the buffer.
        self.probabilities(self.logits, out=dZ)
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
        kernel = self.kernel
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
            if kernel.indicator:
                # ((dA * mask) / keep) * f'(Z) of the reference, as (dA * D) / keep.
                np.multiply(dA, D_all[l - 1], out=dA)
                if mask is not None:
                    np.divide(dA, keep, out=dA)
            else:
                if mask is not None:
                    np.multiply(dA, mask, out=dA)
                    np.divide(dA, keep, out=dA)
                if kernel.derivative is not None:
                    np.multiply(dA, D_all[l - 1], out=dA)
            dZ = dA
        # Row sums over the samples, as dZ.sum(axis=-1) does them, for every layer at once.
        np.add.reduce(self.dZ_all, axis=-1, out=P.db_all)
