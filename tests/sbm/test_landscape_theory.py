"""Closed forms of the landscape: t, lambda, c, P_inf and d*."""

import math

import numpy as np
import pytest

from initscape.sbm import landscape
from initscape.sbm._twoclass import constants as engine_constants


def test_constants_by_hand():
    # p = 1/2, q = 1/10: p(1-q)/(q(1-p)) = 9, so t = log 3; lambda = log(1.8)/log 9
    t, lam, c = landscape.constants(0.5, 0.1)
    assert t == pytest.approx(math.log(3), rel=1e-15)  # two roundings of log
    assert lam == pytest.approx(math.log(1.8) / math.log(9), rel=1e-14)
    assert c == pytest.approx((0.6 - 2 * lam) / 0.4, rel=1e-14)
    # named access
    const = landscape.constants(0.5, 0.1)
    assert (const.t, const.lambda_, const.c) == (t, lam, c)


@pytest.mark.parametrize("p, q", [(0.5, 0.1), (0.2, 0.1), (0.8, 0.5), (0.03, 0.001)])
def test_constants_agree_with_the_engine(p, q):
    t, lam, _ = landscape.constants(p, q)
    t2, lam2 = engine_constants(p, q)
    assert t == pytest.approx(t2, rel=1e-13)  # same formula, different rounding
    assert lam == pytest.approx(lam2, rel=1e-13)


def test_lambda_between_q_and_p_and_sign_of_c_over_a_grid():
    grid = np.concatenate([np.linspace(0.001, 0.999, 120), [0.5 - 1e-9, 0.5 + 1e-9]])
    checked = 0
    for p in grid:
        for q in grid[grid < p]:
            _, lam, c = landscape.constants(float(p), float(q))
            assert q < lam < p
            # sign(p + q - 2 lambda) = sign(1 - p - q), away from p + q = 1 where
            # both sides vanish (below 1e-12 rounding decides the sign)
            if abs(1 - p - q) > 1e-12:
                assert np.sign(p + q - 2 * lam) == np.sign(1 - p - q), (p, q)
            assert abs(c) < 1
            checked += 1
    assert checked > 7000


def test_lambda_is_one_half_on_p_plus_q_equal_one():
    for p in (0.6, 0.75, 0.99):
        _, lam, c = landscape.constants(p, 1 - p)
        assert lam == pytest.approx(0.5, abs=1e-15)  # symmetry, up to rounding
        assert landscape.limit_success_probability(p, 1 - p) == pytest.approx(1.0)


@pytest.mark.parametrize("p, q", [(0.5, 0.1), (0.8, 0.5), (0.2, 0.1)])
def test_limit_law_against_monte_carlo_of_the_first_step(p, q):
    # P_inf is the probability that a u + b v and b u + a v differ in sign for an
    # isotropic Gaussian (u, v); count it directly with 400000 draws
    t, lam, _ = landscape.constants(p, q)
    a, b = 4 * t * (p - lam), 4 * t * (q - lam)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((2, 400_000))
    freq = np.mean(np.sign(a * u + b * v) != np.sign(b * u + a * v))
    # binomial standard error below 8e-4; 4 of them
    assert landscape.limit_success_probability(p, q) == pytest.approx(freq, abs=3.2e-3)


def test_critical_correlation_is_the_fixed_point_of_the_cubic_recursion():
    # d' = n (p - q)^2 d^3 / (4 rho (1 - rho)) has its unstable fixed point at d*
    n, p, q = 1000, 0.5, 0.1
    rho = (p + q) / 2
    d_star = landscape.critical_correlation(n, p, q)
    assert n * (p - q) ** 2 * d_star**3 / (4 * rho * (1 - rho)) == pytest.approx(d_star)
    assert d_star == pytest.approx(2 * math.sqrt(0.21 / 1000) / 0.4)


def test_bad_probabilities():
    with pytest.raises(
        ValueError, match=r"q must be smaller than p .* got p=0.1, q=0.5"
    ):
        landscape.constants(0.1, 0.5)
    with pytest.raises(ValueError, match=r"p must be < 1; got 1.0"):
        landscape.constants(1.0, 0.5)
    with pytest.raises(ValueError, match=r"q must be > 0; got 0"):
        landscape.constants(0.5, 0)
    with pytest.raises(TypeError, match="p must be a Real; got str"):
        landscape.constants("0.5", 0.1)
    with pytest.raises(ValueError, match="n must be >= 2; got 1"):
        landscape.critical_correlation(1, 0.5, 0.1)
