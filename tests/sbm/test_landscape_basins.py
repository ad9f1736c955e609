"""Basins of the reduced population map against a plain loop over starts."""

import numpy as np
import pytest

from initscape.sbm import landscape


@pytest.mark.parametrize("n, p, q", [(100, 0.5, 0.1), (1000, 0.8, 0.5)])
def test_basins_match_iterating_each_start(n, p, q):
    basins = landscape.basins(n, p, q, resolution=41)
    census = basins.census
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 41, size=(12, 2)):
        # iterate the map from this cell with a plain loop, then find the census
        # point (or cycle point) the end state sits on
        x, y = basins.x[j], basins.y[i]
        for _ in range(150):  # every start of these settings ends within 100
            x, y = landscape.population_map(x, y, n, p, q)
        ends = [(pt.x, pt.y, pt.kind) for pt in census]
        ends += [(cx, cy, "cycle") for c in census.cycles for cx, cy in c.points]
        dist = [np.hypot(x - ex, y - ey) for ex, ey, _ in ends]
        kind = ends[int(np.argmin(dist))][2]
        assert min(dist) < 1e-6  # the loop ended on a census point
        assert basins.target_kinds[basins.target[i, j]] == kind


def test_basins_respect_the_symmetries_and_cover_the_square():
    basins = landscape.basins(100, 0.5, 0.1, resolution=60)
    # the map commutes with (x, y) -> (y, x) and (x, y) -> (1 - y, 1 - x)
    np.testing.assert_array_equal(basins.outcome, basins.outcome.T)
    np.testing.assert_array_equal(basins.outcome, basins.outcome[::-1, ::-1].T)
    areas = basins.fractions()
    assert sum(areas.values()) == pytest.approx(1.0)
    assert areas["truth"] > 0.9 and areas["one_block"] > 0.0
    assert basins.converged.all()


def test_two_cycle_basin_when_p_plus_q_exceeds_one():
    basins = landscape.basins(1000, 0.8, 0.5, resolution=40)
    areas = basins.fractions()
    assert areas.get("cycle", 0) > 0.01
    assert not basins.converged[basins.outcome == "cycle"].any()


def test_bad_input():
    census = landscape.critical_points(100, 0.5, 0.1)
    with pytest.raises(
        ValueError,
        match=r"census must be of the same setting "
        r"\(n=200, p=0.5, q=0.1\); got \(n=100",
    ):
        landscape.basins(200, 0.5, 0.1, census=census)
    with pytest.raises(ValueError, match="resolution must be >= 2; got 1"):
        landscape.basins(100, 0.5, 0.1, resolution=1)
