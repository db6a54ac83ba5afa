"""The vectorization lesson, measured: explicit Python loops against NumPy.

Each operation is computed twice, once element by element in Python and once
with one NumPy call; the two results are checked equal (to rounding) before
their times are compared.
"""

import time

import numpy as np


def _loop_dot(x, y):
    total = 0.0
    for i in range(len(x)):
        total += x[i] * y[i]
    return total


def _loop_outer(x, y):
    out = np.zeros((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            out[i, j] = x[i] * y[j]
    return out


def _loop_multiply(x, y):
    out = np.zeros(len(x))
    for i in range(len(x)):
        out[i] = x[i] * y[i]
    return out


def _loop_layer(W, b, X):
    # Z = W X + b, then ReLU, one multiply-add at a time.
    n_out, n_in = W.shape
    m = X.shape[1]
    A = np.zeros((n_out, m))
    for i in range(n_out):
        for k in range(m):
            z = b[i, 0]
            for j in range(n_in):
                z += W[i, j] * X[j, k]
            A[i, k] = z if z > 0 else 0.0
    return A


def _vector_layer(W, b, X):
    return np.maximum(W @ X + b, 0.0)


def _inputs(operation, size, rng):
    if operation == "layer_forward":
        # A hidden layer of `size` units on 64 inputs and 32 samples.
        return rng.standard_normal((size, 64)), rng.standard_normal((size, 1)), rng.standard_normal((64, 32))
    if operation == "outer":
        return rng.standard_normal(size), rng.standard_normal(size)
    return rng.standard_normal(size), rng.standard_normal(size)


# operation -> (explicit loop, vectorized form, what the size means)
OPERATIONS = {
    "dot": (_loop_dot, np.dot, "vector length"),
    "outer": (_loop_outer, np.outer, "vector length"),
    "elementwise_multiply": (_loop_multiply, np.multiply, "vector length"),
    "layer_forward": (_loop_layer, _vector_layer, "hidden units (64 inputs, 32 samples)"),
}


def _best_time(function, args, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best


def measure(sizes=(100, 1000, 10000), layer_sizes=(8, 32, 128), repeats=3, seed=0):
    """Time every operation at each size; return one dict per (operation, size).

    ``outer`` uses the square root of each size as its vector length so that
    its loop does as many multiplications as the others.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for operation, (loop, vectorized, meaning) in OPERATIONS.items():
        if operation == "layer_forward":
            operation_sizes = layer_sizes
        elif operation == "outer":
            operation_sizes = tuple(int(np.sqrt(s)) for s in sizes)
        else:
            operation_sizes = sizes
        for size in operation_sizes:
            args = _inputs(operation, size, rng)
            if not np.allclose(loop(*args), vectorized(*args), rtol=1e-10, atol=1e-10):
                raise AssertionError(f"{operation} at size {size}: loop and vectorized forms differ")
            loop_seconds = _best_time(loop, args, repeats)
            vector_seconds = _best_time(vectorized, args, max(repeats, 20))
            rows.append(
                {
                    "operation": operation,
                    "size": size,
                    "size_means": meaning,
                    "loop_seconds": loop_seconds,
                    "vectorized_seconds": vector_seconds,
                    "speedup": loop_seconds / vector_seconds,
                }
            )
    return rows
