"""Mean-field signal propagation in wide random networks (Poole et al. 2016; Schoenholz et al. 2017).

A network of very wide layers ``h^{l+1} = W^{l+1} phi(h^l) + b^{l+1}`` with
weights ~ N(0, sigma_w^2 / n_l) and biases ~ N(0, sigma_b^2) carries, layer
to layer, two numbers per pair of inputs:

* the length ``q^l``, the mean square pre-activation of one input:
  ``q^{l+1} = sigma_w^2 / rho E[phi(sqrt(q^l) z)^2] + sigma_b^2``
  (``rho`` the dropout keep probability, 1 without dropout);
* the correlation ``c^l`` between the pre-activations of two inputs of the
  same length ``q``: ``c^{l+1} = (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / q^{l+1}``,
  with ``(u_1, u_2)`` centred Gaussian, variances ``q`` and correlation ``c^l``
  (dropout masks of different inputs are independent, so no ``1 / rho`` here).

The length settles at a fixed point ``q*``; ``chi_1 = sigma_w^2 / rho
E[phi'(sqrt(q*) z)^2]`` is the factor by which a small perturbation (and a
back-propagated gradient) grows per layer. ``chi_1 < 1`` is the ordered phase
(nearby inputs converge, ``c* = 1``), ``chi_1 > 1`` the chaotic one (they
decorrelate to ``c* < 1``). Correlations approach ``c*`` as ``exp(-l /
xi_c)`` with ``xi_c = -1 / ln chi_c`` and ``chi_c = sigma_w^2 E[phi'(u_1)
phi'(u_2)]`` at ``(q*, c*)``; ``chi_c = chi_1`` where ``c* = 1``. On the critical
line ``chi_1 = 1`` the depth scale diverges, and Schoenholz et al. find that
networks train when their depth is below about ``6 xi_c``.

Expectations over one Gaussian use Gauss-Hermite quadrature with an even
number of nodes (symmetric, none at 0, so that ReLU's kink at 0 costs
nothing in one dimension: ``E[relu(sqrt(q) z)^2] = q / 2`` exactly); over two
correlated Gaussians, Gauss-Legendre rules split at the kinks (see
:func:`pair_mean`). Activations come from
:data:`nnstudy.core.network.ACTIVATIONS`, so every activation the networks have
has a theory.

Everything here takes and returns floats; nothing draws random numbers.
"""

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize

from nnstudy.errors import check_choice, invalid
from nnstudy.core.network import ACTIVATIONS

NODES_1D = 200
NODES_2D = 48
# Where the Gaussian integrals over z_2 are truncated: the mass beyond is 1.5e-23.
Z_RANGE = 10.0

# Positively homogeneous activations (ReLU, linear) have lengths that vanish
# or explode geometrically; beyond these bounds the length is called 0 or inf.
# chi_1 at q* = 0 or inf is its limit there, evaluated at these bounds.
Q_FLOOR = 1e-300
Q_CEILING = 1e300
# The lengths scanned for fixed points of the length map.
Q_SCAN = np.geomspace(1e-10, 1e10, 401)
# A length map within this relative distance of the identity at every scanned
# length preserves every length (ReLU at sigma_w^2 = 2 or linear at 1, without bias).
MARGINAL_TOLERANCE = 1e-12
# chi_1 within this distance of 1 is critical.
CRITICAL_TOLERANCE = 1e-9


@lru_cache(maxsize=None)
def gauss_hermite(n):
    """Nodes and weights for ``E[f(z)]``, z ~ N(0, 1): ``sum(w * f(x))``; (n,) each."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / math.sqrt(2.0 * math.pi)


def _functions(activation):
    check_choice("activation", activation, ACTIVATIONS)
    return ACTIVATIONS[activation]


def gaussian_mean(f, q, nodes=NODES_1D):
    """``E[f(sqrt(q) z)]`` for z ~ N(0, 1), by Gauss-Hermite quadrature.

    q : a length >= 0 (returns a float) or an array of them (returns an array of its shape).
    """
    x, w = gauss_hermite(nodes)
    if np.ndim(q) == 0:
        return float(w @ f(math.sqrt(q) * x))
    return f(np.sqrt(np.asarray(q, dtype=float))[..., None] * x) @ w


@lru_cache(maxsize=None)
def gauss_legendre(n):
    """Nodes and weights of the n-point Gauss-Legendre rule on [-1, 1]; (n,) each."""
    return np.polynomial.legendre.leggauss(n)


def _pieces(a, b, n):
    """Gauss-Legendre nodes on each [a, b] (arrays of the same shape), weighted by the normal density.

    Returns (nodes, weights), each of shape ``a.shape + (n,)``.
    """
    t, v = gauss_legendre(n)
    a, b = np.asarray(a, dtype=float)[..., None], np.asarray(b, dtype=float)[..., None]
    half = (b - a) / 2.0
    z = half * t + (a + b) / 2.0
    return z, v * half * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def pair_mean(f, g, q, c, nodes=NODES_2D):
    """``E[f(u_1) g(u_2)]`` for centred Gaussians of variance q and correlation c (|c| <= 1).

    With ``u_1 = sqrt(q) z_1`` and ``u_2 = sqrt(q) (c z_1 + s z_2)``, ``s =
    sqrt(1 - c^2)``: the Gaussian integral over z_1 split at f's kink z_1 = 0
    and, for each z_1, the one over z_2 split at g's kink ``z_2 = -c z_1 /
    s``, with Gauss-Legendre on every side (truncated at |z| =
    :data:`Z_RANGE`). A Gauss-Hermite product rule converges only as 1 /
    nodes for ReLU (error 6e-4 at 120 nodes): the integrand has kinks that
    no symmetric rule on a fixed grid can straddle. Split at the kinks (the
    only places where the registry's activations are not smooth), the rule
    matches ReLU's closed form to about 1e-12.
    """
    root = math.sqrt(q)
    s = math.sqrt(max(0.0, 1.0 - c * c))
    halves = [_pieces(-Z_RANGE, 0.0, nodes), _pieces(0.0, Z_RANGE, nodes)]
    z1 = np.concatenate([z for z, _ in halves])
    w1 = np.concatenate([w for _, w in halves])
    if s == 0.0:
        return float(w1 @ (f(root * z1) * g(root * c * z1)))
    kink = np.clip(-c * z1 / s, -Z_RANGE, Z_RANGE)
    inner = 0.0
    for a, b in ((np.full_like(kink, -Z_RANGE), kink), (kink, np.full_like(kink, Z_RANGE))):
        z2, w2 = _pieces(a, b, nodes)
        inner = inner + (g(root * (c * z1[:, None] + s * z2)) * w2).sum(axis=1)
    return float(w1 @ (f(root * z1) * inner))


def length_map(activation, q, sigma_w2, sigma_b2, keep_prob=1.0):
    """``q^{l+1}`` from ``q^l``: ``sigma_w^2 / rho E[phi(sqrt(q) z)^2] + sigma_b^2``."""
    phi = _functions(activation)[0]
    return sigma_w2 / keep_prob * gaussian_mean(lambda u: phi(u) ** 2, q) + sigma_b2


def correlation_map(activation, c, q, sigma_w2, sigma_b2, keep_prob=1.0):
    """``c^{l+1}`` from ``c^l`` for two inputs of length ``q`` in layer l.

    The next length comes from the same two-dimensional rule at c = 1, so
    that without dropout the map sends 1 to 1 to the last bit and its slope
    near 1 is not drowned by the difference between two quadrature rules.
    """
    phi = _functions(activation)[0]
    cross = sigma_w2 * pair_mean(phi, phi, q, c) + sigma_b2
    return cross / (sigma_w2 / keep_prob * pair_mean(phi, phi, q, 1.0) + sigma_b2)


def chi_1(activation, q, sigma_w2, keep_prob=1.0):
    """``sigma_w^2 / rho E[phi'(sqrt(q) z)^2]``: the per-layer growth of a perturbation at length q.

    q is clipped to [Q_FLOOR, Q_CEILING], which gives the limits at 0 and
    infinity (for ReLU, the derivative just right of the kink).
    """
    derivative = _functions(activation)[1]
    q = min(max(q, Q_FLOOR), Q_CEILING)
    return sigma_w2 / keep_prob * gaussian_mean(lambda u: derivative(u) ** 2, q)


def chi_c(activation, q, c, sigma_w2):
    """``sigma_w^2 E[phi'(u_1) phi'(u_2)]`` at length q and correlation c: the correlation map's slope."""
    derivative = _functions(activation)[1]
    return sigma_w2 * pair_mean(derivative, derivative, q, c)


def depth_scale(chi):
    """``-1 / ln(chi)``: layers over which a deviation shrinks by e; inf at chi = 1, NaN above."""
    if not chi > 0 or chi > 1:
        return math.nan
    if chi == 1:
        return math.inf
    return -1.0 / math.log(chi)


def fixed_length(activation, sigma_w2, sigma_b2, keep_prob=1.0):
    """The stable fixed point of the length map: ``(q*, kind)``.

    kind is "finite" (q* > 0), "vanishing" (q* = 0: every length shrinks to
    0), "exploding" (q* = inf) or "marginal" (the map is the identity, every
    length is fixed; q* is returned as 1). The scan looks for the largest
    length at which the map crosses the identity from above, then refines it.
    """
    gap = length_map(activation, Q_SCAN, sigma_w2, sigma_b2, keep_prob) - Q_SCAN
    if np.all(np.abs(gap) <= MARGINAL_TOLERANCE * Q_SCAN):
        return 1.0, "marginal"
    if gap[-1] > 0:
        return math.inf, "exploding"
    down = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    if len(down) == 0:
        # Below the map everywhere: lengths shrink to zero (or to sigma_b^2 below the scan).
        if sigma_b2 > 0:
            raise invalid("sigma_b2", sigma_b2, f"a bias variance above {Q_SCAN[0]:g} or zero")
        return 0.0, "vanishing"
    i = down[-1]
    if gap[i + 1] == 0:
        return float(Q_SCAN[i + 1]), "finite"
    root = optimize.brentq(
        lambda q: length_map(activation, q, sigma_w2, sigma_b2, keep_prob) - q, Q_SCAN[i], Q_SCAN[i + 1],
        xtol=1e-15, rtol=1e-13,
    )
    return float(root), "finite"


def fixed_correlation(activation, q, sigma_w2, sigma_b2, keep_prob=1.0):
    """The stable fixed point ``c*`` of the correlation map at length ``q`` (a fixed length).

    Without dropout ``c = 1`` is always fixed, and stable when ``chi_1 <= 1``
    (ordered phase). Otherwise the map, which is at or above the identity at
    ``c = 0`` (``E[phi]^2 >= 0``), crosses it below 1; that crossing is c*.
    """
    if keep_prob == 1.0 and chi_1(activation, q, sigma_w2) <= 1.0:
        return 1.0
    top = 1.0 if keep_prob < 1.0 else 1.0 - 1e-6

    def gap(c):
        return correlation_map(activation, c, q, sigma_w2, sigma_b2, keep_prob) - c

    if gap(0.0) <= 0.0:
        return 0.0
    if gap(top) >= 0.0:
        # Too close to the critical line to separate c* from 1.
        return 1.0
    return float(optimize.brentq(gap, 0.0, top, xtol=1e-14, rtol=1e-13))


@dataclass(frozen=True)
class Phase:
    """Mean-field quantities of one (activation, sigma_w^2, sigma_b^2, keep probability)."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    keep_prob: float
    q_star: float
    fixed_point: str
    chi_1: float
    c_star: float
    chi_c: float
    xi_1: float
    xi_c: float
    phase: str


def phase(activation, sigma_w2, sigma_b2, keep_prob=1.0):
    """q*, chi_1, c*, chi_c and the depth scales of one setting, as a :class:`Phase`.

    xi_1 = -1 / ln(chi_1) (NaN in the chaotic phase, where chi_1 > 1);
    xi_c = -1 / ln(chi_c) at c*: equal to xi_1 where c* = 1. Where the length
    has no positive finite fixed point (it vanishes or explodes) the
    correlation quantities are NaN: they have no fixed length to refer to.
    phase is "ordered" (chi_1 < 1), "critical" (chi_1 = 1 to :data:`CRITICAL_TOLERANCE`) or "chaotic".
    """
    _functions(activation)
    if not (sigma_w2 > 0 and sigma_b2 >= 0 and 0 < keep_prob <= 1):
        raise invalid("(sigma_w2, sigma_b2, keep_prob)", (sigma_w2, sigma_b2, keep_prob),
                      "sigma_w2 > 0, sigma_b2 >= 0, 0 < keep_prob <= 1")
    q_star, kind = fixed_length(activation, sigma_w2, sigma_b2, keep_prob)
    chi = chi_1(activation, q_star, sigma_w2, keep_prob)
    if kind in ("finite", "marginal"):
        c_star = fixed_correlation(activation, q_star, sigma_w2, sigma_b2, keep_prob)
        slope = chi if (c_star == 1.0 and keep_prob == 1.0) else chi_c(activation, q_star, c_star, sigma_w2)
    else:
        c_star = slope = math.nan
    name = "critical" if abs(chi - 1.0) <= CRITICAL_TOLERANCE else ("ordered" if chi < 1.0 else "chaotic")
    return Phase(activation, float(sigma_w2), float(sigma_b2), float(keep_prob), q_star, kind, chi, c_star,
                 slope, depth_scale(chi), depth_scale(slope), name)


def phase_table(activations, sigma_w2s, sigma_b2s, keep_probs=(1.0,)):
    """One :class:`Phase` record (as a dict) per combination, activation-major."""
    return [
        asdict(phase(a, w, b, k)) for a in activations for k in keep_probs for b in sigma_b2s for w in sigma_w2s
    ]


def critical_sigma_w2(activation, sigma_b2, keep_prob=1.0, low=1e-2, high=100.0):
    """The weight variance on the critical line ``chi_1 = 1`` at this bias variance.

    The smallest sigma_w^2 in [low, high] with chi_1 >= 1, by bisection:
    for tanh without bias chi_1 touches 1 at sigma_w^2 = 1 and stays within
    quadrature noise of 1 just above it, so a root finder would wander.
    NaN when chi_1 - 1 does not change sign between ``low`` and ``high``.
    """
    def at_or_above(sigma_w2):
        q_star, _ = fixed_length(activation, sigma_w2, sigma_b2, keep_prob)
        return chi_1(activation, q_star, sigma_w2, keep_prob) >= 1.0 - CRITICAL_TOLERANCE

    if at_or_above(low) or not at_or_above(high):
        return math.nan
    for _ in range(60):
        middle = 0.5 * (low + high)
        low, high = (low, middle) if at_or_above(middle) else (middle, high)
    return 0.5 * (low + high)


def critical_line(activations, sigma_b2s, keep_probs=(1.0,)):
    """Rows ``{activation, keep_prob, sigma_b2, sigma_w2}`` of the critical line."""
    return [
        {"activation": a, "keep_prob": float(k), "sigma_b2": float(b), "sigma_w2": critical_sigma_w2(a, b, k)}
        for a in activations for k in keep_probs for b in sigma_b2s
    ]


def trajectory(activation, q0, c0, sigma_w2, sigma_b2, layers, keep_prob=1.0):
    """Length, correlation and per-layer chi of layers 1..``layers`` from the input's (q0, c0).

    The first layer sees the inputs themselves (no activation):
    ``q^1 = sigma_w^2 q0 + sigma_b^2`` and
    ``c^1 = (sigma_w^2 q0 c0 + sigma_b^2) / q^1``; later layers apply the maps.
    chi^l is ``sigma_w^2 / rho E[phi'(sqrt(q^l) z)^2]``, the expected ratio of
    squared gradient norms between layers l and l+1.
    Returns three lists of length ``layers``.
    """
    q = sigma_w2 * q0 + sigma_b2
    c = (sigma_w2 * q0 * c0 + sigma_b2) / q
    qs, cs, chis = [], [], []
    for _ in range(layers):
        qs.append(q)
        cs.append(c)
        chis.append(chi_1(activation, q, sigma_w2, keep_prob))
        q, c = length_map(activation, q, sigma_w2, sigma_b2, keep_prob), correlation_map(
            activation, c, q, sigma_w2, sigma_b2, keep_prob)
    return qs, cs, chis
