"""The signal-propagation stage: random networks of finite width against the mean-field theory."""

import math

import numpy as np
import pandas as pd
import pytest

from nnstudy.lectures import meanfield
from nnstudy.lectures import signal_propagation as sp


def test_the_input_pair_has_the_requested_length_and_correlation():
    x = sp.input_pair(256, 1.7, 0.3, np.random.default_rng(0))
    assert np.mean(x**2, axis=0) == pytest.approx([1.7, 1.7], rel=1e-12)
    assert x[:, 0] @ x[:, 1] / (x[:, 0] @ x[:, 0]) == pytest.approx(0.3, rel=1e-12)


def test_the_mean_interval_is_students():
    values = np.array([[1.0], [2.0], [3.0], [4.0]])
    mean, low, high = sp.mean_interval(values)
    # t_{0.975, 3} = 3.182446; std = 1.290994; sqrt(4) = 2.
    assert mean[0] == 2.5
    assert high[0] - mean[0] == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)
    assert mean[0] - low[0] == pytest.approx(high[0] - mean[0])


SETTINGS = [
    {"activation": "tanh", "sigma_w2": 3.0, "sigma_b2": 0.3},  # chaotic: c* about 0.82
    {"activation": "tanh", "sigma_w2": 1.2, "sigma_b2": 0.05},  # ordered: c -> 1
    {"activation": "relu", "sigma_w2": 2.0, "sigma_b2": 0.0},  # critical (He)
]


@pytest.fixture(scope="module")
def measured():
    rows = sp.layer_table(SETTINGS, width=256, layers=12, q0=1.0, c0=0.5, seeds=range(40))
    return pd.DataFrame(rows)


def _inside(table, name, theory=None):
    theory = table[f"{name}_theory"] if theory is None else theory
    inside = (theory >= table[f"{name}_low"]) & (theory <= table[f"{name}_high"])
    return inside[table[f"{name}_theory"].notna()].mean()


@pytest.mark.parametrize("setting", range(len(SETTINGS)))
def test_width_256_networks_follow_the_theory_within_their_intervals(measured, setting):
    part = measured[measured["activation"] == SETTINGS[setting]["activation"]]
    part = part[part["sigma_w2"] == SETTINGS[setting]["sigma_w2"]]
    assert len(part) == 12
    for name in ("q", "c", "chi"):
        # 95% intervals of 12 correlated layers: most, not necessarily all, cover the theory.
        assert _inside(part, name) >= 0.8, name
        # And no systematic gap: on average the mean sits closer to the theory
        # than the interval's half-width (which is wide where q is a random
        # walk: ReLU at the critical point, where only its expectation is fixed).
        valid = part[f"{name}_theory"].notna()
        scale = part[f"{name}_theory"].abs()
        gap = (part[f"{name}_mean"] - part[f"{name}_theory"]).abs() / scale
        half_width = (part[f"{name}_high"] - part[f"{name}_low"]) / 2 / scale
        assert gap[valid].mean() < half_width[valid].mean(), name


def test_a_wrong_weight_variance_is_outside_the_intervals(measured):
    # The measurement has the power to reject a theory 20% off in sigma_w^2.
    setting = SETTINGS[0]
    part = measured[(measured["activation"] == "tanh") & (measured["sigma_w2"] == setting["sigma_w2"])]
    wrong_q, wrong_c, _ = meanfield.trajectory("tanh", 1.0, 0.5, 1.2 * setting["sigma_w2"], setting["sigma_b2"], 12)
    assert _inside(part, "q", np.array(wrong_q)) < 0.3
    assert _inside(part, "c", np.array(wrong_c)) < 0.5


def test_the_chaotic_network_forgets_correlation_and_the_ordered_one_aligns(measured):
    first = measured[measured["layer"] == 1].set_index(["activation", "sigma_w2"])
    last = measured[measured["layer"] == 12].set_index(["activation", "sigma_w2"])
    chaotic = meanfield.phase("tanh", 3.0, 0.3)
    assert last.loc[("tanh", 3.0), "c_mean"] < 0.85 and chaotic.c_star == pytest.approx(0.819, abs=1e-3)
    assert last.loc[("tanh", 1.2), "c_mean"] > first.loc[("tanh", 1.2), "c_mean"] + 0.3


def test_stage_tables_have_every_grid_point():
    config = {"lectures": {"signal_propagation": {
        "activations": ["tanh", "relu"], "sigma_w2": [1.0, 2.0], "sigma_b2": [0.0, 0.1],
        "critical_sigma_b2": [0.0, 0.1],
        "experiment": {"width": 16, "layers": 3, "q0": 1.0, "c0": 0.5, "seeds": [0, 1],
                       "settings": [{"activation": "relu", "sigma_w2": 2.0, "sigma_b2": 0.0}]},
    }}}
    tables = sp.stage(config)
    assert len(tables["signal_theory"]) == 8 and len(tables["signal_critical"]) == 4
    assert len(tables["signal_layers"]) == 3
    relu_critical = [r["sigma_w2"] for r in tables["signal_critical"] if r["activation"] == "relu"]
    assert relu_critical == pytest.approx([2.0, 2.0], abs=1e-8)
    assert math.isnan(tables["signal_layers"][-1]["chi_theory"])
