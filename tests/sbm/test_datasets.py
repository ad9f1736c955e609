"""Shipped networks: counts from issue 2 and 6, labels, and their cross-checks."""

import re
import subprocess

import networkx as nx
import numpy as np
import pytest

from initscape.sbm import Network, list_networks, load_network, read_gt
from tests.sbm.test_io import DATA, SYSTEM_PYTHON, needs_graph_tool

# name: nodes, edges, directed, class sizes (None: no labels); nodes, edges and
# number of classes as listed in issue 2 and issue 6, class sizes as published
# (polbooks: 43 l / 13 n / 49 c; polblogs-lcc: 586 / 636).
EXPECTED = {
    "karate": (34, 78, False, [17, 17]),
    "polbooks": (105, 441, False, [43, 13, 49]),
    "football": (115, 613, False, [9, 8, 11, 12, 10, 5, 13, 8, 10, 12, 7, 10]),
    "adjnoun": (112, 425, False, [58, 54]),
    "polblogs": (1490, 19022, True, [758, 732]),
    "polblogs-lcc": (1222, 16714, False, [586, 636]),
    "dolphins": (62, 159, False, None),
    "lesmis": (77, 254, False, None),
}


def test_list_networks():
    assert list_networks() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_and_simple_graph(name):
    n_nodes, n_edges, directed, sizes = EXPECTED[name]
    net = load_network(name)
    assert isinstance(net, Network) and net.name == name
    assert (net.n_nodes, net.n_edges, net.directed) == (n_nodes, n_edges, directed)
    adjacency = net.adjacency
    assert adjacency.shape == (n_nodes, n_nodes)
    assert set(np.unique(adjacency.data)) == {1.0}
    assert adjacency.diagonal().sum() == 0
    assert ((adjacency != adjacency.T).nnz == 0) is (not directed)
    if sizes is None:
        assert net.labels is None and net.label_names is None
    else:
        assert net.labels.shape == (n_nodes,)
        assert np.bincount(net.labels).tolist() == sizes
        assert net.n_labels == len(sizes) == len(net.label_names)
    assert net.citation and net.description
    assert f"{n_nodes} nodes, {n_edges} edges" in repr(net)


def test_labels_are_read_only():
    net = load_network("polbooks")
    with pytest.raises(ValueError, match="read-only"):
        net.labels[0] = 1


def test_karate_matches_networkx():
    # graph-tool's karate has no factions; they come from networkx, so the two
    # graphs must be the same graph with the same node order.
    net = load_network("karate")
    graph = nx.karate_club_graph()
    expected = nx.to_scipy_sparse_array(graph, nodelist=range(34), weight=None)
    assert (net.adjacency != expected).nnz == 0
    clubs = [graph.nodes[i]["club"] for i in range(34)]
    assert [net.label_names[k] for k in net.labels] == clubs
    # Zachary's instructor (node 0) and administrator (node 33) lead the factions
    assert net.label_names[net.labels[0]] == "Mr. Hi"
    assert net.label_names[net.labels[33]] == "Officer"


def test_football_conference_names_match_readme():
    data = read_gt(DATA / "football.gt.gz")
    listed = dict(
        re.findall(r"^\s*(\d+) = (.+?)\s*$", data.graph_properties["readme"], re.M)
    )
    net = load_network("football")
    assert net.label_names == tuple(listed[str(k)] for k in range(12))
    np.testing.assert_array_equal(net.labels, data.vertex_properties["value"])


def test_polbooks_and_polblogs_label_codes_follow_the_files():
    books = read_gt(DATA / "polbooks.gt.gz")
    net = load_network("polbooks")
    initials = [net.label_names[k][0] for k in net.labels]
    assert initials == books.vertex_properties["value"].tolist()
    blogs = read_gt(DATA / "polblogs.gt.gz")
    net = load_network("polblogs")
    np.testing.assert_array_equal(net.labels, blogs.vertex_properties["value"])
    assert "0 (left or liberal)" in blogs.graph_properties["readme"]
    assert net.label_names == ("liberal", "conservative")


def test_polblogs_lcc_matches_networkx():
    # A second construction through networkx: undirected, no loops, largest CC.
    blogs = read_gt(DATA / "polblogs.gt.gz")
    # the counts the polblogs description states: 19090 arcs in the file, of
    # which 3 self-loops and 65 repeats of an arc already listed
    arcs = [tuple(e) for e in blogs.edges.tolist()]
    assert len(arcs) == 19090 and sum(s == t for s, t in arcs) == 3
    assert len(arcs) - len(set(arcs)) == 65
    assert "3 self-loops and 65 repeated arcs" in load_network("polblogs").description
    graph = nx.Graph()
    graph.add_nodes_from(range(blogs.n_nodes))
    graph.add_edges_from(map(tuple, blogs.edges.tolist()))
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    keep = sorted(max(nx.connected_components(graph), key=len))
    expected = nx.to_scipy_sparse_array(graph, nodelist=keep, weight=None)
    net = load_network("polblogs-lcc")
    assert (net.adjacency != expected).nnz == 0
    names = blogs.vertex_properties["label"]
    assert net.node_names == tuple(names[keep])
    values = blogs.vertex_properties["value"][keep]
    np.testing.assert_array_equal(net.labels, values)


@needs_graph_tool
def test_simplified_counts_match_graph_tool():
    script = (
        "import graph_tool.all as gt\n"
        "for n in ['polbooks', 'football', 'adjnoun', 'polblogs', 'lesmis']:\n"
        "    g = gt.collection.data[n].copy()\n"
        "    gt.remove_parallel_edges(g); gt.remove_self_loops(g)\n"
        "    print(n, g.num_vertices(), g.num_edges())\n"
        "g = gt.collection.data['polblogs'].copy(); g.set_directed(False)\n"
        "gt.remove_parallel_edges(g); gt.remove_self_loops(g)\n"
        "g = gt.extract_largest_component(g, prune=True)\n"
        "print('polblogs-lcc', g.num_vertices(), g.num_edges())\n"
    )
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    for line in out.strip().splitlines():
        name, n_nodes, n_edges = line.split()
        net = load_network(name)
        assert (net.n_nodes, net.n_edges) == (int(n_nodes), int(n_edges)), name


def test_load_user_file_with_labels(tmp_path):
    graph = nx.barbell_graph(4, 0)
    for i in graph:
        graph.nodes[i]["side"] = "left" if i < 4 else "right"
    graph.add_edge(0, 0)
    path = tmp_path / "barbell.graphml"
    nx.write_graphml(graph, path)
    net = load_network(path, label_property="side")
    assert net.name == str(path) and not net.directed
    assert (net.n_nodes, net.n_edges) == (8, 13)  # the self-loop is dropped
    assert net.label_names == ("left", "right")
    assert net.labels.tolist() == [0] * 4 + [1] * 4
    assert net.node_names == tuple(str(i) for i in range(8))
    assert net.adjacency.diagonal().sum() == 0


def test_load_user_edgelist_binarises_weights(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("10 20 3.5\n20 30\n20 30\n")
    net = load_network(str(path))
    np.testing.assert_array_equal(
        net.adjacency.toarray(), [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    )
    assert net.node_names == ("10", "20", "30") and net.labels is None
    arcs = load_network(path, directed=True)
    assert arcs.directed and arcs.n_edges == 2
    np.testing.assert_array_equal(
        arcs.adjacency.toarray(), [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    )


def test_bad_names_and_properties(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"name must be one of 'adjnoun', .*"
        r"'polbooks', or the path of an existing graph file; got 'nope'",
    ):
        load_network("nope")
    with pytest.raises(
        TypeError,
        match="name must be a network name or a file path"
        r".*got int 3",
    ):
        load_network(3)
    with pytest.raises(ValueError, match="label_property applies to graph files only"):
        load_network("karate", label_property="value")
    with pytest.raises(
        ValueError, match="directed applies to graph files only.*got directed=True"
    ):
        load_network("polblogs-lcc", directed=True)
    path = tmp_path / "g.gml"
    nx.write_gml(nx.path_graph(3), path)
    with pytest.raises(
        ValueError,
        match=r"label_property must name a vertex "
        r"property of .* \(available: 'label'\); got 'club'",
    ):
        load_network(path, label_property="club")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty.txt", ""),
        ("comments.txt", "# no edges\n\n   # at all\n"),
        ("none.mtx", "%%MatrixMarket matrix coordinate real general\n0 0 0\n"),
        (
            "none.graphml",
            '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/'
            'xmlns"><graph edgedefault="undirected"></graph></graphml>',
        ),
    ],
)
def test_graph_without_nodes_is_named(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"{name}': the graph has no nodes"):
        load_network(path)


@pytest.mark.parametrize(
    ("name", "text", "bad"),
    [
        ("neg.txt", "0 1\n1 2 -1\n", "-1.0"),
        (
            "neg.mtx",
            "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n3 2 -1\n",
            "-1.0",
        ),
    ],
)
def test_negative_weights_are_an_error(tmp_path, name, text, bad):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(
        ValueError, match=rf"{name}': edge weights must be non-negative .*; got {bad}"
    ):
        load_network(path)


def test_zero_weights_are_no_edge_and_others_warn_once(tmp_path, caplog):
    path = tmp_path / "w.mtx"
    path.write_text(
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n2 1 0\n3 2 2.5\n"
        "3 1 1\n"
    )
    with caplog.at_level("WARNING", logger="initscape.sbm._datasets"):
        net = load_network(path)
    np.testing.assert_array_equal(
        net.adjacency.toarray(), [[0, 0, 1], [0, 0, 1], [1, 1, 0]]
    )
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and messages[0].endswith(
        "w.mtx: 2 adjacency entries are weights or edge counts other than 1 "
        "(first 2.5); each is read as one edge."
    )
    edges = tmp_path / "w.txt"
    edges.write_text("0 1 0\n1 2 1\n")
    np.testing.assert_array_equal(
        load_network(edges).adjacency.toarray(), [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    )
