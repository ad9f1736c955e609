"""Sampling stochastic block models, and their exact complete-data likelihood.

The sampler never forms an n x n object: for every pair of blocks it draws the
number of edges ``m_ab ~ Binomial(N_ab, pi_ab)`` (``N_ab`` the number of node pairs
between the two blocks), then ``m_ab`` distinct pairs uniformly, as linear indices
into that block's pairs (rejection of duplicates, topped up until enough are
distinct). Conditionally on its count, a uniform set of distinct pairs is exactly a
set of independent Bernoulli(pi_ab) trials, so this is an exact sampler; the cost is
``O(n + m log m)``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import xlogy

from initscape._validation import check_random_state

__all__ = ["block_counts", "log_likelihood", "sample_sbm"]


def sample_sbm(sizes, block_probs, *, directed=False, random_state=None):
    """Sample a graph from a stochastic block model.

    Parameters
    ----------
    sizes : sequence of int of length n_blocks
        Number of nodes in each block; nodes are numbered block by block.
    block_probs : array-like of shape (n_blocks, n_blocks)
        ``block_probs[a, b]`` is the probability of an edge from a node of block
        ``a`` to a node of block ``b``. Must be symmetric unless ``directed``.
    directed : bool, default=False
        Sample a directed graph (each ordered pair independently).
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator for the draw.

    Returns
    -------
    A : csr_matrix of shape (n_nodes, n_nodes)
        float64 zeros and ones, zero diagonal, symmetric unless ``directed``.
    z : ndarray of shape (n_nodes,)
        Block of every node (int64).

    Examples
    --------
    >>> A, z = sample_sbm([50, 50], [[0.2, 0.02], [0.02, 0.2]], random_state=0)
    >>> A.shape, z[:3], z[-1]
    ((100, 100), array([0, 0, 0]), np.int64(1))
    """
    # Validate
    sizes = _check_sizes(sizes)
    block_probs = _check_block_probs(block_probs, len(sizes), directed)
    rng = check_random_state(random_state)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n_nodes = int(offsets[-1])
    n_blocks = len(sizes)

    # Draw each block pair's edges
    rows, cols = [], []
    for a in range(n_blocks):
        for b in range(n_blocks) if directed else range(a, n_blocks):
            n_a, n_b = int(sizes[a]), int(sizes[b])
            if a == b:
                pairs = n_a * (n_a - 1) if directed else n_a * (n_a - 1) // 2
            else:
                pairs = n_a * n_b
            if pairs == 0 or block_probs[a, b] == 0:
                continue
            count = int(rng.binomial(pairs, block_probs[a, b]))
            index = _distinct_indices(rng, pairs, count)
            if a != b:
                i, j = np.divmod(index, n_b)
            elif directed:
                i, j = np.divmod(index, n_a - 1)
                j = j + (j >= i)
            else:
                i, j = _lower_triangle(index)
            rows.append(i + offsets[a])
            cols.append(j + offsets[b])

    # Assemble the sparse matrix
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    if not directed:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
    data = np.ones(rows.size, dtype=np.float64)
    A = sp.csr_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes))
    A.sort_indices()
    z = np.repeat(np.arange(n_blocks, dtype=np.int64), sizes)
    return A, z


def _distinct_indices(rng, population, count):
    """``count`` distinct integers drawn uniformly from ``range(population)``."""
    if count > population // 2:
        return np.sort(rng.permutation(population)[:count])
    chosen = _sorted_unique(rng.integers(0, population, size=count))
    while chosen.size < count:
        extra = rng.integers(0, population, size=count - chosen.size)
        chosen = _sorted_unique(np.concatenate([chosen, extra]))
    return chosen


def _sorted_unique(values):
    """Sorted distinct values (a sort and a comparison of neighbours).

    Faster here than ``np.unique``, whose hash-based path is slow on millions of
    random int64 values.
    """
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _lower_triangle(index):
    """Map linear indices of the strict lower triangle to (row, col), row > col.

    Index ``k`` sits in row ``i`` with ``i (i - 1) / 2 <= k < i (i + 1) / 2`` and
    column ``k - i (i - 1) / 2``. The float square root gives ``i`` up to one unit;
    the two integer corrections make it exact.
    """
    index = np.asarray(index, dtype=np.int64)
    i = ((1 + np.sqrt(1 + 8 * index.astype(np.float64))) / 2).astype(np.int64)
    i -= i * (i - 1) // 2 > index
    i += (i + 1) * i // 2 <= index
    return i, index - i * (i - 1) // 2


def block_counts(A, labels, n_blocks, *, directed=False):
    """Edges and node pairs between every two blocks of a hard labelling.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        A validated adjacency matrix (see ``check_adjacency``).
    labels : ndarray of shape (n_nodes,)
        Block of every node, in ``range(n_blocks)``.
    n_blocks : int
        Number of blocks K.
    directed : bool, default=False
        Count ordered pairs (directed) or unordered pairs.

    Returns
    -------
    edges : ndarray of shape (n_blocks, n_blocks)
        ``edges[a, b]`` edges from block a to block b; for an undirected graph the
        diagonal counts each edge once and the off-diagonal is symmetric.
    pairs : ndarray of shape (n_blocks, n_blocks)
        Number of node pairs, counted the same way.
    """
    labels = np.asarray(labels, dtype=np.int64)
    onehot = sp.csr_matrix(
        (np.ones(labels.size), (np.arange(labels.size), labels)),
        shape=(labels.size, n_blocks),
    )
    edges = np.asarray((onehot.T @ A @ onehot).todense())
    sizes = np.bincount(labels, minlength=n_blocks).astype(np.float64)
    pairs = np.outer(sizes, sizes) - np.diag(sizes)
    if not directed:
        edges[np.diag_indices(n_blocks)] /= 2
        pairs[np.diag_indices(n_blocks)] /= 2
    return edges, pairs


def log_likelihood(A, labels, block_probs, *, directed=False):
    """Exact log-likelihood ``log P(A | z, pi)`` of a hard labelling.

    ``sum_{a <= b} m_ab log pi_ab + (N_ab - m_ab) log(1 - pi_ab)`` over block pairs
    (all ordered pairs when directed), with the convention ``0 log 0 = 0``.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        A validated adjacency matrix.
    labels : ndarray of shape (n_nodes,)
        Block of every node.
    block_probs : ndarray of shape (n_blocks, n_blocks)
        Connection probabilities pi.
    directed : bool, default=False
        Whether ``A`` is directed.

    Returns
    -------
    float
        ``-inf`` when an edge falls where its probability is 0 (or a non-edge
        where it is 1).
    """
    block_probs = np.asarray(block_probs, dtype=np.float64)
    n_blocks = block_probs.shape[0]
    edges, pairs = block_counts(A, labels, n_blocks, directed=directed)
    if not directed:
        keep = np.triu(np.ones((n_blocks, n_blocks), dtype=bool))
        edges, pairs, block_probs = edges[keep], pairs[keep], block_probs[keep]
    on = xlogy(edges, block_probs)
    off = xlogy(pairs - edges, 1 - block_probs)
    return float(np.sum(on) + np.sum(off))


def _check_sizes(sizes):
    sizes_arr = np.asarray(sizes)
    if (
        sizes_arr.ndim != 1
        or sizes_arr.size == 0
        or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool)
            for s in sizes_arr.tolist()
        )
        or np.any(sizes_arr < 0)
        or sizes_arr.sum() == 0
    ):
        raise ValueError(
            "sizes must be a non-empty sequence of non-negative ints with a "
            f"positive sum; got {sizes!r}."
        )
    return sizes_arr.astype(np.int64)


def _check_block_probs(block_probs, n_blocks, directed):
    probs = np.asarray(block_probs, dtype=np.float64)
    if probs.shape != (n_blocks, n_blocks):
        raise ValueError(
            f"block_probs must have shape ({n_blocks}, {n_blocks}) to match sizes; "
            f"got shape {probs.shape}."
        )
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or np.any(probs > 1):
        raise ValueError(
            f"block_probs must have entries in [0, 1]; got {probs.tolist()!r}."
        )
    if not directed and not np.array_equal(probs, probs.T):
        raise ValueError(
            "block_probs must be symmetric when directed=False; got "
            f"{probs.tolist()!r}."
        )
    return probs
