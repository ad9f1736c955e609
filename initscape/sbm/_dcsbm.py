"""Degree-corrected stochastic block model by mean-field variational EM.

The model is the Poisson degree-corrected SBM of Karrer and Newman (2011), eq. 1
and 2: labels ``z_i`` iid with ``P(z_i = k) = alpha_k``, and

- undirected: ``A_ij ~ Poisson(theta_i theta_j omega_{z_i z_j})`` for ``i < j``
  and a self-pair term ``A_ii / 2 ~ Poisson(theta_i^2 omega_{z_i z_i} / 2)``;
- directed: ``A_ij ~ Poisson(theta_i^out theta_j^in omega_{z_i z_j})`` for all
  ordered pairs, ``i = j`` included.

``A`` is a simple graph, so every self-pair is observed as 0; keeping the
self-pairs (as Karrer and Newman do) is what makes the degree parameters'
maximum likelihood estimate closed form. The mean-field family is
``Q(z_i = k) = tau_ik``.

Notation (``w = 1/2`` undirected, each pair counted once; ``w = 1`` directed):
``d^out = A 1``, ``d^in = A^T 1`` (equal when undirected); ``m = tau^T A tau``
(soft edge counts between blocks, each undirected edge in both directions);
``T^out_k = sum_i theta^out_i tau_ik``, ``T^in_k`` likewise;
``U_kl = sum_i theta^out_i theta^in_i tau_ik tau_il``,
``V_k = sum_i theta^out_i theta^in_i tau_ik`` and
``N = T^out (T^in)^T - U + diag(V)``, the expected Poisson exposure between two
blocks: ``N_kl = E_Q[sum_ij theta^out_i theta^in_j [z_i = k][z_j = l]]`` over
the pairs of the model.

- ELBO (expected complete log-likelihood plus entropy, exact for this model):
  ``sum_ik tau_ik log alpha_k + w [sum_i d^out_i log theta^out_i +
  sum_i d^in_i log theta^in_i + sum_kl (m_kl log omega_kl - omega_kl N_kl)] +
  sum_ik H(tau_ik)``; ``log A_ij! = 0`` for a binary ``A``.
- E-step (fixed point in log space, all nodes at once or one at a time):
  ``log tau_ik = log alpha_k + w [((A tau) log omega^T)_ik +
  ((A^T tau) log omega)_ik - theta^out_i (omega (T^in - theta^in_i tau_i))_k -
  theta^in_i (omega^T (T^out - theta^out_i tau_i))_k -
  theta^out_i theta^in_i omega_kk] + const``, normalised over ``k``. The
  ELBO is linear in each row ``tau_i`` (the terms in ``tau_i tau_i^T`` cancel
  in ``N``), so the sequential update maximises it exactly over that row.
- M-step: ``alpha_k = sum_i tau_ik / n``; ``theta^out = d^out``,
  ``theta^in = d^in`` (Karrer and Newman 2011, eq. 8, with the scale of each
  block carried by ``omega``); ``omega_kl = m_kl / N_kl``, the exact maximiser
  of the ELBO over ``omega`` given ``theta`` and ``tau``. For one-hot ``tau``
  (and in the limit of concentrated responsibilities) ``N = kappa^out
  (kappa^in)^T`` with ``kappa = tau^T d``, and ``(theta, omega)`` is the joint
  maximiser: Karrer and Newman's ``omega_kl = m_kl / (kappa_k kappa_l)``.

The Bernoulli form (``likelihood="bernoulli"``) keeps the same mean structure
and observes only whether a pair is linked: ``P(A_ij = 1) = 1 - exp(-lambda_ij)``
with ``lambda_ij = theta^out_i theta^in_j omega_{z_i z_j}`` (the event that the
Poisson count is positive). Its log-likelihood is the Poisson one with
``log lambda_ij`` replaced by ``g(lambda_ij) = log(e^lambda_ij - 1)`` on the
edges: the ELBO's edge part is ``w sum_{A_ij = 1} sum_kl tau_ik tau_jl
g(theta^out_i theta^in_j omega_kl)`` (a sum over the stored edges, still sparse),
the exposure part ``- w sum_kl omega_kl N_kl`` is unchanged, and so is the
E-step's linearity in each row. Its rate M-step has no closed form and is solved
by Newton's method (:func:`bernoulli_mstep`); ``theta`` stays at the degrees.

Departure from a full M-step, marked here: for soft ``tau`` the joint maximiser
over ``theta`` has no closed form (``U`` couples ``theta_i`` and ``tau_i``);
``theta`` is held at the degrees, which maximises over ``theta`` only when
``tau`` is one-hot. The ELBO is still an exact lower bound on
``log P(A | alpha, theta, omega)`` and each step of the sequential variant still
raises it (tracked in issue 6).

Every iteration costs one sparse product ``A @ tau`` (and ``A^T @ tau`` when
directed) over the (n_nodes, n_blocks * n_restarts) matrix of all running
restarts, plus O(n K^2 R) dense work; never an n x n dense matrix.

References
----------
Karrer and Newman. Stochastic blockmodels and community structure in networks.
Physical Review E 83 (2011), 016107.

Qin and Rohe. Regularized spectral clustering under the degree-corrected
stochastic blockmodel. NeurIPS 2013.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import entr, logsumexp, xlogy
from sklearn.base import BaseEstimator, ClusterMixin
from threadpoolctl import threadpool_limits

from initscape._validation import (
    check_candidates,
    check_option,
    check_random_state,
    check_scalar,
)
from initscape.exceptions import ConvergenceWarning
from initscape.sbm._graph import check_adjacency, n_pairs
from initscape.sbm._init import (
    INIT_METHODS,
    SMOOTHING,
    _dirichlet_rows,
    initial_responsibilities,
)
from initscape.sbm._metrics import agreement

logger = logging.getLogger(__name__)

__all__ = [
    "DCSBMResult",
    "DegreeCorrectedSBM",
    "bernoulli_mstep",
    "dcsbm_elbo",
    "dcsbm_icl",
    "dcsbm_initial_responsibilities",
    "dcsbm_mstep",
    "regularized_spectral_labels",
    "run_dcsbm",
    "select_n_blocks_dc",
]

#: Block rates are kept at or above this floor, so ``log omega`` stays finite.
EPS = 1e-12

#: Largest ``log omega`` of the Bernoulli form (its rate is unbounded when a
#: block pair is complete).
MAX_LOG_RATE = 30.0

#: Smallest step of the damped batch update (see :func:`run_dcsbm`).
MIN_STEP = 1.0 / 64

#: Factor by which that step grows back after an update that raised the ELBO.
GROW = 1.25


@dataclass
class DCSBMResult:
    """Outcome of :func:`run_dcsbm` for every restart.

    Attributes
    ----------
    tau : ndarray of shape (n_nodes, n_blocks, n_restarts)
    alpha : ndarray of shape (n_blocks, n_restarts)
    omega : ndarray of shape (n_blocks, n_blocks, n_restarts)
        Block rates at the final ``tau``.
    edges : ndarray of shape (n_blocks, n_blocks, n_restarts)
        Soft edge counts ``m = tau^T A tau`` at the final ``tau``.
    exposure : ndarray of shape (n_blocks, n_blocks, n_restarts)
        ``N`` at the final ``tau``.
    elbo : ndarray of shape (n_restarts,)
    elbo_history : ndarray of shape (max(n_iter) + 1, n_restarts)
        Row ``k``: the ELBO after ``k`` iterations; a stopped restart repeats its
        final value.
    n_iter : ndarray of shape (n_restarts,)
    converged : ndarray of shape (n_restarts,)
    """

    tau: np.ndarray
    alpha: np.ndarray
    omega: np.ndarray
    edges: np.ndarray
    exposure: np.ndarray
    elbo: np.ndarray
    elbo_history: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


# -- the maths: small pure functions --------------------------------------------


def _degrees(A, directed):
    """``(theta^out, theta^in) = (d^out, d^in)``, the closed-form estimates."""
    d_out = np.asarray(A.sum(axis=1)).ravel()
    d_in = np.asarray(A.sum(axis=0)).ravel() if directed else d_out
    return d_out, d_in


def _statistics(tau, a_tau, theta_out, theta_in):
    """``m``, ``N`` and the block sums of a batch of responsibilities.

    Parameters
    ----------
    tau, a_tau : ndarray of shape (n_nodes, n_blocks, n_restarts)
        Responsibilities and ``A @ tau``.
    theta_out, theta_in : ndarray of shape (n_nodes,)

    Returns
    -------
    edges, exposure : ndarray of shape (n_blocks, n_blocks, n_restarts)
    sums : ndarray of shape (n_blocks, n_restarts)
    """
    edges = np.einsum("ikr,ilr->klr", tau, a_tau)
    t_out = np.einsum("i,ikr->kr", theta_out, tau)
    t_in = t_out if theta_in is theta_out else np.einsum("i,ikr->kr", theta_in, tau)
    both = theta_out * theta_in
    self_pairs = np.einsum("i,ikr->kr", both, tau)
    exposure = t_out[:, None, :] * t_in[None, :, :] - np.einsum(
        "i,ikr,ilr->klr", both, tau, tau
    )
    diag = np.arange(tau.shape[1])
    exposure[diag, diag, :] += self_pairs
    return edges, np.maximum(exposure, 0.0), tau.sum(axis=0)


def dcsbm_mstep(edges, exposure):
    """Block rates ``omega_kl = m_kl / N_kl``, floored at ``EPS``.

    A block pair with no exposure (an empty block, or only isolated nodes) gets
    the floor: it carries no edge and no expected edge.

    Parameters
    ----------
    edges, exposure : ndarray of shape (n_blocks, n_blocks, ...)

    Returns
    -------
    ndarray of the same shape
    """
    ok = exposure > EPS
    omega = np.where(ok, edges / np.where(ok, exposure, 1.0), EPS)
    return np.maximum(omega, EPS)


def dcsbm_elbo(tau, alpha, omega, edge_value, exposure, weight):
    """The ELBO of every restart (module docstring), ndarray of shape (R,).

    ``edge_value`` of shape (R,) is the edge part of the expected
    log-likelihood before the weight ``w``: :func:`_poisson_edge_value` or
    :func:`_bernoulli_edge_terms`.
    """
    return (
        xlogy(tau.sum(axis=0), alpha).sum(axis=0)
        + weight * (edge_value - np.einsum("klr,klr->r", omega, exposure))
        + entr(tau).sum(axis=(0, 1))
    )


def _poisson_edge_value(edges, omega, theta_out, theta_in):
    """``sum_i d^out_i log theta^out_i + sum_i d^in_i log theta^in_i +
    sum_kl m_kl log omega_kl`` (with ``theta = d``), shape (R,)."""
    degree_term = xlogy(theta_out, theta_out).sum() + xlogy(theta_in, theta_in).sum()
    return degree_term + np.einsum("klr,klr->r", edges, np.log(omega))


def _poisson_edge_rows(a_tau, at_tau, omega):
    """The E-step's edge term ``(A tau) log omega^T + (A^T tau) log omega``."""
    log_omega = np.log(omega)
    if at_tau is a_tau:
        return 2 * np.einsum("ilr,klr->ikr", a_tau, log_omega)
    return np.einsum("ilr,klr->ikr", a_tau, log_omega) + np.einsum(
        "ilr,lkr->ikr", at_tau, log_omega
    )


# -- the Bernoulli form ----------------------------------------------------------


def log_expm1(y):
    """``g(y) = log(e^y - 1) = y + log(1 - e^{-y})``, finite for every ``y > 0``."""
    return y + np.log(-np.expm1(-y))


@dataclass
class _EdgeList:
    """Stored entries ``(i, j)`` of ``A`` (both directions when undirected)."""

    rows: np.ndarray
    cols: np.ndarray
    scale: np.ndarray  # theta^out_i theta^in_j
    by_row: sp.csr_matrix  # (n_nodes, n_entries) incidence of the rows
    by_col: sp.csr_matrix  # (n_nodes, n_entries) incidence of the columns

    @classmethod
    def of(cls, A, theta_out, theta_in):
        n_nodes, nnz = A.shape[0], A.nnz
        rows = np.repeat(np.arange(n_nodes), np.diff(A.indptr))
        cols = A.indices.copy()
        ones = np.ones(nnz)
        entries = np.arange(nnz)
        return cls(
            rows=rows,
            cols=cols,
            scale=theta_out[rows] * theta_in[cols],
            by_row=sp.csr_matrix((ones, (rows, entries)), shape=(n_nodes, nnz)),
            by_col=sp.csr_matrix((ones, (cols, entries)), shape=(n_nodes, nnz)),
        )


def _bernoulli_edge_terms(tau, omega, edge_list, directed):
    """Edge value (R,) and E-step edge term (n, K, R) of the Bernoulli form.

    With ``G_ekl = g(theta^out_i theta^in_j omega_kl)`` for the stored entry
    ``e = (i, j)``: value ``sum_e sum_kl tau_ik tau_jl G_ekl``; E-step term of
    node ``i``: ``sum_{e = (i, j)} sum_l tau_jl G_ekl + sum_{e = (j, i)} sum_l
    tau_jl G_elk``.
    """
    g = log_expm1(edge_list.scale[:, None, None, None] * omega[None])
    tau_rows, tau_cols = tau[edge_list.rows], tau[edge_list.cols]
    from_row = np.einsum("elr,eklr->ekr", tau_cols, g)
    value = np.einsum("ekr,ekr->r", tau_rows, from_row)
    flat = (len(g), tau.shape[1] * tau.shape[2])
    rows = (edge_list.by_row @ from_row.reshape(flat)).reshape(tau.shape)
    if not directed:
        return value, 2 * rows
    from_col = np.einsum("elr,elkr->ekr", tau_rows, g)
    cols = (edge_list.by_col @ from_col.reshape(flat)).reshape(tau.shape)
    return value, rows + cols


def bernoulli_mstep(tau, edge_list, exposure, omega0, *, max_newton=50):
    """Block rates of the Bernoulli form by Newton's method in ``log omega``.

    Maximises ``h(v) = sum_e q_ekl g(s_e e^v) - e^v N_kl`` over ``v = log
    omega_kl`` for every block pair, with ``q_ekl = tau_ik tau_jl`` over the
    stored entries ``e = (i, j)`` and ``s_e = theta^out_i theta^in_j``. ``h`` is
    concave (``log(1 - e^{-y})`` is concave in ``log y``, and
    ``sum_e q_ekl s_e <= N_kl``), so Newton's method from ``omega0`` (the
    Poisson rates) converges; steps are clipped to ``|dv| <= 2``. A block pair
    without edges gets the floor ``EPS``.

    Parameters
    ----------
    tau : ndarray of shape (n_nodes, n_blocks, n_restarts)
    edge_list : _EdgeList
    exposure, omega0 : ndarray of shape (n_blocks, n_blocks, n_restarts)
    max_newton : int, default=50

    Returns
    -------
    ndarray of shape (n_blocks, n_blocks, n_restarts)
    """
    q = tau[edge_list.rows][:, :, None, :] * tau[edge_list.cols][:, None, :, :]
    has = q.sum(axis=0) > EPS
    scale = edge_list.scale[:, None, None, None]
    v = np.log(np.maximum(omega0, EPS))
    for _ in range(max_newton):
        rate = np.exp(v)
        y = scale * rate[None]
        tail = -np.expm1(-y)  # 1 - e^{-y}
        slope = y / tail  # y g'(y)
        grad = np.einsum("eklr,eklr->klr", q, slope) - rate * exposure
        curve = slope - slope * slope * (1 - tail)  # d(y g'(y)) / dlog y
        hess = np.einsum("eklr,eklr->klr", q, curve) - rate * exposure
        delta = np.where(has, np.clip(-grad / np.minimum(hess, -EPS), -2, 2), 0.0)
        v = np.minimum(v + delta, MAX_LOG_RATE)
        if np.abs(delta).max() < 1e-12:
            break
    return np.where(has, np.maximum(np.exp(v), EPS), EPS)


def _log_tau(tau, edge, alpha, omega, theta_out, theta_in, weight):
    """Unnormalised ``log tau`` of the E-step for every node (module docstring).

    Expanded as ``w [edge - theta^out_i (omega T^in)_k - theta^in_i (omega^T
    T^out)_k + theta^out_i theta^in_i (((omega + omega^T) tau_i)_k -
    omega_kk)]``, with ``edge`` the edge term of the likelihood's form
    (:func:`_poisson_edge_rows` or :func:`_bernoulli_edge_terms`).
    """
    t_out = np.einsum("i,ikr->kr", theta_out, tau)
    t_in = t_out if theta_in is theta_out else np.einsum("i,ikr->kr", theta_in, tau)
    both = (theta_out * theta_in)[:, None, None]
    sym = omega + omega.transpose(1, 0, 2)
    self_term = np.einsum("klr,ilr->ikr", sym, tau) - np.einsum("kkr->kr", omega)
    exposure = (
        theta_out[:, None, None] * np.einsum("klr,lr->kr", omega, t_in)[None]
        + theta_in[:, None, None] * np.einsum("lkr,lr->kr", omega, t_out)[None]
    )
    with np.errstate(divide="ignore"):
        log_alpha = np.log(alpha)[None]
    return log_alpha + weight * (edge - exposure + both * self_term)


def _softmax(log_tau):
    """Normalise ``exp(log_tau)`` over blocks (axis 1), shifted by the maximum."""
    shifted = log_tau - log_tau.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


# -- the engine ------------------------------------------------------------------


def run_dcsbm(
    A,
    tau0,
    *,
    directed=False,
    algorithm="bcavi",
    likelihood="poisson",
    max_iter=500,
    tol=1e-8,
    callback=None,
):
    """Variational EM for the degree-corrected SBM from many starts at once.

    Each iteration is an M-step and the ELBO at the current ``tau``, then one
    E-step: "bcavi" updates every node at once from the same ``tau``; "cavi"
    sweeps the nodes in order, each update using the rows already updated,
    which never lowers the ELBO.

    The batch update is damped where it needs to be: ``tau <- tau + eta_r
    (F(tau) - tau)`` with ``F`` the E-step map and a step ``eta_r`` per restart
    that starts at 1, is halved (down to ``MIN_STEP``) each time that
    restart's ELBO falls and grows by ``GROW`` (up to 1) each time it rises.
    The undamped map settles into 2-cycles on graphs with hubs (polblogs:
    hubs of both blocks flip together every iteration, the oscillation
    Mukherjee et al. 2018 describe for BCAVI); damping leaves the fixed points
    unchanged. Convergence is judged on the undamped change
    ``max_ik |F(tau)_ik - tau_ik| < tol``, i.e. on being a fixed point of ``F``.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated adjacency matrix (symmetric unless ``directed``).
    tau0 : ndarray of shape (n_nodes, n_blocks, n_restarts)
        Starting responsibilities (rows sum to 1).
    directed : bool, default=False
    algorithm : {"bcavi", "cavi"}, default="bcavi"
    likelihood : {"poisson", "bernoulli"}, default="poisson"
        The edge model (module docstring).
    max_iter : int, default=500
        Most E-step sweeps per restart.
    tol : float, default=1e-8
        A restart stops once ``max_ik |tau_new_ik - tau_ik| < tol``.
    callback : callable or None, default=None
        ``callback(done, max_iter)`` after every iteration.

    Returns
    -------
    DCSBMResult
    """
    # Setup (arguments are validated by the estimator)
    tau = np.array(tau0, dtype=np.float64)
    n_nodes, n_blocks, n_restarts = tau.shape
    A = sp.csr_matrix(A)
    A_t = A.T.tocsr() if directed else A
    weight = 1.0 if directed else 0.5
    theta_out, theta_in = _degrees(A, directed)
    bernoulli = likelihood == "bernoulli"
    edge_list = _EdgeList.of(A, theta_out, theta_in) if bernoulli else None

    # State of every restart; the working arrays hold the running ones only
    tau_final = np.empty_like(tau)
    alpha_all = np.empty((n_blocks, n_restarts))
    omega_all = np.empty((n_blocks, n_blocks, n_restarts))
    edges_all = np.empty_like(omega_all)
    exposure_all = np.empty_like(omega_all)
    elbo_now = np.empty(n_restarts)
    history = []
    n_iter = np.zeros(n_restarts, dtype=np.int64)
    converged = np.zeros(n_restarts, dtype=bool)
    active = np.arange(n_restarts)
    step = np.ones(n_restarts)

    for iteration in range(max_iter + 1):
        # Sparse products for every running restart at once
        flat = tau.reshape(n_nodes, -1)
        a_tau = (A @ flat).reshape(tau.shape)
        at_tau = (A_t @ flat).reshape(tau.shape) if directed else a_tau

        # M-step and the ELBO of the current state
        edges, exposure, sums = _statistics(tau, a_tau, theta_out, theta_in)
        alpha = sums / n_nodes
        omega = dcsbm_mstep(edges, exposure)
        if bernoulli:
            # Newton from the previous rates (close to the new ones), or from
            # the Poisson rates at the start
            start = omega if iteration == 0 else omega_all[:, :, active]
            omega = bernoulli_mstep(tau, edge_list, exposure, start)
            value, edge = _bernoulli_edge_terms(tau, omega, edge_list, directed)
        else:
            value = _poisson_edge_value(edges, omega, theta_out, theta_in)
            edge = None
        alpha_all[:, active], omega_all[:, :, active] = alpha, omega
        edges_all[:, :, active], exposure_all[:, :, active] = edges, exposure
        elbo_now[active] = dcsbm_elbo(tau, alpha, omega, value, exposure, weight)
        if history and algorithm == "bcavi":
            # Halve the step of a restart whose ELBO fell at its last update,
            # lengthen it again (up to 1) while the ELBO rises
            # (a fall within rounding, 1e-12 relative, is no fall)
            before = history[-1][active]
            fell = elbo_now[active] < before - 1e-12 * np.abs(before)
            step[active] = np.where(
                fell,
                np.maximum(step[active] / 2, MIN_STEP),
                np.minimum(step[active] * GROW, 1.0),
            )
        history.append(elbo_now.copy())

        # Freeze restarts that met tol at the last update, or ran out of updates
        stop = converged[active] | (n_iter[active] >= max_iter)
        if stop.any():
            tau_final[:, :, active[stop]] = tau[:, :, stop]
            keep = ~stop
            active, tau, a_tau, at_tau = (
                active[keep],
                tau[:, :, keep],
                a_tau[:, :, keep],
                at_tau[:, :, keep],
            )
            alpha, omega = alpha[:, keep], omega[:, :, keep]
            edge = None if edge is None else edge[:, :, keep]
        if active.size == 0:
            break

        # E-step
        if algorithm == "bcavi":
            if edge is None:
                edge = _poisson_edge_rows(a_tau, at_tau, omega)
            target = _softmax(
                _log_tau(tau, edge, alpha, omega, theta_out, theta_in, weight)
            )
            change = np.abs(target - tau).max(axis=(0, 1))
            eta = step[active][None, None, :]
            tau = tau + eta * (target - tau)
        else:
            target = _sequential_sweep(
                A, A_t, tau, alpha, omega, theta_out, theta_in, weight, bernoulli
            )
            change = np.abs(target - tau).max(axis=(0, 1))
            tau = target
        n_iter[active] += 1
        converged[active] = change < tol
        if callback is not None:
            callback(iteration + 1, max_iter)

    logger.debug(
        "DC-SBM VEM: %d of %d restarts converged", int(converged.sum()), n_restarts
    )
    return DCSBMResult(
        tau=tau_final,
        alpha=alpha_all,
        omega=omega_all,
        edges=edges_all,
        exposure=exposure_all,
        elbo=elbo_now.copy(),
        elbo_history=np.vstack(history),
        n_iter=n_iter,
        converged=converged,
    )


def _sequential_sweep(
    A, A_t, tau, alpha, omega, theta_out, theta_in, weight, bernoulli=False
):
    """One node at a time, in order, with the running block sums kept exact.

    Node ``i``'s update is the E-step's formula with ``tau`` holding the rows
    already updated in this sweep; it is the exact maximiser of the ELBO over
    ``tau_i`` (the ELBO is linear in ``tau_i`` plus its entropy).
    """
    tau = tau.copy()
    log_omega = np.log(omega)
    with np.errstate(divide="ignore"):
        log_alpha = np.log(alpha)
    diag = np.einsum("kkr->kr", omega)
    t_out = np.einsum("i,ikr->kr", theta_out, tau)
    t_in = np.einsum("i,ikr->kr", theta_in, tau)
    for i in range(tau.shape[0]):
        out_nbrs = A.indices[A.indptr[i] : A.indptr[i + 1]]
        in_nbrs = A_t.indices[A_t.indptr[i] : A_t.indptr[i + 1]]
        if bernoulli:
            # g(theta^out_i theta^in_j omega_kl) for every out-neighbour j, and
            # g(theta^out_j theta^in_i omega_lk) for every in-neighbour j
            g_out = log_expm1(
                (theta_out[i] * theta_in[out_nbrs])[:, None, None, None] * omega
            )
            g_in = log_expm1(
                (theta_out[in_nbrs] * theta_in[i])[:, None, None, None] * omega
            )
            edge = np.einsum("jlr,jklr->kr", tau[out_nbrs], g_out) + np.einsum(
                "jlr,jlkr->kr", tau[in_nbrs], g_in
            )
        else:
            edge = np.einsum(
                "lr,klr->kr", tau[out_nbrs].sum(axis=0), log_omega
            ) + np.einsum("lr,lkr->kr", tau[in_nbrs].sum(axis=0), log_omega)
        old = tau[i]
        rest_in = t_in - theta_in[i] * old
        rest_out = t_out - theta_out[i] * old
        log_row = log_alpha + weight * (
            edge
            - theta_out[i] * np.einsum("klr,lr->kr", omega, rest_in)
            - theta_in[i] * np.einsum("lkr,lr->kr", omega, rest_out)
            - theta_out[i] * theta_in[i] * diag
        )
        new = np.exp(log_row - logsumexp(log_row, axis=0, keepdims=True))
        tau[i] = new
        t_in = rest_in + theta_in[i] * new
        t_out = rest_out + theta_out[i] * new
    return tau


def dcsbm_icl(A, labels, n_blocks, *, directed=False, likelihood="poisson"):
    """Integrated classification likelihood of a hard labelling under the DC-SBM.

    ``ICL(K) = max log P(A, z | alpha, theta, omega) - (1/2) (d_omega + d_theta)
    log N - (K - 1)/2 log n``, the criterion of Daudin, Picard and Robin (2008,
    section 4.2) carried over to this model: ``N`` the number of node pairs,
    ``d_omega = K (K + 1) / 2`` (undirected) or ``K^2`` (directed) and
    ``d_theta = n - K`` (``2 (n - K)`` directed: one scale per block and
    direction is carried by ``omega``). For the Poisson form the maximum is in
    closed form (Karrer and Newman 2011, eq. 8-9): ``alpha_k = n_k / n``,
    ``theta = d`` and ``omega_kl = m_kl / (kappa^out_k kappa^in_l)``, giving
    ``sum_k n_k log(n_k / n) + w [sum_i d^out_i log d^out_i + sum_i d^in_i log
    d^in_i + sum_kl m_kl log(m_kl / (kappa^out_k kappa^in_l)) - sum_kl m_kl]``.
    For the Bernoulli form ``theta`` is held at the degrees and ``omega`` is
    :func:`bernoulli_mstep`'s.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
    labels : ndarray of shape (n_nodes,)
        Blocks in ``range(n_blocks)``; empty blocks are allowed.
    n_blocks : int
    directed : bool, default=False
    likelihood : {"poisson", "bernoulli"}, default="poisson"

    Returns
    -------
    float
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_nodes = labels.size
    onehot = np.eye(n_blocks)[labels]
    A = sp.csr_matrix(A)
    d_out, d_in = _degrees(A, directed)
    sizes = onehot.sum(axis=0)
    weight = 1.0 if directed else 0.5
    if likelihood == "bernoulli":
        tau = onehot[:, :, None]
        edges, exposure, _ = _statistics(tau, (A @ onehot)[:, :, None], d_out, d_in)
        edge_list = _EdgeList.of(A, d_out, d_in)
        omega = bernoulli_mstep(tau, edge_list, exposure, dcsbm_mstep(edges, exposure))
        value, _ = _bernoulli_edge_terms(tau, omega, edge_list, directed)
        fit = float(value[0] - np.sum(omega * exposure))
    else:
        edges = onehot.T @ (A @ onehot)
        kappa_out, kappa_in = onehot.T @ d_out, onehot.T @ d_in
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = edges / np.outer(kappa_out, kappa_in)
        fit = (
            xlogy(d_out, d_out).sum()
            + xlogy(d_in, d_in).sum()
            + xlogy(edges, np.where(edges > 0, ratio, 1.0)).sum()
            - edges.sum()
        )
    complete = xlogy(sizes, sizes / n_nodes).sum() + weight * fit
    n_omega = n_blocks**2 if directed else n_blocks * (n_blocks + 1) // 2
    n_theta = (2 if directed else 1) * (n_nodes - n_blocks)
    log_pairs = np.log(max(n_pairs(n_nodes, directed=directed), 1.0))
    return float(
        complete
        - 0.5 * (n_omega + n_theta) * log_pairs
        - 0.5 * (n_blocks - 1) * np.log(n_nodes)
    )


# -- the spectral start ----------------------------------------------------------


def regularized_spectral_labels(A, n_blocks, rng):
    """k-means labels from the regularised, degree-normalised spectral embedding.

    ``L_tau = D_tau^{-1/2} A D_tau^{-1/2}`` with ``D_tau = D + tau I`` and
    ``tau`` the average degree (Qin and Rohe 2013, section 2); its
    ``n_blocks`` eigenvectors of largest absolute eigenvalue, each row scaled to
    unit length (their RSC-tau), then k-means (scikit-learn, 10 seeded starts).
    Eigenvalues are taken by magnitude so that disassortative structure (a
    negative eigenvalue, as in word adjacency graphs) is found too. Directed
    graphs are read as ``A + A^T``.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
    n_blocks : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_nodes,)
    """
    from sklearn.cluster import KMeans

    n_nodes = A.shape[0]
    if n_blocks == 1:
        return np.zeros(n_nodes, dtype=np.int64)
    sym = sp.csr_matrix(A + A.T if (A != A.T).nnz else A)
    degree = np.asarray(sym.sum(axis=1)).ravel()
    reg = degree + max(degree.mean(), 1e-12)
    scale = sp.diags(1.0 / np.sqrt(reg))
    lap = scale @ sym @ scale
    if n_nodes <= max(50, 2 * n_blocks + 1):
        values, vectors = np.linalg.eigh(lap.toarray())
        vectors = vectors[:, np.argsort(-np.abs(values))[:n_blocks]]
    else:
        v0 = rng.uniform(-1, 1, size=n_nodes)
        _, vectors = spla.eigsh(lap, k=n_blocks, which="LM", v0=v0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    embedding = vectors / np.where(norms > 0, norms, 1.0)
    seed = int(rng.integers(0, 2**31 - 1))
    kmeans = KMeans(n_clusters=n_blocks, n_init=10, random_state=seed)
    # One thread: see initscape.sbm._init (k-means on a busy machine).
    with threadpool_limits(1):
        return kmeans.fit_predict(embedding).astype(np.int64)


def dcsbm_initial_responsibilities(A, n_blocks, init, n_init, rng):
    """Starting ``tau0`` of shape (n_nodes, n_blocks, n_init).

    As :func:`initscape.sbm._init.initial_responsibilities`, except that
    "spectral" uses :func:`regularized_spectral_labels`, the start suited to
    degree heterogeneity; each restart is the one-hot labelling mixed with weight
    ``SMOOTHING`` with its own Dirichlet(1) rows.
    """
    if isinstance(init, str) and init == "spectral":
        labels = regularized_spectral_labels(A, n_blocks, rng)
        onehot = np.eye(n_blocks)[labels][:, :, None]
        noise = _dirichlet_rows(rng, A.shape[0], n_blocks, n_init)
        return (1 - SMOOTHING) * onehot + SMOOTHING * noise
    return initial_responsibilities(A, n_blocks, init, n_init, rng)


# -- the estimator ----------------------------------------------------------------


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


_CONSTRAINTS = {
    "n_blocks": lambda v: check_scalar(v, "n_blocks", numbers.Integral, low=1),
    "n_init": lambda v: check_scalar(v, "n_init", numbers.Integral, low=1),
    "max_iter": lambda v: check_scalar(v, "max_iter", numbers.Integral, low=0),
    "tol": lambda v: check_scalar(v, "tol", low=0, low_inclusive=False),
    "algorithm": lambda v: check_option(v, "algorithm", ("bcavi", "cavi")),
    "likelihood": lambda v: check_option(v, "likelihood", ("poisson", "bernoulli")),
    "directed": lambda v: _check_bool(v, "directed"),
    "init": lambda v: (
        check_option(v, "init", INIT_METHODS) if isinstance(v, str) else v
    ),
    "callback": lambda v: _check_callable(v, "callback"),
    "random_state": check_random_state,
}


class DegreeCorrectedSBM(ClusterMixin, BaseEstimator):
    """Degree-corrected SBM fitted by mean-field variational EM.

    The Poisson model of Karrer and Newman (2011) with degree parameters
    ``theta`` and block rates ``omega``; E-step, M-step and ELBO as in the
    module docstring of :mod:`initscape.sbm._dcsbm`. All ``n_init`` restarts
    advance together; the one with the largest ELBO is returned and every
    restart's outcome is kept, as in :class:`~initscape.sbm.MeanFieldSBM`.

    Parameters
    ----------
    n_blocks : int, default=2
        Number of blocks K.
    init : {"random", "bernoulli", "spectral", "degree"} or array-like, \
default="spectral"
        Starting responsibilities, as for ``MeanFieldSBM``, except that
        "spectral" is the regularised, degree-normalised embedding of
        :func:`regularized_spectral_labels` (Qin and Rohe 2013).
    n_init : int, default=10
        Number of restarts R (ignored when ``init`` has shape (n, K, R)).
    algorithm : {"bcavi", "cavi"}, default="bcavi"
        E-step for all nodes at once (damped per restart whenever its ELBO
        falls, see :func:`run_dcsbm`), or one node at a time (never lowers the
        ELBO; a Python loop over nodes, for small graphs).
    likelihood : {"poisson", "bernoulli"}, default="poisson"
        The edge model: Karrer and Newman's Poisson form, or its Bernoulli form
        ``P(A_ij = 1) = 1 - exp(-theta_i theta_j omega_kl)`` (module
        docstring), whose rate M-step is a Newton iteration.
    directed : bool, default=False
        Directed graph: out- and in-degree parameters.
    max_iter : int, default=500
    tol : float, default=1e-8
        A restart stops once ``max_ik |tau_new_ik - tau_ik| < tol``.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds every random start (one generator feeds all restarts).
    callback : callable or None, default=None
        ``callback(done, total)`` after every iteration, for progress bars.

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        ``argmax_k tau_ik`` of the returned restart.
    responsibilities_ : ndarray of shape (n_nodes, n_blocks)
        ``tau_ik = Q(z_i = k)``.
    degree_params_ : ndarray of shape (n_nodes,) or (n_nodes, 2)
        ``theta`` (the degrees); directed: columns ``theta^out``, ``theta^in``.
    block_rates_ : ndarray of shape (n_blocks, n_blocks)
        ``omega``: expected edges between nodes ``i``, ``j`` of blocks ``k``,
        ``l`` are ``theta_i theta_j omega_kl``.
    block_probs_ : ndarray of shape (n_blocks, n_blocks)
        Expected edges per node pair between two blocks, ``m_kl / P_kl`` with
        ``P`` the soft pair counts: a connectivity comparable with
        ``MeanFieldSBM.block_probs_``.
    block_proportions_ : ndarray of shape (n_blocks,)
        ``alpha``.
    proportions_estimated_ : bool
        Always True: ``alpha`` is estimated by the M-step (as
        ``MeanFieldSBM.proportions_estimated_`` says for the plain model).
    elbo_ : float
    elbo_history_ : ndarray of shape (n_iter_ + 1,)
    n_iter_ : int
    converged_ : bool
    icl_ : float
        :func:`dcsbm_icl` of ``labels_``.
    restarts_ : list of dict
        One per restart: ``"elbo"``, ``"n_iter"``, ``"converged"`` and the
        ``"ari"``, ``"nmi"``, ``"overlap"`` of its labels with ``labels_``.
    best_restart_ : int

    References
    ----------
    Karrer and Newman. Stochastic blockmodels and community structure in
    networks. Physical Review E 83 (2011), 016107.

    Examples
    --------
    >>> from initscape.sbm import DegreeCorrectedSBM, load_network
    >>> net = load_network("karate")
    >>> model = DegreeCorrectedSBM(n_blocks=2, random_state=0).fit(net.adjacency)
    >>> model.labels_.shape
    (34,)
    """

    def __init__(
        self,
        n_blocks=2,
        init="spectral",
        n_init=10,
        algorithm="bcavi",
        likelihood="poisson",
        directed=False,
        max_iter=500,
        tol=1e-8,
        random_state=None,
        callback=None,
    ):
        self.n_blocks = n_blocks
        self.init = init
        self.n_init = n_init
        self.algorithm = algorithm
        self.likelihood = likelihood
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

        # Starting responsibilities, one generator for all restarts
        tau0 = dcsbm_initial_responsibilities(
            A, n_blocks, params["init"], params["n_init"], params["random_state"]
        )

        # Run all restarts together
        res = run_dcsbm(
            A,
            tau0,
            directed=directed,
            algorithm=params["algorithm"],
            likelihood=params["likelihood"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            callback=params["callback"],
        )

        # Keep the best restart by ELBO, and every restart's outcome
        best = int(np.argmax(res.elbo))
        tau = res.tau
        self.best_restart_ = best
        self.responsibilities_ = tau[:, :, best]
        self.labels_ = np.argmax(self.responsibilities_, axis=1)
        d_out, d_in = _degrees(A, directed)
        self.degree_params_ = np.stack([d_out, d_in], axis=1) if directed else d_out
        self.block_rates_ = res.omega[:, :, best]
        self.block_probs_ = _pair_density(self.responsibilities_, res.edges[:, :, best])
        self.block_proportions_ = res.alpha[:, best]
        self.proportions_estimated_ = True
        self.elbo_ = float(res.elbo[best])
        self.n_iter_ = int(res.n_iter[best])
        self.converged_ = bool(res.converged[best])
        self.elbo_history_ = res.elbo_history[: self.n_iter_ + 1, best].copy()
        self.icl_ = dcsbm_icl(
            A,
            self.labels_,
            n_blocks,
            directed=directed,
            likelihood=params["likelihood"],
        )
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
                f"DegreeCorrectedSBM: the returned restart (ELBO {self.elbo_:.6g}) "
                f"did not converge in max_iter={params['max_iter']} iterations "
                f"(tol={params['tol']:g}); raise max_iter or loosen tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def fit_predict(self, A, y=None):
        """Fit to ``A`` and return ``labels_``, ndarray of shape (n_nodes,)."""
        return self.fit(A).labels_


def select_n_blocks_dc(
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
    """Choose the number of blocks of the degree-corrected SBM by ICL.

    Fits ``DegreeCorrectedSBM(n_blocks=K, ...)`` for every K in ``candidates``
    and returns the K of largest ``icl_`` (:func:`dcsbm_icl`), as
    :func:`initscape.sbm.select_n_blocks` does for the plain model. Convergence
    warnings of the single fits are collected and not repeated.

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
        model = DegreeCorrectedSBM(
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
        scores[int(k)] = model.icl_
        logger.info("n_blocks=%d: DC ICL %.6g", k, model.icl_)
    return max(scores, key=scores.get), scores


def _pair_density(tau, edges):
    """``m_kl / P_kl``, ``P = S S^T - tau^T tau`` (ordered pairs, soft counts)."""
    sums = tau.sum(axis=0)
    pairs = np.outer(sums, sums) - tau.T @ tau
    ok = pairs > EPS
    return np.where(ok, edges / np.where(ok, pairs, 1.0), 0.0)
