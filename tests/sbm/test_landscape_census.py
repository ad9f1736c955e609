"""The census of critical points against an independent root count.

The independent count: the winding number of ``F(w) = w - Phi(w)`` (the fixed-point
residual on logits) around every cell of a fine grid over the box that holds every
fixed point. A cell with a simple root has winding +-1 (the sign of
``det(I - D Phi)``); no Newton search is involved.
"""

import numpy as np
import pytest
from scipy.special import expit

from initscape.sbm import landscape

REGIMES = [(100, 0.5, 0.1), (1000, 0.2, 0.1), (100, 0.8, 0.5)]


def _winding_roots(n, p, q, n_cells=301, sub=2):
    t, lam, _ = landscape.constants(p, q)
    a, b = 4 * t * (p - lam) * (n / 2 - 1), 4 * t * (q - lam) * n / 2
    bound = (abs(a) + abs(b)) / 2 + 1
    g = np.linspace(-bound, bound, n_cells * sub + 1)
    X, Y = np.meshgrid(g, g, indexing="ij")
    u, v = expit(X) - 0.5, expit(Y) - 0.5
    angle = np.arctan2(Y - b * u - a * v, X - a * u - b * v)
    # walk each cell's boundary counter-clockwise through `sub` points per edge
    path = (
        [(i, 0) for i in range(sub)]
        + [(sub, j) for j in range(sub)]
        + [(sub - i, sub) for i in range(sub)]
        + [(0, sub - j) for j in range(sub + 1)]
    )
    total = np.zeros((n_cells, n_cells))
    for (i0, j0), (i1, j1) in zip(path[:-1], path[1:], strict=True):
        a0 = angle[i0::sub][:n_cells, j0::sub][:, :n_cells]
        a1 = angle[i1::sub][:n_cells, j1::sub][:, :n_cells]
        total += np.angle(np.exp(1j * (a1 - a0)))
    winding = np.rint(total / (2 * np.pi)).astype(int)
    cells = np.argwhere(winding != 0)
    half = (g[1] - g[0]) * sub / 2
    centres = g[cells * sub] + half
    return centres, winding[winding != 0], half


@pytest.fixture(scope="module", params=REGIMES, ids=lambda s: "n{}-p{}-q{}".format(*s))
def regime(request):
    return request.param, landscape.critical_points(*request.param)


def test_counts_and_locations_match_the_winding_count(regime):
    (n, p, q), census = regime
    centres, winding, half = _winding_roots(n, p, q)
    assert len(census) == len(centres)
    # the indices of F add up to its degree on a large box, which is 1 (F ~ w)
    assert winding.sum() == 1
    logits = np.array([point.logits for point in census])
    for centre in centres:
        # each root found by the winding count is within its cell of one census point
        assert np.any(np.all(np.abs(logits - centre) <= half * 1.0001, axis=1))
    assert census.complete


EXPECTED_KINDS = {
    (100, 0.5, 0.1): ["truth", "swapped_truth", "one_block", "one_block"]
    + ["uninformative"]
    + ["edge_saddle"] * 4,
    (1000, 0.2, 0.1): ["truth", "swapped_truth", "one_block", "one_block"]
    + ["uninformative"],
    # p + q > 1: nothing on x = y but the centre
    (100, 0.8, 0.5): ["truth", "swapped_truth", "uninformative"],
}


def test_kinds_per_regime(regime):
    setting, census = regime
    assert sorted(pt.kind for pt in census) == sorted(EXPECTED_KINDS[setting])
    counts = census.kind_counts()
    assert sum(counts.values()) == len(census)
    assert counts["truth"] == counts["swapped_truth"] == 1


def test_count_depends_on_n():
    # at n = 20 the one-block points and the edge saddles are gone
    census = landscape.critical_points(20, 0.5, 0.1)
    kinds = sorted(pt.kind for pt in census)
    assert kinds == ["swapped_truth", "truth", "uninformative"]
    assert census.complete


def test_points_are_fixed_and_jacobians_match_finite_differences(regime):
    (n, p, q), census = regime
    t, lam, _ = landscape.constants(p, q)
    a, b = 4 * t * (p - lam) * (n / 2 - 1), 4 * t * (q - lam) * n / 2

    def phi(w):
        # the logit form of the issue's map, w' = (a u + b v, b u + a v)
        u, v = expit(w) - 0.5
        return np.array([a * u + b * v, b * u + a * v])

    for point in census:
        x2, y2 = landscape.population_map(point.x, point.y, n, p, q)
        assert abs(x2 - point.x) < 1e-12 and abs(y2 - point.y) < 1e-12
        # the map's Jacobian by central differences
        w = np.array(point.logits)
        h = 1e-6
        fd = np.column_stack(
            [(phi(w + h * e) - phi(w - h * e)) / (2 * h) for e in np.eye(2)]
        )
        eig = np.sort(np.abs(np.linalg.eigvals(fd)))[::-1]
        # O(h^2) truncation; O(1e-16 |a| / h) ~ 1e-9 rounding on the entries
        np.testing.assert_allclose(
            np.abs(point.map_eigenvalues), eig, rtol=1e-6, atol=1e-8
        )


def test_stability_and_elbo_hessian_types(regime):
    (n, p, q), census = regime
    by_kind = {pt.kind: pt for pt in census}
    truth = by_kind["truth"]
    assert truth.stable and truth.hessian_type == "maximum"
    assert truth.elbo == max(pt.elbo for pt in census)
    assert by_kind["swapped_truth"].elbo == pytest.approx(truth.elbo, rel=1e-12)
    centre = by_kind["uninformative"]
    assert (centre.x, centre.y) == (0.5, 0.5) and not centre.stable
    for point in census:
        if "edge_saddle" == point.kind:
            assert point.hessian_type == "saddle" and not point.stable


@pytest.mark.parametrize("x, y", [(0.3, 0.6), (0.5, 0.5), (0.08, 0.9)])
def test_elbo_hessian_against_finite_differences(x, y):
    # the census' Hessian formula, checked through reduced_elbo at interior points
    from initscape.sbm.landscape._population import elbo_hessian_logits

    n, p, q = 40, 0.5, 0.1
    w = np.array([np.log(x / (1 - x)), np.log(y / (1 - y))])
    H = elbo_hessian_logits(w, n, p, q)
    h = 1e-4

    def f(dx, dy):
        return landscape.reduced_elbo(x + dx, y + dy, n, p, q)

    fd = np.array(
        [
            [
                (f(h, 0) - 2 * f(0, 0) + f(-h, 0)) / h**2,
                (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h**2),
            ],
            [0.0, (f(0, h) - 2 * f(0, 0) + f(0, -h)) / h**2],
        ]
    )
    fd[1, 0] = fd[0, 1]
    # second differences of a value of size ~1e3: rounding ~1e-13 * 1e3 / h^2 = 1e-2
    np.testing.assert_allclose(H, fd, rtol=1e-4, atol=0.05)


def test_gradient_vanishes_at_critical_points():
    n, p, q = 100, 0.5, 0.1
    for point in landscape.critical_points(n, p, q):
        if min(point.x, point.y, 1 - point.x, 1 - point.y) < 1e-3:
            continue  # a step of 1e-7 would leave the square
        h = 1e-7
        gx = (
            landscape.reduced_elbo(point.x + h, point.y, n, p, q)
            - landscape.reduced_elbo(point.x - h, point.y, n, p, q)
        ) / (2 * h)
        gy = (
            landscape.reduced_elbo(point.x, point.y + h, n, p, q)
            - landscape.reduced_elbo(point.x, point.y - h, n, p, q)
        ) / (2 * h)
        # rounding of values ~4e3 over a step 1e-7: about 1e-5
        assert abs(gx) < 1e-3 and abs(gy) < 1e-3


def test_attracting_two_cycle_when_p_plus_q_exceeds_one():
    census = landscape.critical_points(1000, 0.8, 0.5)
    attracting = [c for c in census.cycles if c.attracting]
    assert len(attracting) == 1
    (x1, y1), (x2, y2) = attracting[0].points
    assert x1 == pytest.approx(y1) and x2 == pytest.approx(y2)  # on x = y
    # iterate the map itself from a start near a corner: it alternates between
    # the two points of the cycle
    x, y = 0.97, 0.96
    for _ in range(50):
        x, y = landscape.population_map(x, y, 1000, 0.8, 0.5)
    first = (x, y)
    second = landscape.population_map(x, y, 1000, 0.8, 0.5)
    cycle = sorted([tuple(attracting[0].points[0]), tuple(attracting[0].points[1])])
    np.testing.assert_allclose(sorted([first, tuple(second)]), cycle, atol=1e-12)
    # and none when p + q < 1
    assert not [
        c for c in landscape.critical_points(1000, 0.5, 0.1).cycles if c.attracting
    ]


def test_bad_input():
    with pytest.raises(ValueError, match="n must be even .* got 99"):
        landscape.critical_points(99, 0.5, 0.1)
    with pytest.raises(ValueError, match="n must be >= 4; got 2"):
        landscape.critical_points(2, 0.5, 0.1)
    with pytest.raises(TypeError, match="n must be an Integral; got float"):
        landscape.critical_points(100.0, 0.5, 0.1)
