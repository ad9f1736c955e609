"""The sparse SBM sampler and the exact labelling likelihood."""

import itertools
import math

import numpy as np
import pytest

from initscape.sbm._sample import (
    _lower_triangle,
    block_counts,
    log_likelihood,
    sample_sbm,
)


def test_lower_triangle_indexing_is_a_bijection():
    # every pair i > j of 60 nodes exactly once, in row-major order
    i, j = _lower_triangle(np.arange(60 * 59 // 2))
    expected = [(a, b) for a in range(60) for b in range(a)]
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == expected


def test_lower_triangle_is_exact_for_a_million_nodes():
    # indices near row boundaries, where the float square root could round wrong
    rows = np.array([10**6 - 1, 999_998, 123_457, 2])
    starts = rows * (rows - 1) // 2
    index = np.concatenate([starts, starts + rows - 1])
    i, j = _lower_triangle(index)
    np.testing.assert_array_equal(i, np.concatenate([rows, rows]))
    np.testing.assert_array_equal(j, np.concatenate([0 * rows, rows - 1]))


@pytest.mark.parametrize("directed", [False, True])
def test_graph_structure(directed):
    probs = [[0.3, 0.05, 0.1], [0.05, 0.4, 0.0], [0.1, 0.0, 0.2]]
    A, z = sample_sbm([30, 20, 10], probs, directed=directed, random_state=0)
    assert A.shape == (60, 60) and A.format == "csr"
    assert np.all(A.data == 1) and A.diagonal().sum() == 0
    assert np.array_equal(z, np.repeat([0, 1, 2], [30, 20, 10]))
    edges, _ = block_counts(A, z, 3, directed=directed)
    assert edges[1, 2] == 0 and edges[2, 1] == 0  # probability 0
    if not directed:
        assert (A != A.T).nnz == 0


@pytest.mark.parametrize("directed", [False, True])
def test_every_pair_has_its_probability(directed):
    # 1000 graphs on 5 nodes: each pair's edge frequency is within 4.5 standard
    # errors of its probability (a false alarm has probability ~1e-4 over all
    # pairs), and the pairs of one block pair are independent (covariance ~0).
    probs = np.array([[0.6, 0.2], [0.3, 0.5]])
    if not directed:
        probs = np.array([[0.6, 0.2], [0.2, 0.5]])
    rng = np.random.default_rng(0)
    draws = np.array(
        [
            sample_sbm([2, 3], probs, directed=directed, random_state=rng)[0].toarray()
            for _ in range(1000)
        ]
    )
    z = np.array([0, 0, 1, 1, 1])
    expected = probs[z][:, z]
    freq = draws.mean(axis=0)
    off = ~np.eye(5, dtype=bool)
    se = np.sqrt(expected * (1 - expected) / 1000)
    assert np.all(np.abs(freq - expected)[off] < 4.5 * se[off])
    # two pairs inside block 1: (2, 3) and (2, 4)
    cov = np.mean(draws[:, 2, 3] * draws[:, 2, 4]) - freq[2, 3] * freq[2, 4]
    assert abs(cov) < 4.5 * 0.25 / math.sqrt(1000)


def test_a_million_nodes():
    n = 10**6
    A, z = sample_sbm(
        [n // 2, n // 2], [[4 / n, 1 / n], [1 / n, 4 / n]], random_state=0
    )
    assert A.shape == (n, n) and z.size == n
    # 2.5 n / 2 expected edges; 6 standard deviations of a Poisson count
    expected = (n / 2) ** 2 * (4 / n) + (n / 2) ** 2 * (1 / n)
    assert abs(A.nnz / 2 - expected) < 6 * math.sqrt(expected)


def test_same_seed_same_graph():
    first = sample_sbm([40, 40], [[0.2, 0.1], [0.1, 0.2]], random_state=3)[0]
    second = sample_sbm([40, 40], [[0.2, 0.1], [0.1, 0.2]], random_state=3)[0]
    assert (first != second).nnz == 0


def test_log_likelihood_by_enumeration_of_pairs():
    A, _ = sample_sbm([4, 3], [[0.7, 0.2], [0.2, 0.6]], random_state=5)
    labels = np.array([0, 1, 0, 0, 1, 1, 0])
    probs = np.array([[0.7, 0.2], [0.2, 0.6]])
    dense = A.toarray()
    expected = 0.0
    for i, j in itertools.combinations(range(7), 2):
        prob = probs[labels[i], labels[j]]
        expected += math.log(prob if dense[i, j] else 1 - prob)
    assert log_likelihood(A, labels, probs) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    ("sizes", "probs", "match"),
    [
        ([3, -1], [[0.5, 0.1], [0.1, 0.5]], r"sizes must be .* got \[3, -1\]"),
        ([3.5, 2], [[0.5, 0.1], [0.1, 0.5]], r"sizes must be a non-empty"),
        ([3, 2], [[0.5, 0.1]], r"block_probs must have shape \(2, 2\)"),
        ([3, 2], [[0.5, 1.1], [1.1, 0.5]], r"entries in \[0, 1\]"),
        ([3, 2], [[0.5, 0.1], [0.2, 0.5]], r"symmetric when directed=False"),
    ],
)
def test_bad_arguments(sizes, probs, match):
    with pytest.raises(ValueError, match=match):
        sample_sbm(sizes, probs)
