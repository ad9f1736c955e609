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
from initscape.sbm._dcsbm import DegreeCorrectedSBM, select_n_blocks_dc
from initscape.sbm._dcsbm_study import DCSBMStartStudy, dcsbm_start_study
from initscape.sbm._estimator import MeanFieldSBM, select_n_blocks
from initscape.sbm._graph import check_adjacency
from initscape.sbm._io import GraphData, read_graph, read_gt
from initscape.sbm._metrics import agreement
from initscape.sbm._sample import sample_sbm
from initscape.sbm._twoclass import TwoClassResult, run_twoclass

__all__ = [
    "DCSBMStartStudy",
    "DegreeCorrectedSBM",
    "dcsbm_start_study",
    "GraphData",
    "MeanFieldSBM",
    "TwoClassResult",
    "agreement",
    "check_adjacency",
    "run_twoclass",
    "sample_sbm",
    "select_n_blocks",
    "select_n_blocks_dc",
    "landscape",
    "Network",
    "list_networks",
    "load_network",
    "read_graph",
    "read_gt",
]
