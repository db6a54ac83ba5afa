"""Gradient checking in practice: at initialization and after training, with planted bugs.

Two pieces of the lecture's advice. First, a check tells where a backward
pass is wrong: comparing block by block (W1, b1, W2, ...) names the
parameter whose gradient disagrees. Second, run the check at random
initialization *and again after some training*: a backward pass can be
right while the weights are close to zero and wrong once they have grown.

:data:`BUGS` holds deliberately broken backward passes (and the correct
one, ``"none"``). ``tanh_derivative_of_z`` is the lecture's case: it writes
tanh's derivative as ``1 - z**2`` instead of ``1 - tanh(z)**2``, which agree
to fourth order near ``z = 0``, so the check passes at a small
initialization and fails once pre-activations are of order one.
"""

import numpy as np

from nnstudy.core import network
from nnstudy.data.datasets import one_hot_targets
from nnstudy.study.experiment import architecture_for
from nnstudy.core.gradcheck import Packing, gradient_check
from nnstudy.core.initializers import initialize
from nnstudy.core.optimizers import make_optimizer
from nnstudy.core.training import TrainConfig, TrainData, train


def textbook_backward(X, derivative=None):
    """A backward pass that redoes its own forward pass from ``X`` (n_0, m).

    The course's loop, without dropout: ``dZ_L = (p - y) / m``, then per
    layer ``dW = dZ A_prev^T + lambd / m W``, ``db = sum(dZ)``,
    ``dZ_prev = (W^T dZ) * g'(Z_prev)``. ``derivative`` replaces ``g'``
    (None: the right one). Returns a function with the signature of
    :func:`nnstudy.core.network.backward`.
    """

    def backward(params, cache, logits, Y, arch, lambd=None, keep_prob=None):
        activation, right = network.ACTIVATIONS[arch.hidden_activation]
        g_prime = derivative or right
        L, m = arch.n_layers, X.shape[-1]
        A, Z = [X], [None]
        for l in range(1, L):
            Z.append(params[f"W{l}"] @ A[-1] + params[f"b{l}"])
            A.append(activation(Z[-1]))
        dZ = (network.OUTPUTS[arch.output][0](logits) - Y) / m
        grads = {}
        for l in range(L, 0, -1):
            W = params[f"W{l}"]
            grads[f"W{l}"] = dZ @ np.swapaxes(A[l - 1], -1, -2)
            if lambd is not None:
                grads[f"W{l}"] = grads[f"W{l}"] + lambd / m * W
            grads[f"b{l}"] = dZ.sum(axis=-1, keepdims=True)
            if l > 1:
                dZ = (np.swapaxes(W, -1, -2) @ dZ) * g_prime(Z[l - 1])
        return {name: grads[name] for name in params}

    return backward


def _correct(X):
    return network.backward


def _tanh_derivative_of_z(X):
    # 1 - z^2 where 1 - tanh(z)^2 belongs: right only near z = 0.
    return textbook_backward(X, derivative=lambda Z: 1.0 - Z**2)


def _l2_half(X):
    def backward(params, cache, logits, Y, arch, lambd=None, keep_prob=None):
        grads = network.backward(params, cache, logits, Y, arch, lambd, keep_prob)
        if lambd is not None:
            m = logits.shape[-1]
            # The penalty's gradient written as lambd / (2 m) W: the 2 of the
            # penalty was not cancelled. Small while the weights are small.
            grads = {k: (g - lambd / (2 * m) * params[k] if k[0] == "W" else g) for k, g in grads.items()}
        return grads

    return backward


def _output_bias_doubled(X):
    def backward(params, cache, logits, Y, arch, lambd=None, keep_prob=None):
        grads = dict(network.backward(params, cache, logits, Y, arch, lambd, keep_prob))
        last = f"b{arch.n_layers}"
        grads[last] = 2.0 * grads[last]
        return grads

    return backward


# Which data the stage sees (written into its tables' metadata).
SPLIT = ("one split, the study's first seed's: a gradient check tests the code of the backward pass, "
         "not the data")

# name -> factory: inputs X (n_0, m) -> a backward pass with network.backward's signature
BUGS = {
    "none": _correct,
    "tanh_derivative_of_z": _tanh_derivative_of_z,
    "l2_half": _l2_half,
    "output_bias_doubled": _output_bias_doubled,
}
# Bugs that only make sense for a tanh network.
NEEDS_TANH = ("tanh_derivative_of_z",)


def block_shares(check, arch):
    """Each block's part of the overall disagreement, for model 0.

    ``||g_B - g~_B|| / (||g|| + ||g~||)``: the block's error measured against
    the whole gradient, so the squares of the shares add up to the square of
    the overall difference. Unlike the block's own relative difference, a
    share cannot be large because the block's gradient is tiny (as early
    layers' gradients are at a small initialization) and rounding noise is
    not: the block with the largest share is the one that disagrees.
    Returns {block: share}.
    """
    g, a = check.gradient[0], check.approximation[0]
    scale = np.linalg.norm(g) + np.linalg.norm(a)
    shares = {}
    for name, (start, stop, _) in Packing.of(arch).slices.items():
        error = np.linalg.norm(g[start:stop] - a[start:stop])
        shares[name] = float(error / scale) if scale > 0 else 0.0
    return shares


def check_rows(params, X, Y, arch, bugs, *, lambd, epsilon, threshold, moment):
    """Check each backward pass of ``bugs`` at ``params`` (one model); rows per block.

    One row per (bug, block), blocks "all", W1, b1, ...: the block's own
    relative difference (``difference``, as the study's gradient check
    reports it), its share of the overall disagreement (``share``, see
    :func:`block_shares`; for "all" the overall difference), whether the
    share is below ``threshold``, the block with the largest share
    (``worst_block``) and the RMS of all weights at this point.
    """
    weights = np.concatenate([v.ravel() for k, v in params.items() if k[0] == "W"])
    weight_rms = float(np.sqrt(np.mean(weights**2)))
    rows = []
    for bug in bugs:
        check = gradient_check(params, X, Y, arch, lambd, epsilon=epsilon, backward=BUGS[bug](X))
        shares = block_shares(check, arch)
        worst = max(shares, key=shares.get)
        for block in ["all", *check.blocks]:
            if block == "all":
                difference = share = float(check.difference[0])
            else:
                difference, share = float(check.blocks[block][0]), shares[block]
            rows.append(
                {
                    "bug": bug,
                    "moment": moment,
                    "block": block,
                    "difference": difference,
                    "share": share,
                    "passed": bool(share < threshold),
                    "worst_block": worst,
                    "weight_rms": weight_rms,
                }
            )
    return rows


def practice(splits, *, hidden_layers, hidden_activation, initializer, scale, seed, bugs, lambd, samples,
             epsilon, threshold, steps, learning_rate):
    """The stage: every bug checked at initialization and after ``steps`` of Adam.

    The network is trained (full batch, L2 strength ``lambd``) on the whole
    training split; checks use its first ``samples`` examples. Biases start
    at zero, as in the lecture; with tanh units there is no kink to land on.
    Returns rows as :func:`check_rows`, with ``moment`` "initialization" or
    "trained".
    """
    arch = architecture_for(splits, hidden_layers, hidden_activation)
    params = initialize(arch.layer_sizes, initializer, [seed], scale, inputs=splits.X_train,
                        hidden_activation=hidden_activation)
    result = train(
        params,
        arch,
        make_optimizer("adam"),
        TrainData(splits.X_train, one_hot_targets(splits.y_train, splits.n_classes), splits.y_train),
        TrainConfig(epochs=steps, batch_size=None, eval_every=steps),
        learning_rate=learning_rate,
        lambd=lambd,
        seeds=[seed],
    )
    n = min(samples, splits.X_train.shape[-1])
    X, Y = splits.X_train[:, :n], one_hot_targets(splits.y_train[:n], splits.n_classes)
    rows = []
    for moment, point in (("initialization", params), ("trained", result.params)):
        rows += check_rows(point, X, Y, arch, bugs, lambd=lambd, epsilon=epsilon, threshold=threshold,
                           moment=moment)
    return rows


def stage(config, splits):
    """The gradient-checking stage: {"gradcheck_practice": rows}."""
    section = config["lectures"]["gradcheck"]
    hidden_layers = section.get("hidden_layers") or config["datasets"][section["dataset"]]["hidden_layers"]
    rows = practice(
        splits, hidden_layers=hidden_layers, hidden_activation=section["hidden_activation"],
        initializer=section["initializer"], scale=section.get("scale"), seed=section["seed"],
        bugs=section["bugs"], lambd=section["lambd"], samples=section["samples"], epsilon=section["epsilon"],
        threshold=section["threshold"], steps=section["steps"], learning_rate=section["learning_rate"],
    )
    return {"gradcheck_practice": [{"dataset": section["dataset"], **row} for row in rows]}
