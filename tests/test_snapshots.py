"""Decision-boundary snapshots: recorded at every record, and changing no trained number."""

import dataclasses

import numpy as np
import pytest

from nnstudy.core import initializers, network, optimizers, snapshots, training

from conftest import xor_data

SEEDS = [1, 2, 3, 4, 5, 6]
PER_MODEL = dict(
    learning_rate=[0.05, 0.02, 0.1, 0.03, 1e4, 0.05],  # model 4 diverges
    lambd=[0.0, 0.1, 0.7, 0.0, 0.05, 0.3],
    keep_prob=[1.0, 0.8, 0.6, 0.9, 1.0, 0.7],
    patience=[0, 2, 0, 3, 0, 1],
)
ARCH = network.Architecture((2, 7, 5, 1))


def per_model_data(probe=None):
    sets = [xor_data(40, 0.2, seed=10 + s) for s in range(len(SEEDS))]
    devs = [xor_data(24, 0.0, seed=40 + s) for s in range(len(SEEDS))]
    data = training.TrainData(*(np.stack([d[i] for d in sets]) for i in range(3)),
                              *(np.stack([d[i] for d in devs]) for i in range(3)))
    if probe is None:
        return data
    return dataclasses.replace(data, X_probe=np.stack([probe + 0.1 * s for s in range(len(SEEDS))]))


def run(engine, data, batch_size):
    params = initializers.initialize(ARCH.layer_sizes, ["he", "xavier", "small", "he", "random", "glorot"], SEEDS)
    config = training.TrainConfig(epochs=12, batch_size=batch_size, eval_every=4)
    return training.train(params, ARCH, optimizers.make_optimizer("adam"), data, config, seeds=SEEDS,
                          engine=engine, **PER_MODEL)


def test_boundary_grid_spans_the_data_with_a_margin():
    X = np.array([[0.0, 1.0, 2.0], [-1.0, 3.0, 1.0]])
    axes, points = snapshots.boundary_grid(X)
    assert axes.shape == (2, snapshots.GRID_POINTS) and points.shape == (2, snapshots.GRID_POINTS ** 2)
    np.testing.assert_allclose(axes[:, 0], [0 - 0.3, -1 - 0.6])
    np.testing.assert_allclose(axes[:, -1], [2 + 0.3, 3 + 0.6])
    # The first axis runs fastest: point k is (axes[0][k % G], axes[1][k // G]).
    k = snapshots.GRID_POINTS + 3
    np.testing.assert_allclose(points[:, k], [axes[0][3], axes[1][1]])


def test_quantize_keeps_half_exact_and_marks_missing_values():
    codes = snapshots.quantize(np.array([0.0, 0.5, 1.0, np.nan, 0.25]))
    assert codes.dtype == np.uint8
    assert codes.tolist() == [0, 127, 254, snapshots.MISSING, 64]


@pytest.mark.parametrize("engine, batch_size", [("plain", 16), ("fused", 16), ("fused", None)])
def test_snapshots_change_no_trained_number_and_match_a_forward_pass(engine, batch_size):
    probe = snapshots.boundary_grid(np.array([[-1.0, 1.0], [-1.0, 1.0]]))[1]
    plain = run(engine, per_model_data(), batch_size)
    probed = run(engine, per_model_data(probe), batch_size)
    for k in plain.params:
        np.testing.assert_array_equal(plain.params[k], probed.params[k], err_msg=k)
    assert set(probed.history) == set(plain.history) | {snapshots.HISTORY_KEY}
    for k in plain.history:
        np.testing.assert_array_equal(plain.history[k], probed.history[k], err_msg=k)
    np.testing.assert_array_equal(plain.status, probed.status)
    np.testing.assert_array_equal(plain.stop_step, probed.stop_step)

    boundary = probed.history[snapshots.HISTORY_KEY]
    assert boundary.shape == (len(SEEDS), len(probed.history["step"]), probe.shape[1])
    assert probed.status[4] == "diverged"
    assert np.isnan(boundary[4, -1]).all()
    # The last record of a model that trained to the end is the final network's output on its own grid.
    data = per_model_data(probe)
    for s in np.flatnonzero(probed.status == "ok"):
        params = {k: v[s : s + 1] for k, v in probed.params.items()}
        logits, _ = network.forward(params, data.X_probe[s], ARCH)
        np.testing.assert_allclose(boundary[s, -1], network.OUTPUTS["sigmoid"][0](logits)[0, 0], rtol=1e-6)
