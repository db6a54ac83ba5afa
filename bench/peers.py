"""Compiled peers: S small networks trained at once the way JAX and PyTorch users would.

* :func:`jax_trainer`: the whole run is one ``jax.jit`` function, a
  ``lax.scan`` over steps (over epochs, and over an epoch's mini-batches),
  with ``jax.vmap`` of ``jax.grad`` over the model axis.
* :func:`torch_func_trainer`: ``torch.func.stack_module_state`` of S
  ``nn.Module`` copies, ``vmap(grad(functional_call))`` over them, a Python
  loop over steps; with ``compiled=True`` the step goes through
  ``torch.compile``.

Both train in float64 on one thread, and do the engine's arithmetic: the
same loss (mean cross-entropy from the logits, ``lambd / (2 m_train)
||W||^2``), the same gradient descent and Adam updates
(``nnstudy.core.optimizers``), the same mini-batches when given the engine's
orders (their own shuffles otherwise), and inverted dropout (their own
random draws). tests/test_bench_peers.py checks that they end where the
engine ends. Parameters come in
and go out in the engine's layout, ``{"W1": (S, n_1, n_0), "b1": (S, n_1,
1), ...}``; X is (n_0, m), Y is (n_L, m).

A trainer is built once per workload and number of models (``build``): the
first call of what it returns pays the tracing and compilation (cold), the
next calls do not (warm).
"""

import atexit
import importlib.util
import os
import shutil
import tempfile
from functools import partial

import numpy as np

# XLA runs its Eigen kernels on a thread pool unless told not to. This flag
# must be set before jax is first imported. It is not enough on its own: XLA's
# runtime may still run independent operations of a step on a second core
# (circles, S = 32: 40 us of CPU in 27 us of wall time per model-step), so the
# runner also pins its process to one core.
XLA_SINGLE_THREAD = ("--xla_cpu_multi_thread_eigen=false",)

ADAM = dict(beta1=0.9, beta2=0.999, epsilon=1e-8)  # nnstudy.core.optimizers.adam's defaults


def missing():
    """{peer library: reason it cannot run} for the libraries not installed."""
    return {name: "not installed" for name in ("jax", "torch") if importlib.util.find_spec(name) is None}


def _import_jax():
    flags = os.environ.get("XLA_FLAGS", "").split()
    names = {flag.split("=")[0] for flag in flags}
    flags += [flag for flag in XLA_SINGLE_THREAD if flag.split("=")[0] not in names]
    os.environ["XLA_FLAGS"] = " ".join(flags)
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


_SCRATCH = []


def _scratch():
    """A temporary folder for compilers' caches, removed when the process ends."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="nnstudy-bench-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], ignore_errors=True)
    return _SCRATCH[0]


def _batch_slices(m, batch_size):
    """(number of full batches, size of the last partial batch or 0)."""
    return m // batch_size, m % batch_size


# ---------------------------------------------------------------------------
# JAX


def jax_trainer(X, Y, layer_sizes, *, epochs, learning_rate, optimizer="gd", batch_size=None,
                lambd=0.0, keep_prob=1.0, softmax=False):
    """A jitted ``train(params, orders, seed) -> params`` for S models, ``epochs`` epochs.

    orders : for mini-batch training, (epochs, S, m) sample orders
        (mini-batches are consecutive slices of each epoch's order), or None:
        each model draws its own permutation per epoch, inside the compiled
        loop. Ignored for full-batch training.
    """
    jax = _import_jax()
    import jax.numpy as jnp
    from jax import lax

    L = len(layer_sizes) - 1
    m = X.shape[1]
    full_batch = batch_size is None or batch_size >= m
    X_j, Y_j = jnp.asarray(X, dtype=jnp.float64), jnp.asarray(Y, dtype=jnp.float64)
    X_rows, Y_rows = X_j.T, Y_j.T  # (m, n): gathering rows is a contiguous copy
    hidden = list(layer_sizes[1:-1])
    b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"]

    def loss(p, X_b, Y_b, uniform):
        """One model's regularized cost; uniform (sum(hidden), b) dropout draws or None."""
        A, row = X_b, 0
        for l in range(1, L):
            A = jax.nn.relu(p[f"W{l}"] @ A + p[f"b{l}"])
            if uniform is not None:
                A = A * (uniform[row : row + hidden[l - 1]] < keep_prob) / keep_prob
                row += hidden[l - 1]
        Z = p[f"W{L}"] @ A + p[f"b{L}"]
        if softmax:
            data = -(Y_b * jax.nn.log_softmax(Z, axis=0)).sum(axis=0).mean()
        else:
            # softplus, not the engine's max(z, 0) + log1p(exp(-|z|)): JAX differentiates
            # max and abs at z = 0 (a sample whose hidden units are all off) by convention,
            # and the sum of those conventions is not sigmoid(0).
            data = (jax.nn.softplus(Z) - Z * Y_b).mean()
        if lambd:
            data = data + lambd / (2.0 * m) * sum((p[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
        return data

    def update(params, state, grads):
        if optimizer == "gd":
            return {k: p - learning_rate * grads[k] for k, p in params.items()}, state
        t, v, s = state
        t = t + 1.0
        v = {k: b1 * v[k] + (1.0 - b1) * grads[k] for k in v}
        s = {k: b2 * s[k] + (1.0 - b2) * grads[k] ** 2 for k in s}
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        new = {k: p - learning_rate * ((v[k] / c1) / (jnp.sqrt(s[k] / c2) + eps)) for k, p in params.items()}
        return new, (t, v, s)

    def step(carry, idx, key):
        """One step of S models; idx (S, b) sample indices or None for the full batch."""
        params, state = carry
        n_models = params["W1"].shape[0]
        if idx is None:
            X_b, Y_b, data_axis, width = X_j, Y_j, None, m
        else:
            X_b, Y_b = X_rows[idx].swapaxes(1, 2), Y_rows[idx].swapaxes(1, 2)  # (S, n, b)
            data_axis, width = 0, idx.shape[1]
        uniform = None
        if keep_prob < 1:
            uniform = jax.random.uniform(key, (n_models, sum(hidden), width), dtype=jnp.float64)
        grads = jax.vmap(jax.grad(loss), in_axes=(0, data_axis, data_axis, None if uniform is None else 0))(
            params, X_b, Y_b, uniform
        )
        return update(params, state, grads)

    def run(params, orders, key):
        state = None
        if optimizer == "adam":
            zeros = {k: jnp.zeros_like(p) for k, p in params.items()}
            state = (jnp.float64(0.0), zeros, dict(zeros))
        if full_batch:
            def body(carry, t):
                return step(carry, None, jax.random.fold_in(key, t)), None

            (params, _), _ = lax.scan(body, (params, state), jnp.arange(epochs))
            return params
        n_full, last = _batch_slices(m, batch_size)

        def epoch_body(carry, xs):
            order, epoch = xs  # (S, m) or None, ()
            if order is None:
                n_models = carry[0]["W1"].shape[0]
                keys = jax.random.split(jax.random.fold_in(key, -1 - epoch), n_models)
                order = jax.vmap(lambda k: jax.random.permutation(k, m))(keys)
            full = order[:, : n_full * batch_size].reshape(order.shape[0], n_full, batch_size).swapaxes(0, 1)
            keys = jax.random.split(jax.random.fold_in(key, epoch), n_full + 1)

            def batch_body(c, ys):
                return step(c, ys[0], ys[1]), None

            carry, _ = lax.scan(batch_body, carry, (full, keys[:n_full]))
            if last:
                carry = step(carry, order[:, n_full * batch_size :], keys[n_full])
            return carry, None

        (params, _), _ = lax.scan(epoch_body, (params, state), (orders, jnp.arange(epochs)))
        return params

    compiled = jax.jit(run)

    def train(params, orders=None, seed=0):
        orders = None if orders is None or full_batch else jnp.asarray(orders)
        out = compiled({k: jnp.asarray(v) for k, v in params.items()}, orders, jax.random.PRNGKey(seed))
        return {k: np.asarray(v) for k, v in jax.block_until_ready(out).items()}

    return train


# ---------------------------------------------------------------------------
# torch.func


def _torch_mlp(layer_sizes, keep_prob):
    import torch
    from torch import nn

    class MLP(nn.Module):
        """relu hidden layers and a linear output; ``masks`` (one (b, n_l) per hidden layer) for dropout."""

        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(
                nn.Linear(n_in, n_out, dtype=torch.float64) for n_in, n_out in zip(layer_sizes, layer_sizes[1:])
            )

        def forward(self, x, masks=None):
            for l, layer in enumerate(self.layers[:-1]):
                x = torch.relu(layer(x))
                if masks is not None:
                    x = x * masks[l] / keep_prob
            return self.layers[-1](x)

    return MLP


def torch_func_trainer(X, Y, layer_sizes, *, epochs, learning_rate, optimizer="gd", batch_size=None,
                       lambd=0.0, keep_prob=1.0, softmax=False, compiled=False):
    """``train(params, orders, seed) -> params`` for S models with torch.func, one step per call.

    orders : as for :func:`jax_trainer` (None: a torch permutation per model
        and epoch). compiled : wrap the step in ``torch.compile``, compiling
        from scratch: dynamo's and inductor's caches are emptied and inductor
        gets a new cache folder, so no earlier kernel is reused.
    """
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad, stack_module_state, vmap

    torch.set_num_threads(1)
    L = len(layer_sizes) - 1
    m = X.shape[1]
    full_batch = batch_size is None or batch_size >= m
    X_rows = torch.tensor(X.T, dtype=torch.float64).contiguous()  # (m, n_0): torch's row layout
    Y_rows = torch.tensor(Y.T, dtype=torch.float64).contiguous()
    hidden = list(layer_sizes[1:-1])
    MLP = _torch_mlp(layer_sizes, keep_prob)
    base = MLP().to("meta")
    weights = [f"layers.{l}.weight" for l in range(L)]
    b1, b2, eps = ADAM["beta1"], ADAM["beta2"], ADAM["epsilon"]

    def loss(p, x, y, masks):
        logits = functional_call(base, p, (x, masks))
        if softmax:
            data = -(y * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        else:
            data = F.binary_cross_entropy_with_logits(logits, y)
        if lambd:
            data = data + lambd / (2.0 * m) * sum((p[w] ** 2).sum() for w in weights)
        return data

    def step(params, state, x, y, masks):
        data_dim = None if x.dim() == 2 else 0
        grads = vmap(grad(loss), in_dims=(0, data_dim, data_dim, None if masks is None else 0))(
            params, x, y, masks
        )
        if optimizer == "gd":
            return {k: p - learning_rate * grads[k] for k, p in params.items()}, state
        t, v, s = state
        t = t + 1
        v = {k: b1 * v[k] + (1.0 - b1) * grads[k] for k in v}
        s = {k: b2 * s[k] + (1.0 - b2) * grads[k] ** 2 for k in s}
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        new = {k: p - learning_rate * ((v[k] / c1) / (torch.sqrt(s[k] / c2) + eps)) for k, p in params.items()}
        return new, (t, v, s)

    if compiled:
        from torch._inductor import config as inductor_config
        from torch._inductor.utils import clear_caches

        # Compile in this process (CPU time counts it) and on one core, like the rest.
        inductor_config.compile_threads = 1
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-", dir=_scratch())
        clear_caches()
        torch._dynamo.reset()
        step = torch.compile(step)

    def train(params, orders=None, seed=0):
        n_models = params["W1"].shape[0]
        models = []
        for s in range(n_models):
            model = MLP()
            with torch.no_grad():
                for l, layer in enumerate(model.layers, 1):
                    layer.weight.copy_(torch.from_numpy(params[f"W{l}"][s]))
                    layer.bias.copy_(torch.from_numpy(params[f"b{l}"][s][:, 0]))
            models.append(model)
        stacked, _ = stack_module_state(models)
        stacked = {k: v.detach() for k, v in stacked.items()}
        state = None
        if optimizer == "adam":
            zeros = {k: torch.zeros_like(p) for k, p in stacked.items()}
            state = (torch.zeros((), dtype=torch.float64), zeros, dict(zeros))
        generator = torch.Generator().manual_seed(seed)
        if orders is not None:
            orders = torch.from_numpy(np.asarray(orders))
        for epoch in range(epochs):
            if full_batch:
                batches = [(X_rows, Y_rows)]
            else:
                if orders is None:
                    order = torch.argsort(torch.rand((n_models, m), generator=generator, dtype=torch.float64), dim=1)
                else:
                    order = orders[epoch]
                batches = [(X_rows[idx], Y_rows[idx])
                           for idx in (order[:, k : k + batch_size] for k in range(0, m, batch_size))]
            for x, y in batches:
                masks = None
                if keep_prob < 1:
                    width = x.shape[-2]
                    masks = [torch.rand((n_models, width, n), generator=generator, dtype=torch.float64) < keep_prob
                             for n in hidden]
                stacked, state = step(stacked, state, x, y, masks)
        out = {}
        for l in range(1, L + 1):
            out[f"W{l}"] = stacked[f"layers.{l - 1}.weight"].numpy().copy()
            out[f"b{l}"] = stacked[f"layers.{l - 1}.bias"].numpy()[:, :, None].copy()
        return out

    return train


# name -> (library it needs, builder of a trainer, numbers of models it is timed at).
# torch.compile takes 20-70 s of one core per compilation here (every
# workload and S is a new graph), so it is timed at the engine's reference S only.
PEERS = {
    "JAX jit+scan, vmap": ("jax", jax_trainer, (1, 8, 32, 128)),
    "torch.func vmap": ("torch", torch_func_trainer, (1, 8, 32, 128)),
    "torch.func vmap + compile": ("torch", partial(torch_func_trainer, compiled=True), (32,)),
}
