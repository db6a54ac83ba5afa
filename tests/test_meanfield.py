"""Mean-field signal propagation: quadrature against closed forms and Monte Carlo, and the phases."""

import math

import numpy as np
import pytest

from nnstudy.lectures import meanfield
from nnstudy.core.network import ACTIVATIONS

relu, relu_derivative = ACTIVATIONS["relu"]
tanh_derivative = ACTIVATIONS["tanh"][1]


def arccos_kernel(q, c):
    """E[relu(u1) relu(u2)] for variances q and correlation c (Cho and Saul 2009)."""
    return q / (2 * math.pi) * (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c)


# ---------------------------------------------------------------------------
# Quadrature


@pytest.mark.parametrize("q", [1e-6, 0.3, 1.0, 7.5, 1e4])
def test_relu_second_moment_is_half_the_length(q):
    assert meanfield.gaussian_mean(lambda u: relu(u) ** 2, q) == pytest.approx(q / 2, rel=1e-13)
    assert meanfield.gaussian_mean(lambda u: relu_derivative(u) ** 2, q) == pytest.approx(0.5, rel=1e-13)


@pytest.mark.parametrize("q, c", [(1.3, 0.4), (0.7, -0.6), (2.0, 0.99), (50.0, 0.0), (1.0, 1.0), (1.0, -1.0)])
def test_relu_pair_means_are_the_arccos_kernels(q, c):
    assert meanfield.pair_mean(relu, relu, q, c) == pytest.approx(arccos_kernel(q, c), rel=1e-11, abs=1e-14)
    step = (math.pi - math.acos(c)) / (2 * math.pi)
    # Near c = 1 the inner integral of a step is itself a steep step in z_1, resolved less finely.
    assert meanfield.pair_mean(relu_derivative, relu_derivative, q, c) == pytest.approx(step, abs=1e-9)


def test_linear_pair_mean_is_the_covariance():
    identity = ACTIVATIONS["linear"][0]
    assert meanfield.pair_mean(identity, identity, 2.5, 0.3) == pytest.approx(0.75, rel=1e-12)


@pytest.mark.parametrize("q, c", [(0.4, 0.2), (1.8, 0.8), (5.0, -0.5)])
def test_tanh_expectations_match_monte_carlo(q, c):
    # 4e5 correlated Gaussian pairs: standard errors about 1e-3; allow 5 of them.
    generator = np.random.default_rng(12345)
    z1, z2 = generator.standard_normal((2, 400_000))
    u1 = math.sqrt(q) * z1
    u2 = math.sqrt(q) * (c * z1 + math.sqrt(1 - c * c) * z2)
    for quadrature, samples in [
        (meanfield.gaussian_mean(lambda u: np.tanh(u) ** 2, q), np.tanh(u1) ** 2),
        (meanfield.gaussian_mean(lambda u: tanh_derivative(u) ** 2, q), tanh_derivative(u1) ** 2),
        (meanfield.pair_mean(np.tanh, np.tanh, q, c), np.tanh(u1) * np.tanh(u2)),
        (meanfield.pair_mean(tanh_derivative, tanh_derivative, q, c), tanh_derivative(u1) * tanh_derivative(u2)),
    ]:
        error = samples.std() / math.sqrt(len(samples))
        assert abs(quadrature - samples.mean()) < 5 * error


def test_the_correlation_map_fixes_one_and_is_below_the_identity_with_dropout():
    assert meanfield.correlation_map("tanh", 1.0, 0.8, 2.0, 0.1) == pytest.approx(1.0, abs=1e-14)
    assert meanfield.correlation_map("tanh", 1.0, 0.8, 2.0, 0.1, keep_prob=0.8) < 0.95


# ---------------------------------------------------------------------------
# Fixed points and phases against closed forms


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(0.5, 0.1), (0.9, 0.3), (0.99, 0.01)])
def test_linear_fixed_point_and_chi_are_exact(sigma_w2, sigma_b2):
    assert meanfield.length_map("linear", 1.7, sigma_w2, sigma_b2) == pytest.approx(sigma_w2 * 1.7 + sigma_b2)
    result = meanfield.phase("linear", sigma_w2, sigma_b2)
    assert result.q_star == pytest.approx(sigma_b2 / (1 - sigma_w2), rel=1e-10)
    assert result.chi_1 == pytest.approx(sigma_w2, rel=1e-13)
    assert result.c_star == 1.0 and result.phase == "ordered"
    assert result.xi_c == pytest.approx(-1 / math.log(sigma_w2), rel=1e-12)


def test_linear_lengths_explode_above_one():
    result = meanfield.phase("linear", 1.2, 0.1)
    assert (result.q_star, result.fixed_point, result.phase) == (math.inf, "exploding", "chaotic")
    assert result.chi_1 == pytest.approx(1.2)


@pytest.mark.parametrize("sigma_w2", [0.5, 1.0, 1.5, 1.9])
def test_relu_without_bias_loses_its_signal_below_two(sigma_w2):
    result = meanfield.phase("relu", sigma_w2, 0.0)
    assert (result.q_star, result.fixed_point) == (0.0, "vanishing")
    assert result.chi_1 == pytest.approx(sigma_w2 / 2, rel=1e-13)


def test_relu_without_bias_keeps_every_length_at_two_and_only_there():
    critical = meanfield.phase("relu", 2.0, 0.0)
    assert critical.fixed_point == "marginal" and critical.phase == "critical"
    assert critical.chi_1 == pytest.approx(1.0, abs=1e-13)
    assert critical.xi_c == math.inf
    assert meanfield.phase("relu", 2.1, 0.0).fixed_point == "exploding"
    assert meanfield.phase("relu", 1.9, 0.0).fixed_point == "vanishing"


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.0, 0.2), (1.5, 0.05)])
def test_relu_with_bias_settles_at_the_geometric_sum(sigma_w2, sigma_b2):
    result = meanfield.phase("relu", sigma_w2, sigma_b2)
    assert result.q_star == pytest.approx(sigma_b2 / (1 - sigma_w2 / 2), rel=1e-10)
    assert result.chi_1 == pytest.approx(sigma_w2 / 2, rel=1e-13)


@pytest.mark.parametrize("activation, sigma_b2, expected", [
    ("tanh", 0.0, 1.0), ("relu", 0.0, 2.0), ("relu", 0.3, 2.0), ("linear", 0.1, 1.0),
])
def test_critical_points_with_closed_forms(activation, sigma_b2, expected):
    assert meanfield.critical_sigma_w2(activation, sigma_b2) == pytest.approx(expected, abs=1e-8)


def test_tanh_critical_line_rises_with_the_bias_and_separates_the_phases():
    line = meanfield.critical_line(["tanh"], [0.0, 0.05, 0.3])
    values = [row["sigma_w2"] for row in line]
    assert values == sorted(values) and values[1] > 1.5
    for row in line[1:]:
        below = meanfield.phase("tanh", 0.9 * row["sigma_w2"], row["sigma_b2"])
        above = meanfield.phase("tanh", 1.1 * row["sigma_w2"], row["sigma_b2"])
        assert (below.phase, below.c_star) == ("ordered", 1.0)
        assert above.phase == "chaotic" and above.c_star < 1.0
        assert above.chi_c < 1.0 < above.chi_1


def test_tanh_without_bias_is_chaotic_above_one_with_uncorrelated_fixed_point():
    result = meanfield.phase("tanh", 2.0, 0.0)
    assert result.phase == "chaotic" and result.c_star == pytest.approx(0.0, abs=1e-12)
    # q* solves q = 2 E[tanh(sqrt(q) z)^2]; check it by Monte Carlo.
    z = np.random.default_rng(5).standard_normal(400_000)
    assert 2.0 * np.mean(np.tanh(math.sqrt(result.q_star) * z) ** 2) == pytest.approx(result.q_star, rel=5e-3)


def test_the_correlation_depth_scale_diverges_at_the_critical_line():
    critical = meanfield.critical_sigma_w2("tanh", 0.05)
    scales = [meanfield.phase("tanh", critical * f, 0.05).xi_c for f in (0.7, 0.9, 0.97, 1.03, 1.1, 1.4)]
    assert scales[0] < scales[1] < scales[2] and scales[3] > scales[4] > scales[5]
    assert min(scales[2], scales[3]) > 3 * max(scales[0], scales[5])


def test_dropout_keeps_correlations_below_one_and_the_depth_scale_finite():
    critical = meanfield.critical_sigma_w2("tanh", 0.05)
    with_dropout = meanfield.phase("tanh", critical, 0.05, keep_prob=0.9)
    assert with_dropout.c_star < 1.0 and math.isfinite(with_dropout.xi_c)
    assert meanfield.phase("tanh", critical, 0.05).xi_c > 10 * with_dropout.xi_c


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="sigma_w2"):
        meanfield.phase("tanh", -1.0, 0.0)
    with pytest.raises(ValueError, match="activation"):
        meanfield.phase("softplus", 1.0, 0.0)
