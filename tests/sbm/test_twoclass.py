"""Two-class mean-field engine: hand computations, enumeration, limits, batching."""

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.metrics import adjusted_rand_score

from initscape.sbm._sample import sample_sbm
from initscape.sbm._twoclass import (
    bcavi_step,
    constants,
    elbo,
    estimate_params,
    run_twoclass,
)


def _graph(edges, n):
    rows, cols = zip(*edges, strict=True)
    A = sp.coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(n, n))
    return sp.csr_matrix(A + A.T)


def _random_graph(n, density, seed):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.uniform(size=(n, n)) < density, 1)
    return sp.csr_matrix((upper | upper.T).astype(float))


@pytest.fixture(scope="module")
def planted():
    """n = 2000, p = 0.05, q = 0.01: the planted graph of issue 2."""
    return sample_sbm([1000, 1000], [[0.05, 0.01], [0.01, 0.05]], random_state=0)


def test_constants_by_hand():
    # p = 1/2, q = 1/4: t = (1/2) log 3, lambda = log(3/2) / log 3
    t, lam = constants(0.5, 0.25)
    assert t == pytest.approx(0.5 * math.log(3), rel=1e-14)
    assert lam == pytest.approx(math.log(1.5) / math.log(3), rel=1e-14)


def test_constants_at_equal_probabilities_take_the_limit():
    # t = 0 and lambda -> p; close to p = q the ratio approaches the limit
    t, lam = constants(0.3, 0.3)
    assert t == 0.0 and lam == pytest.approx(0.3, rel=1e-15)
    _, lam_near = constants(0.3 + 1e-4, 0.3)
    assert lam_near == pytest.approx(0.3 + 5e-5, abs=1e-8)  # O(delta^2) = 1e-8
    t_arr, lam_arr = constants(np.array([0.2, 0.1]), np.array([0.2, 0.3]))
    assert np.all(np.isfinite(t_arr)) and np.all(np.isfinite(lam_arr))
    assert t_arr[1] < 0  # disassortative


def test_one_bcavi_step_by_hand():
    # Edges 0-1, 0-2, 1-2, 2-3; psi = (.9, .6, .3, .2), u = (.4, .1, -.2, -.3),
    # sum(u) = 0. Field_i = 4t [(A u)_i - lambda (sum(u) - u_i)]:
    #   node 0: A u = .1 - .2 = -.1, sum - u_0 = -.4
    #   node 1: A u = .4 - .2 = .2,   sum - u_1 = -.1
    #   node 2: A u = .4 + .1 - .3 = .2, sum - u_2 = .2
    #   node 3: A u = -.2,            sum - u_3 = .3
    A = _graph([(0, 1), (0, 2), (1, 2), (2, 3)], 4)
    psi = np.array([0.9, 0.6, 0.3, 0.2])
    four_t = 2 * math.log(3)
    lam = math.log(1.5) / math.log(3)
    expected = expit(
        four_t
        * np.array(
            [-0.1 + 0.4 * lam, 0.2 + 0.1 * lam, 0.2 - 0.2 * lam, -0.2 - 0.3 * lam]
        )
    )
    # 1e-14: a few roundings in the field and the tanh form of the sigmoid
    np.testing.assert_allclose(bcavi_step(A, psi, 0.5, 0.25), expected, rtol=1e-14)
    result = run_twoclass(A, psi[:, None], p=0.5, q=0.25, max_iter=1)
    np.testing.assert_allclose(result.psi[:, 0], expected, rtol=1e-14)
    # with prior pi = 0.2 the field shifts by logit(0.2) = -log 4
    np.testing.assert_allclose(
        bcavi_step(A, psi, 0.5, 0.25, prior=0.2),
        expit(np.log(expected / (1 - expected)) - math.log(4)),
        rtol=1e-13,  # the logit of expected loses a few digits
    )


def _brute_force(A, p, q, prior):
    """log P(A, z) for all 2^n labelings, from dense sums over i < j."""
    dense = A.toarray()
    n = dense.shape[0]
    iu = np.triu_indices(n, 1)
    labelings = np.array(list(itertools.product([0, 1], repeat=n)))
    same = labelings[:, iu[0]] == labelings[:, iu[1]]
    prob = np.where(same, p, q)
    edge = dense[iu].astype(bool)
    loglik = np.where(edge, np.log(prob), np.log1p(-prob)).sum(axis=1)
    ones = labelings.sum(axis=1)
    logprior = ones * math.log(prior) + (n - ones) * math.log1p(-prior)
    return labelings, loglik + logprior


def test_elbo_is_the_expectation_under_q_by_enumeration():
    # ELBO = E_Q[log P(A, z)] + H(Q), summed over all 2^7 labelings
    A = _random_graph(7, 0.4, seed=3)
    p, q, prior = 0.6, 0.2, 0.35
    labelings, log_joint = _brute_force(A, p, q, prior)
    psi = np.random.default_rng(0).uniform(size=(7, 4))
    for r in range(4):
        weights = np.prod(np.where(labelings == 1, psi[:, r], 1 - psi[:, r]), axis=1)
        entropy = -np.sum(psi[:, r] * np.log(psi[:, r]))
        entropy -= np.sum((1 - psi[:, r]) * np.log(1 - psi[:, r]))
        expected = weights @ log_joint + entropy
        # 1e-12: sums of 128 terms of size ~10
        assert elbo(A, psi[:, r], p, q, prior) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_elbo_lies_below_the_log_evidence(seed):
    A = _random_graph(9, 0.35, seed=seed)
    p, q = 0.5, 0.15
    _, log_joint = _brute_force(A, p, q, 0.5)
    log_evidence = logsumexp(log_joint)
    psi0 = np.random.default_rng(seed).uniform(size=(9, 20))
    result = run_twoclass(A, psi0, p=p, q=q)
    assert np.all(result.elbo_history <= log_evidence + 1e-10)  # rounding only
    assert np.all(result.elbo <= log_evidence + 1e-10)


def test_marginals_match_psi_where_the_posterior_concentrates():
    # Dense, very separated blocks of sizes 3 and 7 with prior P(z=1) = 0.1: the
    # posterior puts almost all mass on the planted labelling (checked below),
    # so exact marginals and mean-field psi both sit near its indicator.
    p, q, prior = 0.95, 0.05, 0.1
    A, z = sample_sbm([7, 3], [[p, q], [q, p]], random_state=4)
    labelings, log_joint = _brute_force(A, p, q, prior)
    post = np.exp(log_joint - logsumexp(log_joint))
    assert post.max() > 0.995
    marginals = post @ labelings
    result = run_twoclass(
        A, np.full((10, 1), 0.5) + 0.1 * (z[:, None] - 0.5), p=p, q=q, prior=prior
    )
    assert result.converged[0]
    # 0.01: both are within 1 - 0.995 (plus the mean-field error of the same
    # order) of the indicator of the dominant labelling
    np.testing.assert_allclose(result.psi[:, 0], marginals, atol=0.01)


def _fd_gradient(A, psi, p, q, prior, h=1e-6):
    grad = np.empty_like(psi)
    for i in range(psi.size):
        up, down = psi.copy(), psi.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (elbo(A, up, p, q, prior) - elbo(A, down, p, q, prior)) / (2 * h)
    return grad


def test_bcavi_fixed_points_are_stationary_points_of_the_elbo():
    # A moderate signal keeps psi inside (0, 1) so finite differences are
    # defined (BCAVI may also end in 2-cycles, which are not fixed points).
    A, _ = sample_sbm([20, 20], [[0.4, 0.2], [0.2, 0.4]], random_state=0)
    p, q, prior = 0.4, 0.2, 0.45
    psi0 = np.random.default_rng(5).uniform(size=(40, 3))
    result = run_twoclass(A, psi0, p=p, q=q, prior=prior, tol=1e-13, max_iter=5000)
    assert result.converged.all()
    for r in range(3):
        psi = result.psi[:, r]
        assert 1e-4 < psi.min() and psi.max() < 1 - 1e-4
        # central differences with h = 1e-6 on an ELBO of size ~1e2: error ~1e-8
        assert np.abs(_fd_gradient(A, psi, p, q, prior)).max() < 1e-5
    # and the gradient is far from zero at the (non-stationary) start
    assert np.abs(_fd_gradient(A, psi0[:, 0], p, q, prior)).max() > 0.1


def test_joint_fixed_point_is_stationary_in_psi_p_and_q():
    # Some psi saturate near 0 or 1 here, so differentiate in x = logit(psi):
    # dELBO/dx_i = psi_i (1 - psi_i) dELBO/dpsi_i, zero at a fixed point.
    A, _ = sample_sbm([15, 15], [[0.5, 0.1], [0.1, 0.5]], random_state=6)
    start = np.r_[np.full(15, 0.7), np.full(15, 0.3)][:, None]
    result = run_twoclass(A, start, tol=1e-13, max_iter=5000)
    psi, p, q = result.psi[:, 0], result.p[0], result.q[0]
    assert result.converged[0] and p > q
    x = np.log(psi) - np.log1p(-psi)
    h = 1e-5  # error ~1e-13 / h from rounding of an ELBO of size ~1e2
    for i in range(30):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad = (elbo(A, expit(up), p, q) - elbo(A, expit(down), p, q)) / (2 * h)
        assert abs(grad) < 1e-6
    h = 1e-7  # d ELBO / dp and dq by central differences; error ~1e-6
    dp = (elbo(A, psi, p + h, q) - elbo(A, psi, p - h, q)) / (2 * h)
    dq = (elbo(A, psi, p, q + h) - elbo(A, psi, p, q - h)) / (2 * h)
    assert abs(dp) < 1e-4 and abs(dq) < 1e-4
    # and the start is not stationary in p: its M-step moves p
    assert abs(result.p[0] - estimate_params(A, start[:, 0])[0]) > 1e-3


def test_planted_recovery_from_50_random_starts(planted):
    A, z = planted
    psi0 = np.random.default_rng(0).uniform(size=(2000, 50))
    result = run_twoclass(A, psi0, p=0.05, q=0.01)
    assert result.converged.all()
    scores = [adjusted_rand_score(z, result.psi[:, r] > 0.5) for r in range(50)]
    assert min(scores) >= 0.95


def test_joint_estimation_from_random_starts_ends_at_one_half(planted):
    # Mukherjee et al. (2018), section 5: with p, q estimated, random starts
    # collapse to the uninformative point psi = 1/2, p_hat = q_hat = density.
    A, _ = planted
    density = A.nnz / 2 / (2000 * 1999 / 2)
    psi0 = np.random.default_rng(1).uniform(size=(2000, 50))
    result = run_twoclass(A, psi0)
    at_half = np.abs(result.psi - 0.5).max(axis=0) < 1e-6
    assert at_half.mean() >= 0.95
    # 1e-9: p_hat - q_hat is of order the psi deviation squared (< 1e-12)
    np.testing.assert_allclose(result.p[at_half], density, rtol=1e-9)
    np.testing.assert_allclose(result.q[at_half], density, rtol=1e-9)


def test_equal_probabilities_give_the_prior_without_nan():
    # t = 0: psi <- sigmoid(logit(prior)) whatever psi was
    A = _random_graph(12, 0.3, seed=0)
    psi = np.random.default_rng(0).uniform(size=12)
    np.testing.assert_allclose(bcavi_step(A, psi, 0.3, 0.3, prior=0.2), 0.2, rtol=1e-15)
    # an empty graph: p_hat = q_hat (clipped to EPS), psi = 1/2, all finite
    empty = sp.csr_matrix((12, 12))
    result = run_twoclass(empty, psi[:, None])
    assert np.all(np.isfinite(result.elbo_history))
    np.testing.assert_allclose(result.psi, 0.5, atol=1e-12)


def test_disassortative_estimates_stay_finite():
    # bipartite-like graph: estimated p_hat < q_hat, t < 0
    A, z = sample_sbm([40, 40], [[0.02, 0.3], [0.3, 0.02]], random_state=3)
    start = 0.5 + 0.3 * (z[:, None] - 0.5)
    result = run_twoclass(A, start)
    assert result.p[0] < result.q[0]
    assert np.all(np.isfinite(result.elbo_history)) and result.converged[0]
    assert adjusted_rand_score(z, result.psi[:, 0] > 0.5) == 1.0


def test_mstep_matches_pair_sums():
    # p_hat = sum_{i<j} s_ij A_ij / sum_{i<j} s_ij with s written out densely
    A = _random_graph(10, 0.4, seed=8)
    psi = np.random.default_rng(8).uniform(size=10)
    s = np.outer(psi, psi) + np.outer(1 - psi, 1 - psi)
    iu = np.triu_indices(10, 1)
    dense = A.toarray()
    p_hat, q_hat = estimate_params(A, psi)
    # 1e-13: sums of 45 terms
    assert p_hat == pytest.approx((s * dense)[iu].sum() / s[iu].sum(), rel=1e-13)
    assert q_hat == pytest.approx(
        ((1 - s) * dense)[iu].sum() / (1 - s)[iu].sum(), rel=1e-13
    )


@pytest.mark.parametrize("estimated", [False, True])
def test_cavi_elbo_never_decreases(planted, estimated):
    A, _ = planted
    psi0 = np.random.default_rng(2).uniform(size=(2000, 4))
    kwargs = {} if estimated else {"p": 0.05, "q": 0.01}
    result = run_twoclass(A, psi0, algorithm="cavi", **kwargs)
    steps = np.diff(result.elbo_history, axis=0)
    # 1e-9 relative: rounding of an ELBO of size ~1e5
    assert np.all(steps >= -1e-9 * np.abs(result.elbo_history[1:]))


@pytest.mark.parametrize("algorithm", ["bcavi", "cavi"])
@pytest.mark.parametrize("estimated", [False, True])
def test_batched_equals_looped(algorithm, estimated):
    A, _ = sample_sbm([60, 60], [[0.2, 0.05], [0.05, 0.2]], random_state=1)
    psi0 = np.random.default_rng(3).uniform(size=(120, 5))
    kwargs = {} if estimated else {"p": 0.2, "q": 0.05}
    batched = run_twoclass(A, psi0, algorithm=algorithm, **kwargs)
    for r in range(5):
        alone = run_twoclass(A, psi0[:, r], algorithm=algorithm, **kwargs)
        assert alone.n_iter[0] == batched.n_iter[r]
        # 1e-9: column sums are taken in blocks whose size depends on the width
        np.testing.assert_allclose(alone.psi, batched.psi[:, r], atol=1e-9)
        np.testing.assert_allclose(alone.elbo, batched.elbo[r], rtol=1e-12)
        np.testing.assert_allclose(alone.p, batched.p[r], rtol=1e-9)


def test_history_and_freezing():
    A, _ = sample_sbm([50, 50], [[0.3, 0.05], [0.05, 0.3]], random_state=0)
    psi0 = np.random.default_rng(0).uniform(size=(100, 3))
    result = run_twoclass(A, psi0, p=0.3, q=0.05)
    history = result.elbo_history
    assert history.shape == (result.n_iter.max() + 1, 3)
    for r in range(3):
        # a stopped restart repeats its final ELBO
        assert np.all(history[result.n_iter[r] :, r] == result.elbo[r])
        assert history[0, r] == pytest.approx(elbo(A, psi0[:, r], 0.3, 0.05))


def test_max_iter_and_callback():
    A, _ = sample_sbm([50, 50], [[0.3, 0.05], [0.05, 0.3]], random_state=0)
    calls = []
    result = run_twoclass(
        A,
        np.random.default_rng(0).uniform(size=(100, 2)),
        p=0.3,
        q=0.05,
        max_iter=2,
        tol=1e-300,
        callback=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 2), (2, 2)]
    assert list(result.n_iter) == [2, 2] and not result.converged.any()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"psi0": np.full((3, 2), 0.5)}, ValueError, r"psi0 must have shape"),
        ({"psi0": np.full((4, 2), 1.5)}, ValueError, r"psi0 must have finite"),
        ({"p": 0.5}, ValueError, r"both be given .* got p=0.5, q=None"),
        ({"p": 0.2, "q": 0.4}, ValueError, r"p must be greater than q"),
        ({"p": 1.0, "q": 0.4}, ValueError, r"p must be < 1; got 1.0"),
        ({"prior": 0.0}, ValueError, r"prior must be > 0; got 0.0"),
        ({"algorithm": "gibbs"}, ValueError, r"algorithm must be one of"),
        ({"tol": 0}, ValueError, r"tol must be > 0; got 0"),
        ({"max_iter": 2.5}, TypeError, r"max_iter must be an Integral"),
        ({"A": np.eye(4)}, TypeError, r"A must be a scipy.sparse CSR"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"A": _graph([(0, 1), (2, 3)], 4), "psi0": np.full((4, 2), 0.5)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        run_twoclass(args.pop("A"), args.pop("psi0"), **args)
