"""Initialisers: shapes, laws, the spectral and degree starts, user arrays."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import adjusted_rand_score

from initscape.sbm._init import SMOOTHING, initial_responsibilities
from initscape.sbm._sample import sample_sbm


@pytest.fixture(scope="module")
def graph():
    return sample_sbm([100, 60], [[0.2, 0.02], [0.02, 0.3]], random_state=0)


@pytest.mark.parametrize("init", ["random", "bernoulli", "spectral", "degree"])
@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_rows_are_probability_vectors(graph, init, n_blocks):
    A, _ = graph
    tau = initial_responsibilities(A, n_blocks, init, 4, np.random.default_rng(0))
    assert tau.shape == (160, n_blocks, 4)
    assert np.all(tau >= 0)
    np.testing.assert_allclose(tau.sum(axis=1), 1.0, rtol=1e-14)


def test_random_two_blocks_is_uniform(graph):
    # psi iid Uniform(0, 1): Kolmogorov-Smirnov at level 1e-3
    A, _ = graph
    tau = initial_responsibilities(A, 2, "random", 50, np.random.default_rng(1))
    assert stats.kstest(tau[:, 1, :].ravel(), "uniform").pvalue > 1e-3


def test_random_three_blocks_is_dirichlet(graph):
    # each coordinate of a Dirichlet(1, 1, 1) row is Beta(1, 2)
    A, _ = graph
    tau = initial_responsibilities(A, 3, "random", 50, np.random.default_rng(2))
    assert stats.kstest(tau[:, 0, :].ravel(), stats.beta(1, 2).cdf).pvalue > 1e-3


def test_bernoulli_is_hard_and_balanced(graph):
    A, _ = graph
    tau = initial_responsibilities(A, 2, "bernoulli", 50, np.random.default_rng(3))
    assert set(np.unique(tau)) == {0.0, 1.0}
    # 8000 fair coins: mean within 4 standard errors (0.5 / sqrt(8000))
    assert abs(tau[:, 1, :].mean() - 0.5) < 4 * 0.5 / np.sqrt(8000)


def test_spectral_finds_the_planted_blocks(graph):
    A, z = graph
    tau = initial_responsibilities(A, 2, "spectral", 3, np.random.default_rng(4))
    for r in range(3):
        assert adjusted_rand_score(z, tau[:, :, r].argmax(axis=1)) == 1.0
    # one-hot mixed with weight SMOOTHING of a Dirichlet row: restarts differ
    assert tau.max(axis=1).min() >= 1 - SMOOTHING
    assert not np.array_equal(tau[:, :, 0], tau[:, :, 1])


def test_degree_splits_by_quantiles():
    # a star plus a path: the hub has the largest degree
    import networkx as nx

    graph = nx.star_graph(5)
    A = nx.to_scipy_sparse_array(graph, format="csr")
    tau = initial_responsibilities(A, 2, "degree", 1, np.random.default_rng(0))
    labels = tau[:, :, 0].argmax(axis=1)
    assert labels[0] == 1 and labels.sum() == 3  # 6 nodes, 3 per block


def test_arrays(graph):
    A, z = graph
    rng = np.random.default_rng(0)
    psi = rng.uniform(size=160)
    tau = initial_responsibilities(A, 2, psi, 3, rng)
    np.testing.assert_array_equal(tau[:, 1, :], np.repeat(psi[:, None], 3, 1))
    labels = initial_responsibilities(A, 3, z, 2, rng)
    np.testing.assert_array_equal(labels[:, :, 0], np.eye(3)[z])
    full = rng.dirichlet(np.ones(3), size=(160, 5)).transpose(0, 2, 1)
    assert initial_responsibilities(A, 3, full, 99, rng).shape == (160, 3, 5)


@pytest.mark.parametrize(
    ("init", "n_blocks", "match"),
    [
        (np.ones(5), 2, r"shape \(160,\), \(160, 2\) .* got shape \(5,\)"),
        (np.full(160, 1.5), 2, r"psi0 and must lie in \[0, 1\]; got values"),
        (np.full(160, 3), 3, r"labels in range\(3\); got values in \[3.0"),
        (np.ones((160, 3)), 3, r"rows summing to 1 .* row sums in \[3.0"),
        (np.full(160, np.nan), 2, r"finite entries"),
        ("kmeans", 2, r"init must be one of"),
    ],
)
def test_bad_arrays(graph, init, n_blocks, match):
    A, _ = graph
    with pytest.raises(ValueError, match=match):
        initial_responsibilities(A, n_blocks, init, 2, np.random.default_rng(0))
