"""Graph file readers: graph-tool's binary ``.gt``, edge lists, Matrix Market,
GraphML and GML.

Every reader returns a :class:`GraphData`: the adjacency matrix as a scipy CSR
array, whether the graph is directed, the node identifiers, and the vertex, edge
and graph properties the file carries. :func:`read_graph` picks the reader from the
file name. Compressed files (gzip, bzip2, xz) are recognised by their first bytes.

References
----------
graph-tool documentation, "The gt file format",
https://graph-tool.skewed.de/static/doc/gt_format.html (format version 1).
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import logging
import lzma
import os
import struct

import numpy as np
import scipy.io
import scipy.sparse as sp

__all__ = [
    "GraphData",
    "read_edgelist",
    "read_gml",
    "read_graph",
    "read_graphml",
    "read_gt",
    "read_matrix_market",
]

logger = logging.getLogger(__name__)

_GT_MAGIC = "\u26fe gt".encode()
_GT_VERSION = 1
_KEY_TYPES = {0: "graph", 1: "vertex", 2: "edge"}
# Value type index -> (name, numpy dtype character of a fixed-size scalar or None).
_GT_VALUE_TYPES = {
    0x00: ("bool", "u1"),
    0x01: ("int16_t", "i2"),
    0x02: ("int32_t", "i4"),
    0x03: ("int64_t", "i8"),
    0x04: ("double", "f8"),
    0x05: ("long double", None),
    0x06: ("string", None),
    0x07: ("vector<bool>", "u1"),
    0x08: ("vector<int16_t>", "i2"),
    0x09: ("vector<int32_t>", "i4"),
    0x0A: ("vector<int64_t>", "i8"),
    0x0B: ("vector<double>", "f8"),
    0x0C: ("vector<long double>", None),
    0x0D: ("vector<string>", None),
    0x0E: ("python::object", None),
}
_EDGELIST_EXTENSIONS = (".txt", ".edges", ".edgelist", ".el", ".tsv", ".ncol")
_EXTENSIONS = {
    ".gt": "gt",
    ".mtx": "matrix_market",
    ".graphml": "graphml",
    ".xml": "graphml",
    ".gml": "gml",
    **{ext: "edgelist" for ext in _EDGELIST_EXTENSIONS},
}
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz")


@dataclasses.dataclass(frozen=True, eq=False)
class GraphData:
    """A graph as read from a file.

    Attributes
    ----------
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        ``adjacency[i, j]`` is the weight of the edge from ``i`` to ``j`` where the
        format has one (edge lists, Matrix Market, a ``weight`` attribute in
        GraphML/GML), otherwise the number of parallel edges. Undirected graphs
        are stored symmetric; a self-loop adds its weight once to the diagonal.
    directed : bool
        Whether the file declares (or, for Matrix Market, the matrix implies) a
        directed graph.
    node_ids : ndarray of shape (n_nodes,)
        The identifier of each row in the file: ``0, ..., n_nodes - 1`` for
        ``.gt`` and Matrix Market, the tokens of an edge list (integers when all
        of them are), the node keys of GraphML/GML.
    vertex_properties : dict of str to ndarray of shape (n_nodes,)
        Numeric properties as numeric arrays; strings, vectors and values that
        are missing on some nodes as object arrays.
    edge_properties : dict of str to ndarray of shape (n_edges,)
        Aligned with ``edges``.
    graph_properties : dict of str to object
    edges : ndarray of shape (n_edges, 2)
        Source and target of every edge in file order (parallel edges repeated).
    """

    adjacency: sp.csr_array
    directed: bool
    node_ids: np.ndarray
    vertex_properties: dict
    edge_properties: dict
    graph_properties: dict
    edges: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.adjacency.shape[0]


def read_graph(path, *, fmt=None, directed=None) -> GraphData:
    """Read a graph file, choosing the reader from its extension.

    Parameters
    ----------
    path : str or os.PathLike
        ``.gt`` (graph-tool), ``.mtx`` (Matrix Market), ``.graphml`` or ``.xml``,
        ``.gml``, or an edge list (``.txt``, ``.edges``, ``.edgelist``, ``.el``,
        ``.tsv``, ``.ncol``); each may end in ``.gz``, ``.bz2`` or ``.xz``.
    fmt : {"gt", "matrix_market", "graphml", "gml", "edgelist"}, default=None
        Overrides the guess from the extension.
    directed : bool, default=None
        Only for edge lists, which do not say: ``None`` reads them undirected.

    Returns
    -------
    GraphData
    """
    path = os.fspath(path)
    if fmt is None:
        fmt = _format_from_name(path)
    readers = {
        "gt": read_gt,
        "matrix_market": read_matrix_market,
        "graphml": read_graphml,
        "gml": read_gml,
        "edgelist": read_edgelist,
    }
    if fmt not in readers:
        raise ValueError(
            f"fmt must be one of {', '.join(repr(k) for k in readers)}; got {fmt!r}."
        )
    if directed is not None and fmt != "edgelist":
        raise ValueError(
            f"directed can only be set for edge lists, whose files do not say; got "
            f"directed={directed!r} for a {fmt!r} file."
        )
    if fmt == "edgelist":
        return read_edgelist(path, directed=bool(directed))
    return readers[fmt](path)


def _format_from_name(path: str) -> str:
    name = os.path.basename(path).lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    ext = os.path.splitext(name)[1]
    if ext not in _EXTENSIONS:
        known = ", ".join(sorted(_EXTENSIONS))
        raise ValueError(
            f"path must end in a known graph file extension ({known}, optionally "
            f"followed by .gz, .bz2 or .xz); got {path!r}. Pass fmt= to choose "
            "the reader."
        )
    return _EXTENSIONS[ext]


def _read_bytes(path: str) -> bytes:
    """The file's content, decompressed when it starts like gzip, bzip2 or xz.

    A truncated or corrupt compressed file raises a ``ValueError`` naming it (the
    decompressors raise ``EOFError``, ``OSError`` or ``lzma.LZMAError``).
    """
    with open(path, "rb") as f:
        raw = f.read()
    for magic, kind, decompress in (
        (b"\x1f\x8b", "gzip", gzip.decompress),
        (b"BZh", "bzip2", bz2.decompress),
        (b"\xfd7zXZ\x00", "xz", lzma.decompress),
    ):
        if raw.startswith(magic):
            try:
                return decompress(raw)
            except (EOFError, OSError, ValueError, lzma.LZMAError) as exc:
                raise ValueError(
                    f"path {path!r} is a truncated or corrupt {kind} file: it "
                    f"cannot be decompressed ({type(exc).__name__}: {exc})."
                ) from None
    return raw


def _read_text(path: str) -> str:
    """The (decompressed) file decoded as UTF-8, or a ValueError naming it."""
    raw = _read_bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path {path!r} is not UTF-8 text: byte {raw[exc.start]:#04x} at offset "
            f"{exc.start} cannot be decoded. Re-save the file as UTF-8 (for "
            f"example with 'iconv -f latin1 -t utf-8')."
        ) from None


# --------------------------------------------------------------------------- gt


class _GtBuffer:
    """Sequential reads from the bytes of a ``.gt`` file, with bounds checks."""

    def __init__(self, data: bytes, path: str):
        self.raw = data
        self.data = memoryview(data)
        self.pos = 0
        self.path = path
        self.set_order("<")

    def set_order(self, order: str) -> None:
        self.order = order
        self.unpack_u64 = struct.Struct(order + "Q").unpack_from

    def truncated(self, n: int, what: str):
        raise ValueError(
            f"path {self.path!r} is a truncated .gt file: {what} needs {n} bytes "
            f"at offset {self.pos}, but the file has {len(self.data)} bytes."
        )

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            self.truncated(n, what)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int, what: str) -> int:
        code = {1: "B", 2: "H", 4: "I", 8: "Q"}[size]
        return struct.unpack(self.order + code, self.take(size, what))[0]

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        dt = np.dtype(self.order + dtype)
        return np.frombuffer(self.take(count * dt.itemsize, what), dtype=dt)

    def string(self, what: str) -> bytes:
        return bytes(self.take(self.uint(8, f"the length of {what}"), what))

    def runs(self, count: int, itemsize: int, what: str):
        """``count`` runs of a uint64 length then ``length * itemsize`` bytes.

        Returns the byte offset where each run's items start and their number.
        One tight loop: this is where large files spend their time.
        """
        raw, unpack, end, pos = self.raw, self.unpack_u64, len(self.raw), self.pos
        starts, lengths = [0] * count, [0] * count
        for i in range(count):
            if pos + 8 > end:
                self.pos = pos
                self.truncated(8, what)
            (length,) = unpack(raw, pos)
            pos += 8
            starts[i], lengths[i] = pos, length
            pos += length * itemsize
            if pos > end:
                self.pos = starts[i]
                self.truncated(length * itemsize, what)
        self.pos = pos
        return starts, lengths

    def gather(self, dtype: str, starts, lengths) -> np.ndarray:
        """The items of ``runs`` concatenated into one array."""
        dt = np.dtype(self.order + dtype)
        size, data = dt.itemsize, self.data
        joined = b"".join(
            [data[s : s + n * size] for s, n in zip(starts, lengths, strict=True)]
        )
        return np.frombuffer(joined, dtype=dt).astype(dtype)


def read_gt(path) -> GraphData:
    """Read graph-tool's binary ``.gt`` format (plain or gzip/bzip2/xz compressed).

    The layout (format version 1): the magic bytes ``"\u26fe gt"``, a version
    byte, an endianness byte, a comment string; a directed byte, the number of
    nodes ``N`` (uint64) and, for each node in order, its out-degree (uint64)
    followed by its out-neighbours in the smallest unsigned integer of 1, 2, 4 or
    8 bytes that holds ``N - 1``; then the property maps, each a key type (graph,
    vertex or edge), a name, a value type index and the values. Strings and
    vectors carry a uint64 length prefix. An undirected edge is listed once.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    GraphData
        ``adjacency`` counts parallel edges. ``long double`` values are
        returned as float64; ``python::object`` values are returned as their
        pickled bytes and never unpickled, since unpickling runs arbitrary code.

    References
    ----------
    graph-tool documentation, "The gt file format".
    """
    path = os.fspath(path)
    buf = _GtBuffer(_read_bytes(path), path)

    # Header: magic, version, endianness, comment.
    magic = bytes(buf.take(len(_GT_MAGIC), "the magic string"))
    if magic != _GT_MAGIC:
        raise ValueError(
            f"path {path!r} is not a graph-tool .gt file: it must start with "
            f"{_GT_MAGIC!r}; got {magic!r}."
        )
    version = buf.uint(1, "the version")
    if version != _GT_VERSION:
        raise ValueError(
            f"path {path!r} has .gt format version {version}; only version "
            f"{_GT_VERSION} is supported."
        )
    big_endian = buf.uint(1, "the endianness flag")
    if big_endian not in (0, 1):
        raise ValueError(
            f"path {path!r}: the .gt endianness flag must be 0 or 1; got {big_endian}."
        )
    buf.set_order(">" if big_endian else "<")
    buf.string("the comment")

    # Adjacency: directed flag, N, then each node's out-neighbours.
    directed = bool(buf.uint(1, "the directed flag"))
    n_nodes = buf.uint(8, "the number of nodes")
    width = next(w for w in (1, 2, 4, 8) if n_nodes <= 2 ** (8 * w) - 1)
    starts, degrees = buf.runs(n_nodes, width, "the out-neighbours of a node")
    targets = buf.gather(f"u{width}", starts, degrees).astype(np.int64)
    if targets.size and targets.max() >= n_nodes:
        raise ValueError(
            f"path {path!r}: a .gt out-neighbour index must be < {n_nodes} (the "
            f"number of nodes); got {int(targets.max())}."
        )
    sources = np.repeat(np.arange(n_nodes, dtype=np.int64), degrees)
    edges = np.column_stack([sources, targets])

    # Property maps.
    props = {"graph": {}, "vertex": {}, "edge": {}}
    n_props = buf.uint(8, "the number of property maps")
    counts = {"graph": 1, "vertex": n_nodes, "edge": len(edges)}
    for _ in range(n_props):
        key_code = buf.uint(1, "a property key type")
        if key_code not in _KEY_TYPES:
            raise ValueError(
                f"path {path!r}: a .gt property key type must be 0 (graph), 1 "
                f"(vertex) or 2 (edge); got {key_code} at offset {buf.pos - 1}."
            )
        key = _KEY_TYPES[key_code]
        name = buf.string("a property name").decode("utf-8", "replace")
        type_code = buf.uint(1, f"the value type of property {name!r}")
        if type_code not in _GT_VALUE_TYPES:
            raise ValueError(
                f"path {path!r}: the value type index of property {name!r} must "
                f"be between 0 and 14; got {type_code}."
            )
        values = _read_gt_values(buf, type_code, counts[key], name)
        props[key][name] = values[0] if key == "graph" else values

    adjacency = _adjacency_from_edges(edges, None, n_nodes, directed)
    return GraphData(
        adjacency=adjacency,
        directed=directed,
        node_ids=np.arange(n_nodes),
        vertex_properties=props["vertex"],
        edge_properties=props["edge"],
        graph_properties=props["graph"],
        edges=edges,
    )


def _read_gt_values(buf: _GtBuffer, type_code: int, count: int, name: str):
    """``count`` values of one property map, as an array (object for non-scalars)."""
    type_name, dtype = _GT_VALUE_TYPES[type_code]
    what = f"the values of property {name!r} ({type_name})"

    # Fixed-size scalars: one vectorised read.
    if type_code <= 0x04:
        values = buf.array(dtype, count, what)
        return values.astype(bool) if type_code == 0x00 else values.astype(dtype)
    if type_code == 0x05:
        return _long_double(buf.take(16 * count, what), buf, name)

    # Strings and vectors of strings: decoded one by one.
    if type_code == 0x0D:
        return _read_string_vectors(buf, count, what, name)
    out = np.empty(count, dtype=object)
    if type_code in (0x06, 0x0E):
        starts, lengths = buf.runs(count, 1, what)
        for i, (s, n) in enumerate(zip(starts, lengths, strict=True)):
            raw = bytes(buf.data[s : s + n])
            out[i] = raw if type_code == 0x0E else _decode(raw, buf, name)
        return out

    # Numeric vectors: one gather, then split at the run boundaries.
    itemsize = 16 if type_code == 0x0C else np.dtype(dtype).itemsize
    starts, lengths = buf.runs(count, itemsize, what)
    if type_code == 0x0C:
        joined = b"".join(
            [buf.data[s : s + 16 * n] for s, n in zip(starts, lengths, strict=True)]
        )
        flat = _long_double(memoryview(joined), buf, name)
    else:
        flat = buf.gather(dtype, starts, lengths)
        if type_code == 0x07:
            flat = flat.astype(bool)
    out[:] = np.split(flat, np.cumsum(lengths)[:-1]) if count else []
    return out


def _read_string_vectors(buf: _GtBuffer, count: int, what: str, name: str):
    """``count`` values of type vector<string>: a length, then prefixed strings."""
    raw, unpack, end, pos = buf.raw, buf.unpack_u64, len(buf.raw), buf.pos
    out = np.empty(count, dtype=object)
    for i in range(count):
        if pos + 8 > end:
            buf.pos = pos
            buf.truncated(8, what)
        (length,) = unpack(raw, pos)
        pos += 8
        strings = []
        for _ in range(length):
            if pos + 8 > end:
                buf.pos = pos
                buf.truncated(8, what)
            (n,) = unpack(raw, pos)
            if pos + 8 + n > end:
                buf.pos = pos + 8
                buf.truncated(n, what)
            strings.append(_decode(raw[pos + 8 : pos + 8 + n], buf, name))
            pos += 8 + n
        out[i] = strings
    buf.pos = pos
    return out


def _decode(raw: bytes, buf: _GtBuffer, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path {buf.path!r}: property {name!r} holds a string that is not "
            f"valid UTF-8 ({exc})."
        ) from None


def _long_double(raw: memoryview, buf: _GtBuffer, name: str) -> np.ndarray:
    """x87 80-bit extended floats, stored in 16 bytes each, as float64.

    value = (-1)^sign * (mantissa / 2^63) * 2^(exponent - 16383), with the
    explicit integer bit inside the 64-bit mantissa.
    """
    if buf.order == ">":
        raise ValueError(
            f"path {buf.path!r}: property {name!r} holds big-endian long doubles, "
            "whose layout depends on the writing machine; they cannot be read."
        )
    words = np.frombuffer(raw, dtype="<u1").reshape(-1, 16)
    mantissa = words[:, :8].copy().view("<u8").ravel()
    sign_exp = words[:, 8:10].copy().view("<u2").ravel().astype(np.int64)
    exponent = (sign_exp & 0x7FFF) - 16383
    sign = np.where(sign_exp & 0x8000, -1.0, 1.0)
    # Split the 64-bit mantissa so its top 53 bits survive the cast to float64.
    fraction = (mantissa >> np.uint64(11)).astype(np.float64) / 2.0**52
    with np.errstate(over="ignore"):
        values = sign * np.ldexp(fraction, exponent.astype(np.int32))
    special = (sign_exp & 0x7FFF) == 0x7FFF
    values[special] = np.where(mantissa[special] << np.uint64(1), np.nan, np.inf)
    values[special] *= sign[special]
    return values


# ------------------------------------------------------------------- edge lists


def read_edgelist(path, *, directed=False, comments=("#", "%"), delimiter=None):
    """Read a text edge list: one edge ``source target [weight]`` per line.

    Parameters
    ----------
    path : str or os.PathLike
        Plain or gzip/bzip2/xz compressed text.
    directed : bool, default=False
        Read each line as an arc from ``source`` to ``target``; otherwise the
        adjacency is made symmetric.
    comments : str or tuple of str, default=("#", "%")
        Lines starting with one of them (after whitespace) are skipped, as are
        blank lines (``%`` is the comment mark of KONECT's and Matrix Market's
        files). A first line of two names over integer node ids everywhere else,
        such as ``source target``, is read as a header and skipped, with a logged
        warning.
    delimiter : str, default=None
        Field separator; ``None`` splits on runs of whitespace.

    Returns
    -------
    GraphData
        Node identifiers are the tokens as integers, sorted, when every token is
        an integer, and as strings in order of first appearance otherwise.
        Repeated edges add their weights (1 when the line has none).
    """
    path = os.fspath(path)
    text = _read_text(path)
    sources, targets, weights = [], [], []
    bad_first_weight = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(comments):
            continue
        fields = [f for f in stripped.split(delimiter) if f != ""]
        if len(fields) < 2 or len(fields) > 3:
            raise ValueError(
                f"path {path!r}, line {number}: an edge list line must hold "
                f"'source target' or 'source target weight'; got {line!r}."
            )
        sources.append(fields[0])
        targets.append(fields[1])
        try:
            weight = float(fields[2]) if len(fields) == 3 else 1.0
        except ValueError:
            if len(sources) == 1:  # perhaps a header ("source target weight")
                bad_first_weight = (number, fields[2])
                weights.append(1.0)
                continue
            raise ValueError(
                f"path {path!r}, line {number}: the edge weight must be a number; "
                f"got {fields[2]!r}."
            ) from None
        if not np.isfinite(weight):
            raise ValueError(
                f"path {path!r}, line {number}: the edge weight must be finite; "
                f"got {fields[2]!r}."
            )
        weights.append(weight)

    # A header: a first line of names above integer ids on every other line
    if len(sources) > 1 and not _all_int(sources[:1] + targets[:1]):
        if _all_int(sources[1:] + targets[1:]):
            logger.warning(
                "path %r: read the first line %r as a header and skipped it",
                path,
                f"{sources[0]} {targets[0]}",
            )
            del sources[0], targets[0], weights[0]
            bad_first_weight = None
    if bad_first_weight is not None:
        number, field = bad_first_weight
        raise ValueError(
            f"path {path!r}, line {number}: the edge weight must be a number; "
            f"got {field!r}."
        )

    # Node identifiers: integers when all are, else strings by first appearance.
    tokens = sources + targets
    try:
        as_int = np.array([int(t) for t in tokens], dtype=np.int64)
    except ValueError:
        as_int = None
    if as_int is not None:
        node_ids, index = np.unique(as_int, return_inverse=True)
    else:
        first = dict.fromkeys(tokens)
        lookup = {t: i for i, t in enumerate(first)}
        node_ids = np.array(list(first), dtype=object)
        index = np.array([lookup[t] for t in tokens], dtype=np.int64)
    index = index.reshape(-1).astype(np.int64)
    edges = np.column_stack([index[: len(sources)], index[len(sources) :]])
    weights = np.asarray(weights, dtype=np.float64)

    has_weights = bool(weights.size) and not np.all(weights == 1.0)
    return GraphData(
        adjacency=_adjacency_from_edges(edges, weights, len(node_ids), directed),
        directed=bool(directed),
        node_ids=node_ids,
        vertex_properties={},
        edge_properties={"weight": weights} if has_weights else {},
        graph_properties={},
        edges=edges.reshape(-1, 2),
    )


def _all_int(tokens) -> bool:
    try:
        for t in tokens:
            int(t)
    except ValueError:
        return False
    return True


def _adjacency_from_edges(edges, weights, n_nodes, directed) -> sp.csr_array:
    """CSR adjacency summing ``weights`` (1 each when ``None``) over repeats."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if weights is None:
        weights = np.ones(len(edges))
    rows, cols = edges[:, 0], edges[:, 1]
    if not directed:
        off = rows != cols
        rows, cols, weights = (
            np.concatenate([rows, cols[off]]),
            np.concatenate([cols, rows[off]]),
            np.concatenate([weights, weights[off]]),
        )
    adjacency = sp.coo_array(
        (weights.astype(np.float64), (rows, cols)), shape=(n_nodes, n_nodes)
    ).tocsr()
    adjacency.sum_duplicates()
    adjacency.sort_indices()
    return adjacency


# ---------------------------------------------------------------- Matrix Market


def read_matrix_market(path) -> GraphData:
    """Read a Matrix Market file (``scipy.io.mmread``) as an adjacency matrix.

    Parameters
    ----------
    path : str or os.PathLike
        Coordinate or array format; plain or gzip/bzip2/xz compressed.

    Returns
    -------
    GraphData
        ``directed`` is ``False`` exactly when the matrix is symmetric.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    try:
        matrix = scipy.io.mmread(io.BytesIO(raw))
    except (ValueError, IndexError, OSError, TypeError) as exc:
        raise ValueError(
            f"path {path!r} is not a readable Matrix Market file: {exc}"
        ) from None
    if np.iscomplexobj(matrix):
        raise ValueError(
            f"path {path!r}: an adjacency matrix must be real (0/1 or weights); got "
            "a complex Matrix Market matrix."
        )
    adjacency = sp.csr_array(matrix, dtype=np.float64)
    if adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(
            f"path {path!r}: an adjacency matrix must be square; got shape "
            f"{adjacency.shape}."
        )
    bad = ~np.isfinite(adjacency.data)
    if bad.any():
        coo = adjacency.tocoo()
        i, j, w = coo.row[bad][0], coo.col[bad][0], coo.data[bad][0]
        raise ValueError(
            f"path {path!r}: every edge weight must be finite; got {w} for the "
            f"entry ({i + 1}, {j + 1}) (1-based, as in the file)."
        )
    adjacency.sum_duplicates()
    adjacency.eliminate_zeros()
    adjacency.sort_indices()
    directed = bool((adjacency != adjacency.T).nnz)
    coo = adjacency.tocoo()
    keep = np.ones(coo.nnz, dtype=bool) if directed else coo.row <= coo.col
    return GraphData(
        adjacency=adjacency,
        directed=directed,
        node_ids=np.arange(adjacency.shape[0]),
        vertex_properties={},
        edge_properties={"weight": coo.data[keep]},
        graph_properties={},
        edges=np.column_stack([coo.row[keep], coo.col[keep]]).astype(np.int64),
    )


# ------------------------------------------------------------- GraphML and GML


def read_graphml(path) -> GraphData:
    """Read GraphML through ``networkx.read_graphml``.

    Returns
    -------
    GraphData
        Node identifiers are the GraphML node ids; a ``weight`` edge attribute,
        when every edge has one, gives the adjacency's values.
    """
    import networkx as nx

    path = os.fspath(path)
    raw = _read_bytes(path)
    try:
        graph = nx.read_graphml(io.BytesIO(raw))
    except Exception as exc:  # networkx raises XML, key and value errors alike
        raise ValueError(
            f"path {path!r} is not a readable GraphML file: {exc}"
        ) from None
    return _from_networkx(graph)


def read_gml(path) -> GraphData:
    """Read GML through ``networkx.read_gml``.

    Returns
    -------
    GraphData
        Node identifiers are the nodes' ``label`` when every node has one and no
        two share it (as networkx reads GML), otherwise their ``id``. The
        ``label`` is also kept as a vertex property.
    """
    import networkx as nx

    path = os.fspath(path)
    text = _read_text(path)
    try:
        graph = nx.parse_gml(text, label=None)
    except Exception as exc:  # networkx raises parse, key and value errors alike
        raise ValueError(f"path {path!r} is not a readable GML file: {exc}") from None
    data = _from_networkx(graph)
    labels = data.vertex_properties.get("label")
    if labels is not None and None not in (ids := labels.tolist()):
        if len(set(ids)) == len(ids):
            data = dataclasses.replace(data, node_ids=labels.copy())
    return data


def _from_networkx(graph) -> GraphData:
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    edge_list = list(graph.edges(data=True))
    edges = np.array(
        [(index[u], index[v]) for u, v, _ in edge_list], dtype=np.int64
    ).reshape(-1, 2)

    edge_properties = _collect([d for _, _, d in edge_list])
    weights = edge_properties.get("weight")
    if weights is not None and weights.dtype == object:
        weights = None
    node_ids = np.empty(len(nodes), dtype=object)
    node_ids[:] = nodes
    return GraphData(
        adjacency=_adjacency_from_edges(
            edges, weights, len(nodes), graph.is_directed()
        ),
        directed=graph.is_directed(),
        node_ids=node_ids,
        vertex_properties=_collect([graph.nodes[n] for n in nodes]),
        edge_properties=edge_properties,
        graph_properties=dict(graph.graph),
        edges=edges,
    )


def _collect(records: list) -> dict:
    """Attribute dicts -> one array per key (numeric when complete and numeric)."""
    keys = dict.fromkeys(k for r in records for k in r)
    out = {}
    for key in keys:
        values = [r.get(key) for r in records]
        numeric = all(isinstance(v, (bool, int, float, np.number)) for v in values)
        if numeric:
            out[key] = np.asarray(values)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[key] = arr
    return out
