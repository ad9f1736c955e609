"""Variational EM for the K-block Bernoulli stochastic block model.

The model (Daudin, Picard and Robin 2008, section 2): labels ``z_i`` iid with
``P(z_i = k) = alpha_k``, and ``A_ij ~ Bernoulli(pi_{z_i z_j})`` independently for
the pairs ``i < j`` (undirected, ``pi`` symmetric) or for all ordered pairs
``i != j`` (directed). The mean-field family is ``Q(z_i = k) = tau_ik``.

With ``B = logit(pi)``, ``C = log(1 - pi)`` and block sums ``S_l = sum_j tau_jl``:

- E-step (fixed point, section 3.2, in log space):
  ``log tau_iq = log alpha_q + sum_l [(A tau)_il B_ql + (S_l - tau_il) C_ql]
  (+ sum_l [(A^T tau)_il B_lq + (S_l - tau_il) C_lq] when directed) + const``,
  normalised over ``q`` with logsumexp;
- M-step (section 3.3): ``alpha_q = sum_i tau_iq / n`` and
  ``pi_ql = (tau^T A tau)_ql / (S S^T - tau^T tau)_ql``;
- ELBO: ``sum_iq tau_iq log alpha_q + w sum_ql [(tau^T A tau)_ql B_ql +
  (S S^T - tau^T tau)_ql C_ql] + sum_iq H(tau_iq)``, ``w = 1/2`` undirected
  (each pair counted once), ``w = 1`` directed.

Each iteration applies one E-step update to every node at once (with K = 2 and
``pi = [[p, q], [q, p]]`` it is exactly the two-class BCAVI update, wherever
that update raises the ELBO) and then, if the parameters are estimated, the
M-step.

Damped E-step. The parallel update ``tau -> tau_new`` is not an ascent step: with
known ``pi`` it can lower the ELBO and cycle between two states forever (karate
with three assortative blocks did, at every restart). For fixed parameters the
ELBO restricted to one row ``tau_i`` is linear plus the entropy, hence strictly
concave, and ``tau_new_i`` is its maximiser with the other rows held. So the
directional derivative of the ELBO along ``d = tau_new - tau`` is the sum of the
row-wise directional derivatives, each at least the row's gain
``f_i(tau_new_i) - f_i(tau_i) >= 0`` by concavity: ``d`` is an ascent direction,
zero only at a fixed point. (The ELBO is not jointly concave in ``tau``: the
edge terms are bilinear across rows, which is why the full step can overshoot.)
Each restart therefore takes ``tau + s d`` with the largest ``s`` in
``1, 1/2, 1/4, ...`` (at most 30 halvings) whose ELBO is not below the current
one; the rows stay on the simplex. The M-step maximises the ELBO over the
parameters exactly (``pi`` within its clip), so the ELBO never decreases, with
known or estimated parameters. A restart whose full step lowers the ELBO and
whose damped steps raise it by nothing in float64 is at a fixed point up to
rounding and counts as converged.

Departure from the paper: Daudin et al. iterate the E-step fixed point to
convergence before each M-step; here one damped fixed-point step alternates
with one M-step, which has the same fixed points and matches the two-class
engine. As in the two-class case (Mukherjee et al. 2018,
section 5), estimated parameters from weak starts (random responsibilities) often
drift to the uninformative point ``tau_i = alpha`` for every node, slowly, since
that point is not isolated; spectral starts avoid it.

All restarts are the columns of one (n_nodes, n_blocks * n_restarts) matrix: one
sparse product ``A @ tau`` (and ``A^T @ tau`` when directed) per iteration, never
an n x n dense matrix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import entr, logsumexp, xlogy

from initscape.sbm._graph import edge_count, n_pairs
from initscape.sbm._sample import log_likelihood

logger = logging.getLogger(__name__)

__all__ = ["KBlockResult", "icl", "run_kblock"]

#: Estimated connection probabilities are clipped into [EPS, 1 - EPS].
EPS = 1e-12
#: Most halvings of the E-step's step size before a restart is declared stuck.
MAX_HALVINGS = 30


@dataclass
class KBlockResult:
    """Outcome of :func:`run_kblock` for every restart.

    Attributes
    ----------
    tau : ndarray of shape (n_nodes, n_blocks, n_restarts)
        Final responsibilities.
    alpha : ndarray of shape (n_blocks, n_restarts)
        Block proportions (given, or estimated at the final ``tau``).
    pi : ndarray of shape (n_blocks, n_blocks, n_restarts)
        Connection probabilities (given, or estimated at the final ``tau``).
    elbo : ndarray of shape (n_restarts,)
    elbo_history : ndarray of shape (max(n_iter) + 1, n_restarts)
        Row ``k``: the ELBO after ``k`` iterations; a stopped restart repeats its
        final value.
    n_iter : ndarray of shape (n_restarts,)
    converged : ndarray of shape (n_restarts,)
        Whether ``max_ik |tau_new_ik - tau_ik| < tol`` was met before
        ``max_iter`` (``tau_new`` the undamped update), or no damped step could
        raise the ELBO in float64.
    """

    tau: np.ndarray
    alpha: np.ndarray
    pi: np.ndarray
    elbo: np.ndarray
    elbo_history: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def run_kblock(
    A,
    tau0,
    *,
    block_probs=None,
    block_proportions=None,
    directed=False,
    max_iter=500,
    tol=1e-8,
    callback=None,
):
    """Variational EM from many starts at once.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated adjacency matrix (symmetric unless ``directed``).
    tau0 : ndarray of shape (n_nodes, n_blocks, n_restarts)
        Starting responsibilities (rows sum to 1).
    block_probs : ndarray of shape (n_blocks, n_blocks) or None, default=None
        Known ``pi``, entries in (0, 1), held fixed; None estimates it.
    block_proportions : ndarray of shape (n_blocks,) or None, default=None
        Known ``alpha``, held fixed; None estimates it when ``block_probs`` is
        None and fixes it to ``1 / n_blocks`` otherwise.
    directed : bool, default=False
    max_iter : int, default=500
        Most iterations (damped E-step updates) per restart.
    tol : float, default=1e-8
        A restart stops once ``max_ik |tau_new_ik - tau_ik| < tol``.
    callback : callable or None, default=None
        ``callback(done, max_iter)`` after every iteration.

    Returns
    -------
    KBlockResult
    """
    # Setup (the estimator validates the parameters; the shapes are checked here)
    tau0 = np.asarray(tau0, dtype=np.float64)
    if tau0.ndim != 3 or tau0.shape[0] != A.shape[0]:
        raise ValueError(
            "tau0 must have shape (n_nodes, n_blocks, n_restarts) with n_nodes = "
            f"{A.shape[0]}; got shape {tau0.shape}."
        )
    n_nodes, n_blocks, n_restarts = tau0.shape
    if block_probs is not None and np.shape(block_probs) != (n_blocks, n_blocks):
        raise ValueError(
            f"block_probs must have shape ({n_blocks}, {n_blocks}); got shape "
            f"{np.shape(block_probs)}."
        )
    A_t = A.T.tocsr() if directed else None
    weight = 1.0 if directed else 0.5
    estimate_pi = block_probs is None
    if block_proportions is None and not estimate_pi:
        block_proportions = np.full(n_blocks, 1.0 / n_blocks)
    estimate_alpha = block_proportions is None
    density = _density(A, n_nodes, directed)

    # State of every restart; the working array holds the running ones only
    tau_final = np.empty_like(tau0)
    alpha_all = np.empty((n_blocks, n_restarts))
    pi_all = np.empty((n_blocks, n_blocks, n_restarts))
    if not estimate_alpha:
        alpha_all[:] = np.asarray(block_proportions, dtype=np.float64)[:, None]
    if not estimate_pi:
        pi_all[:] = np.asarray(block_probs, dtype=np.float64)[:, :, None]
    elbo_now = np.empty(n_restarts)
    history = []
    n_iter = np.zeros(n_restarts, dtype=np.int64)
    converged = np.zeros(n_restarts, dtype=bool)
    active = np.arange(n_restarts)
    tau = tau0.copy()

    a_tau, at_tau = _products(A, A_t, tau)
    for iteration in range(max_iter + 1):
        # Products for every running restart at once (carried from the E-step)
        sums = tau.sum(axis=0)
        edges = np.einsum("ikr,ilr->klr", tau, a_tau)
        pairs = sums[:, None, :] * sums[None, :, :] - np.einsum(
            "ikr,ilr->klr", tau, tau
        )

        # M-step (estimated parameters) and ELBO of the current state
        if estimate_alpha:
            alpha_all[:, active] = sums / n_nodes
        if estimate_pi:
            pi_all[:, :, active] = _mstep_pi(edges, pairs, density)
        alpha, pi = alpha_all[:, active], pi_all[:, :, active]
        logit_pi = np.log(pi) - np.log1p(-pi)
        log_not = np.log1p(-pi)
        elbo_now[active] = (
            xlogy(sums, alpha).sum(axis=0)
            + weight * np.einsum("klr,klr->r", edges, logit_pi)
            + weight * np.einsum("klr,klr->r", pairs, log_not)
            + entr(tau).sum(axis=(0, 1))
        )
        history.append(elbo_now.copy())

        # Freeze restarts that met tol at the last update, or ran out of updates
        stop = converged[active] | (n_iter[active] >= max_iter)
        if stop.any():
            tau_final[:, :, active[stop]] = tau[:, :, stop]
            keep = ~stop
            active, tau, a_tau, sums = (
                active[keep],
                tau[:, :, keep],
                a_tau[:, :, keep],
                sums[:, keep],
            )
            at_tau = at_tau[:, :, keep] if directed else None
            alpha, logit_pi, log_not = (
                alpha[:, keep],
                logit_pi[:, :, keep],
                log_not[:, :, keep],
            )
        if active.size == 0:
            break

        # E-step update, in log space
        with np.errstate(divide="ignore"):
            log_tau = (
                np.log(alpha)[None, :, :] + np.einsum("lr,qlr->qr", sums, log_not)[None]
            )
        log_tau = log_tau + np.einsum("ilr,qlr->iqr", a_tau, logit_pi)
        log_tau -= np.einsum("ilr,qlr->iqr", tau, log_not)
        if directed:
            log_tau += np.einsum("lr,lqr->qr", sums, log_not)[None]
            log_tau += np.einsum("ilr,lqr->iqr", at_tau, logit_pi)
            log_tau -= np.einsum("ilr,lqr->iqr", tau, log_not)
        tau_new = np.exp(log_tau - logsumexp(log_tau, axis=1, keepdims=True))
        change = np.abs(tau_new - tau).max(axis=(0, 1))

        # Damped step tau + s (tau_new - tau): s halves until the ELBO at the
        # current parameters does not fall (see the module docstring)
        theta = (alpha, logit_pi, log_not, weight)
        tau, a_tau, at_tau, stuck = _ascent_step(
            A, A_t, tau, a_tau, at_tau, tau_new, elbo_now[active], theta
        )
        n_iter[active] += 1
        converged[active] = (change < tol) | stuck
        if callback is not None:
            callback(iteration + 1, max_iter)

    logger.debug(
        "K-block VEM: %d of %d restarts converged", int(converged.sum()), n_restarts
    )
    return KBlockResult(
        tau=tau_final,
        alpha=alpha_all,
        pi=pi_all,
        elbo=elbo_now.copy(),
        elbo_history=np.vstack(history),
        n_iter=n_iter,
        converged=converged,
    )


def _products(A, A_t, tau):
    """``A @ tau`` (and ``A^T @ tau`` when ``A_t`` is given), restart by restart."""
    n_nodes, n_blocks, width = tau.shape
    flat = tau.reshape(n_nodes, n_blocks * width)
    a_tau = np.asarray(A @ flat).reshape(tau.shape)
    at_tau = None if A_t is None else np.asarray(A_t @ flat).reshape(tau.shape)
    return a_tau, at_tau


def _elbo_fixed(tau, a_tau, theta):
    """ELBO of every restart at ``tau`` for fixed ``alpha``, ``logit(pi)``,
    ``log(1 - pi)``."""
    alpha, logit_pi, log_not, weight = theta
    sums = tau.sum(axis=0)
    edges = np.einsum("ikr,ilr->klr", tau, a_tau)
    pairs = sums[:, None, :] * sums[None, :, :] - np.einsum("ikr,ilr->klr", tau, tau)
    return (
        xlogy(sums, alpha).sum(axis=0)
        + weight * np.einsum("klr,klr->r", edges, logit_pi)
        + weight * np.einsum("klr,klr->r", pairs, log_not)
        + entr(tau).sum(axis=(0, 1))
    )


def _ascent_step(A, A_t, tau, a_tau, at_tau, tau_new, elbo_old, theta):
    """The largest step ``s`` in ``1, 1/2, 1/4, ...`` whose ELBO is not below
    ``elbo_old``, per restart.

    Products at ``tau + s d`` are ``(1 - s) A tau + s A tau_new``: one sparse
    product per iteration, whatever the number of halvings. A restart whose full
    step lowers the ELBO and whose damped steps do not raise it at all (in
    float64) is at a fixed point up to rounding, since ``d`` is an ascent
    direction wherever ``tau_new != tau``: it keeps ``tau`` and is reported
    ``stuck``.

    Returns
    -------
    tau, a_tau, at_tau : the new state and its products
    stuck : ndarray of bool of shape (n_restarts,)
    """
    a_new, at_new = _products(A, A_t, tau_new)
    step = np.ones(tau.shape[2])
    elbo = _elbo_fixed(tau_new, a_new, theta)
    bad = elbo < elbo_old
    damped = bad.copy()
    out_tau, out_a = tau_new.copy(), a_new.copy()
    out_at = None if at_new is None else at_new.copy()
    halvings = 0
    while bad.any() and halvings < MAX_HALVINGS:
        halvings += 1
        step[bad] *= 0.5
        s = step[bad]
        cand = (1 - s) * tau[:, :, bad] + s * tau_new[:, :, bad]
        cand_a = (1 - s) * a_tau[:, :, bad] + s * a_new[:, :, bad]
        sub = (*(t[..., bad] for t in theta[:3]), theta[3])
        idx = np.flatnonzero(bad)
        elbo[idx] = _elbo_fixed(cand, cand_a, sub)
        out_tau[:, :, idx], out_a[:, :, idx] = cand, cand_a
        if out_at is not None:
            out_at[:, :, idx] = (1 - s) * at_tau[:, :, bad] + s * at_new[:, :, bad]
        bad[idx] = elbo[idx] < elbo_old[idx]
    stuck = damped & ~(elbo > elbo_old)
    if stuck.any():
        out_tau[:, :, stuck], out_a[:, :, stuck] = tau[:, :, stuck], a_tau[:, :, stuck]
        if out_at is not None:
            out_at[:, :, stuck] = at_tau[:, :, stuck]
    if halvings:
        logger.debug("K-block VEM: damped steps down to %g", float(step.min()))
    return out_tau, out_a, out_at, stuck


def _density(A, n_nodes, directed):
    pairs = n_pairs(n_nodes, directed=directed)
    return edge_count(A, directed=directed) / pairs if pairs > 0 else 0.5


def _mstep_pi(edges, pairs, density):
    """``pi_ql = (tau^T A tau)_ql / (S S^T - tau^T tau)_ql``, clipped.

    A block pair with no node pairs (an empty block) gets the edge density.
    """
    tiny = 1e-12
    ok = pairs > tiny
    pi = np.where(ok, edges / np.where(ok, pairs, 1.0), density)
    return np.clip(pi, EPS, 1 - EPS)


def icl(A, labels, n_blocks, *, directed=False):
    """Integrated classification likelihood of a hard labelling.

    ``ICL(K) = max_theta log P(A, z | theta) - (1/2) d_pi log N - (K - 1)/2 log n``
    (Daudin, Picard and Robin 2008, section 4.2), with ``N`` the number of node
    pairs, ``d_pi = K (K + 1) / 2`` (undirected) or ``K^2`` (directed) and the
    maximum taken in closed form: ``alpha_k = n_k / n`` and
    ``pi_ql = m_ql / N_ql`` (edges over pairs between the two blocks).

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
    labels : ndarray of shape (n_nodes,)
        Blocks in ``range(n_blocks)``; empty blocks are allowed.
    n_blocks : int
    directed : bool, default=False

    Returns
    -------
    float
    """
    from initscape.sbm._sample import block_counts

    labels = np.asarray(labels, dtype=np.int64)
    n_nodes = labels.size
    edges, pairs = block_counts(A, labels, n_blocks, directed=directed)
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(pairs > 0, edges / np.where(pairs > 0, pairs, 1.0), 0.0)
    sizes = np.bincount(labels, minlength=n_blocks).astype(np.float64)
    complete = log_likelihood(A, labels, pi, directed=directed) + float(
        xlogy(sizes, sizes / n_nodes).sum()
    )
    n_pi = n_blocks**2 if directed else n_blocks * (n_blocks + 1) // 2
    total_pairs = max(n_pairs(n_nodes, directed=directed), 1.0)
    return (
        complete
        - 0.5 * n_pi * np.log(total_pairs)
        - 0.5 * (n_blocks - 1) * np.log(n_nodes)
    )
