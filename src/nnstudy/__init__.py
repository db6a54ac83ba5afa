"""nnstudy: small fully-connected networks, many at once, in NumPy.

Array conventions, used everywhere in the package:

* Samples lie along the **last** axis, as in the course: inputs ``X`` have
  shape ``(n_features, m)`` and targets ``Y`` shape ``(n_outputs, m)``.
* Models lie along a **leading** axis of length ``S``: a weight matrix of
  layer ``l`` has shape ``(S, n_l, n_{l-1})``, a bias ``(S, n_l, 1)`` and an
  activation ``(S, n_l, m)``. ``S = 1`` is the ordinary single model.
* Per-model hyperparameters (learning rate, L2 strength, keep probability)
  are arrays of shape ``(S,)``.
"""

__version__ = "0.1.0"
