"""The population map, its 2-D reduction, Jacobians, estimates and ELBO.

Everything is checked against dense matrices built here from the definitions
(``P = E[A]`` with zero diagonal) or against finite differences.
"""

import numpy as np
import pytest
from scipy.special import expit

from initscape.sbm import landscape


def _dense_map(psi, z, p, q, prior=0.5, pq=None):
    # psi' = sigmoid(4 t (P - lambda (J - I)) (psi - 1/2) + logit(pi)), all dense
    n = len(z)
    P = np.where(z[:, None] == z[None, :], p, q).astype(float)
    np.fill_diagonal(P, 0)
    pe, qe = (p, q) if pq is None else pq
    t = 0.5 * np.log(pe * (1 - qe) / (qe * (1 - pe)))
    lam = np.log((1 - qe) / (1 - pe)) / (2 * t)
    K = P - lam * (np.ones((n, n)) - np.eye(n))
    return expit(4 * t * K @ (psi - 0.5) + np.log(prior / (1 - prior)))


def test_reduction_is_exact_on_block_constant_states():
    # the n-dim map on psi = (x on block 1, y on block 2) stays block-constant
    # and matches the 2-D map, for equal and unequal blocks and any prior
    for sizes, prior in [((30, 30), 0.5), ((20, 45), 0.3)]:
        z = np.repeat([0, 1], sizes)
        for x, y in [(0.3, 0.9), (0.51, 0.49), (0.02, 0.97)]:
            psi = np.where(z == 0, x, y)
            dense = _dense_map(psi, z, 0.5, 0.1, prior)
            x2, y2 = landscape.population_map(x, y, sizes, 0.5, 0.1, prior=prior)
            # a sum of 60 terms and one sigmoid: rounding only
            np.testing.assert_allclose(dense[z == 0], x2, rtol=1e-12)
            np.testing.assert_allclose(dense[z == 1], y2, rtol=1e-12)
    # an even n means two equal blocks
    np.testing.assert_allclose(
        landscape.population_map(0.3, 0.8, 60, 0.5, 0.1),
        landscape.population_map(0.3, 0.8, (30, 30), 0.5, 0.1),
    )


def test_coefficients_match_the_issue():
    t, lam, _ = landscape.constants(0.2, 0.1)
    M = landscape.map_coefficients(1000, 0.2, 0.1)
    assert M[0, 0] == pytest.approx(4 * t * (0.2 - lam) * 499)
    assert M[0, 1] == pytest.approx(4 * t * (0.1 - lam) * 500)
    assert M[0, 0] == M[1, 1] and M[0, 1] == M[1, 0]


@pytest.mark.parametrize("params", ["known", "estimated"])
def test_full_map_matches_dense_definition(params):
    rng = np.random.default_rng(1)
    z = np.repeat([0, 1], [17, 23])
    psi = rng.random((40, 3))
    new, p_used, q_used = landscape.full_population_map(
        psi, z, 0.6, 0.2, prior=0.4, params=params
    )
    for k in range(3):
        pq = None if params == "known" else (p_used[k], q_used[k])
        dense = _dense_map(psi[:, k], z, 0.6, 0.2, 0.4, pq)
        np.testing.assert_allclose(new[:, k], dense, rtol=1e-11)  # rounding only


def test_population_estimates_against_pair_sums():
    rng = np.random.default_rng(2)
    z = np.repeat([0, 1], [9, 14])
    psi = rng.random(23)
    p, q = 0.7, 0.25
    num_s = den_s = num_d = den_d = 0.0
    for i in range(23):
        for j in range(i + 1, 23):
            s = psi[i] * psi[j] + (1 - psi[i]) * (1 - psi[j])
            P = p if z[i] == z[j] else q
            num_s, den_s = num_s + s * P, den_s + s
            num_d, den_d = num_d + (1 - s) * P, den_d + (1 - s)
    p_hat, q_hat = landscape.population_estimates(psi, z, p, q)
    assert p_hat == pytest.approx(num_s / den_s, rel=1e-12)
    assert q_hat == pytest.approx(num_d / den_d, rel=1e-12)


def test_two_dimensional_jacobian_against_finite_differences():
    for sizes, x, y in [(100, 0.3, 0.6), ((40, 70), 0.55, 0.47), (20, 0.9, 0.2)]:
        J = landscape.population_jacobian(x, y, sizes, 0.5, 0.1)
        h = 1e-6
        fd = np.empty((2, 2))
        for k, (dx, dy) in enumerate([(h, 0), (0, h)]):
            plus = np.array(landscape.population_map(x + dx, y + dy, sizes, 0.5, 0.1))
            minus = np.array(landscape.population_map(x - dx, y - dy, sizes, 0.5, 0.1))
            fd[:, k] = (plus - minus) / (2 * h)
        # central differences: error O(h^2 |f'''|) well below 1e-6 relative
        np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)


def test_full_jacobian_against_finite_differences():
    rng = np.random.default_rng(3)
    z = np.repeat([0, 1], 8)
    psi = 0.5 + 0.05 * rng.standard_normal(16)
    J = landscape.full_population_jacobian(psi, z, 0.5, 0.1)
    h = 1e-6
    fd = np.empty((16, 16))
    for k in range(16):
        e = np.zeros(16)
        e[k] = h
        plus = landscape.full_population_map(psi + e, z, 0.5, 0.1)[0]
        minus = landscape.full_population_map(psi - e, z, 0.5, 0.1)[0]
        fd[:, k] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)  # central differences
    assert np.all(np.diag(J) == 0)  # psi_i' does not depend on psi_i


def test_reduced_elbo_against_dense_sum():
    # ELBO with A replaced by P, summed pair by pair
    m1, m2, p, q, prior = 5, 7, 0.6, 0.15, 0.35
    z = np.repeat([0, 1], [m1, m2])
    x, y = 0.8, 0.3
    psi = np.where(z == 0, x, y)
    total = 0.0
    for i in range(m1 + m2):
        for j in range(i + 1, m1 + m2):
            s = psi[i] * psi[j] + (1 - psi[i]) * (1 - psi[j])
            P = p if z[i] == z[j] else q
            total += s * (P * np.log(p) + (1 - P) * np.log(1 - p))
            total += (1 - s) * (P * np.log(q) + (1 - P) * np.log(1 - q))
    for value in psi:
        total += value * np.log(prior) + (1 - value) * np.log(1 - prior)
        total -= value * np.log(value) + (1 - value) * np.log(1 - value)
    got = landscape.reduced_elbo(x, y, (m1, m2), p, q, prior=prior)
    assert got == pytest.approx(total, rel=1e-12)


def test_fixed_points_of_the_full_map_are_block_constant():
    rng = np.random.default_rng(4)
    z = np.repeat([0, 1], 50)
    psi = rng.random((100, 20))
    for _ in range(200):
        psi = landscape.full_population_map(psi, z, 0.5, 0.1)[0]
    assert np.all(psi[z == 0].std(axis=0) < 1e-12)
    assert np.all(psi[z == 1].std(axis=0) < 1e-12)


def test_bad_sizes_and_labels():
    with pytest.raises(ValueError, match="n must be even .* got 101"):
        landscape.population_map(0.5, 0.5, 101, 0.5, 0.1)
    with pytest.raises(TypeError, match=r"sizes must be an even int n or a pair"):
        landscape.population_map(0.5, 0.5, (1, 2, 3), 0.5, 0.1)
    with pytest.raises(ValueError, match=r"z must be an array of shape \(4,\)"):
        landscape.full_population_map(np.full(4, 0.5), [0, 1, 2, 1], 0.5, 0.1)
    with pytest.raises(ValueError, match="params must be one of 'known', 'estimated'"):
        landscape.full_population_map(
            np.full(4, 0.5), [0, 0, 1, 1], 0.5, 0.1, params="fixed"
        )
