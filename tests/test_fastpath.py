"""The fast paths give the plain path's numbers, bit for bit.

The fused engine (nnstudy.core.fused) must reproduce the plain engine (network.
forward / network.backward / the optimizer as written) exactly, in every
variant the loop supports; chunking the model axis must not change any
model; the integer dropout masks must equal the float comparison. No test
here times anything.
"""

import itertools
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudy.core import batches, engines, fused, initializers, network, optimizers, regularizers, rng, training
from nnstudy.errors import ConfigError

from conftest import xor_data


def binary_data():
    X, Y, y = xor_data(50, 0.2, seed=0)
    X_dev, Y_dev, y_dev = xor_data(30, 0.0, seed=1)
    return training.TrainData(X, Y, y, X_dev, Y_dev, y_dev)


def three_class_data():
    g = np.random.default_rng(3)
    X = g.standard_normal((4, 60))
    y = g.integers(0, 3, 60)
    X_dev = g.standard_normal((4, 20))
    y_dev = g.integers(0, 3, 20)
    return training.TrainData(X, np.eye(3)[y].T, y, X_dev, np.eye(3)[y_dev].T, y_dev)


SEEDS = [1, 2, 3, 4, 5, 6]
# Six models that differ in everything that can differ per model.
PER_MODEL = dict(
    learning_rate=[0.05, 0.02, 0.1, 0.03, 0.5, 0.05],
    lambd=[0.0, 0.1, 0.7, 0.0, 0.05, 0.3],
    keep_prob=[1.0, 0.8, 0.6, 0.9, 1.0, 0.7],
    patience=[0, 2, 0, 3, 1, 0],
)


def run(engine, arch, optimizer, data, config, **overrides):
    kwargs = {**PER_MODEL, **overrides}
    params = initializers.initialize(arch.layer_sizes, ["he", "xavier", "small", "he", "random", "glorot"], SEEDS)
    return training.train(params, arch, optimizer, data, config, seeds=SEEDS, engine=engine, **kwargs)


def assert_identical(a, b):
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)
    for k in training.HISTORY_KEYS:
        np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.stop_step, b.stop_step)
    np.testing.assert_array_equal(a.best_step, b.best_step)
    assert a.steps == b.steps


OPTIMIZERS = {
    "gd": optimizers.make_optimizer("gd"),
    "momentum": optimizers.make_optimizer("momentum", beta=0.9),
    "rmsprop": optimizers.make_optimizer("rmsprop"),
    "adam": optimizers.make_optimizer("adam"),
}


def regularizer_settings(name):
    """PER_MODEL's values of the settings regularizer ``name`` uses, neutral values for the rest."""
    return {k: PER_MODEL[k] if k in regularizers.REGULARIZERS[name] else v for k, v in regularizers.NEUTRAL.items()}


# A network and data for each output of the registry.
OUTPUT_CASES = {
    "sigmoid": ((2, 7, 5, 1), binary_data),
    "softmax": ((4, 6, 5, 3), three_class_data),
}

FUSED = engines.FusedEngine.supports()


@pytest.mark.parametrize(
    "activation, output, optimizer, regularizer",
    list(itertools.product(sorted(FUSED.activations), sorted(FUSED.outputs), sorted(FUSED.optimizers),
                           sorted(FUSED.regularizers))),
)
def test_fused_engine_equals_plain_engine(activation, output, optimizer, regularizer):
    # Every combination the fused engine declares, read from the registries.
    layers, data = OUTPUT_CASES[output]
    arch = network.Architecture(layers, activation, output)
    config = training.TrainConfig(epochs=8, batch_size=16, eval_every=3)
    args = (arch, optimizers.make_optimizer(optimizer), data(), config)
    settings = regularizer_settings(regularizer)
    assert_identical(run("plain", *args, **settings), run("fused", *args, **settings))


@pytest.mark.parametrize(
    "activation, optimizer, batch_size",
    list(itertools.product(["relu", "tanh", "linear"], OPTIMIZERS, [None, 16])),
)
def test_fused_engine_equals_plain_engine_with_every_regularizer_at_once(activation, optimizer, batch_size):
    # L2, dropout and early stopping per model, all at once.
    arch = network.Architecture((2, 7, 5, 1), activation, "sigmoid")
    config = training.TrainConfig(epochs=20, batch_size=batch_size, eval_every=3)
    args = (arch, OPTIMIZERS[optimizer], binary_data(), config)
    assert_identical(run("plain", *args), run("fused", *args))


def test_fused_engine_equals_plain_engine_with_early_stopping():
    arch = network.Architecture((2, 16, 16, 1))
    config = training.TrainConfig(epochs=200, eval_every=2)
    args = (arch, OPTIMIZERS["adam"], binary_data(), config)
    plain = run("plain", *args, keep_prob=1.0, lambd=0.0)
    fast = run("fused", *args, keep_prob=1.0, lambd=0.0)
    assert "stopped_early" in fast.status and "ok" in fast.status
    assert_identical(plain, fast)


@pytest.mark.parametrize("overrides", [dict(lambd=0.0, keep_prob=1.0), dict(lambd=0.0), dict(keep_prob=1.0)])
def test_fused_engine_without_some_regularizers(overrides):
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=30, eval_every=4)
    args = (arch, OPTIMIZERS["adam"], binary_data(), config)
    assert_identical(run("plain", *args, **overrides), run("fused", *args, **overrides))


@pytest.mark.parametrize("batch_size", [None, 25])
@pytest.mark.parametrize("layers", [(4, 6, 3), (4, 3)], ids=["hidden", "no-hidden"])
def test_fused_engine_equals_plain_engine_softmax(layers, batch_size):
    arch = network.Architecture(layers, "relu", "softmax")
    config = training.TrainConfig(epochs=15, batch_size=batch_size, eval_every=4)
    args = (arch, OPTIMIZERS["adam"], three_class_data(), config)
    assert_identical(run("plain", *args), run("fused", *args))


def test_fused_engine_equals_plain_engine_with_a_one_unit_layer():
    # (n, 1) @ (1, m) products: broadcast in the fused engine, NumPy's own loop in the plain one.
    arch = network.Architecture((2, 1, 4, 1))
    config = training.TrainConfig(epochs=25, batch_size=16, eval_every=5)
    args = (arch, OPTIMIZERS["momentum"], binary_data(), config)
    assert_identical(run("plain", *args), run("fused", *args))


def test_fused_engine_equals_plain_engine_when_models_diverge():
    arch = network.Architecture((2, 8, 8, 1), "linear", "sigmoid")
    config = training.TrainConfig(epochs=40, eval_every=5)
    rates = [1e6, 0.1, 3e5, 0.05, 0.1, 0.2]
    args = (arch, OPTIMIZERS["gd"], binary_data(), config)
    plain = run("plain", *args, learning_rate=rates)
    fast = run("fused", *args, learning_rate=rates)
    assert list(fast.status).count("diverged") == 2
    assert_identical(plain, fast)


@pytest.mark.parametrize("optimizer, batch_size", [("gd", None), ("adam", 16)])
def test_fused_engine_equals_plain_engine_when_models_diverge_by_growth(optimizer, batch_size):
    # ReLU units at a rate of 1e6: every number stays finite, and the rule on
    # cost growth and weight norms must call the same models diverged at the
    # same step in both engines.
    arch = network.Architecture((2, 8, 8, 1))
    config = training.TrainConfig(epochs=20, batch_size=batch_size, eval_every=1)
    rates = [1e6, 0.1, 1e6, 0.05, 0.1, 0.2]
    args = (arch, OPTIMIZERS[optimizer], binary_data(), config)
    plain = run("plain", *args, learning_rate=rates)
    fast = run("fused", *args, learning_rate=rates)
    assert list(fast.status[[0, 2]]) == ["diverged", "diverged"]
    assert_identical(plain, fast)


def test_chunks_of_models_change_nothing(monkeypatch):
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=12, batch_size=16, eval_every=3)
    args = (arch, OPTIMIZERS["adam"], binary_data(), config)
    monkeypatch.setattr(fused, "CHUNK_BYTES", 1 << 40)
    whole = run("fused", *args)
    # Chunks of one or two models.
    monkeypatch.setattr(fused, "CHUNK_BYTES", 2 * fused.working_set(arch, 16))
    assert fused.chunk_size(arch, 16, 6) == 2
    assert_identical(whole, run("fused", *args))
    monkeypatch.setattr(fused, "CHUNK_BYTES", 1)
    assert fused.chunk_size(arch, 16, 6) == 1
    assert_identical(whole, run("fused", *args))


def test_chunk_size_is_between_one_and_the_batch():
    arch = network.Architecture((2, 10, 5, 1))
    assert fused.chunk_size(arch, 300, 3) <= 3
    assert fused.chunk_size(network.Architecture((2, 4000, 1)), 10**5, 30) == 1
    small = fused.chunk_size(arch, 300, 10**6)
    assert small >= 1 and small * fused.working_set(arch, 300) <= max(fused.CHUNK_BYTES, fused.working_set(arch, 300))


class FixedSampler:
    """A sampler with only the two required methods (like the course's)."""

    def __init__(self, n_models, seed=0):
        self.n_models = n_models
        self.seed = seed

    def order(self, epoch, m):
        g = np.random.default_rng([self.seed, epoch])
        return np.stack([g.permutation(m) for _ in range(self.n_models)])

    def uniforms(self, step, shapes):
        g = np.random.default_rng([self.seed, 10**6 + step])
        return [g.random((self.n_models, *shape)) for shape in shapes]


def test_a_sampler_without_the_fast_methods_gives_the_same_numbers():
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=10, batch_size=16, eval_every=4)
    args = (arch, OPTIMIZERS["gd"], binary_data(), config)
    plain = run("plain", *args, sampler=FixedSampler(6))
    fast = run("fused", *args, sampler=FixedSampler(6))
    assert_identical(plain, fast)


def test_a_transformation_not_known_to_be_elementwise_is_refused_by_the_fused_engine(caplog):
    adam = OPTIMIZERS["adam"]
    custom = optimizers.GradientTransformation(adam.init, adam.update)
    assert not custom.elementwise
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=5, eval_every=2)
    args = (arch, custom, binary_data(), config)
    with pytest.raises(ConfigError, match="engine 'fused' does not support this optimizer: it is not elementwise"):
        run("fused", *args)
    # "auto" takes the reference, and says why.
    with caplog.at_level(logging.INFO, logger="nnstudy.core.engines"):
        auto = run("auto", *args)
    assert_identical(run("plain", *args), auto)
    assert any(m.startswith("engine auto: plain; engine 'fused' does not support this optimizer") for m in caplog.messages)


def test_every_optimizer_of_the_registry_is_elementwise():
    for name in optimizers.OPTIMIZERS:
        assert optimizers.make_optimizer(name).elementwise, name


# --- a model alone equals the same model in any batch -----------------------


def diverging(order, eval_every):
    arch = network.Architecture((2, 8, 8, 8, 1), "linear", "sigmoid")
    X, Y, y = xor_data(40, 0.0, seed=2)
    rates, seeds = [1e6, 0.1, 0.1], [1, 2, 3]
    params = initializers.initialize(arch.layer_sizes, ["random", "he", "xavier"], seeds)
    params = {k: v[order] for k, v in params.items()}
    with np.errstate(all="ignore"):
        return training.train(
            params,
            arch,
            OPTIMIZERS["gd"],
            training.TrainData(X, Y, y),
            training.TrainConfig(epochs=40, eval_every=eval_every),
            learning_rate=[rates[i] for i in order],
            seeds=[seeds[i] for i in order],
        )


@pytest.mark.parametrize("eval_every", [2, 5, 7])
def test_a_model_diverging_between_records_has_the_same_history_alone(eval_every):
    # Alone, the loop ends at the first epoch with no active model and fills
    # the remaining records; in a batch it keeps recording. Both give NaN.
    batch = diverging([0, 1, 2], eval_every)
    alone = diverging([0], eval_every)
    assert batch.status[0] == alone.status[0] == "diverged"
    for k in training.HISTORY_KEYS:
        np.testing.assert_array_equal(batch.history[k][0], alone.history[k][0], err_msg=k)


# --- dropout draws -------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5),
    st.integers(0, 10**6),
    st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=1, max_size=3),
    st.floats(0.01, 1.0),
)
def test_keep_masks_equal_comparing_the_uniforms(seeds, step, shapes, keep):
    sampler = batches.CounterSampler(seeds)
    keep_prob = np.linspace(keep, 1.0, len(seeds))
    uniforms = sampler.uniforms(step, shapes)
    masks = sampler.keep_masks(step, shapes, keep_prob)
    for u, mask, shape in zip(uniforms, masks, shapes):
        assert u.shape == mask.shape == (len(seeds), *shape)
        assert np.all((u >= 0.0) & (u < 1.0))
        np.testing.assert_array_equal(mask, u < keep_prob[:, None, None])


def test_keep_thresholds_at_the_edges():
    # bits / 2**32 < p  exactly when  bits <= threshold.
    keep = np.array([1.0, 0.5, 2.0**-32, 0.86])
    t = rng.keep_thresholds(keep)
    assert t.dtype == np.uint32
    np.testing.assert_array_equal(t[:3], [2**32 - 1, 2**31 - 1, 0])
    for p, limit in zip(keep, t.astype(np.int64)):
        for bits in (limit - 1, limit, limit + 1):
            if 0 <= bits < 2**32:
                assert (bits <= limit) == (bits / 2.0**32 < p)


def test_counter_bits_rows_depend_only_on_their_key():
    keys = rng.stream_keys([5, 6, 7], "dropout")
    bits = rng.counter_bits(keys, 11, 9)
    assert bits.shape == (3, 9) and bits.dtype == np.uint32
    for s in range(3):
        np.testing.assert_array_equal(rng.counter_bits(keys[s : s + 1], 11, 9)[0], bits[s])
    np.testing.assert_array_equal(rng.counter_bits(keys[::-1], 11, 9), bits[::-1])
    # Two numbers per 64-bit hash, low half first: the first of 10 equals the first of 9.
    np.testing.assert_array_equal(rng.counter_bits(keys, 11, 10)[:, :9], bits)
    assert not np.array_equal(rng.counter_bits(keys, 12, 9), bits)


def test_counter_bits_are_roughly_uniform():
    bits = rng.counter_bits(rng.stream_keys([3], "dropout"), 5, 200_000)[0]
    u = bits / 2.0**32
    assert abs(u.mean() - 0.5) < 0.004
    counts, _ = np.histogram(u, bins=10, range=(0.0, 1.0))
    assert np.all(np.abs(counts - 20_000) < 700)
    # Low and high halves of the same hash are not correlated.
    assert abs(np.corrcoef(u[0::2], u[1::2])[0, 1]) < 0.02


def test_dropout_mask_draws_are_the_same_in_any_batch():
    shapes = [(4, 7), (3, 7)]
    batch = batches.CounterSampler([10, 11, 12])
    masks = batch.keep_masks(9, shapes, np.array([0.5, 0.7, 0.9]))
    part = batch.subset(np.array([2, 0]))
    alone = part.keep_masks(9, shapes, np.array([0.9, 0.5]))
    for m_batch, m_part in zip(masks, alone):
        np.testing.assert_array_equal(m_part[0], m_batch[2])
        np.testing.assert_array_equal(m_part[1], m_batch[0])


# ---------------------------------------------------------------------------
# Per-model data: every model of a batch trains on its own split


def per_model_data(n_models=6, m=40, m_dev=24):
    """Six different XOR training and dev sets of equal sizes, stacked along the model axis."""
    sets = [xor_data(m, 0.2, seed=10 + s) for s in range(n_models)]
    devs = [xor_data(m_dev, 0.0, seed=40 + s) for s in range(n_models)]
    return training.TrainData(*(np.stack([d[i] for d in sets]) for i in range(3)),
                              *(np.stack([d[i] for d in devs]) for i in range(3)))


@pytest.mark.parametrize("optimizer, batch_size", [("adam", 16), ("gd", None), ("momentum", 12)])
def test_fused_engine_equals_plain_engine_on_per_model_data(optimizer, batch_size):
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=15, batch_size=batch_size, eval_every=3)
    args = (arch, OPTIMIZERS[optimizer], per_model_data(), config)
    assert_identical(run("plain", *args), run("fused", *args))


@pytest.mark.parametrize("engine", ["plain", "fused"])
def test_a_model_on_its_own_data_trains_the_same_in_any_batch(engine):
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=12, batch_size=16, eval_every=3)
    data = per_model_data()
    inits = ["he", "xavier", "small", "he", "random", "glorot"]
    params = initializers.initialize(arch.layer_sizes, inits, SEEDS)
    whole = training.train(params, arch, OPTIMIZERS["adam"], data, config, seeds=SEEDS, engine=engine, **PER_MODEL)
    for s in (1, 4):
        alone = training.train(
            {k: v[s : s + 1] for k, v in params.items()}, arch, OPTIMIZERS["adam"], data.subset([s]),
            config, seeds=SEEDS[s : s + 1], engine=engine, **{k: v[s : s + 1] for k, v in PER_MODEL.items()},
        )
        for k in whole.params:
            np.testing.assert_array_equal(alone.params[k][0], whole.params[k][s], err_msg=k)
        for k in training.HISTORY_KEYS:
            np.testing.assert_array_equal(alone.history[k][0], whole.history[k][s], err_msg=k)


@pytest.mark.parametrize("batch_size", [None, 16])
def test_per_model_copies_of_shared_data_give_the_shared_numbers(batch_size):
    # Stacking the data along the model axis changes the layout, not one bit of any model.
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=12, batch_size=batch_size, eval_every=3)
    shared = binary_data()
    stacked = training.TrainData(*(np.stack([a] * len(SEEDS)) for a in (
        shared.X, shared.Y, shared.y, shared.X_dev, shared.Y_dev, shared.y_dev)))
    for engine in ("plain", "fused"):
        a = run(engine, arch, OPTIMIZERS["adam"], shared, config)
        b = run(engine, arch, OPTIMIZERS["adam"], stacked, config)
        assert_identical(a, b)


def test_chunks_split_per_model_data_with_their_models(monkeypatch):
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=10, batch_size=16, eval_every=3)
    args = (arch, OPTIMIZERS["adam"], per_model_data(), config)
    monkeypatch.setattr(fused, "CHUNK_BYTES", 1 << 40)
    whole = run("fused", *args)
    monkeypatch.setattr(fused, "CHUNK_BYTES", 1)
    assert_identical(whole, run("fused", *args))


def test_a_dropout_seed_changes_only_the_masks():
    plain = batches.CounterSampler([11, 12])
    other = batches.CounterSampler([11, 12], dropout_seeds=[11, 99])
    np.testing.assert_array_equal(plain.order(3, 50), other.order(3, 50))
    masks, masks_other = plain.uniforms(5, [(4, 8)]), other.uniforms(5, [(4, 8)])
    np.testing.assert_array_equal(masks[0][0], masks_other[0][0])
    assert not np.array_equal(masks[0][1], masks_other[0][1])


# Each optimizer's hyperparameters, one value per model of the six.
PER_MODEL_HYPERPARAMETERS = {
    "momentum": {"beta": [0.9, 0.5, 0.0, 0.99, 0.8, 0.7]},
    "rmsprop": {"beta2": [0.999, 0.9, 0.5, 0.99, 0.95, 0.8], "epsilon": [1e-8, 1e-4, 1e-6, 1e-2, 1e-8, 1e-3]},
    "adam": {
        "beta1": [0.9, 0.5, 0.0, 0.99, 0.8, 0.7],
        "beta2": [0.999, 0.9, 0.5, 0.99, 0.95, 0.8],
        "epsilon": [1e-8, 1e-4, 1e-6, 1e-2, 1e-8, 1e-3],
    },
}


def model_alone(result, s):
    """Model ``s`` of a batch's result, with its model axis kept."""
    return (
        {k: v[s : s + 1] for k, v in result.params.items()},
        {k: result.history[k][s : s + 1] for k in training.HISTORY_KEYS},
    )


@pytest.mark.parametrize("engine", ["plain", "fused"])
@pytest.mark.parametrize("name", sorted(PER_MODEL_HYPERPARAMETERS))
def test_per_model_hyperparameters_equal_each_model_trained_with_its_own(monkeypatch, engine, name):
    # A tuning batch: every model has its own betas and epsilon. Each must end
    # bit for bit where it ends trained alone with those values as numbers,
    # also when the batch is cut into chunks of one model.
    arch = network.Architecture((2, 7, 5, 1))
    config = training.TrainConfig(epochs=6, batch_size=16, eval_every=3)
    data = binary_data()
    values = PER_MODEL_HYPERPARAMETERS[name]
    monkeypatch.setattr(fused, "CHUNK_BYTES", 1)
    batch = run(engine, arch, optimizers.make_optimizer(name, **values), data, config)
    params = initializers.initialize(arch.layer_sizes, ["he", "xavier", "small", "he", "random", "glorot"], SEEDS)
    for s in range(len(SEEDS)):
        alone = training.train(
            {k: v[s : s + 1] for k, v in params.items()},
            arch,
            optimizers.make_optimizer(name, **{k: v[s] for k, v in values.items()}),
            data,
            config,
            seeds=SEEDS[s : s + 1],
            engine=engine,
            **{k: v[s : s + 1] for k, v in PER_MODEL.items()},
        )
        got, want = model_alone(batch, s), model_alone(alone, 0)
        for k in got[0]:
            np.testing.assert_array_equal(got[0][k], want[0][k], err_msg=f"model {s} {k}")
        for k in got[1]:
            np.testing.assert_array_equal(got[1][k], want[1][k], err_msg=f"model {s} {k}")


def test_per_model_hyperparameters_must_number_the_models():
    arch = network.Architecture((2, 7, 1))
    config = training.TrainConfig(epochs=1, eval_every=1)
    with pytest.raises(ConfigError, match="optimizer hyperparameters"):
        run("plain", arch, optimizers.make_optimizer("momentum", beta=[0.9, 0.5]), binary_data(), config)
    with pytest.raises(ConfigError, match="arrays of one length"):
        optimizers.make_optimizer("adam", beta1=[0.9, 0.5], beta2=[0.99, 0.9, 0.8])
    with pytest.raises(ConfigError, match="beta1"):
        optimizers.make_optimizer("adam", beta1=[0.9, 1.5])
