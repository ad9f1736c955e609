"""K-block variational EM: enumeration, the two-class special case, ICL."""

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import xlogy
from sklearn.metrics import adjusted_rand_score

from initscape.sbm import load_network
from initscape.sbm._init import initial_responsibilities
from initscape.sbm._kblock import icl, run_kblock
from initscape.sbm._sample import block_counts, sample_sbm
from initscape.sbm._twoclass import run_twoclass


def _brute_elbo(A, tau, alpha, pi, directed):
    """E_Q[log P(A, z)] + H(Q) by summing over all K^n labelings."""
    dense = A.toarray()
    n, k = tau.shape
    total = 0.0
    for z in itertools.product(range(k), repeat=n):
        z = np.array(z)
        weight = np.prod(tau[np.arange(n), z])
        log_joint = np.log(alpha[z]).sum()
        for i in range(n):
            for j in range(n):
                if i == j or (not directed and j < i):
                    continue
                prob = pi[z[i], z[j]]
                log_joint += math.log(prob if dense[i, j] else 1 - prob)
        total += weight * log_joint
    return total - xlogy(tau, tau).sum()


@pytest.mark.parametrize("directed", [False, True])
def test_elbo_is_the_expectation_under_q_by_enumeration(directed):
    rng = np.random.default_rng(0)
    n, k = 5, 3
    upper = rng.uniform(size=(n, n)) < 0.4
    dense = upper if directed else np.triu(upper, 1) | np.triu(upper, 1).T
    np.fill_diagonal(dense, False)
    A = sp.csr_matrix(dense.astype(float))
    pi = rng.uniform(0.1, 0.9, size=(k, k))
    if not directed:
        pi = (pi + pi.T) / 2
    alpha = np.array([0.2, 0.3, 0.5])
    tau = rng.dirichlet(np.ones(k), size=n)
    result = run_kblock(
        A,
        tau[:, :, None],
        block_probs=pi,
        block_proportions=alpha,
        directed=directed,
        max_iter=0,
    )
    expected = _brute_elbo(A, tau, alpha, pi, directed)
    # 1e-12: sums of 243 terms of size ~10
    assert result.elbo[0] == pytest.approx(expected, rel=1e-12)


def test_two_blocks_with_known_parameters_agree_with_bcavi():
    A, _ = sample_sbm([60, 40], [[0.2, 0.05], [0.05, 0.2]], random_state=0)
    tau0 = initial_responsibilities(A, 2, "random", 6, np.random.default_rng(0))
    pi = np.array([[0.2, 0.05], [0.05, 0.2]])
    two = run_twoclass(A, tau0[:, 1, :], p=0.2, q=0.05, prior=0.3, max_iter=25)
    many = run_kblock(
        A, tau0, block_probs=pi, block_proportions=np.array([0.7, 0.3]), max_iter=25
    )
    # Where every BCAVI step raises the ELBO, the K-block engine takes the same
    # undamped steps; where one lowers it (restart 3 falls by 17 nats at its
    # first step), the K-block engine damps that step and takes another path.
    # 1e-9 absolute on ELBOs near -2000: rounding, far below the 17 nats.
    ascends = np.all(np.diff(two.elbo_history, axis=0) >= -1e-9, axis=0)
    assert ascends.sum() == 5 and not ascends[3]
    assert np.array_equal(two.n_iter[ascends], many.n_iter[ascends])
    # 1e-7: the two engines round differently (tanh form versus logsumexp), and
    # a last step whose computed ELBO falls by one rounding unit (restart 4,
    # gains of 1e-12 nats) is damped, which leaves tau a few tol from BCAVI's.
    np.testing.assert_allclose(many.tau[:, 1, ascends], two.psi[:, ascends], atol=1e-7)
    # 1e-10: the ELBOs agree to rounding all along.
    np.testing.assert_allclose(
        many.elbo_history[:, ascends], two.elbo_history[:, ascends], rtol=1e-10
    )
    assert np.all(np.diff(many.elbo_history[:, 3]) >= -1e-9)
    # Both reach the same fixed point from that start (rtol 1e-10 as above).
    assert many.elbo[3] == pytest.approx(two.elbo[3], rel=1e-10)


def _assert_ascent(history):
    # 1e-12 relative: the damping accepts a step when the ELBO falls by no more
    # than that (rounding of sums over n^2 pairs); real falls were nats.
    steps = np.diff(history, axis=0)
    assert np.all(steps >= -1e-11 * np.abs(history[1:])), steps.min()


KARATE_THREE = [[0.3, 0.02, 0.02], [0.02, 0.3, 0.02], [0.02, 0.02, 0.3]]


@pytest.mark.parametrize(
    "block_probs",
    [KARATE_THREE, [[0.05, 0.3], [0.3, 0.05]], None],
    ids=["three-assortative", "two-disassortative", "estimated"],
)
def test_elbo_never_falls_and_fits_converge_on_karate(block_probs):
    # Before the damped E-step, the known three-block fit ended every restart
    # in an exact 2-cycle at max_iter, and "0.05,0.3" ended below its start.
    A = sp.csr_matrix(load_network("karate").adjacency)
    k = 3 if block_probs is None else len(block_probs)
    tau0 = initial_responsibilities(A, k, "random", 30, np.random.default_rng(1))
    pi = None if block_probs is None else np.array(block_probs)
    result = run_kblock(A, tau0, block_probs=pi, max_iter=500)
    _assert_ascent(result.elbo_history)
    assert result.converged.all()
    # No 2-cycle: the last two ELBOs of every restart are the same number up to
    # the tolerance of the last step (tau moves by < 1e-8).
    assert np.all(result.n_iter < 500)


def test_elbo_never_falls_directed_estimated():
    A, _ = sample_sbm(
        [20, 15, 10],
        [[0.4, 0.05, 0.3], [0.02, 0.4, 0.05], [0.3, 0.05, 0.05]],
        directed=True,
        random_state=3,
    )
    tau0 = initial_responsibilities(A, 3, "random", 20, np.random.default_rng(3))
    result = run_kblock(A, tau0, directed=True, max_iter=300)
    _assert_ascent(result.elbo_history)


def test_mstep_from_hard_labels_counts_edges_over_pairs():
    # From one-hot tau, pi_ql = m_ql / N_ql and alpha = block sizes / n
    A, z = sample_sbm(
        [30, 20, 10], np.full((3, 3), 0.1) + 0.2 * np.eye(3), random_state=2
    )
    tau0 = np.eye(3)[z][:, :, None]
    result = run_kblock(A, tau0, max_iter=0)
    edges, pairs = block_counts(A, z, 3)
    np.testing.assert_allclose(result.pi[:, :, 0], edges / pairs, rtol=1e-14)
    np.testing.assert_allclose(result.alpha[:, 0], [0.5, 1 / 3, 1 / 6], rtol=1e-14)


@pytest.fixture(scope="module")
def three_blocks():
    probs = np.full((3, 3), 0.02) + 0.1 * np.eye(3)
    return sample_sbm([200, 200, 200], probs, random_state=1)


def test_three_block_recovery(three_blocks):
    A, z = three_blocks
    tau0 = initial_responsibilities(A, 3, "spectral", 5, np.random.default_rng(0))
    result = run_kblock(A, tau0)
    best = np.argmax(result.elbo)
    labels = result.tau[:, :, best].argmax(axis=1)
    assert result.converged[best]
    assert adjusted_rand_score(z, labels) > 0.95
    # the estimates are near the truth: 0.12 within blocks, 0.02 between;
    # 0.01 is about 4 standard errors of a within-block estimate
    pi = result.pi[:, :, best]
    np.testing.assert_allclose(np.diag(pi), 0.12, atol=0.01)
    np.testing.assert_allclose(pi[~np.eye(3, dtype=bool)], 0.02, atol=0.005)


def test_icl_by_hand():
    # Path 0-1-2-3 with blocks {0, 1} and {2, 3}: within-block pairs 1 + 1 with
    # edges 1 + 1 (pi = 1, likelihood 1), between: 4 pairs, 1 edge (pi = 1/4).
    A = sp.csr_matrix(
        np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=float)
    )
    loglik = math.log(0.25) + 3 * math.log(0.75) + 4 * math.log(0.5)
    penalty = 0.5 * 3 * math.log(6) + 0.5 * math.log(4)
    assert icl(A, np.array([0, 0, 1, 1]), 2) == pytest.approx(
        loglik - penalty, rel=1e-14
    )


def test_directed_recovery():
    probs = [[0.2, 0.02, 0.1], [0.02, 0.2, 0.02], [0.01, 0.05, 0.2]]
    A, z = sample_sbm([100, 100, 100], probs, directed=True, random_state=1)
    tau0 = initial_responsibilities(A, 3, "random", 10, np.random.default_rng(0))
    result = run_kblock(A, tau0, directed=True)
    best = np.argmax(result.elbo)
    assert adjusted_rand_score(z, result.tau[:, :, best].argmax(axis=1)) > 0.95
    assert np.all(np.isfinite(result.elbo_history))


@pytest.mark.parametrize("directed", [False, True])
def test_batched_equals_looped(directed):
    probs = np.full((3, 3), 0.05) + 0.25 * np.eye(3)
    A, _ = sample_sbm([30, 30, 30], probs, directed=directed, random_state=3)
    tau0 = initial_responsibilities(A, 3, "random", 4, np.random.default_rng(1))
    batched = run_kblock(A, tau0, directed=directed, max_iter=60)
    for r in range(4):
        alone = run_kblock(A, tau0[:, :, r : r + 1], directed=directed, max_iter=60)
        assert alone.n_iter[0] == batched.n_iter[r]
        # 1e-9: einsum may sum the nodes in another order for another width
        np.testing.assert_allclose(alone.tau[:, :, 0], batched.tau[:, :, r], atol=1e-9)
        np.testing.assert_allclose(alone.elbo[0], batched.elbo[r], rtol=1e-12)


def test_bad_shapes():
    A, _ = sample_sbm([5, 5], [[0.5, 0.1], [0.1, 0.5]], random_state=0)
    with pytest.raises(
        ValueError, match=r"tau0 must have shape .* got shape \(10, 2\)"
    ):
        run_kblock(A, np.full((10, 2), 0.5))
    with pytest.raises(ValueError, match=r"block_probs must have shape \(2, 2\)"):
        run_kblock(A, np.full((10, 2, 1), 0.5), block_probs=np.full((3, 3), 0.2))
