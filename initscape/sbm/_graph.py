"""Validation of adjacency matrices, and small graph helpers.

Every inference routine of :mod:`initscape.sbm` works on one representation: a
``scipy.sparse.csr_matrix`` of float64 zeros and ones with a zero diagonal. This
module turns what users hand in (a scipy sparse matrix, a dense numpy array or a
networkx graph) into that form, or says clearly why it cannot.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

__all__ = ["check_adjacency", "degrees", "edge_count", "n_pairs"]


def check_adjacency(A, *, directed=False, name="A"):
    """Validate an adjacency matrix and return it as a binary CSR matrix.

    Parameters
    ----------
    A : scipy.sparse matrix, array-like of shape (n_nodes, n_nodes) or networkx graph
        The network. Matrix and array entries must be 0 or 1, of a numeric
        dtype. A networkx graph is read with its ``weight`` edge attribute (1
        where absent), as graph files are by :func:`~initscape.sbm.load_network`:
        a negative weight is an error, a zero weight is no edge, and positive
        weights other than 1 (or parallel edges of a multigraph) are binarised
        to 1 with one logged warning. Self-loops are dropped with one
        ``UserWarning``.
    directed : bool, default=False
        If False, ``A`` must be symmetric (a networkx graph is symmetrised by
        construction when it is undirected).
    name : str, default="A"
        The parameter name used in error messages.

    Returns
    -------
    csr_matrix of shape (n_nodes, n_nodes)
        float64 entries in {0, 1}, zero diagonal, sorted indices, no explicit zeros.

    Raises
    ------
    TypeError
        If ``A`` is none of the accepted types.
    ValueError
        If ``A`` is not square, has no nodes, has non-finite, negative or non-binary
        entries, or is not symmetric while ``directed=False``.
    """
    # Convert to CSR float64
    is_graph = _is_networkx_graph(A)
    A = _to_csr(A, name)
    n_rows, n_cols = A.shape
    if n_rows != n_cols:
        raise ValueError(
            f"{name} must be a square adjacency matrix; got shape {A.shape}."
        )
    if n_rows == 0:
        raise ValueError(
            f"{name} must have at least one node; got a graph with no nodes (shape "
            f"{A.shape})."
        )

    # Check the entries
    A.sum_duplicates()
    data = A.data
    if not np.all(np.isfinite(data)):
        bad = float(data[~np.isfinite(data)][0])
        raise ValueError(f"{name} must have finite entries; got an entry {bad!r}.")
    if np.any(data < 0):
        what = "edge weights" if is_graph else "entries (0 or 1)"
        raise ValueError(
            f"{name} must have non-negative {what}; got an entry "
            f"{float(data[data < 0][0])!r}."
        )
    nonbinary = (data != 0) & (data != 1)
    if is_graph and np.any(nonbinary):
        logger.warning(
            "%s: %d adjacency entries hold weights other than 0 and 1 (first "
            "%r); each is read as an edge (the model is for simple graphs).",
            name,
            int(np.count_nonzero(nonbinary)),
            float(data[nonbinary][0]),
        )
        data[nonbinary] = 1.0
    elif np.any(nonbinary):
        raise ValueError(
            f"{name} must be binary (entries 0 or 1, no weights); got an entry "
            f"{float(data[nonbinary][0])!r}."
        )

    # Drop self-loops and explicit zeros
    n_loops = int(np.count_nonzero(A.diagonal()))
    if n_loops:
        warnings.warn(
            f"{name} has {n_loops} self-loop(s); they are ignored (the model has "
            "no self-loops).",
            UserWarning,
            stacklevel=2,
        )
        A.setdiag(0)
    A.eliminate_zeros()
    A.sort_indices()

    # Check symmetry
    if not directed and (A != A.T).nnz:
        raise ValueError(
            f"{name} must be symmetric when directed=False; got a matrix with "
            f"{(A != A.T).nnz} asymmetric entries (pass directed=True for a "
            "directed graph)."
        )
    return A


def _to_csr(A, name):
    """Convert a sparse matrix, dense array or networkx graph to CSR float64."""
    if sp.issparse(A):
        return sp.csr_matrix(A, dtype=np.float64, copy=True)
    if _is_networkx_graph(A):
        import networkx as nx

        if A.number_of_nodes() == 0:
            return sp.csr_matrix((0, 0))
        try:
            graph = nx.to_scipy_sparse_array(A, dtype=np.float64, format="csr")
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name}: the 'weight' attribute of every edge of a networkx graph "
                f"must be a number; networkx says: {exc}"
            ) from None
        return sp.csr_matrix(graph)
    if isinstance(A, (str, bytes)) or A is None:
        raise TypeError(
            f"{name} must be a scipy sparse matrix, a numpy array or a networkx "
            f"graph; got {type(A).__name__}."
        )
    try:
        raw = np.asarray(A)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a scipy sparse matrix, a numpy array or a networkx "
            f"graph; got {type(A).__name__} that numpy cannot read as numbers."
        ) from exc
    if raw.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold numbers (a bool, integer or float dtype); got an "
            f"array of dtype {raw.dtype}."
        )
    try:
        dense = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a scipy sparse matrix, a numpy array or a networkx "
            f"graph; got {type(A).__name__} that numpy cannot read as numbers."
        ) from exc
    if dense.ndim != 2:
        raise ValueError(
            f"{name} must be a square 2-d adjacency matrix; got an array of shape "
            f"{dense.shape}."
        )
    # NaN and inf are not zero, so they survive the conversion and are reported.
    return sp.csr_matrix(dense)


def _is_networkx_graph(obj):
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is a dependency
        return False
    return isinstance(obj, nx.Graph)


def n_pairs(n_nodes, *, directed=False):
    """Number of node pairs that may carry an edge.

    ``n (n - 1) / 2`` unordered pairs for an undirected graph, ``n (n - 1)`` ordered
    pairs for a directed one.
    """
    pairs = n_nodes * (n_nodes - 1)
    return float(pairs if directed else pairs / 2)


def edge_count(A, *, directed=False):
    """Number of edges of a validated adjacency matrix.

    ``nnz / 2`` for an undirected (symmetric) matrix, ``nnz`` for a directed one.
    """
    return float(A.nnz if directed else A.nnz / 2)


def degrees(A):
    """Row sums of ``A`` (out-degrees), ndarray of shape (n_nodes,)."""
    return np.asarray(A.sum(axis=1)).ravel()
