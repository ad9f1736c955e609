"""check_adjacency: conversions and the errors of issue 2."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from initscape.sbm._graph import check_adjacency, degrees, edge_count, n_pairs


def test_conversions_agree():
    graph = nx.karate_club_graph()
    dense = nx.to_numpy_array(graph, weight=None)
    from_nx = check_adjacency(graph)
    from_dense = check_adjacency(dense)
    from_coo = check_adjacency(sp.coo_matrix(dense))
    for A in (from_nx, from_dense, from_coo):
        assert A.format == "csr" and A.dtype == np.float64
        assert (A != from_dense).nnz == 0
    assert edge_count(from_nx) == 78 and n_pairs(34) == 561
    assert degrees(from_nx).sum() == 156


def test_self_loops_dropped_with_one_warning():
    dense = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
    with pytest.warns(UserWarning, match="A has 2 self-loop") as record:
        A = check_adjacency(dense)
    assert len(record) == 1
    assert A.diagonal().sum() == 0 and A.nnz == 2


def test_directed_accepts_asymmetric():
    A = check_adjacency(np.array([[0, 1], [0, 0]]), directed=True)
    assert A.nnz == 1 and edge_count(A, directed=True) == 1


def test_input_is_not_modified():
    sparse = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]]))
    with pytest.warns(UserWarning):
        check_adjacency(sparse)
    assert sparse[0, 0] == 1.0


@pytest.mark.parametrize(
    ("A", "error", "match"),
    [
        (np.zeros((2, 3)), ValueError, r"M must be a square .* \(2, 3\)"),
        (np.zeros(3), ValueError, r"M must be a square 2-d .* shape \(3,\)"),
        (np.zeros((0, 0)), ValueError, r"M must have at least one node"),
        (np.array([[0, 1], [0, 0]]), ValueError, r"M must be symmetric .* 2 asym"),
        (np.array([[0, -1], [-1, 0]]), ValueError, r"non-negative .* got an entry -1"),
        (np.array([[0, 0.5], [0.5, 0]]), ValueError, r"binary .* got an entry 0.5"),
        (np.array([[0, np.inf], [np.inf, 0]]), ValueError, r"finite .* inf"),
        (None, TypeError, r"M must be a scipy sparse matrix.* got NoneType"),
        ([["a", "b"], ["c", "d"]], TypeError, r"M must hold numbers .* dtype <U1\."),
        (np.eye(2).astype(str), TypeError, r"M must hold numbers .* dtype <U32\."),
        (np.eye(2).astype(object), TypeError, r"M must hold numbers .* dtype object"),
        ([[0, 1], [1]], TypeError, r"got list that numpy cannot read as numbers"),
        (nx.Graph(), ValueError, r"M must have at least one node; got a graph with no"),
    ],
)
def test_errors_name_parameter_and_value(A, error, match):
    with pytest.raises(error, match=match):
        check_adjacency(A, name="M")


def test_networkx_weights_read_like_graph_files(caplog):
    # Weight 3 is an edge (binarised, one logged warning), weight 0 is none,
    # an edge without a weight is an edge; -1 is an error.
    graph = nx.Graph()
    graph.add_edge(0, 1, weight=3)
    graph.add_edge(1, 2, weight=0)
    graph.add_edge(2, 3)
    with caplog.at_level("WARNING", logger="initscape.sbm._graph"):
        A = check_adjacency(graph).toarray()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = expected[2, 3] = expected[3, 2] = 1
    np.testing.assert_array_equal(A, expected)
    assert [r.getMessage() for r in caplog.records] == [
        "A: 2 adjacency entries hold weights other than 0 and 1 (first 3.0); each "
        "is read as an edge (the model is for simple graphs)."
    ]
    graph.add_edge(0, 3, weight=-1)
    with pytest.raises(ValueError, match=r"A must have non-negative edge weights; "):
        check_adjacency(graph)
    graph.add_edge(0, 3, weight="heavy")
    with pytest.raises(TypeError, match=r"'weight' attribute of every edge"):
        check_adjacency(graph)
