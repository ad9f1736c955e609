"""Where random starts end: population and sample studies, known or estimated.

Claims of the form "at least 95% of starts" are checked with a one-sided 95%
Clopper-Pearson lower bound: the test passes only if the data rule out a true
fraction below 0.95 at that level (with 100 starts: at least 99 successes).
"""

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import beta

from initscape.sbm import landscape
from initscape.sbm.landscape._study import reduced_start_study


def _lower_bound(successes, trials):
    # one-sided 95% Clopper-Pearson lower confidence bound of a binomial fraction
    return (
        0.0
        if successes == 0
        else float(beta.ppf(0.05, successes, trials - successes + 1))
    )


def _long_monte_carlo(n, p, q, n_starts, seed):
    """Reduced 2-D map from CLT block averages, classified by which side of 1/2 the
    two blocks end on: an implementation independent of the library's."""
    t, lam, _ = landscape.constants(p, q)
    a, b = 4 * t * (p - lam) * (n / 2 - 1), 4 * t * (q - lam) * n / 2
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal((2, n_starts)) / np.sqrt(6 * n)
    xi, eta = a * u + b * v, b * u + a * v  # logits after the first step
    for _ in range(30):  # saturated after a few steps; 30 leaves a wide margin
        u, v = expit(xi) - 0.5, expit(eta) - 0.5
        xi, eta = a * u + b * v, b * u + a * v
    f = np.mean(xi * eta < 0)
    return f, np.sqrt(f * (1 - f) / n_starts)


def test_population_fractions_match_a_long_monte_carlo_and_approach_the_limit():
    p, q = 0.5, 0.1
    limit = landscape.limit_success_probability(p, q)
    for n, n_starts in [(1000, 1000), (10000, 300)]:
        study = landscape.random_start_study(
            n, p, q, n_starts, version="population", random_state=n
        )
        long_f, long_se = _long_monte_carlo(n, p, q, 100_000, seed=1)
        se = np.hypot(study.standard_errors["truth"], long_se)
        # within 3 combined standard errors
        assert abs(study.fractions["truth"] - long_f) <= 3 * se, (n, study.fractions)
        assert study.fractions["truth"] + study.fractions["one_block"] == 1.0
        assert study.limit == limit
    # the long run moves toward P_inf as n grows (each step by > 5 s.e. of 1e-3)
    gaps = [
        _long_monte_carlo(n, p, q, 200_000, seed=2)[0] - limit
        for n in (10**3, 10**4, 10**5, 10**6)
    ]
    assert all(g > 0 for g in gaps)
    assert all(g1 - g2 > 0.005 for g1, g2 in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < 0.01


def test_reduced_study_agrees_with_the_long_monte_carlo():
    fractions, errors = reduced_start_study(100_000, 0.5, 0.1, 20_000, random_state=3)
    long_f, long_se = _long_monte_carlo(100_000, 0.5, 0.1, 100_000, seed=4)
    assert abs(fractions["truth"] - long_f) <= 3 * np.hypot(errors["truth"], long_se)


@pytest.mark.parametrize("p, q", [(0.5, 0.1), (0.2, 0.1)])
def test_sample_bcavi_with_known_parameters_reaches_the_truth(p, q):
    study = landscape.random_start_study(
        1000, p, q, 100, version="sample", params="known", random_state=0
    )
    assert _lower_bound(study.counts["truth"], 100) >= 0.95, study.fractions
    # "truth" means what it says: the overlap with the planted labels is near 1
    assert np.all(study.overlap[study.outcomes == "truth"] > 0.9)


def test_joint_estimation_collapses_to_the_uninformative_point():
    study = landscape.random_start_study(
        1000, 0.5, 0.1, 100, version="sample", params="estimated", random_state=0
    )
    assert _lower_bound(study.counts["uninformative"], 100) >= 0.95, study.fractions
    collapsed = study.outcomes == "uninformative"
    # at the collapse p_hat = q_hat (the edge density) and psi = 1/2
    np.testing.assert_allclose(
        study.p_hat[collapsed], study.q_hat[collapsed], rtol=1e-9
    )  # rounding in the M-step sums
    np.testing.assert_allclose(study.block_averages[collapsed], 0.5, atol=1e-6)


def test_correlation_sweep_brackets_d_star():
    n, p, q = 1000, 0.5, 0.1
    d_star = landscape.critical_correlation(n, p, q)
    sweep = landscape.correlation_sweep(
        n,
        p,
        q,
        d_star * np.array([0.6, 0.8, 1.0, 1.2, 1.4]),
        n_starts=60,
        random_state=0,
    )
    f = dict(
        zip(np.round(sweep.correlations / d_star, 2), sweep.fractions, strict=True)
    )
    # 20% either side of d*: most collapse below, most escape above
    assert f[0.8] < 0.5 < f[1.2], f
    assert abs(sweep.d_half / d_star - 1) < 0.2
    assert sweep.bracket[0] <= sweep.d_half <= sweep.bracket[1]
    assert np.all(np.diff(sweep.fractions) >= -3 * 0.065)  # ~monotone (3 s.e.)


def test_correlation_sweep_on_dask_equals_local():
    distributed = pytest.importorskip("dask.distributed")
    args = (200, 0.5, 0.1, [0.1, 0.3, 0.6])
    local = landscape.correlation_sweep(
        *args, n_starts=10, version="population", random_state=5
    )
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        host="127.0.0.1",
        processes=False,
        protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        remote = landscape.correlation_sweep(
            *args,
            n_starts=10,
            version="population",
            random_state=5,
            scheduler=cluster.scheduler_address,
        )
    assert remote.as_dict() == local.as_dict()
    assert remote.rows == local.rows


def test_centred_and_biased_starts():
    # centred starts have u0 + v0 = 0, so the first step always splits the blocks
    centred = landscape.random_start_study(
        1000, 0.5, 0.1, 200, version="population", centred=True, random_state=1
    )
    assert centred.fractions["truth"] == 1.0

    def biased(rng, shape):
        return 0.8 + 0.1 * rng.random(shape)

    # a start biased toward 1 goes to one block when p + q < 1 ...
    ones = landscape.random_start_study(
        1000, 0.5, 0.1, 50, init=biased, version="population", random_state=1
    )
    assert ones.fractions["one_block"] == 1.0
    # ... and to the 2-cycle between (0, 0) and (1, 1) when p + q > 1
    cycles = landscape.random_start_study(
        1000,
        0.8,
        0.5,
        50,
        init=biased,
        version="population",
        max_iter=50,
        random_state=1,
    )
    assert cycles.fractions["cycle"] == 1.0
    assert not cycles.converged.any()
    # Bernoulli(1/2) starts are iid with mean 1/2 like uniform ones
    bern = landscape.random_start_study(
        1000, 0.5, 0.1, 200, init="bernoulli", version="population", random_state=1
    )
    assert bern.fractions["truth"] + bern.fractions["one_block"] == 1.0
    assert bern.settings["init"] == "bernoulli"


def test_classification_of_census_points():
    census = landscape.critical_points(100, 0.5, 0.1)
    xy = np.array([[pt.x, pt.y] for pt in census])
    outcomes, nearest = landscape.classify_states(xy, census, np.ones(len(xy), bool))
    expected = {
        "truth": "truth",
        "swapped_truth": "truth",
        "one_block": "one_block",
        "uninformative": "uninformative",
        "edge_saddle": "other",
    }
    assert list(outcomes) == [expected[pt.kind] for pt in census]
    assert list(nearest) == list(range(len(census)))
    # a run stopped near a fixed point without converging is not claimed for it
    out, _ = landscape.classify_states(xy[:1], census, [False])
    assert out[0] == "other"


def test_same_seed_same_numbers():
    a = landscape.random_start_study(200, 0.5, 0.1, 20, random_state=7)
    b = landscape.random_start_study(200, 0.5, 0.1, 20, random_state=7)
    np.testing.assert_array_equal(a.block_averages, b.block_averages)


def test_bad_input():
    with pytest.raises(
        ValueError, match="version must be one of 'sample', 'population'; got 'exact'"
    ):
        landscape.random_start_study(100, 0.5, 0.1, 5, version="exact")
    with pytest.raises(ValueError, match="params must be one of 'known', 'estimated'"):
        landscape.random_start_study(100, 0.5, 0.1, 5, params="both")
    with pytest.raises(ValueError, match="init must be one of 'uniform', 'bernoulli'"):
        landscape.random_start_study(100, 0.5, 0.1, 5, init="normal")
    with pytest.raises(
        ValueError,
        match=r"init must return an array of shape "
        r"\(100, 5\) with entries in \[0, 1\]",
    ):
        landscape.random_start_study(
            100, 0.5, 0.1, 5, init=lambda rng, shape: rng.random(shape) + 1
        )
    with pytest.raises(ValueError, match="n_starts must be >= 1; got 0"):
        landscape.random_start_study(100, 0.5, 0.1, 0)
    with pytest.raises(
        ValueError,
        match=r"correlations must be a 1-d array of "
        r"values in \[0, 1\]",
    ):
        landscape.correlation_sweep(100, 0.5, 0.1, [0.5, 1.5])


def test_study_point_sweeps_over_start_distributions():
    from initscape.sweep import run_sweep

    points = [
        {
            "n": 200,
            "p": 0.5,
            "q": 0.1,
            "n_starts": 30,
            "init": init,
            "version": "population",
        }
        for init in ("uniform", "bernoulli")
    ]
    rows = run_sweep(landscape.study_point, points, n_jobs=1, random_state=2)
    for row in rows:
        direct = landscape.random_start_study(
            200,
            0.5,
            0.1,
            30,
            init=row["init"],
            version="population",
            random_state=row["seed"],
        )
        assert row["fractions"] == direct.fractions
        assert row["limit"] == direct.limit
