"""The gradient-check gate (nnstudy.study.grid.gradcheck_cell): it checks the code that trains.

Each engine a training step can take is checked through its own passes; a
bug planted in either engine stops the gate with a message naming the
dataset, the regularizer, the engine and the block, and correct code passes
at every L2 strength.
"""

import copy
import inspect
import re
import textwrap

import numpy as np
import pytest
import yaml

from conftest import REPO
from nnstudy.core import engines, fused, gradcheck, network, optimizers
from nnstudy.study import grid as study
from nnstudy.config import validated

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SMOKE = validated(yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()), SCHEMA)
REGULARIZERS = {
    "none": {},
    "l2": {"lambd": 0.7},
    "dropout": {"keep_prob": 0.8},
    "l2_dropout": {"lambd": 0.7, "keep_prob": 0.8},
}


def gate(dataset="circles", regularizers=REGULARIZERS, samples=16):
    """(rows, failure message or None) of the gate on one smoke-study dataset."""
    config = copy.deepcopy(SMOKE)
    config["regularizers"] = regularizers
    config["gradcheck"]["samples"] = samples
    rows, threshold = study.gradcheck_cell(config, dataset, study.build_dataset(config, dataset))
    return rows, study.gradcheck_failures(rows, threshold)


def replaced_method(cls, name, old, new):
    """``cls.name`` recompiled with every ``old`` in its source replaced by ``new``."""
    source = textwrap.dedent(inspect.getsource(getattr(cls, name)))
    assert old in source, (name, old)
    namespace = {}
    module = vars(inspect.getmodule(cls))
    exec(compile(source.replace(old, new), inspect.getsourcefile(cls), "exec"), dict(module), namespace)
    return namespace[name]


def test_every_engine_training_can_take_is_one_the_gate_checks():
    arch = network.Architecture((2, 4, 1))
    for name in optimizers.OPTIMIZERS:
        engine = engines.choose_engine("auto", arch, optimizers.make_optimizer(name))
        assert engine in engines.ENGINES.values(), name
    rows, failure = gate()
    assert failure is None
    checked = {(row["regularizer"], row["engine"]) for row in rows}
    assert checked == {(r, e) for r in REGULARIZERS for e in engines.ENGINES}
    blocks = {row["block"] for row in rows}
    assert blocks == {"all", "W1", "b1", "W2", "b2", "W3", "b3"}


def test_the_gate_checks_only_the_engines_that_can_train_the_network(monkeypatch):
    # An activation the fused engine has no kernel for: training takes the
    # reference engine alone, and so does the gate, instead of failing.
    def softplus(x):
        return np.logaddexp(x, 0.0)

    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    monkeypatch.setattr(network, "ACTIVATIONS", {**network.ACTIVATIONS, "softplus": (softplus, sigmoid)})
    config = copy.deepcopy(SMOKE)
    config["hidden_activation"] = "softplus"
    config["regularizers"] = REGULARIZERS
    rows, threshold = study.gradcheck_cell(config, "circles", study.build_dataset(config, "circles"))
    assert study.gradcheck_failures(rows, threshold) is None
    assert {row["engine"] for row in rows} == {"plain"}


def test_the_engines_give_the_gradient_of_the_cost_their_step_descends():
    # The gate's gradients are those of a training step: the fused and the
    # plain engine agree with each other and with network.backward.
    arch = network.Architecture((3, 5, 4, 1))
    g = np.random.default_rng(3)
    params = {k: g.standard_normal((2, *s)) for k, s in arch.parameter_shapes.items()}
    X = g.standard_normal((3, 7))
    Y = g.integers(0, 2, (1, 7)).astype(float)
    lambd, keep = np.array([0.0, 2.0]), np.array([0.7, 1.0])
    uniforms = [g.random((2, 5, 7)), g.random((2, 4, 7))]
    plain = engines.step_gradients(engines.PlainEngine, params, X, Y, arch, lambd, keep, uniforms, 50)
    fast = engines.step_gradients(engines.FusedEngine, params, X, Y, arch, lambd, keep, uniforms, 50)
    logits, cache = network.forward(params, X, arch, network.per_model(keep, 2), uniforms)
    reference = network.backward(
        params, cache, logits, Y, arch, network.per_model(lambd, 2), network.per_model(keep, 2), 50
    )
    for k in params:
        np.testing.assert_allclose(fast[k], plain[k], rtol=1e-12, atol=1e-15, err_msg=k)
        np.testing.assert_allclose(plain[k], reference[k], rtol=1e-12, atol=1e-15, err_msg=k)


def test_a_bug_in_the_fused_dropout_stops_the_gate_naming_the_engine(monkeypatch):
    # The fused forward pass without its inverted-dropout scaling (the kept
    # activations not divided by keep_prob): the plain engine is still right.
    broken = replaced_method(fused.FusedNetwork, "forward", "np.divide(Z, keep, out=Z)", "pass")
    monkeypatch.setattr(fused.FusedNetwork, "forward", broken)
    rows, failure = gate()
    assert failure is not None
    failing = {(row["regularizer"], row["engine"]) for row in rows if not row["passed"]}
    assert failing == {("dropout", "fused"), ("l2_dropout", "fused")}
    for regularizer in ("dropout", "l2_dropout"):
        assert re.search(
            rf"dataset circles \([^)]*regularizer {regularizer}, engine fused\): block [Wb]\d", failure
        ), failure
    assert "engine plain" not in failure


def test_a_bug_in_the_plain_engine_stops_the_gate_naming_the_engine(monkeypatch):
    # The plain engine's backward pass scaling the L2 term by the batch
    # instead of the training set: only the L2 variants through it fail.
    correct = network.backward

    def batch_scaled_l2(params, cache, logits, Y, arch, lambd=None, keep_prob=None, n_train=None):
        return correct(params, cache, logits, Y, arch, lambd, keep_prob)

    monkeypatch.setattr(network, "backward", batch_scaled_l2)
    rows, failure = gate()
    failing = {(row["regularizer"], row["engine"]) for row in rows if not row["passed"]}
    assert failing == {("l2", "plain"), ("l2_dropout", "plain")}
    assert re.search(r"regularizer l2, engine plain\): block W\d", failure), failure
    assert "engine fused" not in failure


@pytest.mark.parametrize("dataset", ["circles", "digits"])
@pytest.mark.parametrize("lambd", [10.0, 100.0, 1000.0])
def test_no_false_alarm_at_any_l2_strength(dataset, lambd):
    # A strong penalty makes the cost large next to the small bias gradients:
    # the rounding error of the finite differences, not backprop, then
    # dominates a block's difference, and the tolerance allows for it.
    regularizers = {"l2": {"lambd": lambd}, "l2_dropout": {"lambd": lambd, "keep_prob": 0.8}}
    rows, failure = gate(dataset, regularizers, samples=200)
    assert failure is None, failure
    # The whole vector still meets the course's threshold itself.
    assert all(row["difference"] < 1e-7 for row in rows if row["block"] == "all")


def test_the_tolerance_still_catches_a_small_planted_error_at_a_strong_penalty():
    arch = network.Architecture((3, 4, 1))
    g = np.random.default_rng(1)
    params = {k: g.standard_normal((2, *s)) for k, s in arch.parameter_shapes.items()}
    X = g.standard_normal((3, 8))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]])

    def off_by_a_thousandth(*args, **kwargs):
        grads = network.backward(*args, **kwargs)
        grads["b1"] = grads["b1"] * 1.001
        return grads

    good = gradcheck.gradient_check(params, X, Y, arch, lambd=1e3)
    bad = gradcheck.gradient_check(params, X, Y, arch, lambd=1e3, backward=off_by_a_thousandth)
    for block in ["all", *arch.parameter_shapes]:
        difference = good.difference if block == "all" else good.blocks[block]
        assert np.all(difference < good.tolerance(1e-7, block)), block
    assert np.all(bad.blocks["b1"] > bad.tolerance(1e-7, "b1"))
    # The resolution is that of the cost's rounding error: it grows with the cost.
    assert np.all(good.tolerance(1e-7, "b1") > 1e-7)
    small = gradcheck.gradient_check(params, X, Y, arch, lambd=0.0)
    assert np.all(small.tolerance(1e-7, "b1") < good.tolerance(1e-7, "b1"))


def test_the_gate_samples_large_blocks_and_still_catches_a_bug_in_one(monkeypatch):
    # The digits network's W1 has 16 x 64 = 1024 entries; checked on 50 of
    # them, a plain-engine backward that gets only dW1 wrong still fails,
    # naming W1, and no other block does.
    correct = network.backward
    checked = []

    def wrong_first_layer(*args, **kwargs):
        grads = correct(*args, **kwargs)
        grads["W1"] = grads["W1"] * 1.01
        return grads

    def recording(slices, per_block, seed):
        checked.append(gradcheck.checked_coordinates(slices, per_block, seed))
        return checked[-1]

    monkeypatch.setattr(network, "backward", wrong_first_layer)
    monkeypatch.setattr(study, "checked_coordinates", recording)
    config = copy.deepcopy(SMOKE)
    config["regularizers"] = {"none": {}, "l2": {"lambd": 0.7}}
    config["gradcheck"]["coordinates_per_block"] = 50
    rows, threshold = study.gradcheck_cell(config, "digits", study.build_dataset(config, "digits"))
    failure = study.gradcheck_failures(rows, threshold)
    assert len(checked) == 1 and len(checked[0]) == 50 + 16 + 50 + 10  # W1, b1, W2 (160), b2
    failing = {(row["regularizer"], row["engine"], row["block"]) for row in rows if not row["passed"]}
    assert failing == {(r, "plain", block) for r in ("none", "l2") for block in ("W1", "all")}
    assert re.search(r"regularizer none, engine plain\): block W1 ", failure), failure
