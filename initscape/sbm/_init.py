"""Starting responsibilities for mean-field SBM inference.

Every initialiser returns ``tau0``, an ndarray of shape (n_nodes, n_blocks,
n_restarts) whose rows are probability vectors: ``tau0[i, k, r]`` is the starting
``Q(z_i = k)`` of restart ``r``. For two blocks ``psi0 = tau0[:, 1, :]``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

__all__ = ["INIT_METHODS", "initial_responsibilities"]

INIT_METHODS = ("random", "bernoulli", "spectral", "degree")

#: Weight of the uniform (or random) part mixed into one-hot starts of the
#: "spectral" and "degree" initialisers: ``tau0 = (1 - w) onehot + w noise``.
SMOOTHING = 0.1


def initial_responsibilities(A, n_blocks, init, n_init, rng):
    """Starting responsibilities ``tau0`` for ``n_init`` restarts.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated adjacency matrix (directed graphs are read as ``A + A^T``).
    n_blocks : int
        Number of blocks K.
    init : {"random", "bernoulli", "spectral", "degree"} or array-like
        - "random": for K = 2, ``psi_i`` iid Uniform(0, 1) (Mukherjee et al. 2018,
          section 4); for K blocks, rows iid Dirichlet(1, ..., 1), the same law
          for K = 2.
        - "bernoulli": hard random labels, iid uniform over the K blocks (for
          K = 2, ``psi_i`` iid Bernoulli(1/2)); not smoothed: the updates stay
          finite at 0 and 1.
        - "spectral": k-means (scikit-learn, 10 seeded starts) on the K leading
          eigenvectors of ``A`` (largest algebraic eigenvalues,
          ``scipy.sparse.linalg.eigsh``); every restart is the resulting one-hot
          labelling mixed with weight ``SMOOTHING`` with its own Dirichlet(1)
          rows, so restarts differ only by that noise.
        - "degree": nodes sorted by degree and cut into K blocks of equal size
          (degree quantiles), smoothed as "spectral".
        - array of shape (n_nodes,): for K = 2, ``psi0`` (values in [0, 1]); for
          K > 2, hard labels in ``range(K)``. Of shape (n_nodes, K): rows of
          ``tau0``. Both are repeated for the ``n_init`` restarts. Of shape
          (n_nodes, K, R): ``tau0`` itself; ``n_init`` is then ignored.
    n_init : int
        Number of restarts R.
    rng : numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    ndarray of shape (n_nodes, n_blocks, n_restarts)
    """
    n_nodes = A.shape[0]
    if not isinstance(init, str):
        return _from_array(init, n_nodes, n_blocks, n_init)
    if init not in INIT_METHODS:
        listed = ", ".join(repr(m) for m in INIT_METHODS)
        raise ValueError(f"init must be one of {listed} or an array; got {init!r}.")

    if init == "random":
        if n_blocks == 2:
            psi = rng.uniform(size=(n_nodes, n_init))
            return np.stack([1 - psi, psi], axis=1)
        return _dirichlet_rows(rng, n_nodes, n_blocks, n_init)
    if init == "bernoulli":
        labels = rng.integers(0, n_blocks, size=(n_nodes, n_init))
        return (labels[:, None, :] == np.arange(n_blocks)[None, :, None]).astype(
            np.float64
        )
    if init == "spectral":
        labels = _spectral_labels(A, n_blocks, rng)
    else:
        labels = _degree_labels(A, n_blocks)
    onehot = np.eye(n_blocks)[labels][:, :, None]
    noise = _dirichlet_rows(rng, n_nodes, n_blocks, n_init)
    return (1 - SMOOTHING) * onehot + SMOOTHING * noise


def _dirichlet_rows(rng, n_nodes, n_blocks, n_init):
    """Rows iid Dirichlet(1, ..., 1): normalised iid Exponential(1) draws."""
    draws = rng.standard_exponential(size=(n_nodes, n_blocks, n_init))
    return draws / draws.sum(axis=1, keepdims=True)


def _spectral_labels(A, n_blocks, rng):
    """k-means labels of the rows of the K leading eigenvectors of ``A``."""
    from sklearn.cluster import KMeans

    n_nodes = A.shape[0]
    if n_blocks == 1:
        return np.zeros(n_nodes, dtype=np.int64)
    sym = A + A.T if (A != A.T).nnz else A
    if n_nodes <= max(50, 2 * n_blocks + 1):
        _, vectors = np.linalg.eigh(sym.toarray())
        vectors = vectors[:, -n_blocks:]
    else:
        v0 = rng.uniform(-1, 1, size=n_nodes)
        _, vectors = spla.eigsh(sp.csr_matrix(sym), k=n_blocks, which="LA", v0=v0)
    seed = int(rng.integers(0, 2**31 - 1))
    kmeans = KMeans(n_clusters=n_blocks, n_init=10, random_state=seed)
    # One thread: OpenMP threads spinning on a busy machine made k-means on a
    # few hundred points take seconds instead of milliseconds.
    with threadpool_limits(1):
        return kmeans.fit_predict(vectors).astype(np.int64)


def _degree_labels(A, n_blocks):
    """Blocks of equal size by increasing degree (ties by node order)."""
    degree = np.asarray(A.sum(axis=1)).ravel() + np.asarray(A.sum(axis=0)).ravel()
    order = np.argsort(degree, kind="stable")
    labels = np.empty(A.shape[0], dtype=np.int64)
    labels[order] = np.arange(A.shape[0]) * n_blocks // A.shape[0]
    return labels


def _from_array(init, n_nodes, n_blocks, n_init):
    """Validate a user-given start; return tau0 of shape (n_nodes, K, R)."""
    arr = np.asarray(init, dtype=np.float64)
    expected = (
        f"an array of shape ({n_nodes},), ({n_nodes}, {n_blocks}) or "
        f"({n_nodes}, {n_blocks}, n_restarts)"
    )
    if arr.ndim == 0 or arr.shape[0] != n_nodes or arr.ndim > 3:
        raise ValueError(f"init must be {expected}; got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("init must have finite entries; got NaN or inf.")
    low, high = float(arr.min()), float(arr.max())
    if arr.ndim == 1:
        if n_blocks == 2:
            if arr.min() < 0 or arr.max() > 1:
                raise ValueError(
                    "init of shape (n_nodes,) with n_blocks=2 is psi0 and must lie "
                    f"in [0, 1]; got values in [{low!r}, {high!r}]."
                )
            arr = np.stack([1 - arr, arr], axis=1)
        else:
            if (
                not np.all(arr == np.round(arr))
                or arr.min() < 0
                or (arr.max() >= n_blocks)
            ):
                raise ValueError(
                    f"init of shape (n_nodes,) must hold labels in range({n_blocks})"
                    f"; got values in [{low!r}, {high!r}]."
                )
            arr = np.eye(n_blocks)[arr.astype(np.int64)]
    if arr.shape[1] != n_blocks:
        raise ValueError(f"init must be {expected}; got shape {arr.shape}.")
    if arr.min() < 0 or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-8):
        # 1e-8: rows written out by hand or read from text files may carry
        # rounding in their last digits.
        raise ValueError(
            "init must have non-negative rows summing to 1 (responsibilities); "
            f"got row sums in [{float(arr.sum(axis=1).min())!r}, "
            f"{float(arr.sum(axis=1).max())!r}] and minimum {float(arr.min())!r}."
        )
    if arr.ndim == 2:
        if not isinstance(n_init, numbers.Integral):
            raise TypeError(f"n_init must be an int; got {n_init!r}.")
        arr = np.repeat(arr[:, :, None], n_init, axis=2)
    return arr / arr.sum(axis=1, keepdims=True)
