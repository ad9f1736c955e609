"""The scikit-learn style estimator: mean-field SBM with batched restarts."""

from __future__ import annotations

import logging
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from initscape._validation import (
    check_candidates,
    check_option,
    check_random_state,
    check_scalar,
)
from initscape.exceptions import ConvergenceWarning
from initscape.sbm._graph import check_adjacency
from initscape.sbm._init import INIT_METHODS, initial_responsibilities
from initscape.sbm._kblock import icl, run_kblock
from initscape.sbm._metrics import agreement
from initscape.sbm._twoclass import run_twoclass

logger = logging.getLogger(__name__)

__all__ = ["MeanFieldSBM", "select_n_blocks"]


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# One table of constraints, checked at fit: parameter -> check(value) raising a
# ValueError or TypeError that names the parameter and the value received.
_CONSTRAINTS = {
    "n_blocks": lambda v: check_scalar(v, "n_blocks", numbers.Integral, low=1),
    "n_init": lambda v: check_scalar(v, "n_init", numbers.Integral, low=1),
    "max_iter": lambda v: check_scalar(v, "max_iter", numbers.Integral, low=0),
    "tol": lambda v: check_scalar(v, "tol", low=0, low_inclusive=False),
    "algorithm": lambda v: check_option(v, "algorithm", ("bcavi", "cavi")),
    "directed": lambda v: _check_bool(v, "directed"),
    "init": lambda v: (
        check_option(v, "init", INIT_METHODS) if isinstance(v, str) else v
    ),
    "callback": lambda v: _check_callable(v, "callback"),
    "random_state": check_random_state,
}


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool; got {type(value).__name__} {value!r}.")
    return bool(value)


def _check_callable(value, name):
    if value is not None and not callable(value):
        raise TypeError(
            f"{name} must be callable as {name}(done, total) or None; got "
            f"{type(value).__name__} {value!r}."
        )
    return value


class MeanFieldSBM(ClusterMixin, BaseEstimator):
    """Stochastic block model fitted by mean-field variational inference.

    Two blocks on an undirected graph with a symmetric ``block_probs`` (or none)
    run the two-class engine of Mukherjee, Sarkar, Wang and Yan (2018): BCAVI
    ``psi <- sigmoid(4 t (A - lambda (J - I)) (psi - 1/2) + logit(pi))`` or
    sequential CAVI, with ``p``, ``q`` known or estimated jointly after every
    update. Any other case (K != 2, directed, ``block_probs`` not of the form
    ``[[p, q], [q, p]]`` with ``p > q``) runs the variational EM of Daudin, Picard
    and Robin (2008). All ``n_init`` restarts advance together; the one with the
    largest ELBO is returned, and every restart's outcome is kept.

    Parameters
    ----------
    n_blocks : int, default=2
        Number of blocks K.
    block_probs : array-like of shape (n_blocks, n_blocks) or None, default=None
        Known connection probabilities (entries in (0, 1)), held fixed; None
        estimates them.
    prior : float, array-like of shape (n_blocks,) or None, default=None
        Known block proportions: a float is ``P(z_i = 1)`` for two blocks; an
        array sums to 1. None: ``1/2`` for the two-class engine (held fixed, as in
        the paper), ``1 / n_blocks`` for the K-block engine when ``block_probs``
        is given, otherwise estimated by the M-step.
    init : {"random", "bernoulli", "spectral", "degree"} or array-like, \
default="random"
        Starting responsibilities; see ``initial_responsibilities``.
    n_init : int, default=10
        Number of restarts R (ignored when ``init`` has shape (n, K, R)).
    algorithm : {"bcavi", "cavi"}, default="bcavi"
        Batch or sequential coordinate ascent; "cavi" needs the two-class engine.
    directed : bool, default=False
        Treat ``A`` as a directed graph (K-block engine).
    max_iter : int, default=500
        Most iterations per restart.
    tol : float, default=1e-8
        A restart stops once ``max_i |psi_new_i - psi_i| < tol`` (``tau`` for K
        blocks).
    random_state : int, numpy.random.Generator or None, default=None
        Seeds every random start (one generator feeds all restarts).
    callback : callable or None, default=None
        ``callback(done, total)`` after every iteration, for progress bars.

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        ``argmax_k tau_ik`` of the returned restart.
    responsibilities_ : ndarray of shape (n_nodes, n_blocks)
        ``tau_ik = Q(z_i = k)``; for two classes ``[1 - psi, psi]``.
    block_probs_ : ndarray of shape (n_blocks, n_blocks)
        Connection probabilities pi (``[[p, q], [q, p]]`` for two classes),
        from the expected edge and pair counts under ``responsibilities_``. A
        block that ``labels_`` leaves empty may still hold some mass (two
        blocks sharing one community split it): its entries are the rates of
        that mass, 1.0 inside a clique for instance, and one warning is logged.
        A block with no mass at all gets the graph's edge density.
    block_proportions_ : ndarray of shape (n_blocks,)
        Block proportions alpha (``[1 - pi, pi]`` for two classes): estimated,
        or the fixed prior (see ``proportions_estimated_``).
    proportions_estimated_ : bool
        Whether ``block_proportions_`` was fitted by the M-step. False for the
        two-class engine (it holds the prior, ``1/2`` unless ``prior`` is given,
        as in the paper), for a given ``prior``, and when ``block_probs`` is
        given (proportions ``1 / n_blocks``).
    elbo_ : float
        ELBO of the returned restart.
    elbo_history_ : ndarray of shape (n_iter_ + 1,)
        Its ELBO after every iteration (entry 0: at the start).
    n_iter_ : int
    converged_ : bool
    icl_ : float
        Integrated classification likelihood of ``labels_`` (Daudin et al. 2008).
    restarts_ : list of dict
        One per restart: ``"elbo"``, ``"n_iter"``, ``"converged"`` and the
        ``"ari"``, ``"nmi"``, ``"overlap"`` of its labels with ``labels_``.
    best_restart_ : int
        Index of the returned restart.

    References
    ----------
    Mukherjee, Sarkar, Wang and Yan. Mean field for the stochastic blockmodel:
    optimization landscape and convergence issues. NeurIPS 2018.

    Daudin, Picard and Robin. A mixture model for random graphs. Statistics and
    Computing 18 (2008), 173-183.

    Examples
    --------
    >>> from initscape.sbm import MeanFieldSBM, sample_sbm
    >>> A, z = sample_sbm([100, 100], [[0.1, 0.01], [0.01, 0.1]], random_state=0)
    >>> model = MeanFieldSBM(n_blocks=2, n_init=5, random_state=0).fit(A)
    >>> model.labels_.shape
    (200,)
    """

    def __init__(
        self,
        n_blocks=2,
        block_probs=None,
        prior=None,
        init="random",
        n_init=10,
        algorithm="bcavi",
        directed=False,
        max_iter=500,
        tol=1e-8,
        random_state=None,
        callback=None,
    ):
        self.n_blocks = n_blocks
        self.block_probs = block_probs
        self.prior = prior
        self.init = init
        self.n_init = n_init
        self.algorithm = algorithm
        self.directed = directed
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.callback = callback

    def fit(self, A, y=None):
        """Fit the model to the graph ``A``.

        Parameters
        ----------
        A : scipy.sparse matrix, array-like of shape (n_nodes, n_nodes) or \
networkx graph
            Binary adjacency matrix (self-loops are dropped with a warning).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        # Validate every parameter from the table, then the graph
        params = {
            name: check(getattr(self, name)) for name, check in _CONSTRAINTS.items()
        }
        n_blocks, directed = params["n_blocks"], params["directed"]
        A = check_adjacency(A, directed=directed)
        n_nodes = A.shape[0]
        if n_blocks > n_nodes:
            raise ValueError(
                f"n_blocks must be at most the number of nodes ({n_nodes}); got "
                f"n_blocks={n_blocks}."
            )
        block_probs = _check_block_probs(self.block_probs, n_blocks, directed)
        prior = _check_prior(self.prior, n_blocks)
        two_class = (
            n_blocks == 2
            and not directed
            and (block_probs is None or _is_two_class(block_probs))
        )
        if params["algorithm"] == "cavi" and not two_class:
            raise ValueError(
                "algorithm='cavi' needs the two-class engine (n_blocks=2, "
                "undirected, block_probs None or [[p, q], [q, p]] with p > q); got "
                f"n_blocks={n_blocks}, directed={directed}."
            )

        # Starting responsibilities, one generator for all restarts
        tau0 = initial_responsibilities(
            A, n_blocks, params["init"], params["n_init"], params["random_state"]
        )

        # Run all restarts together
        common = dict(
            max_iter=params["max_iter"], tol=params["tol"], callback=params["callback"]
        )
        if two_class:
            p, q = (None, None) if block_probs is None else block_probs[0]
            res = run_twoclass(
                A,
                tau0[:, 1, :],
                p=p,
                q=q,
                prior=0.5 if prior is None else float(prior[1]),
                algorithm=params["algorithm"],
                **common,
            )
            tau = np.stack([1 - res.psi, res.psi], axis=1)
            pi = np.array([[res.p, res.q], [res.q, res.p]])
            alpha_1 = 0.5 if prior is None else prior[1]
            alpha = np.array([1 - alpha_1, alpha_1])[:, None].repeat(tau.shape[2], 1)
        else:
            res = run_kblock(
                A,
                tau0,
                block_probs=block_probs,
                block_proportions=prior,
                directed=directed,
                **common,
            )
            tau, pi, alpha = res.tau, res.pi, res.alpha

        # Keep the best restart by ELBO, and every restart's outcome
        best = int(np.argmax(res.elbo))
        self.best_restart_ = best
        self.responsibilities_ = tau[:, :, best]
        self.labels_ = np.argmax(self.responsibilities_, axis=1)
        self.block_probs_ = pi[:, :, best]
        self.block_proportions_ = alpha[:, best]
        self.proportions_estimated_ = (
            not two_class and prior is None and (block_probs is None)
        )
        self.elbo_ = float(res.elbo[best])
        self.n_iter_ = int(res.n_iter[best])
        self.converged_ = bool(res.converged[best])
        self.elbo_history_ = res.elbo_history[: self.n_iter_ + 1, best].copy()
        self.icl_ = float(icl(A, self.labels_, n_blocks, directed=directed))
        _log_empty_blocks(self.labels_, self.responsibilities_)
        self.restarts_ = [
            {
                "elbo": float(res.elbo[r]),
                "n_iter": int(res.n_iter[r]),
                "converged": bool(res.converged[r]),
                **agreement(np.argmax(tau[:, :, r], axis=1), self.labels_),
            }
            for r in range(tau.shape[2])
        ]

        # One warning about the returned restart
        if not self.converged_:
            warnings.warn(
                _not_converged_message(
                    self.elbo_history_,
                    params["max_iter"],
                    params["tol"],
                    two_class and params["algorithm"] == "bcavi",
                ),
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def fit_predict(self, A, y=None):
        """Fit to ``A`` and return ``labels_``, ndarray of shape (n_nodes,)."""
        return self.fit(A).labels_


def select_n_blocks(
    A,
    candidates=range(1, 7),
    *,
    directed=False,
    init="spectral",
    n_init=10,
    max_iter=500,
    tol=1e-8,
    random_state=None,
):
    """Choose the number of blocks by the ICL criterion.

    Fits ``MeanFieldSBM(n_blocks=K, ...)`` for every K in ``candidates`` (with
    parameters estimated) and returns the K of largest ``icl_`` (Daudin, Picard
    and Robin 2008, section 4.2). Convergence warnings of the single fits are
    collected and not repeated.

    Parameters
    ----------
    A : scipy.sparse matrix, array-like or networkx graph
    candidates : iterable of int, default=range(1, 7)
    directed : bool, default=False
    init : str or array-like, default="spectral"
    n_init : int, default=10
    max_iter : int, default=500
    tol : float, default=1e-8
    random_state : int, numpy.random.Generator or None, default=None
        One generator feeds every fit.

    Returns
    -------
    best : int
        The K of largest ICL.
    icl : dict of int to float
        ICL of every candidate.
    """
    A = check_adjacency(A, directed=directed)
    candidates = check_candidates(candidates, A.shape[0])
    rng = check_random_state(random_state)
    scores = {}
    for k in candidates:
        model = MeanFieldSBM(
            n_blocks=k,
            init=init,
            n_init=n_init,
            directed=directed,
            max_iter=max_iter,
            tol=tol,
            random_state=rng,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(A)
        scores[k] = model.icl_
        logger.info(
            "n_blocks=%d: ICL %.6g, converged %s", k, model.icl_, model.converged_
        )
    best = max(scores, key=scores.get)
    return best, scores


def _log_empty_blocks(labels, tau):
    """One logged warning when ``labels_`` leaves a block without nodes."""
    sizes = np.bincount(labels, minlength=tau.shape[1])
    empty = np.flatnonzero(sizes == 0)
    if empty.size:
        expected = tau.sum(axis=0)[empty]
        logger.warning(
            "MeanFieldSBM: block(s) %s hold no node of labels_ (expected sizes "
            "%s under the responsibilities); their block_probs_ and "
            "block_proportions_ describe the soft responsibilities, not labels_.",
            empty.tolist(),
            np.round(expected, 3).tolist(),
        )


def _not_converged_message(history, max_iter, tol, batch_two_class):
    """The ConvergenceWarning's text, with the remedy that fits the failure.

    The two-class BCAVI update is the paper's undamped parallel step and can end
    in a 2-cycle: the ELBO alternates between two values. More iterations never
    help there; sequential CAVI never lowers the ELBO. The K-block engine damps
    its steps, so it only ever runs slow.
    """
    head = (
        f"MeanFieldSBM: the returned restart (ELBO {history[-1]:.6g}) did not "
        f"converge in max_iter={max_iter} iterations (tol={tol:g})"
    )
    # 1e-9 relative: the two states of a 2-cycle repeat to rounding, while the
    # gap between them (nats) is far larger.
    last = history[-4:]
    cycle = (
        batch_two_class
        and last.size == 4
        and np.allclose(last[:2], last[2:], rtol=1e-9, atol=0)
        and not np.isclose(last[-1], last[-2], rtol=1e-9, atol=0)
    )
    if cycle:
        return (
            f"{head}: the batch (BCAVI) update oscillates between two states "
            f"with ELBOs {last[-2]:.6g} and {last[-1]:.6g}, which more iterations "
            "do not change; use algorithm='cavi' (one node at a time, never "
            "lowers the ELBO)."
        )
    if batch_two_class:
        return f"{head}; raise max_iter, or use algorithm='cavi'."
    return f"{head}; it was still moving: raise max_iter or loosen tol."


def _is_two_class(block_probs):
    """``[[p, q], [q, p]]`` with ``p > q``: the pattern of the two-class model."""
    (a, b), (c, d) = block_probs
    return a == d and b == c and a > b


def _check_block_probs(block_probs, n_blocks, directed):
    if block_probs is None:
        return None
    if isinstance(block_probs, (str, bytes)):
        raise TypeError(
            "block_probs must be an array-like of shape (n_blocks, n_blocks) of "
            f"numbers; got the string {block_probs!r} (the CLI's 'p,q' form is for "
            "the command line only)."
        )
    try:
        probs = np.asarray(block_probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "block_probs must be an array-like of shape (n_blocks, n_blocks) of "
            f"numbers; got {block_probs!r}."
        ) from None
    if probs.shape != (n_blocks, n_blocks):
        raise ValueError(
            f"block_probs must have shape (n_blocks, n_blocks) = ({n_blocks}, "
            f"{n_blocks}); got shape {probs.shape}."
        )
    if not np.all(np.isfinite(probs)) or np.any(probs <= 0) or np.any(probs >= 1):
        raise ValueError(
            f"block_probs must have entries in (0, 1); got {probs.tolist()!r}."
        )
    if not directed and not np.array_equal(probs, probs.T):
        raise ValueError(
            f"block_probs must be symmetric when directed=False; got "
            f"{probs.tolist()!r}."
        )
    return probs


def _check_prior(prior, n_blocks):
    if prior is None:
        return None
    if np.ndim(prior) == 0:
        if n_blocks != 2:
            raise ValueError(
                "prior as a float is P(z_i = 1) and needs n_blocks=2; got "
                f"prior={prior!r} with n_blocks={n_blocks}."
            )
        value = check_scalar(
            prior, "prior", low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        return np.array([1 - value, value])
    arr = np.asarray(prior, dtype=np.float64)
    # 1e-8: proportions typed by hand or read from text carry rounding.
    if (
        arr.shape != (n_blocks,)
        or not np.all(np.isfinite(arr))
        or np.any(arr <= 0)
        or abs(arr.sum() - 1) > 1e-8
    ):
        raise ValueError(
            f"prior must be a float in (0, 1) or positive block proportions of "
            f"shape ({n_blocks},) summing to 1; got {prior!r}."
        )
    return arr / arr.sum()
