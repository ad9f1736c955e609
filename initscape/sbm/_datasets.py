"""Real networks shipped with initscape, and user graph files, as :class:`Network`.

The networks are graph-tool's ``.gt.gz`` files from its ``collection`` folder
(Debian's ``python3-graph-tool`` 2.45), stored in ``initscape/sbm/data`` with their
sources and citations in ``initscape/sbm/data/README.md``. Nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from initscape.sbm._io import read_graph, read_gt

__all__ = ["Network", "list_networks", "load_network"]

logger = logging.getLogger(__name__)

_NEWMAN = "Retrieved by graph-tool from Mark Newman's network data page"


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A simple graph with optional ground-truth labels.

    Attributes
    ----------
    name : str
        The dataset name, or the file path for a user file.
    adjacency : scipy.sparse.csr_array of shape (n_nodes, n_nodes)
        Binary (0/1, float64), no self-loops; symmetric unless ``directed``.
    directed : bool
    labels : ndarray of shape (n_nodes,) or None
        Ground-truth class of each node as ``0, ..., n_labels - 1``.
    label_names : tuple of str or None
        ``label_names[k]`` names class ``k``.
    node_names : tuple of str or None
        A readable name per node (book titles, blog addresses, ...).
    citation : str
        What to cite when using the data.
    description : str
        What nodes and edges are, and how the file was turned into this graph.
    """

    name: str
    adjacency: sp.csr_array
    directed: bool
    labels: np.ndarray | None = None
    label_names: tuple | None = None
    node_names: tuple | None = None
    citation: str = ""
    description: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return self.adjacency.shape[0]

    @property
    def n_edges(self) -> int:
        """Number of edges (arcs when directed; each undirected edge once)."""
        nnz = self.adjacency.nnz
        return nnz if self.directed else nnz // 2

    @property
    def n_labels(self) -> int | None:
        """Number of ground-truth classes, or ``None`` without labels."""
        return None if self.label_names is None else len(self.label_names)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        labels = "no labels" if self.labels is None else f"{self.n_labels} labels"
        return (
            f"Network({self.name!r}, {kind}, {self.n_nodes} nodes, "
            f"{self.n_edges} edges, {labels})"
        )


@dataclasses.dataclass(frozen=True)
class _Spec:
    file: str
    label_property: str | None
    label_codes: tuple  # file value of class k, for k = 0, 1, ...
    label_names: tuple | None
    citation: str
    description: str


_FOOTBALL_CONFERENCES = (
    "Atlantic Coast",
    "Big East",
    "Big Ten",
    "Big Twelve",
    "Conference USA",
    "Independents",
    "Mid-American",
    "Mountain West",
    "Pacific Ten",
    "Southeastern",
    "Sun Belt",
    "Western Athletic",
)
_FOOTBALL_CITATION = (
    "M. Girvan and M. E. J. Newman, Community structure in social and biological "
    "networks, Proc. Natl. Acad. Sci. USA 99, 7821-7826 (2002)."
)
_POLBLOGS_CITATION = (
    "L. A. Adamic and N. Glance, The political blogosphere and the 2004 US "
    "Election: divided they blog, in Proceedings of the WWW-2005 Workshop on the "
    "Weblogging Ecosystem (2005)."
)
_POLBLOGS_DESCRIPTION = (
    "Hyperlinks between weblogs on US politics, crawled in February 2005; "
    "labels: political leaning from blog directories (0 liberal, 1 "
    "conservative). {what} " + _NEWMAN + "."
)

_SPECS = {
    "karate": _Spec(
        file="karate.gt.gz",
        label_property=None,  # factions come from networkx's "club" attribute
        label_codes=("Mr. Hi", "Officer"),
        label_names=("Mr. Hi", "Officer"),
        citation=(
            "W. W. Zachary, An information flow model for conflict and fission in "
            "small groups, Journal of Anthropological Research 33, 452-473 (1977)."
        ),
        description=(
            "Friendships between 34 members of a university karate club in the "
            "1970s; labels: the two factions after the club split (networkx's "
            "karate_club_graph 'club' attribute). " + _NEWMAN + "."
        ),
    ),
    "polbooks": _Spec(
        file="polbooks.gt.gz",
        label_property="value",
        label_codes=("l", "n", "c"),
        label_names=("liberal", "neutral", "conservative"),
        citation="V. Krebs, unpublished, http://www.orgnet.com/ (2004).",
        description=(
            "Books about US politics sold by Amazon.com around the 2004 election, "
            "linked when frequently bought together; labels: political leaning "
            "assigned by M. Newman. " + _NEWMAN + "."
        ),
    ),
    "football": _Spec(
        file="football.gt.gz",
        label_property="value",
        label_codes=tuple(range(12)),
        label_names=_FOOTBALL_CONFERENCES,
        citation=_FOOTBALL_CITATION,
        description=(
            "Games between Division IA American football colleges in the regular "
            "season of Fall 2000; labels: the 12 conferences as in Girvan and "
            "Newman's file (graph-tool's 'value'). " + _NEWMAN + "."
        ),
    ),
    "adjnoun": _Spec(
        file="adjnoun.gt.gz",
        label_property="value",
        label_codes=(0.0, 1.0),
        label_names=("adjective", "noun"),
        citation=(
            "M. E. J. Newman, Finding community structure in networks using the "
            "eigenvectors of matrices, Phys. Rev. E 74, 036104 (2006)."
        ),
        description=(
            "Common adjectives and nouns in Dickens' David Copperfield, linked "
            "when they occur next to each other; labels: adjective or noun. "
            + _NEWMAN
            + "."
        ),
    ),
    "polblogs": _Spec(
        file="polblogs.gt.gz",
        label_property="value",
        label_codes=(0.0, 1.0),
        label_names=("liberal", "conservative"),
        citation=_POLBLOGS_CITATION,
        description=_POLBLOGS_DESCRIPTION.format(
            what="Directed; the file's 3 self-loops and 65 repeated arcs dropped."
        ),
    ),
    "dolphins": _Spec(
        file="dolphins.gt.gz",
        label_property=None,
        label_codes=(),
        label_names=None,
        citation=(
            "D. Lusseau, K. Schneider, O. J. Boisseau, P. Haase, E. Slooten and "
            "S. M. Dawson, The bottlenose dolphin community of Doubtful Sound "
            "features a large proportion of long-lasting associations, Behavioral "
            "Ecology and Sociobiology 54, 396-405 (2003)."
        ),
        description=(
            "Frequent associations between 62 bottlenose dolphins of Doubtful "
            "Sound, New Zealand; no labels. " + _NEWMAN + "."
        ),
    ),
    "lesmis": _Spec(
        file="lesmis.gt.gz",
        label_property=None,
        label_codes=(),
        label_names=None,
        citation=(
            "D. E. Knuth, The Stanford GraphBase: A Platform for Combinatorial "
            "Computing, Addison-Wesley, Reading, MA (1993)."
        ),
        description=(
            "Characters of Victor Hugo's Les Miserables, linked when they appear "
            "in the same chapter (coappearance counts dropped); no labels. "
            + _NEWMAN
            + "."
        ),
    ),
}
_DERIVED = ("polblogs-lcc",)


def list_networks() -> list[str]:
    """Names accepted by :func:`load_network`, in alphabetical order."""
    return sorted([*_SPECS, *_DERIVED])


def load_network(name, *, label_property=None, directed=None) -> Network:
    """Load a shipped real network by name, or a graph file by path.

    Every network is returned as a simple graph: edge weights and multiplicities
    are dropped (an edge is present or not) and self-loops are removed. For a
    file, the weights are those the reader returns (an edge list's third column,
    Matrix Market values, a GraphML/GML ``weight`` attribute; repeated edges
    add): a negative weight is an error, a zero weight is no edge, and any
    other positive weight or repeat is one edge, with one logged warning. The
    same rules apply to a networkx graph given to ``MeanFieldSBM.fit``; arrays
    and sparse matrices must be 0/1.

    Parameters
    ----------
    name : str or os.PathLike
        One of :func:`list_networks` - ``"karate"`` (34 nodes, 2 factions),
        ``"polbooks"`` (105, 3 leanings), ``"football"`` (115, 12 conferences),
        ``"adjnoun"`` (112, 2 word classes), ``"polblogs"`` (1490, directed, 2
        leanings), ``"polblogs-lcc"`` (its largest connected component once arcs
        are made undirected: 1222 nodes), ``"dolphins"``,
        ``"lesmis"`` - or the path of a graph file that
        :func:`initscape.sbm.read_graph` reads.
    label_property : str, default=None
        Only for a file: the vertex property holding ground-truth classes.
    directed : bool, default=None
        Only for an edge list file, which does not say: read its lines as arcs.
        ``None`` reads it undirected.

    Returns
    -------
    Network

    Examples
    --------
    >>> net = load_network("polbooks")
    >>> net.n_nodes, net.n_edges, net.label_names
    (105, 441, ('liberal', 'neutral', 'conservative'))
    """
    if isinstance(name, str) and name in _SPECS:
        _check_file_only(label_property, directed, name)
        return _load_dataset(name)
    if name == "polblogs-lcc":
        _check_file_only(label_property, directed, name)
        return _largest_component(_load_dataset("polblogs"), "polblogs-lcc")
    if isinstance(name, (str, os.PathLike)) and os.path.isfile(name):
        return _load_file(os.fspath(name), label_property, directed)
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(
            f"name must be a network name or a file path (str or os.PathLike); got "
            f"{type(name).__name__} {name!r}."
        )
    known = ", ".join(repr(n) for n in list_networks())
    raise ValueError(
        f"name must be one of {known}, or the path of an existing graph file; got "
        f"{os.fspath(name)!r}."
    )


def _check_file_only(label_property, directed, name):
    for option, value in (("label_property", label_property), ("directed", directed)):
        if value is not None:
            raise ValueError(
                f"{option} applies to graph files only; the shipped network "
                f"{name!r} has its own; got {option}={value!r}."
            )


def _load_dataset(name: str) -> Network:
    spec = _SPECS[name]
    resource = importlib.resources.files("initscape.sbm") / "data" / spec.file
    with importlib.resources.as_file(resource) as path:
        data = read_gt(path)

    # Ground truth: a vertex property of the file, or networkx's karate factions.
    labels = None
    if name == "karate":
        import networkx as nx

        club = nx.get_node_attributes(nx.karate_club_graph(), "club")
        values = np.array([club[i] for i in range(data.n_nodes)], dtype=object)
        labels = _encode(values, spec.label_codes, name, "club")
    elif spec.label_property is not None:
        values = data.vertex_properties[spec.label_property]
        labels = _encode(values, spec.label_codes, name, spec.label_property)

    names = data.vertex_properties.get("label")
    return Network(
        name=name,
        adjacency=_simple(data.adjacency),
        directed=data.directed,
        labels=labels,
        label_names=spec.label_names,
        node_names=None if names is None else tuple(str(s) for s in names),
        citation=spec.citation,
        description=spec.description,
    )


def _encode(values, codes, name, prop) -> np.ndarray:
    """Map the file's label values onto ``0, ..., len(codes) - 1``."""
    lookup = {code: k for k, code in enumerate(codes)}
    unknown = sorted({v for v in values.tolist() if v not in lookup}, key=str)
    if unknown:
        raise ValueError(
            f"network {name!r}: property {prop!r} must take the values {codes}; "
            f"got also {unknown}."
        )
    labels = np.array([lookup[v] for v in values.tolist()], dtype=np.int64)
    labels.flags.writeable = False
    return labels


def _simple(adjacency: sp.csr_array) -> sp.csr_array:
    """Binary adjacency without self-loops (symmetric stays symmetric)."""
    adjacency = sp.csr_array(adjacency, dtype=np.float64, copy=True)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    adjacency.data[:] = 1.0
    adjacency.sort_indices()
    return adjacency


def _largest_component(net: Network, name: str) -> Network:
    """Arcs made undirected, then the largest connected component."""
    symmetric = ((net.adjacency + net.adjacency.T) > 0).astype(np.float64)
    symmetric = sp.csr_array(symmetric)
    _, component = connected_components(symmetric, directed=False)
    largest = np.argmax(np.bincount(component))
    keep = np.flatnonzero(component == largest)
    labels = None
    if net.labels is not None:
        labels = net.labels[keep].copy()
        labels.flags.writeable = False
    sub = sp.csr_array(symmetric[keep][:, keep])
    sub.sort_indices()
    return Network(
        name=name,
        adjacency=sub,
        directed=False,
        labels=labels,
        label_names=net.label_names,
        node_names=None
        if net.node_names is None
        else tuple(net.node_names[i] for i in keep),
        citation=net.citation,
        description=_POLBLOGS_DESCRIPTION.format(
            what=(
                f"Arcs made undirected (an edge wherever either blog links to the "
                f"other), self-loops dropped, largest connected component kept "
                f"({len(keep)} of {net.n_nodes} blogs)."
            )
        ),
    )


def _load_file(path: str, label_property, directed) -> Network:
    data = read_graph(path, directed=directed)
    if data.n_nodes == 0:
        raise ValueError(
            f"path {path!r}: the graph has no nodes (an empty file, only comments, "
            "or a matrix of size 0); a block model needs at least one node."
        )
    _check_weights(data, path)
    n_loops = int(np.count_nonzero(data.adjacency.diagonal()))
    if n_loops:
        logger.info("%s: dropped %d self-loops", path, n_loops)
    adjacency = _simple(data.adjacency)

    labels = label_names = None
    if label_property is not None:
        if label_property not in data.vertex_properties:
            available = ", ".join(repr(k) for k in data.vertex_properties) or "none"
            raise ValueError(
                f"label_property must name a vertex property of {path!r} "
                f"(available: {available}); got {label_property!r}."
            )
        values = data.vertex_properties[label_property]
        if any(v is None for v in values.tolist()):
            raise ValueError(
                f"label_property {label_property!r} of {path!r} must be set on "
                "every node; some nodes lack it."
            )
        codes = tuple(sorted(set(values.tolist()), key=_sort_key))
        labels = _encode(values, codes, path, label_property)
        label_names = tuple(str(c) for c in codes)

    return Network(
        name=path,
        adjacency=adjacency,
        directed=data.directed,
        labels=labels,
        label_names=label_names,
        node_names=tuple(str(i) for i in data.node_ids.tolist()),
        citation="",
        description=f"Read from {path}.",
    )


def _check_weights(data, path: str) -> None:
    """Negative weights are an error; weights other than 0 and 1 get a warning.

    Zero weights (explicit zeros of Matrix Market, ``weight 0`` in an edge list)
    are no edge. Positive weights other than 1, and edges repeated in the file,
    are read as one edge, with one logged warning.
    """
    weights = data.edge_properties.get("weight")
    candidates = [data.adjacency.data]
    if weights is not None and weights.dtype != object:
        candidates.append(np.asarray(weights, dtype=np.float64))
    for values in candidates:
        if np.any(values < 0):
            raise ValueError(
                f"path {path!r}: edge weights must be non-negative (a simple graph "
                f"is read: 0 is no edge, a positive weight is an edge); got "
                f"{float(values[values < 0][0])!r}."
            )
    values = data.adjacency.data
    other = (values != 0) & (values != 1)
    if np.any(other):
        logger.warning(
            "%s: %d adjacency entries are weights or edge counts other than 1 "
            "(first %r); each is read as one edge.",
            path,
            int(np.count_nonzero(other)),
            float(values[other][0]),
        )


def _sort_key(value):
    """Numbers in numeric order, before strings in text order."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))
