"""Where the degree-corrected SBM's starts land, with all parameters estimated.

The question of Mukherjee, Sarkar, Wang and Yan (2018) for the plain model,
asked of :class:`~initscape.sbm.DegreeCorrectedSBM`: from random starts (rows of
``tau`` iid Dirichlet(1, ..., 1)) with ``alpha`` and ``omega`` estimated at
every iteration, where does variational EM end, and how much does the
regularised spectral start (Qin and Rohe 2013) help?

Every start ends in one of three classes, by one rule:

* ``"best"``: within a relative ``1e-6`` of the largest ELBO found by any start
  of the study (random or spectral);
* ``"uninformative"``: within the same relative gap of the ELBO of the state
  whose rows all equal the end point's mean row, ``tau_i = alpha``: the labels
  carry no information. Along these states the ELBO is nearly flat in
  ``alpha`` (only the self-pair terms tell blocks apart), so random starts
  drift towards them slowly and are recognised by their ELBO rather than by a
  converged ``tau``;
* ``"other"``: any other end point (a local optimum).
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np

from initscape._validation import check_random_state, check_scalar
from initscape.sbm._dcsbm import dcsbm_initial_responsibilities, run_dcsbm
from initscape.sbm._graph import check_adjacency
from initscape.sbm._metrics import agreement

logger = logging.getLogger(__name__)

__all__ = ["DCSBMStartStudy", "dcsbm_start_study"]

#: Relative ELBO gap within which two end points count as the same.
BEST_GAP = 1e-6


@dataclass
class DCSBMStartStudy:
    """Outcome of :func:`dcsbm_start_study`.

    Attributes
    ----------
    n_blocks : int
    random_elbo : ndarray of shape (n_init,)
        Final ELBO of every random start.
    random_kind : ndarray of shape (n_init,)
        ``"best"``, ``"uninformative"`` or ``"other"`` for every random start.
    random_nmi : ndarray of shape (n_init,) or None
        NMI of every random start's labels with the ground truth, when given.
    random_converged : ndarray of shape (n_init,)
    spectral_elbo : float
        Final ELBO of the best spectral restart.
    spectral_kind : str
    spectral_nmi : float or None
    best_elbo : float
        Largest ELBO found by any start.
    """

    n_blocks: int
    random_elbo: np.ndarray
    random_kind: np.ndarray
    random_nmi: np.ndarray | None
    random_converged: np.ndarray
    spectral_elbo: float
    spectral_kind: str
    spectral_nmi: float | None
    best_elbo: float

    def fractions(self):
        """Fraction of random starts in each class, dict of str to float."""
        kinds = ("best", "uninformative", "other")
        return {k: float(np.mean(self.random_kind == k)) for k in kinds}

    def summary(self):
        """One line: where random starts end, and the spectral start."""
        n = self.random_kind.size
        counts = {k: int(np.sum(self.random_kind == k)) for k in self.fractions()}
        nmi = ""
        if self.random_nmi is not None:
            nmi = (
                f", median NMI {float(np.median(self.random_nmi)):.2f}; spectral "
                f"start NMI {self.spectral_nmi:.2f}"
            )
        gap = float(np.median(self.best_elbo - self.random_elbo))
        return (
            f"DC-SBM starts (K={self.n_blocks}, all parameters estimated): "
            f"{counts['best']}/{n} random starts reach the best ELBO, "
            f"{counts['uninformative']}/{n} end uninformative, "
            f"{counts['other']}/{n} elsewhere (median ELBO gap {gap:.3g}{nmi}); "
            f"the spectral start ends '{self.spectral_kind}' (ELBO gap "
            f"{self.best_elbo - self.spectral_elbo:.3g})"
        )


def _kind(elbo, best, flat):
    """Class of one end point (module docstring); ``flat``: its mean-row ELBO."""
    if elbo >= best - BEST_GAP * abs(best):
        return "best"
    return "uninformative" if abs(elbo - flat) <= BEST_GAP * abs(flat) else "other"


def dcsbm_start_study(
    A,
    n_blocks,
    *,
    labels=None,
    n_init=20,
    directed=False,
    max_iter=500,
    tol=1e-8,
    random_state=None,
):
    """Random starts against the regularised spectral start, for the DC-SBM.

    Runs the variational EM of ``DegreeCorrectedSBM`` (:func:`run_dcsbm`) with
    all parameters estimated from ``n_init`` random starts (rows of ``tau`` iid
    Dirichlet(1, ..., 1)) and from ``n_init`` spectral starts, and classifies
    every end point (module docstring) against the best ELBO of both runs.

    Parameters
    ----------
    A : scipy.sparse matrix, array-like of shape (n_nodes, n_nodes) or \
networkx graph
    n_blocks : int
    labels : array-like of shape (n_nodes,) or None, default=None
        Ground truth, to report NMI.
    n_init : int, default=20
    directed : bool, default=False
    max_iter : int, default=500
    tol : float, default=1e-8
    random_state : int, numpy.random.Generator or None, default=None
        One generator feeds both runs.

    Returns
    -------
    DCSBMStartStudy
    """
    # Validate, then both runs from one generator
    rng = check_random_state(random_state)
    n_blocks = check_scalar(n_blocks, "n_blocks", numbers.Integral, low=1)
    n_init = check_scalar(n_init, "n_init", numbers.Integral, low=1)
    A = check_adjacency(A, directed=directed)
    if n_blocks > A.shape[0]:
        raise ValueError(
            f"n_blocks must be at most the number of nodes ({A.shape[0]}); got "
            f"n_blocks={n_blocks}."
        )
    if labels is not None:
        labels = np.asarray(labels).ravel()
        if labels.shape != (A.shape[0],):
            raise ValueError(
                f"labels must have shape ({A.shape[0]},); got shape {labels.shape}."
            )
    runs = {}
    for init in ("random", "spectral"):
        tau0 = dcsbm_initial_responsibilities(A, n_blocks, init, n_init, rng)
        runs[init] = run_dcsbm(A, tau0, directed=directed, max_iter=max_iter, tol=tol)

    # Classify every end point against the best ELBO of both runs
    best = float(max(runs["random"].elbo.max(), runs["spectral"].elbo.max()))
    rand, spec = runs["random"], runs["spectral"]
    top = int(np.argmax(spec.elbo))

    def mean_row_elbo(tau):
        rows = np.broadcast_to(tau.mean(axis=0, keepdims=True), tau.shape)
        return run_dcsbm(A, rows, directed=directed, max_iter=0).elbo

    flat = mean_row_elbo(rand.tau)
    kinds = np.array([_kind(e, best, f) for e, f in zip(rand.elbo, flat, strict=True)])
    nmi = spectral_nmi = None
    if labels is not None:
        nmi = np.array(
            [
                agreement(labels, np.argmax(rand.tau[:, :, r], axis=1))["nmi"]
                for r in range(n_init)
            ]
        )
        spectral_nmi = agreement(labels, np.argmax(spec.tau[:, :, top], axis=1))["nmi"]
    study = DCSBMStartStudy(
        n_blocks=n_blocks,
        random_elbo=rand.elbo.copy(),
        random_kind=kinds,
        random_nmi=nmi,
        random_converged=rand.converged.copy(),
        spectral_elbo=float(spec.elbo[top]),
        spectral_kind=_kind(
            spec.elbo[top], best, mean_row_elbo(spec.tau[:, :, top : top + 1])[0]
        ),
        spectral_nmi=spectral_nmi,
        best_elbo=best,
    )
    logger.info("%s", study.summary())
    return study
