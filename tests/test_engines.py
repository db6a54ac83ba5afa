"""The engine contract: each engine declares what it runs, from the registries, and refuses the rest.

The fused engine's kernels must be the registry's functions (checked bit for
bit here); a registry entry it has no kernel for, new or replaced, is refused
by name, and "auto" then trains it with the reference engine. The equality
of the two engines over everything the fused engine declares is in
tests/test_fastpath.py.
"""

import logging

import numpy as np
import pytest

from nnstudy.core import basics, engines, fused, initializers, network, optimizers, regularizers, training
from nnstudy.errors import ConfigError

from conftest import xor_data

# Every kind of float a pass can meet: signed zeros, tiny, huge, infinite, NaN.
Z = np.concatenate([
    [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, np.inf, -np.inf, np.nan, 20.0, -20.0],
    np.random.default_rng(0).standard_normal(200) * 3,
]).reshape(1, 1, -1)


def leaky_relu(x, out=None):
    return np.maximum(x, 0.01 * x, out=out)


def leaky_relu_derivative(x):
    return np.where(np.asarray(x) > 0, 1.0, 0.01)


def with_leaky_relu(monkeypatch, name="leaky_relu"):
    """A copy of the activation registry with ``name`` mapped to leaky relu, in place of the real one."""
    monkeypatch.setattr(network, "ACTIVATIONS", {**network.ACTIVATIONS, name: (leaky_relu, leaky_relu_derivative)})


@pytest.mark.parametrize("entry", list(fused.HIDDEN_KERNELS), ids=lambda e: e[0].__name__)
def test_hidden_kernels_compute_the_registry_functions_bit_for_bit(entry):
    function, derivative = entry
    kernel = fused.HIDDEN_KERNELS[entry]
    with np.errstate(all="ignore"):
        A = Z.copy()
        if kernel.in_place:
            function(A, out=A)
        np.testing.assert_array_equal(A, function(Z))
        if kernel.derivative is None:
            np.testing.assert_array_equal(derivative(Z), np.ones_like(Z))
            return
        D = np.empty_like(Z)
        kernel.derivative(A, out=D)
        np.testing.assert_array_equal(D, derivative(Z))
    if kernel.indicator:
        # What lets the fused passes fold the derivative into the dropout mask.
        assert set(np.unique(D)) <= {0.0, 1.0}
        dropped = A[D == 0]
        assert np.all((dropped == 0) | np.isnan(dropped))


@pytest.mark.parametrize("name", sorted(network.OUTPUTS))
def test_output_kernels_write_the_registry_probabilities(name):
    logits = np.random.default_rng(1).standard_normal((2, 3 if name == "softmax" else 1, 5)) * 30
    # Exact zeros, infinities and NaN take the kernels' other branches.
    logits[0, 0, :4] = [0.0, -0.0, np.inf, -np.inf]
    logits[1, 0, 0] = np.nan
    probabilities = fused.output_kernel(name)
    assert probabilities is network.OUTPUTS[name][0]
    out = np.empty_like(logits)
    with np.errstate(all="ignore"):
        probabilities(logits, out=out)
        expected = probabilities(logits)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))


def test_the_plain_engine_supports_every_registry_entry():
    assert engines.PlainEngine.supports() == engines.Support(
        activations=frozenset(network.ACTIVATIONS),
        outputs=frozenset(network.OUTPUTS),
        optimizers=frozenset(optimizers.OPTIMIZERS),
        regularizers=frozenset(regularizers.REGULARIZERS),
    )


def test_the_fused_engine_declares_what_its_kernels_cover():
    support = engines.FusedEngine.supports()
    assert support.activations == {"relu", "tanh", "linear"}
    assert support.outputs == {"sigmoid", "softmax"}
    assert support.optimizers == set(optimizers.OPTIMIZERS)
    assert support.regularizers == set(regularizers.REGULARIZERS)


def train_xor(arch, engine, lambd=0.0):
    X, Y, y = xor_data(40, 0.1, seed=5)
    seeds = [1, 2]
    return training.train(
        initializers.initialize(arch.layer_sizes, "he", seeds), arch, optimizers.make_optimizer("adam"),
        training.TrainData(X, Y, y), training.TrainConfig(epochs=10, batch_size=16, eval_every=5),
        learning_rate=0.05, lambd=lambd, seeds=seeds, engine=engine,
    )


def test_a_new_activation_is_refused_by_the_fused_engine_and_trained_by_the_reference(monkeypatch, caplog):
    with_leaky_relu(monkeypatch)
    arch = network.Architecture((2, 6, 1), "leaky_relu")
    assert "leaky_relu" not in engines.FusedEngine.supports().activations
    assert "leaky_relu" in engines.PlainEngine.supports().activations
    refusal = "engine 'fused' does not support hidden activation 'leaky_relu' (it supports: linear, relu, tanh)"
    with pytest.raises(ConfigError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        train_xor(arch, "fused")
    with pytest.raises(ConfigError, match="hidden activation 'leaky_relu'"):
        engines.step_gradients(engines.FusedEngine, initializers.initialize(arch.layer_sizes, "he", [1]),
                               np.ones((2, 3)), np.ones((1, 3)), arch, np.zeros(1), np.ones(1), None, 3)
    with caplog.at_level(logging.INFO, logger="nnstudy.core.engines"):
        auto = train_xor(arch, "auto")
    assert f"engine auto: plain; {refusal}" in caplog.messages
    plain = train_xor(arch, "plain")
    for k in plain.params:
        np.testing.assert_array_equal(auto.params[k], plain.params[k], err_msg=k)
    # The reference really applies leaky relu: not the linear network a wrong kernel would train.
    linear = train_xor(network.Architecture((2, 6, 1), "linear"), "plain")
    assert not np.array_equal(plain.params["W1"], linear.params["W1"])


def test_a_registry_entry_replaced_under_its_name_is_refused(monkeypatch):
    # The kernels are keyed by the registry's functions, never by name.
    with_leaky_relu(monkeypatch, name="relu")
    arch = network.Architecture((2, 6, 1), "relu")
    assert "relu" not in engines.FusedEngine.supports().activations
    with pytest.raises(ConfigError, match="hidden activation 'relu'"):
        engines.choose_engine("fused", arch, optimizers.make_optimizer("gd"))
    assert engines.choose_engine("auto", arch, optimizers.make_optimizer("gd")) is engines.PlainEngine


def test_an_output_without_a_kernel_is_refused(monkeypatch):
    probabilities, loss, predict = network.OUTPUTS["sigmoid"]
    copy = {**network.OUTPUTS, "sigmoid": (lambda logits: basics.sigmoid(logits), loss, predict)}
    monkeypatch.setattr(network, "OUTPUTS", copy)
    with pytest.raises(ConfigError, match="engine 'fused' does not support output 'sigmoid'"):
        engines.choose_engine("fused", network.Architecture((2, 3, 1)), optimizers.make_optimizer("gd"))


def test_a_regularizer_setting_an_engine_lacks_is_refused(monkeypatch):
    monkeypatch.setattr(engines.FusedEngine, "SETTINGS", frozenset({"lambd", "patience"}))
    assert engines.FusedEngine.supports().regularizers == {"none", "l2", "early_stopping"}
    arch = network.Architecture((2, 3, 1))
    gd = optimizers.make_optimizer("gd")
    assert engines.choose_engine("fused", arch, gd, frozenset({"lambd"})) is engines.FusedEngine
    with pytest.raises(ConfigError, match="regularizer setting \\['keep_prob'\\]"):
        engines.choose_engine("fused", arch, gd, frozenset({"lambd", "keep_prob"}))


def test_without_a_hidden_layer_the_activation_is_not_asked_for(monkeypatch):
    with_leaky_relu(monkeypatch)
    arch = network.Architecture((2, 1), "leaky_relu")
    assert engines.choose_engine("fused", arch, optimizers.make_optimizer("gd")) is engines.FusedEngine


@pytest.mark.parametrize(
    "lambd, keep_prob, patience, used",
    [(0.0, 1.0, 0, set()), (0.1, 1.0, 0, {"lambd"}), (0.0, 0.8, 0, {"keep_prob"}),
     (0.0, 1.0, 3, {"patience"}), (0.1, 0.8, 3, {"lambd", "keep_prob", "patience"})],
)
def test_settings_in_use_name_what_some_model_uses(lambd, keep_prob, patience, used):
    neutral = regularizers.NEUTRAL
    arrays = [np.array([neutral[k], value]) for k, value in
              (("lambd", lambd), ("keep_prob", keep_prob), ("patience", patience))]
    assert engines.settings_in_use(*arrays) == used


def test_an_unknown_engine_name_is_refused():
    with pytest.raises(ConfigError, match="engine='fast'"):
        train_xor(network.Architecture((2, 3, 1)), "fast")


@pytest.mark.parametrize("per_model", [False, True])
def test_the_fused_engine_transposes_its_data_once_and_gathers_the_same_rows(monkeypatch, per_model):
    g = np.random.default_rng(0)
    X = g.standard_normal((3, 7, 10) if per_model else (7, 10))
    Y = g.integers(0, 2, ((3, 1, 10) if per_model else (1, 10))).astype(float)
    arch = network.Architecture((7, 4, 1))
    params = initializers.initialize(arch.layer_sizes, "he", [1, 2, 3])
    engine = engines.FusedEngine(params, arch, optimizers.identity(), keep=network.per_model(1.0, 3))
    copies = []
    real = fused.sample_rows
    monkeypatch.setattr(fused, "sample_rows", lambda A: copies.append(A) or real(A))
    for epoch in range(3):
        order = np.stack([g.permutation(10) for _ in range(3)])
        batches = list(engine.batches(X, Y, order, 4))
        expected = fused.gather_rows(real(X), order)
        np.testing.assert_array_equal(np.concatenate([b[0] for b in batches], axis=-1),
                                      expected.swapaxes(-1, -2))
        assert expected.flags.c_contiguous
    assert len(copies) == 2  # X and Y, once each
