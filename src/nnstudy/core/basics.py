"""The course's NumPy building blocks: activations, softmax, reshaping, losses.

Every function takes and returns arrays of any shape unless its docstring
says otherwise; the networks in :mod:`nnstudy.core.network` use these directly.
"""

import numpy as np


def sigmoid(x, out=None):
    """Logistic function ``1 / (1 + exp(-x))``, exact and warning-free for any finite x.

    For negative inputs ``exp(-x)`` would overflow, so the equivalent form
    ``exp(x) / (1 + exp(x))`` is used there instead. Both share the
    exponential ``t = exp(-|x|)``, which lies in [0, 1]: the numerator is 1
    for x >= 0 and t otherwise, that is ``max(t, x >= 0)``.
    out : optional array to write the result into (the networks' buffers).
    """
    x = np.asarray(x, dtype=float)
    t = np.exp(np.copysign(x, -1.0))
    return np.divide(np.maximum(t, x >= 0), 1.0 + t, out=out)


def sigmoid_derivative(x):
    """Derivative of :func:`sigmoid` at ``x``: ``s * (1 - s)``."""
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x, out=None):
    """Rectified linear unit ``max(x, 0)``; ``out`` may be ``x`` itself."""
    return np.maximum(x, 0.0, out=out)


def relu_derivative(x):
    """Derivative of :func:`relu`: 1 where ``x > 0``, else 0 (0 at the kink)."""
    return (np.asarray(x) > 0).astype(float)


def tanh_derivative(x):
    """Derivative of ``tanh``: ``1 - tanh(x)**2``."""
    return 1.0 - np.tanh(x) ** 2


def softmax(x, axis=-1, out=None):
    """Softmax along ``axis``; subtracting the maximum keeps large inputs finite.

    out : optional array to write the result into.
    """
    x = np.asarray(x, dtype=float)
    shifted = np.subtract(x, x.max(axis=axis, keepdims=True), out=out)
    np.exp(shifted, out=shifted)
    return np.divide(shifted, shifted.sum(axis=axis, keepdims=True), out=shifted)


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` computed without forming the softmax (no log of 0)."""
    x = np.asarray(x, dtype=float)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def image_to_vector(image):
    """Flatten one image of shape ``(height, width, channels)`` into a column.

    Returns shape ``(height * width * channels, 1)``, row-major order.
    """
    image = np.asarray(image)
    return image.reshape(-1, 1)


def vector_to_image(vector, shape):
    """Inverse of :func:`image_to_vector` for an image of ``shape``."""
    return np.asarray(vector).reshape(shape)


def images_to_columns(images):
    """Flatten a stack of ``m`` images ``(m, h, w[, c])`` into ``(h * w * c, m)``.

    Each column is one image in row-major order (reshape to ``(m, -1)``, then
    transpose), the course's layout for logistic regression.
    """
    images = np.asarray(images)
    return images.reshape(images.shape[0], -1).T


def normalize_rows(x):
    """Divide each row of a 2-D array by its L2 norm; zero rows stay zero."""
    x = np.asarray(x, dtype=float)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def l1_loss(yhat, y):
    """Sum of absolute differences ``sum |y - yhat|``."""
    return float(np.sum(np.abs(np.asarray(y) - np.asarray(yhat))))


def l2_loss(yhat, y):
    """Sum of squared differences ``sum (y - yhat)**2``."""
    diff = np.asarray(y) - np.asarray(yhat)
    return float(np.dot(diff.ravel(), diff.ravel()))
