"""Graph file readers: .gt against graph-tool and hand-built bytes, the others
against files written by networkx and scipy."""

import gzip
import json
import shutil
import struct
import subprocess
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from initscape.sbm import GraphData, read_graph, read_gt
from initscape.sbm._io import (
    read_edgelist,
    read_gml,
    read_graphml,
    read_matrix_market,
)

DATA = Path(__file__).resolve().parents[2] / "initscape" / "sbm" / "data"
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_graph_tool() -> bool:
    if not shutil.which(SYSTEM_PYTHON):
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import graph_tool"], capture_output=True, timeout=60
    )
    return probe.returncode == 0


needs_graph_tool = pytest.mark.skipif(
    not _has_graph_tool(), reason="Debian's python3-graph-tool is not installed"
)

# Run by Debian's python3: write a graph with every property type through
# graph-tool, then dump what graph-tool itself reads back from each file.
_GRAPH_TOOL_SCRIPT = r"""
import json, pickle, sys
import graph_tool.all as gt
out = sys.argv[1]

g = gt.Graph(directed=True)
g.add_vertex(300)          # 300 nodes: neighbours stored as uint16
for s, t in [(0, 1), (0, 1), (1, 0), (2, 2), (299, 5), (5, 299), (7, 150)]:
    g.add_edge(s, t)
types = ["bool", "int16_t", "int32_t", "int64_t", "double", "long double",
         "string", "vector<bool>", "vector<int16_t>", "vector<int32_t>",
         "vector<int64_t>", "vector<double>", "vector<long double>",
         "vector<string>"]
def value(t, i):
    if t == "bool": return i % 2 == 0
    if t in ("int16_t", "int32_t", "int64_t"): return (-1) ** i * i * 7
    if t in ("double", "long double"): return i / 3 - 11.5
    if t == "string": return "n%d-\u00e9" % i
    if t == "vector<bool>": return [j % 2 == 0 for j in range(i % 4)]
    if t == "vector<string>": return ["s%d" % j for j in range(i % 3)]
    if "double" in t: return [i + j / 4 for j in range(i % 4)]
    return [i * j - 3 for j in range(i % 4)]
for t in types:
    name = t.replace("<", "_").replace(">", "").replace(" ", "_")
    vp = g.new_vertex_property(t)
    for v in g.vertices():
        vp[v] = value(t, int(v))
    g.vp["v_" + name] = vp
    ep = g.new_edge_property(t)
    for i, e in enumerate(g.edges()):
        ep[e] = value(t, i + 1)
    g.ep["e_" + name] = ep
g.gp["title"] = g.new_graph_property("string", "graph with all types")
g.gp["weight"] = g.new_graph_property("double", 2.5)
g.vp["obj"] = g.new_vertex_property("python::object")
g.save(out + "/all.gt")
g.save(out + "/all.gt.gz")

small = gt.Graph(directed=False)
small.add_vertex(256)      # 256 nodes: the first size stored as uint16
small.add_edge(0, 255); small.add_edge(3, 3); small.add_edge(4, 2)
small.add_edge(4, 2)
small.save(out + "/small.gt")
tiny = gt.Graph(directed=False)
tiny.add_vertex(255)       # 255 nodes: the last size stored as uint8
tiny.add_edge(0, 254); tiny.add_edge(10, 9)
tiny.save(out + "/tiny.gt.xz")

def dump(path):
    h = gt.load_graph(path)
    def conv(x):
        if isinstance(x, str): return x
        if hasattr(x, "__len__"): return [conv(y) for y in x]
        return float(x)
    res = {"directed": h.is_directed(), "n": h.num_vertices(),
           "edges": [[int(e.source()), int(e.target())] for e in h.edges()],
           "vp": {}, "ep": {}, "gp": {}}
    for k, p in h.vp.items():
        if p.value_type() != "python::object":
            res["vp"][k] = [conv(p[v]) for v in h.vertices()]
    for k, p in h.ep.items():
        res["ep"][k] = [conv(p[e]) for e in h.edges()]
    for k, p in h.gp.items():
        res["gp"][k] = conv(h.gp[k])
    return res
names = ["all.gt", "all.gt.gz", "small.gt", "tiny.gt.xz"]
coll = "/usr/lib/python3/dist-packages/graph_tool/collection/"
dumps = {n: dump(out + "/" + n) for n in names}
dumps["polblogs"] = dump(coll + "polblogs.gt.gz")
dumps["lesmis"] = dump(coll + "lesmis.gt.gz")
json.dump(dumps, open(out + "/dump.json", "w"))
"""


@pytest.fixture(scope="module")
def graph_tool_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("gt")
    subprocess.run(
        [SYSTEM_PYTHON, "-c", _GRAPH_TOOL_SCRIPT, str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out, json.loads((out / "dump.json").read_text())


def _assert_matches_graph_tool(data: GraphData, ref: dict):
    assert data.directed == ref["directed"]
    assert data.n_nodes == ref["n"]
    # graph-tool lists edges in its own order: compare edges as multisets, and
    # each edge property as the multiset of values carried by each (s, t) pair,
    # since parallel edges carry different values.
    mine = [tuple(e) for e in data.edges.tolist()]
    theirs = [tuple(e) for e in ref["edges"]]
    assert sorted(mine) == sorted(theirs)
    for name, values in ref["ep"].items():
        got = data.edge_properties[name]
        assert _by_edge(mine, got) == _by_edge(theirs, values), name
    for name, values in ref["vp"].items():
        got = data.vertex_properties[name]
        assert [_plain(v) for v in got] == [_plain(v) for v in values], name
    for name, value in ref["gp"].items():
        assert _plain(data.graph_properties[name]) == _plain(value), name


def _by_edge(edges, values):
    groups = {}
    for edge, value in zip(edges, values, strict=True):
        groups.setdefault(edge, []).append(_plain(value))
    return {edge: sorted(group) for edge, group in groups.items()}


def _plain(value):
    """Comparable plain Python value; floats rounded to 12 significant digits
    because graph-tool's long doubles are compared after our cast to float64."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_plain(v) for v in value)
    return float(f"{float(value):.12g}")


@needs_graph_tool
@pytest.mark.parametrize("name", ["all.gt", "all.gt.gz", "small.gt", "tiny.gt.xz"])
def test_read_gt_matches_graph_tool(graph_tool_files, name):
    out, dumps = graph_tool_files
    _assert_matches_graph_tool(read_gt(out / name), dumps[name])


@needs_graph_tool
def test_read_gt_adjacency_counts_parallel_edges_and_loops(graph_tool_files):
    out, _ = graph_tool_files
    small = read_gt(out / "small.gt")
    # small.gt: undirected edges (0, 255), loop (3, 3) and (4, 2) twice
    assert small.adjacency[0, 255] == small.adjacency[255, 0] == 1
    assert small.adjacency[3, 3] == 1
    assert small.adjacency[4, 2] == small.adjacency[2, 4] == 2
    assert small.adjacency.nnz == 5
    directed = read_gt(out / "all.gt")
    assert directed.adjacency[0, 1] == 2 and directed.adjacency[1, 0] == 1
    # the pickled python::object property is kept as bytes, never unpickled
    assert all(isinstance(v, bytes) for v in directed.vertex_properties["obj"])


@needs_graph_tool
@pytest.mark.parametrize("name", ["polblogs", "lesmis"])
def test_read_gt_collection_matches_graph_tool(graph_tool_files, name):
    _, dumps = graph_tool_files
    _assert_matches_graph_tool(read_gt(DATA / f"{name}.gt.gz"), dumps[name])


def test_read_gt_karate_matches_networkx():
    data = read_gt(DATA / "karate.gt.gz")
    expected = nx.to_scipy_sparse_array(
        nx.karate_club_graph(), nodelist=range(34), weight=None
    )
    assert not data.directed
    assert (data.adjacency != expected).nnz == 0


# ------------------------------------------------------------ hand-built .gt


def _gt_bytes(n, adjacency, directed, props=(), order="<", version=1, magic=None):
    """Encode a .gt file by hand from the format description."""
    width = 1 if n <= 255 else 2
    code = {1: "B", 2: "H"}[width]
    out = bytearray(magic if magic is not None else "\u26fe gt".encode())
    out += bytes([version, 1 if order == ">" else 0])
    comment = b"made by hand"
    out += struct.pack(order + "Q", len(comment)) + comment
    out += bytes([int(directed)]) + struct.pack(order + "Q", n)
    for nbrs in adjacency:
        out += struct.pack(order + "Q", len(nbrs))
        out += b"".join(struct.pack(order + code, v) for v in nbrs)
    out += struct.pack(order + "Q", len(props))
    for key, name, type_code, payload in props:
        out += bytes([key]) + struct.pack(order + "Q", len(name)) + name.encode()
        out += bytes([type_code]) + payload
    return bytes(out)


@pytest.mark.parametrize("order", ["<", ">"])
def test_read_gt_hand_built_file(tmp_path, order):
    # Path 0 - 1 - 2 plus arc-free node 3; int32 vertex values, a string graph
    # property and a double edge property, in both byte orders.
    vp = struct.pack(order + "4i", 5, -6, 7, 2**31 - 1)
    title = b"three edges"
    gp = struct.pack(order + "Q", len(title)) + title
    ep = struct.pack(order + "2d", 0.25, -1e300)
    payload = _gt_bytes(
        4,
        [[1], [2], [], []],
        directed=False,
        props=[(1, "value", 0x02, vp), (0, "title", 0x06, gp), (2, "w", 0x04, ep)],
        order=order,
    )
    path = tmp_path / "hand.gt"
    path.write_bytes(payload)
    data = read_gt(path)
    expected = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(data.adjacency.toarray(), expected)
    np.testing.assert_array_equal(
        data.vertex_properties["value"], [5, -6, 7, 2**31 - 1]
    )
    np.testing.assert_array_equal(data.edge_properties["w"], [0.25, -1e300])
    np.testing.assert_array_equal(data.edges, [[0, 1], [1, 2]])
    assert data.graph_properties == {"title": "three edges"}
    assert not data.directed


def test_read_gt_long_double_by_hand(tmp_path):
    # x87 extended: 1.5 = mantissa 0xC000000000000000, exponent 16383;
    # -3.0 = mantissa 0xC000000000000000, exponent 16384, sign bit set.
    def ext(mantissa, sign_exp):
        return struct.pack("<QH", mantissa, sign_exp) + bytes(6)

    payload = ext(0xC000000000000000, 0x3FFF) + ext(0xC000000000000000, 0xC000)
    payload += ext(0, 0) + ext(0x8000000000000000, 0x7FFF)  # 0.0 and +inf
    data = read_gt_bytes(
        tmp_path, _gt_bytes(4, [[], [], [], []], False, props=[(1, "x", 0x05, payload)])
    )
    np.testing.assert_array_equal(data.vertex_properties["x"], [1.5, -3.0, 0.0, np.inf])


def read_gt_bytes(tmp_path, payload, name="f.gt"):
    path = tmp_path / name
    path.write_bytes(payload)
    return read_gt(path)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"not a graph at all", "is not a graph-tool .gt file: it must start with"),
        (_gt_bytes(2, [[1], []], False, version=2), "format version 2; only version 1"),
        (_gt_bytes(2, [[1], []], False)[:-12], "truncated .gt file"),
        (_gt_bytes(2, [[5], []], False), "out-neighbour index must be < 2 .*got 5"),
        (
            _gt_bytes(2, [[1], []], False, props=[(3, "x", 0x02, b"")]),
            "key type must be 0 .*got 3",
        ),
        (
            _gt_bytes(2, [[1], []], False, props=[(1, "x", 0x20, b"")]),
            "value type index of property 'x' must be between 0 and 14; got 32",
        ),
        (
            _gt_bytes(2, [[1], []], False, props=[(1, "x", 0x02, b"\x00" * 4)]),
            r"truncated .gt file: the values of property 'x' \(int32_t\) needs 8",
        ),
    ],
)
def test_read_gt_bad_files(tmp_path, payload, match):
    with pytest.raises(ValueError, match=match):
        read_gt_bytes(tmp_path, payload)


def test_read_gt_gzip_truncated_magic(tmp_path):
    path = tmp_path / "empty.gt.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(ValueError, match="truncated .gt file: the magic string"):
        read_gt(path)


# ------------------------------------------------------------------ edge lists


def _nx_adjacency(graph, nodelist):
    return nx.to_scipy_sparse_array(graph, nodelist=nodelist, dtype=float).toarray()


@pytest.mark.parametrize("directed", [False, True])
def test_edgelist_round_trip(tmp_path, directed):
    graph = nx.gnp_random_graph(40, 0.15, seed=3, directed=directed)
    graph.add_edge(7, 7)
    path = tmp_path / "g.edges"
    nx.write_edgelist(graph, path, data=False)
    data = read_edgelist(path, directed=directed)
    present = data.node_ids.tolist()
    # isolated nodes never appear in an edge list, so compare on those present
    assert present == sorted(n for n in graph if graph.degree(n) > 0)
    np.testing.assert_array_equal(
        data.adjacency.toarray(), _nx_adjacency(graph, present)
    )
    assert data.directed is directed


def test_weighted_edgelist_with_string_ids_and_gzip(tmp_path):
    graph = nx.Graph()
    graph.add_weighted_edges_from([("b", "a", 0.5), ("a", "c", 2.0), ("c", "c", 3.0)])
    plain = tmp_path / "w.txt"
    nx.write_weighted_edgelist(graph, plain, delimiter="\t")
    packed = tmp_path / "w.txt.gz"
    packed.write_bytes(gzip.compress(("# a comment\n\n" + plain.read_text()).encode()))
    data = read_graph(packed)
    order = data.node_ids.tolist()
    assert sorted(order) == ["a", "b", "c"]
    np.testing.assert_array_equal(data.adjacency.toarray(), _nx_adjacency(graph, order))
    assert sorted(data.edge_properties["weight"]) == [0.5, 2.0, 3.0]


def test_edgelist_repeated_edges_add(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("1 2\n2 1\n1 2 0.5\n")
    data = read_edgelist(path)
    # undirected: (1,2), (2,1), (1,2) weighted 0.5 -> 1 + 1 + 0.5
    np.testing.assert_array_equal(data.adjacency.toarray(), [[0, 2.5], [2.5, 0]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 2\n3\n", "line 2: an edge list line must hold 'source target'"),
        ("1 2 3 4\n", "line 1: an edge list line must hold"),
        ("1 2 heavy\n", "line 1: the edge weight must be a number; got 'heavy'"),
        ("1 2 nan\n", "line 1: the edge weight must be finite; got 'nan'"),
    ],
)
def test_edgelist_bad_lines(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_edgelist(path)


# --------------------------------------------------------------- Matrix Market


@pytest.mark.parametrize("symmetric", [True, False])
def test_matrix_market_round_trip(tmp_path, symmetric):
    rng = np.random.default_rng(0)
    dense = (rng.random((30, 30)) < 0.2).astype(float)
    np.fill_diagonal(dense, 0)
    if symmetric:
        dense = np.triu(dense, 1)
        dense = dense + dense.T
    path = tmp_path / "m.mtx"
    scipy.io.mmwrite(path, sp.coo_array(dense), symmetry="general")
    data = read_graph(path)
    np.testing.assert_array_equal(data.adjacency.toarray(), dense)
    assert data.directed is (not symmetric)
    assert len(data.edges) == (dense.sum() / 2 if symmetric else dense.sum())


def test_matrix_market_bad_files(tmp_path):
    path = tmp_path / "rect.mtx"
    scipy.io.mmwrite(path, sp.coo_array(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"must be square; got shape \(2, 3\)"):
        read_matrix_market(path)
    junk = tmp_path / "junk.mtx"
    junk.write_text("hello\n")
    with pytest.raises(ValueError, match="is not a readable Matrix Market file"):
        read_matrix_market(junk)
    nan = tmp_path / "nan.mtx"
    nan.write_text(
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n2 3 1\n1 2 nan\n"
    )
    with pytest.raises(
        ValueError,
        match=r"every edge weight must be finite; got nan for the entry "
        r"\(1, 2\)",
    ):
        read_matrix_market(nan)


# ------------------------------------------------------------- GraphML and GML


def _attributed_graph(directed):
    graph = nx.gnp_random_graph(25, 0.2, seed=1, directed=directed)
    graph = nx.relabel_nodes(graph, {i: f"v{i}" for i in graph})
    for i, node in enumerate(graph):
        graph.nodes[node]["group"] = i % 3
        graph.nodes[node]["name"] = f"node {i}"
    graph.graph["about"] = "test graph"
    return graph


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("fmt", ["graphml", "gml"])
def test_graphml_gml_round_trip(tmp_path, fmt, directed):
    graph = _attributed_graph(directed)
    path = tmp_path / f"g.{fmt}"
    getattr(nx, f"write_{fmt}")(graph, path)
    data = read_graph(path)
    order = data.node_ids.tolist()
    assert sorted(order) == sorted(graph)
    np.testing.assert_array_equal(data.adjacency.toarray(), _nx_adjacency(graph, order))
    assert data.directed is directed
    groups = data.vertex_properties["group"]
    assert groups.dtype.kind == "i"
    assert groups.tolist() == [graph.nodes[n]["group"] for n in order]
    assert data.graph_properties["about"] == "test graph"


def test_graphml_weights_and_gz(tmp_path):
    graph = nx.Graph()
    graph.add_edge("x", "y", weight=2.5)
    graph.add_edge("y", "z", weight=1.0)
    path = tmp_path / "w.graphml.gz"
    nx.write_graphml(graph, path)
    data = read_graph(path)
    order = data.node_ids.tolist()
    np.testing.assert_array_equal(data.adjacency.toarray(), _nx_adjacency(graph, order))


@pytest.mark.parametrize(
    ("name", "reader"), [("x.graphml", read_graphml), ("x.gml", read_gml)]
)
def test_graphml_gml_bad_files(tmp_path, name, reader):
    path = tmp_path / name
    path.write_text("this is not a graph <\n")
    kind = "GraphML" if reader is read_graphml else "GML"
    with pytest.raises(ValueError, match=f"is not a readable {kind} file"):
        reader(path)


# ------------------------------------------------------------------ dispatching


def test_read_graph_dispatch_and_errors(tmp_path):
    path = tmp_path / "graph.dat"
    path.write_text("0 1\n")
    with pytest.raises(
        ValueError,
        match=r"path must end in a known graph file .*"
        r"got '.*graph.dat'. Pass fmt=",
    ):
        read_graph(path)
    data = read_graph(path, fmt="edgelist", directed=True)
    assert data.directed and data.adjacency[0, 1] == 1 and data.adjacency[1, 0] == 0
    with pytest.raises(ValueError, match="fmt must be one of 'gt', .*got 'csv'"):
        read_graph(path, fmt="csv")
    with pytest.raises(ValueError, match="directed can only be set for edge lists"):
        read_graph(DATA / "karate.gt.gz", directed=True)
    assert read_graph(DATA / "karate.gt.gz").adjacency.nnz == 156


@pytest.mark.parametrize(
    ("suffix", "compress", "kind"),
    [
        (".gz", gzip.compress, "gzip"),
        (".bz2", __import__("bz2").compress, "bzip2"),
        (".xz", __import__("lzma").compress, "xz"),
    ],
)
def test_truncated_compressed_files_are_named(tmp_path, suffix, compress, kind):
    # The decompressors raise EOFError, which click reads as Ctrl-D ("Aborted!").
    full = compress(b"1 2\n" * 1000)
    for name, payload in [
        ("t.txt", full[: len(full) // 2]),
        ("t.gt", compress((DATA / "karate.gt.gz").read_bytes())[:40]),
    ]:
        path = tmp_path / (name + suffix)
        path.write_bytes(payload)
        match = rf"t\.{name[2:]}{suffix}' is a truncated or corrupt {kind}"
        with pytest.raises(ValueError, match=match):
            read_graph(path)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("fmt", ["mtx", "graphml", "gml", "txt"])
def test_every_format_reads_every_compression(tmp_path, fmt, suffix):
    import bz2
    import io
    import lzma

    graph = nx.path_graph(4)
    plain = tmp_path / f"g.{fmt}"
    if fmt == "mtx":
        buf = io.BytesIO()
        scipy.io.mmwrite(buf, sp.coo_matrix(nx.to_numpy_array(graph)))
        plain.write_bytes(buf.getvalue())
    elif fmt == "graphml":
        nx.write_graphml(graph, plain)
    elif fmt == "gml":
        nx.write_gml(graph, plain)
    else:
        nx.write_edgelist(graph, plain, data=False)
    compress = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
    path = tmp_path / f"g.{fmt}{suffix}"
    path.write_bytes(compress[suffix](plain.read_bytes()))
    expected = read_graph(plain).adjacency.toarray()
    np.testing.assert_array_equal(read_graph(path).adjacency.toarray(), expected)
    np.testing.assert_array_equal(expected, nx.to_numpy_array(graph))


def test_edgelist_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\xe9 b\n".encode("latin-1"))
    with pytest.raises(
        ValueError, match=r"latin\.txt' is not UTF-8 text: byte 0xe9 at offset 3"
    ):
        read_graph(path)


@pytest.mark.parametrize(
    "text",
    [
        "% KONECT header\n0 1\n1 2\n",
        "# comment\n0 1\n1 2\n",
        "source target\n0 1\n1 2\n",
        "source target weight\n0 1 1\n1 2 1\n",
    ],
)
def test_edge_list_comments_and_header_are_skipped(tmp_path, text):
    path = tmp_path / "g.txt"
    path.write_text(text)
    data = read_edgelist(path)
    assert data.node_ids.tolist() == [0, 1, 2]
    assert data.edges.tolist() == [[0, 1], [1, 2]]


def test_edge_list_of_names_has_no_header(tmp_path):
    # names on every line: the first line is an edge like the others
    path = tmp_path / "g.txt"
    path.write_text("a b\nb c\n")
    assert read_edgelist(path).node_ids.tolist() == ["a", "b", "c"]
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 x\n1 2 1\n")
    with pytest.raises(ValueError, match="line 1: the edge weight must be a number"):
        read_edgelist(bad)
