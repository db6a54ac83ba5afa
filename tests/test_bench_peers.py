"""The benchmark's compiled peers (bench/peers.py) train the same models as the engine.

A peer that computed something else would make the benchmark compare unequal
work, so each peer, from the engine's initial weights and with the engine's
mini-batch orders, must end within rounding of the engine's parameters.
Skipped where the optional ``bench`` extra (jax, torch) is not installed;
nothing here is timed. torch.compile is left out: it compiles the same step
function, for 20-70 s per case.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from nnstudy.core import batches, initializers, network, optimizers, training

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import peers  # noqa: E402

TOLERANCE = 1e-10
EPOCHS = 4
SEEDS = [0, 1, 2]

# name -> (layer sizes, trainer options); the data come from _problem.
CASES = {
    "binary, full-batch gradient descent with L2": ((2, 6, 3, 1), dict(optimizer="gd", learning_rate=0.5, lambd=0.7)),
    # 40 samples in batches of 16: two full batches and a partial one per epoch.
    "binary, mini-batch Adam": ((2, 6, 3, 1), dict(optimizer="adam", learning_rate=0.05, batch_size=16)),
    "softmax, mini-batch Adam with L2": (
        (4, 5, 3), dict(optimizer="adam", learning_rate=0.05, batch_size=16, lambd=0.3, softmax=True)),
}

TRAINERS = {
    "jax": ("jax", peers.jax_trainer),
    "torch.func": ("torch", peers.torch_func_trainer),
}


def _problem(layer_sizes, softmax):
    g = np.random.default_rng(3)
    X = g.standard_normal((layer_sizes[0], 40))
    labels = (X[0] * X[1] > 0).astype(int) + (softmax & (X[0] > 1))
    Y = np.eye(layer_sizes[-1])[labels].T if softmax else labels[None].astype(float)
    return X, Y, labels


def _engine(X, Y, labels, layer_sizes, params, options):
    arch = network.Architecture(layer_sizes, "relu", "softmax" if options.get("softmax") else "sigmoid")
    config = training.TrainConfig(epochs=EPOCHS, batch_size=options.get("batch_size"), eval_every=1000)
    result = training.train(
        params, arch, optimizers.make_optimizer(options["optimizer"]), training.TrainData(X, Y, labels),
        config, learning_rate=options["learning_rate"], lambd=options.get("lambd", 0.0), seeds=SEEDS,
    )
    return result.params


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("trainer", TRAINERS)
def test_peer_ends_where_the_engine_ends(trainer, case):
    library, build = TRAINERS[trainer]
    pytest.importorskip(library)
    layer_sizes, options = CASES[case]
    X, Y, labels = _problem(layer_sizes, options.get("softmax", False))
    params = initializers.initialize(layer_sizes, "he", SEEDS)
    expected = _engine(X, Y, labels, layer_sizes, params, options)
    orders = None
    if options.get("batch_size"):
        sampler = batches.CounterSampler(SEEDS)
        orders = np.stack([sampler.order(epoch, X.shape[1]) for epoch in range(EPOCHS)])

    got = build(X, Y, layer_sizes, epochs=EPOCHS, **options)(params, orders)

    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].shape == expected[name].shape
        # The models moved far beyond the tolerance, so agreement is not a no-op.
        assert np.abs(expected[name] - params[name]).max() > 1e3 * TOLERANCE
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=TOLERANCE, err_msg=name)
