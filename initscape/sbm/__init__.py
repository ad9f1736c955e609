"""Stochastic block models fitted by mean-field variational inference.

References
----------
Mukherjee, Sarkar, Wang and Yan. Mean field for the stochastic blockmodel:
optimization landscape and convergence issues. NeurIPS 2018.

Daudin, Picard and Robin. A mixture model for random graphs. Statistics and
Computing 18 (2008), 173-183.
"""

from initscape.sbm import landscape
from initscape.sbm._datasets import Network, list_networks, load_network
from initscape.sbm._io import GraphData, read_graph, read_gt

__all__ = [
    "GraphData",
    "landscape",
    "Network",
    "list_networks",
    "load_network",
    "read_graph",
    "read_gt",
]
