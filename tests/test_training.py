"""The training loop: S models together must behave exactly like S models alone."""

import logging
import math
import warnings

import numpy as np
import pytest

from nnstudy.core import engines, fused, initializers, network, optimizers, rng, training
from nnstudy.errors import ConfigError

from conftest import xor_data


def noisy_data_with_dev(m=30, m_dev=60):
    """Few noisy training samples and a clean dev split: the dev cost falls, then rises."""
    X, Y, y = xor_data(m, 0.3, seed=0)
    X_dev, Y_dev, y_dev = xor_data(m_dev, 0.0, seed=1)
    return training.TrainData(X, Y, y, X_dev, Y_dev, y_dev)


def pick(params, s):
    return {k: v[s : s + 1] for k, v in params.items()}


def assert_same_model(batch, s, alone):
    """Model s of a batch result equals the single model of ``alone``, bit for bit."""
    for k in batch.params:
        np.testing.assert_array_equal(batch.params[k][s], alone.params[k][0], err_msg=k)
    np.testing.assert_array_equal(batch.history["step"], alone.history["step"])
    for key in training.HISTORY_KEYS:
        np.testing.assert_array_equal(batch.history[key][s], alone.history[key][0], err_msg=key)
    assert batch.status[s] == alone.status[0]
    assert batch.stop_step[s] == alone.stop_step[0]
    assert batch.best_step[s] == alone.best_step[0]


# Six models that differ in everything that can differ per model.
MODELS = dict(
    initializer=["he", "xavier", "glorot", "small", "random", "he"],
    learning_rate=[0.01, 0.02, 0.005, 0.03, 0.002, 0.01],
    lambd=[0.0, 0.1, 0.7, 0.0, 0.05, 0.3],
    keep_prob=[1.0, 0.8, 0.6, 0.9, 1.0, 0.7],
    patience=[0, 3, 0, 5, 2, 0],
    seed=[1, 2, 3, 4, 5, 6],
)
ARCH = network.Architecture((2, 8, 6, 1), "relu", "sigmoid")


def train_models(order, config):
    """Train the MODELS at positions ``order`` in one batch."""
    settings = {k: [v[i] for i in order] for k, v in MODELS.items()}
    params = initializers.initialize(ARCH.layer_sizes, settings["initializer"], settings["seed"])
    return training.train(
        params,
        ARCH,
        optimizers.make_optimizer("adam"),
        noisy_data_with_dev(),
        config,
        learning_rate=settings["learning_rate"],
        lambd=settings["lambd"],
        keep_prob=settings["keep_prob"],
        patience=settings["patience"],
        seeds=settings["seed"],
    )


@pytest.mark.parametrize(
    "config",
    [
        training.TrainConfig(epochs=150, eval_every=4),
        training.TrainConfig(
            epochs=12, batch_size=8, eval_every=5, schedule="inverse_time", decay_rate=0.3
        ),
    ],
    ids=["full-batch", "mini-batch"],
)
def test_batched_equals_separate(config):
    n = len(MODELS["seed"])
    batch = train_models(range(n), config)
    reverse = train_models(range(n)[::-1], config)
    # The batch really mixes outcomes: some models stop early, some run to the end.
    assert "stopped_early" in batch.status and "ok" in batch.status
    for s in range(n):
        alone = train_models([s], config)
        assert_same_model(batch, s, alone)
        assert_same_model(reverse, n - 1 - s, alone)


# --- divergence ---------------------------------------------------------------


def diverging_batch(order):
    # Linear hidden layers: a huge step grows the weights geometrically until the
    # logits overflow (ReLU units would mostly die instead).
    arch = network.Architecture((2, 8, 8, 8, 1), "linear", "sigmoid")
    X, Y, y = xor_data(40, 0.0, seed=2)
    inits = ["random", "he", "xavier"]
    rates = [1e6, 0.1, 0.1]
    seeds = [1, 2, 3]
    params = initializers.initialize(
        arch.layer_sizes, [inits[i] for i in order], [seeds[i] for i in order]
    )
    return training.train(
        params,
        arch,
        optimizers.make_optimizer("gd"),
        training.TrainData(X, Y, y),
        training.TrainConfig(epochs=40, eval_every=2),
        learning_rate=[rates[i] for i in order],
        seeds=[seeds[i] for i in order],
    )


def test_divergence_is_a_status_not_a_crash():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = diverging_batch([0, 1, 2])
        alone = [diverging_batch([s]) for s in (1, 2)]
    np.testing.assert_array_equal(batch.status, ["diverged", "ok", "ok"])
    stop = batch.stop_step[0]
    assert 0 < stop < 40
    np.testing.assert_array_equal(batch.stop_step[1:], [-1, -1])
    # History is finite before the divergence and NaN from the first record after it.
    steps = batch.history["step"]
    assert np.all(np.isfinite(batch.history["cost"][0, steps < stop]))
    assert np.all(np.isnan(batch.history["cost"][0, steps > stop]))
    assert np.all(np.isnan(batch.history["grad_norm"][0, steps > stop]))
    # The healthy models never notice their neighbour.
    for s, result in zip((1, 2), alone):
        assert_same_model(batch, s, result)
        assert np.all(np.isfinite(batch.history["cost"][s]))


def test_diverged_model_is_frozen_where_it_diverged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = diverging_batch([0, 1, 2])
    stop = int(batch.stop_step[0])
    # Full batch: one step per epoch, so `stop` epochs reach the diverging weights.
    arch = network.Architecture((2, 8, 8, 8, 1), "linear", "sigmoid")
    X, Y, y = xor_data(40, 0.0, seed=2)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")
        replay = training.train(
            initializers.initialize(arch.layer_sizes, "random", [1]),
            arch,
            optimizers.make_optimizer("gd"),
            training.TrainData(X, Y, y),
            training.TrainConfig(epochs=stop, eval_every=2),
            learning_rate=1e6,
            seeds=[1],
        )
    # Frozen means kept, not overwritten by the non-finite updates that follow.
    for k in batch.params:
        np.testing.assert_array_equal(batch.params[k][0], replay.params[k][0], err_msg=k)
    assert not np.any(np.isnan(batch.params["b1"][0]))


def test_diverging_model_alone_matches_its_place_in_the_batch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = diverging_batch([1, 0, 2])
        alone = diverging_batch([0])
    assert alone.status[0] == "diverged" == batch.status[1]
    assert alone.stop_step[0] == batch.stop_step[1]
    np.testing.assert_array_equal(batch.history["cost"][1], alone.history["cost"][0])


@pytest.mark.parametrize("engine", ["plain", "fused"])
@pytest.mark.parametrize("method, batch_size", [("gd", None), ("adam", 16)])
def test_a_far_too_large_learning_rate_is_diverged_before_anything_overflows(engine, method, batch_size):
    # ReLU units and a cross-entropy computed from the logits keep every number
    # finite at a learning rate of 1e6: only the rule on cost growth and
    # weight norms can call these runs diverged.
    arch = network.Architecture((2, 10, 5, 1))
    X, Y, y = xor_data(64, 0.1, seed=4)
    seeds = [1, 2, 3, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = training.train(
            initializers.initialize(arch.layer_sizes, "he", seeds),
            arch,
            optimizers.make_optimizer(method),
            training.TrainData(X, Y, y),
            training.TrainConfig(epochs=30, batch_size=batch_size, eval_every=1),
            learning_rate=[1e6, 1e6, 1e6, 0.01],
            seeds=seeds,
            engine=engine,
        )
    np.testing.assert_array_equal(result.status, ["diverged"] * 3 + ["ok"])
    steps_per_epoch = result.steps_per_epoch
    # Found at the first record after the jump: one epoch of steps at most.
    assert np.all((0 < result.stop_step[:3]) & (result.stop_step[:3] <= steps_per_epoch))
    assert np.all(np.isfinite(result.params["W1"]))


def test_the_divergence_rule_on_planted_costs_and_norms():
    bound, factor = training.DIVERGENCE_WEIGHT_NORM, training.DIVERGENCE_COST_FACTOR
    initial = np.array([0.5, 0.5, 3.0, 3.0, 0.5, 0.5, 0.5])
    cost = np.array([factor * 1.0, factor * 1.01, factor * 3.0, factor * 3.01, 0.1, 0.1, np.nan])
    norms = np.array([[1.0, 1.0]] * 4 + [[bound, 1.0], [1.0, bound * 1.01], [1.0, 1.0]])
    np.testing.assert_array_equal(
        training.diverging(cost, initial, norms),
        # At the ceiling is not above it; the ceiling is factor x max(initial cost, 1).
        [False, True, False, True, False, True, True],
    )


# --- early stopping ----------------------------------------------------------


def test_early_stopping_restores_the_best_recorded_weights():
    data = noisy_data_with_dev()
    arch = network.Architecture((2, 32, 32, 1), "relu", "sigmoid")
    seeds = [1, 2, 3]
    params = initializers.initialize(arch.layer_sizes, "he", seeds)
    adam = optimizers.make_optimizer("adam")
    # Full batch and a record every step: record r is the state after r epochs.
    config = training.TrainConfig(epochs=300, eval_every=1)
    result = training.train(
        params, arch, adam, data, config, learning_rate=0.01, patience=[0, 5, 20], seeds=seeds
    )
    assert list(result.status) == ["ok", "stopped_early", "stopped_early"]
    for s, patience in ((1, 5), (2, 20)):
        dev_cost = result.history["dev_cost"][s]
        best = int(np.argmin(dev_cost))
        stop = result.stop_step[s]
        assert 0 < best < stop < 300
        # Stopped after `patience` records without improvement on the best.
        assert stop - best == patience
        assert np.all(dev_cost[best + 1 : stop + 1] >= dev_cost[best])
        # The history stays frozen after the stop.
        assert np.all(dev_cost[stop:] == dev_cost[stop])
        # The returned weights are those of the best record: retrain just that long.
        replay = training.train(
            pick(params, s),
            arch,
            adam,
            data,
            training.TrainConfig(epochs=best, eval_every=1),
            learning_rate=0.01,
            seeds=[seeds[s]],
        )
        for k in params:
            np.testing.assert_array_equal(result.params[k][s], replay.params[k][0], err_msg=k)
        logits, _ = network.forward(pick(result.params, s), data.X_dev, arch)
        assert network.data_loss(logits, data.Y_dev, arch)[0] == dev_cost[best]
    # Without patience nothing is restored: the model trained for all 300 epochs.
    assert result.stop_step[0] == -1 and result.steps == 300


def test_best_step_is_the_record_early_stopping_keeps():
    # The best record is chosen on dev cost, as early stopping chooses it, not on dev accuracy.
    data = noisy_data_with_dev()
    arch = network.Architecture((2, 32, 32, 1), "relu", "sigmoid")
    seeds = [1, 2, 3]
    params = initializers.initialize(arch.layer_sizes, "he", seeds)
    config = training.TrainConfig(epochs=300, eval_every=1)
    result = training.train(params, arch, optimizers.make_optimizer("adam"), data, config, learning_rate=0.01,
                            patience=[0, 5, 20], seeds=seeds)
    dev_cost, dev_accuracy = result.history["dev_cost"], result.history["dev_accuracy"]
    steps = result.history["step"]
    np.testing.assert_array_equal(result.best_step, steps[np.argmin(dev_cost, axis=1)])
    # The two criteria disagree here, so the test tells them apart.
    assert np.any(steps[np.argmax(dev_accuracy, axis=1)] != result.best_step)
    for s in (1, 2):
        assert result.stop_step[s] - result.best_step[s] == [5, 20][s - 1]


# --- mini-batches and history ------------------------------------------------


def test_mini_batches_cover_every_sample_once_per_epoch(monkeypatch):
    m, batch_size, epochs, seeds = 10, 4, 3, [7, 8]
    arch = network.Architecture((1, 3, 1), "tanh", "sigmoid")
    # The single input feature is the sample's index, so batches can be read back.
    X = np.arange(m, dtype=float)[None]
    y = np.arange(m) % 2
    seen = []
    real_forward = network.forward

    def spy(params, X_b, *args, **kwargs):
        if X_b.ndim == 3:
            seen.append(X_b[:, 0, :].copy())
        return real_forward(params, X_b, *args, **kwargs)

    monkeypatch.setattr(network, "forward", spy)
    result = training.train(
        initializers.initialize(arch.layer_sizes, "xavier", seeds),
        arch,
        optimizers.make_optimizer("gd"),
        training.TrainData(X, y[None].astype(float), y),
        training.TrainConfig(epochs=epochs, batch_size=batch_size, eval_every=1),
        learning_rate=0.1,
        seeds=seeds,
        engine="plain",  # the reference engine, whose passes the spy sees
    )
    assert result.steps_per_epoch == math.ceil(m / batch_size) == 3
    assert result.steps == epochs * 3
    # Two full batches, then the last partial batch of 10 - 8 = 2 samples.
    assert [b.shape for b in seen] == [(2, 4), (2, 4), (2, 2)] * epochs
    expected = rng.counter_permutations(rng.stream_keys(seeds, "shuffle"), 0, m)
    orders = []
    for epoch in range(epochs):
        order = np.concatenate(seen[3 * epoch : 3 * epoch + 3], axis=1).astype(int)
        for row in order:
            np.testing.assert_array_equal(np.sort(row), np.arange(m))
        orders.append(order)
    np.testing.assert_array_equal(orders[0], expected)
    assert not np.array_equal(orders[0][0], orders[0][1])  # each model its own order
    assert not np.array_equal(orders[0], orders[1])  # a fresh order every epoch


def test_full_batch_when_batch_size_covers_the_data():
    X, Y, y = xor_data(12, 0.0, seed=3)
    arch = network.Architecture((2, 3, 1), "relu", "sigmoid")
    params = initializers.initialize(arch.layer_sizes, "he", [1])
    kwargs = dict(learning_rate=0.1, seeds=[1])
    gd = optimizers.make_optimizer("gd")
    data = training.TrainData(X, Y, y)
    full = training.train(params, arch, gd, data, training.TrainConfig(epochs=5), **kwargs)
    big = training.train(
        params, arch, gd, data, training.TrainConfig(epochs=5, batch_size=50), **kwargs
    )
    assert full.steps_per_epoch == big.steps_per_epoch == 1
    for k in params:
        np.testing.assert_array_equal(full.params[k], big.params[k])


def test_history_shapes_and_values():
    X, Y, y = xor_data(20, 0.1, seed=4)
    X_dev, Y_dev, y_dev = xor_data(15, 0.0, seed=5)
    arch = network.Architecture((2, 4, 3, 1), "tanh", "sigmoid")
    seeds = [1, 2]
    params = initializers.initialize(arch.layer_sizes, ["he", "glorot"], seeds)
    lambd = np.array([0.0, 0.2])
    result = training.train(
        params,
        arch,
        optimizers.make_optimizer("momentum", beta=0.9),
        training.TrainData(X, Y, y, X_dev, Y_dev, y_dev),
        training.TrainConfig(epochs=7, eval_every=3),
        learning_rate=0.1,
        lambd=lambd,
        seeds=seeds,
    )
    history = result.history
    # Records at 0, 3, 6 and always at the last step, 7.
    np.testing.assert_array_equal(history["step"], [0, 3, 6, 7])
    for key in ("cost", "train_accuracy", "dev_cost", "dev_accuracy"):
        assert history[key].shape == (2, 4), key
        assert np.all(np.isfinite(history[key])), key
    assert history["grad_norm"].shape == history["weight_norm"].shape == (2, 4, 3)
    # The input parameters are not modified.
    np.testing.assert_array_equal(
        params["W1"], initializers.initialize(arch.layer_sizes, ["he", "glorot"], seeds)["W1"]
    )
    # First and last records describe the initial and the final parameters.
    for r, p in ((0, params), (-1, result.params)):
        np.testing.assert_allclose(
            history["cost"][:, r], network.cost(p, X, Y, arch, lambd=lambd), rtol=1e-12
        )
        np.testing.assert_allclose(history["train_accuracy"][:, r], network.accuracy(p, X, y, arch))
        np.testing.assert_allclose(
            history["dev_accuracy"][:, r], network.accuracy(p, X_dev, y_dev, arch)
        )
        for l in range(1, 4):
            np.testing.assert_allclose(
                history["weight_norm"][:, r, l - 1],
                np.linalg.norm(p[f"W{l}"], axis=(1, 2)),
                rtol=1e-12,
            )
        logits, cache = network.forward(p, X, arch)
        grads = network.backward(p, cache, logits, Y, arch, network.per_model(lambd, 2))
        np.testing.assert_allclose(
            history["grad_norm"][:, r, 0], np.linalg.norm(grads["W1"], axis=(1, 2)), rtol=1e-12
        )
    # Training makes progress.
    assert np.all(history["cost"][:, -1] < history["cost"][:, 0])
    np.testing.assert_array_equal(result.status, ["ok", "ok"])
    assert set(result.best_step) <= set(history["step"])
    assert result.wall_time >= 0


def test_learning_rate_decay_changes_the_trajectory_exactly_as_scheduled():
    X, Y, y = xor_data(16, 0.0, seed=6)
    arch = network.Architecture((2, 4, 1), "tanh", "sigmoid")
    params = initializers.initialize(arch.layer_sizes, "he", [3])
    data = training.TrainData(X, Y, y)
    gd = optimizers.make_optimizer("gd")

    def run(p, epochs, rate, **schedule):
        config = training.TrainConfig(epochs=epochs, **schedule)
        return training.train(p, arch, gd, data, config, learning_rate=rate, seeds=[3]).params

    constant = run(params, 2, 0.5)
    decayed = run(params, 2, 0.5, schedule="inverse_time", decay_rate=1.0)
    no_decay = run(params, 2, 0.5, schedule="inverse_time", decay_rate=0.0)
    assert not np.array_equal(constant["W1"], decayed["W1"])
    for k in params:
        np.testing.assert_array_equal(constant[k], no_decay[k])
    # Epoch 0 at 0.5, epoch 1 at 0.5 / (1 + 1 * 1) = 0.25: two one-epoch runs by hand.
    by_hand = run(run(params, 1, 0.5), 1, 0.25)
    for k in params:
        np.testing.assert_array_equal(decayed[k], by_hand[k])


# --- validation ----------------------------------------------------------------


def small_problem():
    X, Y, y = xor_data(8, 0.0, seed=7)
    arch = network.Architecture((2, 3, 1), "relu", "sigmoid")
    params = initializers.initialize(arch.layer_sizes, "he", [1, 2])
    return params, arch, training.TrainData(X, Y, y)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(learning_rate=-0.1), r"learning_rate=\[-0\.1, -0\.1\]"),
        (dict(learning_rate=[0.1, 0.0]), r"learning_rate=\[0\.1, 0\.0\]"),
        (dict(learning_rate=float("inf")), "learning_rate"),
        (dict(keep_prob=0.0), r"keep_prob=\[0\.0, 0\.0\]"),
        (dict(keep_prob=[1.0, 1.5]), r"keep_prob=\[1\.0, 1\.5\]"),
        (dict(lambd=-1.0), r"lambd=\[-1\.0, -1\.0\]"),
        (dict(patience=2), r"patience=\[2, 2\]"),
        (dict(patience=-1), r"patience=\[-1, -1\]"),
        (dict(seeds=[1]), r"seeds=\[1\]"),
        (dict(seeds=None), r"seeds=None"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, pattern):
    params, arch, data = small_problem()
    arguments = {"learning_rate": 0.1, "seeds": [1, 2], **kwargs}
    with pytest.raises(ConfigError, match=pattern):
        training.train(
            params,
            arch,
            optimizers.make_optimizer("gd"),
            data,
            training.TrainConfig(epochs=1),
            **arguments,
        )


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(epochs=0), "epochs=0"),
        (dict(epochs=2.5), r"epochs=2\.5"),
        (dict(epochs=float("inf")), "epochs=inf"),
        (dict(epochs=float("nan")), "epochs=nan"),
        (dict(epochs=3, batch_size=0), "batch_size=0"),
        (dict(epochs=3, batch_size=float("inf")), "batch_size=inf"),
        (dict(epochs=3, eval_every=float("nan")), "eval_every=nan"),
        (dict(epochs=3, eval_every=0), "eval_every=0"),
        (dict(epochs=3, schedule="cosine"), "schedule='cosine'"),
        (dict(epochs=3, schedule="step", decay_interval=0), "decay_interval=0"),
    ],
)
def test_bad_train_config_names_the_parameter(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        training.TrainConfig(**kwargs)


@pytest.mark.parametrize("engine_class", list(engines.ENGINES.values()))
@pytest.mark.parametrize("batch_size", [1, 64, None])
def test_l2_part_of_the_gradient_does_not_depend_on_the_batch_size(engine_class, batch_size):
    # The penalty lambd / (2 m_train) * sum ||W||^2 belongs to the training
    # objective, so every mini-batch step carries lambd / m_train * W of it.
    X, Y, _ = xor_data(200, 0.1, seed=4)
    m_train = X.shape[-1]
    params = initializers.initialize(ARCH.layer_sizes, ["he", "xavier"], [1, 2])
    lambd = np.array([0.7, 3.0]).reshape(-1, 1, 1)
    keep = np.ones((2, 1, 1))
    order = np.tile(np.arange(m_train), (2, 1))

    def weight_grads(lambd):
        engine = engine_class(params, ARCH, optimizers.make_optimizer("gd"), lambd, keep, n_train=m_train)
        X_b, Y_b = next(engine.batches(X, Y, None if batch_size is None else order, batch_size))
        engine.gradients(X_b, Y_b)
        return {k: v for k, v in engine.last_gradients().items() if k[0] == "W"}

    with_l2, without_l2 = weight_grads(lambd), weight_grads(None)
    for name, W in params.items():
        if name[0] == "W":
            np.testing.assert_allclose(with_l2[name] - without_l2[name], lambd / m_train * W, rtol=1e-9, atol=1e-15)


def test_mini_batch_training_decays_weights_at_the_full_batch_rate():
    # A logistic regression on all-zero inputs has no data gradient on its
    # weights: one epoch of plain SGD shrinks them by (1 - lr lambd / m)^steps.
    m, lr, lambd = 40, 0.1, 2.0
    arch = network.Architecture((3, 1), "relu", "sigmoid")
    X = np.zeros((3, m))
    y = np.arange(m) % 2
    data = training.TrainData(X, y[None].astype(float), y)
    params = initializers.initialize(arch.layer_sizes, ["he"], [0])
    for batch_size in (1, 8, None):
        config = training.TrainConfig(epochs=1, batch_size=batch_size, eval_every=1)
        result = training.train(
            params, arch, optimizers.make_optimizer("gd"), data, config, learning_rate=lr, lambd=lambd, seeds=[0]
        )
        steps = result.steps_per_epoch
        expected = params["W1"] * (1 - lr * lambd / m) ** steps
        np.testing.assert_allclose(result.params["W1"], expected, rtol=1e-12)


def test_progress_is_logged_at_records_without_changing_the_results(caplog, monkeypatch):
    config = training.TrainConfig(epochs=150, eval_every=4)
    order = list(range(len(MODELS["seed"])))
    with caplog.at_level(logging.WARNING, logger="nnstudy.core.training"):
        quiet = train_models(order, config)
    assert caplog.records == []
    # Two models per chunk: three chunks, each logging on its own.
    monkeypatch.setattr(fused, "chunk_size", lambda arch, width, n: 2)
    with caplog.at_level(logging.INFO, logger="nnstudy.core.training"):
        logged = train_models(order, config)
    for s in order:
        assert_same_model(logged, s, training.TrainResult(
            **{**quiet.__dict__, "params": pick(quiet.params, s),
               "history": {k: v if k == "step" else v[s : s + 1] for k, v in quiet.history.items()},
               "status": quiet.status[s : s + 1], "stop_step": quiet.stop_step[s : s + 1],
               "best_step": quiet.best_step[s : s + 1]}
        ))
    messages = [r.getMessage() for r in caplog.records]
    for chunk, models in enumerate(["1-2", "3-4", "5-6"], 1):
        lines = [m for m in messages if m.startswith(f"models {models} of 6 (chunk {chunk} of 3): step ")]
        assert 2 <= len(lines) <= training.PROGRESS_LINES, messages
        steps = [int(m.split("step ")[1].split(" of ")[0]) for m in lines]
        assert steps == sorted(steps) and steps[0] > 0
        assert "median accuracy 0." in lines[-1]
    total = quiet.history["step"][-1]
    assert any(f"step {total} of {total} (100%)" in m for m in messages)


def test_progress_records_spread_over_the_run_and_end_at_the_last():
    assert training._progress_records(101) == set(range(10, 101, 10))
    assert training._progress_records(4) == {1, 2, 3}
    assert training._progress_records(1) == set()
