"""What the engine is compared with: one model at a time, written the usual ways.

* :func:`course_loop`: the course's straightforward NumPy code (dicts of
  parameters, ``np.dot``, a new array for every intermediate, the cost
  computed at every iteration, ``np.random.rand`` dropout masks, mini-batches
  by permutation and slicing).
* :func:`preallocated_loop`: the same network with every buffer allocated
  once and every operation writing in place (full-batch gradient descent,
  the circles workload).
* :func:`torch_loop`: PyTorch eager, float64, one thread, autograd.
* :func:`sklearn_fit`: scikit-learn's MLPClassifier configured as closely as
  it allows (no dropout).

Each returns the number of optimization steps it ran; the runner times it.
Arrays follow the package convention: X is (n_0, m), Y is (n_L, m).
"""

import math
import warnings

import numpy as np


def _init(layer_sizes, seed):
    g = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params[f"W{l}"] = g.standard_normal((layer_sizes[l], layer_sizes[l - 1])) * np.sqrt(
            2.0 / layer_sizes[l - 1]
        )
        params[f"b{l}"] = np.zeros((layer_sizes[l], 1))
    return params


# ---------------------------------------------------------------------------
# The course's way


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _relu(z):
    return np.maximum(0, z)


def _course_forward(X, params, L, keep_prob, softmax):
    caches = []
    A = X
    for l in range(1, L):
        Z = np.dot(params[f"W{l}"], A) + params[f"b{l}"]
        A_new = _relu(Z)
        D = None
        if keep_prob < 1:
            D = np.random.rand(A_new.shape[0], A_new.shape[1])
            D = (D < keep_prob).astype(int)
            A_new = A_new * D
            A_new = A_new / keep_prob
        caches.append((A, Z, D))
        A = A_new
    Z = np.dot(params[f"W{L}"], A) + params[f"b{L}"]
    AL = _softmax(Z) if softmax else _sigmoid(Z)
    caches.append((A, Z, None))
    return AL, caches


def _course_cost(AL, Y, params, L, lambd, softmax):
    m = Y.shape[1]
    if softmax:
        cost = -np.sum(Y * np.log(AL)) / m
    else:
        logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
        cost = 1.0 / m * np.nansum(logprobs)
    if lambd:
        cost += lambd / (2 * m) * sum(np.sum(np.square(params[f"W{l}"])) for l in range(1, L + 1))
    return cost


def _course_backward(AL, Y, caches, params, L, lambd, keep_prob):
    m = Y.shape[1]
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, _, _ = caches[l - 1]
        grads[f"dW{l}"] = 1.0 / m * np.dot(dZ, A_prev.T) + lambd / m * params[f"W{l}"]
        grads[f"db{l}"] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            dA = np.dot(params[f"W{l}"].T, dZ)
            _, Z_prev, D_prev = caches[l - 2]
            if D_prev is not None:
                dA = dA * D_prev
                dA = dA / keep_prob
            dZ = np.multiply(dA, np.int64(Z_prev > 0))
    return grads


def _random_mini_batches(X, Y, batch_size, seed):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    X_shuffled = X[:, permutation]
    Y_shuffled = Y[:, permutation]
    batches = []
    for k in range(math.ceil(m / batch_size)):
        batches.append(
            (X_shuffled[:, k * batch_size : (k + 1) * batch_size],
             Y_shuffled[:, k * batch_size : (k + 1) * batch_size])
        )
    return batches


def course_loop(X, Y, layer_sizes, *, epochs, learning_rate, optimizer="gd", batch_size=None,
                lambd=0.0, keep_prob=1.0, softmax=False, seed=0):
    """Train one model the course's way; returns the number of steps."""
    L = len(layer_sizes) - 1
    params = _init(layer_sizes, seed)
    if optimizer == "adam":
        v = {k: np.zeros_like(p) for k, p in params.items()}
        s = {k: np.zeros_like(p) for k, p in params.items()}
        beta1, beta2, epsilon, t = 0.9, 0.999, 1e-8, 0
    np.random.seed(seed)
    steps = 0
    for epoch in range(epochs):
        if batch_size is None:
            batches = [(X, Y)]
        else:
            batches = _random_mini_batches(X, Y, batch_size, seed + epoch)
        for X_b, Y_b in batches:
            AL, caches = _course_forward(X_b, params, L, keep_prob, softmax)
            _course_cost(AL, Y_b, params, L, lambd, softmax)
            grads = _course_backward(AL, Y_b, caches, params, L, lambd, keep_prob)
            if optimizer == "adam":
                t += 1
                for k in params:
                    v[k] = beta1 * v[k] + (1 - beta1) * grads["d" + k]
                    s[k] = beta2 * s[k] + (1 - beta2) * np.power(grads["d" + k], 2)
                    v_corrected = v[k] / (1 - np.power(beta1, t))
                    s_corrected = s[k] / (1 - np.power(beta2, t))
                    params[k] = params[k] - learning_rate * v_corrected / (np.sqrt(s_corrected) + epsilon)
            else:
                for k in params:
                    params[k] = params[k] - learning_rate * grads["d" + k]
            steps += 1
    return steps


# ---------------------------------------------------------------------------
# Preallocated, in place


def preallocated_loop(X, Y, layer_sizes, *, epochs, learning_rate, seed=0, **unused):
    """Full-batch gradient descent, one model, every buffer allocated once."""
    L = len(layer_sizes) - 1
    m = X.shape[1]
    p = _init(layer_sizes, seed)
    W = [None] + [p[f"W{l}"] for l in range(1, L + 1)]
    b = [None] + [p[f"b{l}"] for l in range(1, L + 1)]
    Z = [None] + [np.empty((n, m)) for n in layer_sizes[1:]]
    D = [None] + [np.empty((n, m), dtype=bool) for n in layer_sizes[1:]]
    dZ = [None] + [np.empty((n, m)) for n in layer_sizes[1:]]
    dW = [None] + [np.empty_like(w) for w in W[1:]]
    db = [None] + [np.empty_like(v) for v in b[1:]]
    A_T = [X.T] + [z.T for z in Z[1:]]
    for _ in range(epochs):
        A = X
        for l in range(1, L + 1):
            np.dot(W[l], A, out=Z[l])
            Z[l] += b[l]
            if l < L:
                np.maximum(Z[l], 0.0, out=Z[l])
                np.greater(Z[l], 0.0, out=D[l])
            A = Z[l]
        out = dZ[L]
        np.negative(Z[L], out=out)
        np.exp(out, out=out)
        out += 1.0
        np.reciprocal(out, out=out)
        out -= Y
        out *= 1.0 / m
        for l in range(L, 0, -1):
            np.dot(dZ[l], A_T[l - 1], out=dW[l])
            np.sum(dZ[l], axis=1, keepdims=True, out=db[l])
            if l > 1:
                np.dot(W[l].T, dZ[l], out=dZ[l - 1])
                dZ[l - 1] *= D[l - 1]
            dW[l] *= learning_rate
            W[l] -= dW[l]
            db[l] *= learning_rate
            b[l] -= db[l]
    return epochs


# ---------------------------------------------------------------------------
# PyTorch


def torch_loop(X, Y, layer_sizes, *, epochs, learning_rate, optimizer="gd", batch_size=None,
               lambd=0.0, keep_prob=1.0, softmax=False, seed=0):
    """PyTorch eager, float64, one thread; returns the number of steps."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    L = len(layer_sizes) - 1
    p = _init(layer_sizes, seed)
    params = [torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in p]
    X_t = torch.tensor(X, dtype=torch.float64)
    Y_t = torch.tensor(Y, dtype=torch.float64)
    if softmax:
        labels = Y_t.argmax(dim=0)
    opt = (torch.optim.Adam(params, lr=learning_rate) if optimizer == "adam"
           else torch.optim.SGD(params, lr=learning_rate))
    m = X.shape[1]
    steps = 0
    for epoch in range(epochs):
        if batch_size is None:
            batches = [slice(None)]
        else:
            order = torch.randperm(m)
            batches = [order[k : k + batch_size] for k in range(0, m, batch_size)]
        for idx in batches:
            A = X_t[:, idx]
            for l in range(1, L):
                A = torch.relu(params[2 * l - 2] @ A + params[2 * l - 1])
                if keep_prob < 1:
                    A = F.dropout(A, p=1 - keep_prob, training=True)
            logits = params[2 * L - 2] @ A + params[2 * L - 1]
            if softmax:
                loss = F.cross_entropy(logits.T, labels[idx])
            else:
                loss = F.binary_cross_entropy_with_logits(logits, Y_t[:, idx])
            if lambd:
                n = logits.shape[1]
                loss = loss + lambd / (2 * n) * sum((w**2).sum() for w in params[0::2])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    return steps


# ---------------------------------------------------------------------------
# scikit-learn


def sklearn_fit(X, Y, layer_sizes, *, epochs, learning_rate, optimizer="gd", batch_size=None,
                lambd=0.0, keep_prob=1.0, softmax=False, seed=0):
    """MLPClassifier with the same layers, optimizer, batches and L2; no dropout.

    Returns the number of steps, or None when the workload cannot be expressed.
    """
    if keep_prob < 1:
        return None
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    m = X.shape[1]
    y = Y.argmax(axis=0) if softmax else Y[0].astype(int)
    model = MLPClassifier(
        hidden_layer_sizes=tuple(layer_sizes[1:-1]),
        activation="relu",
        solver="adam" if optimizer == "adam" else "sgd",
        alpha=lambd,  # sklearn adds alpha / (2 m) * ||W||^2, the course's L2
        batch_size=m if batch_size is None else batch_size,
        learning_rate_init=learning_rate,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=batch_size is not None,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.T, y)
    return epochs * math.ceil(m / (m if batch_size is None else batch_size))
