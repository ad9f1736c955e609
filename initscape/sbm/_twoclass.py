"""Mean-field variational inference for the two-class stochastic block model.

The model (Mukherjee, Sarkar, Wang and Yan, NeurIPS 2018, section 2): labels
``z_i in {0, 1}`` with prior ``pi = P(z_i = 1)``, and for ``i < j`` independently
``A_ij ~ Bernoulli(p)`` when ``z_i = z_j``, ``Bernoulli(q)`` otherwise. The
mean-field family is ``Q(z) = prod_i psi_i^{z_i} (1 - psi_i)^{1 - z_i}``.

With ``u = psi - 1/2`` and ``s_ij = psi_i psi_j + (1 - psi_i)(1 - psi_j)
= 1/2 + 2 u_i u_j``, the evidence lower bound is exactly

    ELBO(psi; p, q) = S_A log p + (S - S_A) log(1 - p)
                      + (m - S_A) log q + (N - S - m + S_A) log(1 - q)
                      + sum_i [psi_i log pi + (1 - psi_i) log(1 - pi)]
                      + sum_i H(psi_i),

where ``m`` is the number of edges, ``N = n (n - 1) / 2`` the number of pairs,
``S = sum_{i<j} s_ij``, ``S_A = sum_{i<j} s_ij A_ij`` and ``H`` the binary entropy.
Its partial derivative in ``psi_i`` vanishes exactly at the coordinate update

    psi_i <- sigmoid(4 t [(A - lambda (J - I)) u]_i + log(pi / (1 - pi))),

    t = (1/2) log[p (1 - q) / (q (1 - p))],
    lambda = log[(1 - q) / (1 - p)] / (2 t),

which BCAVI applies to all nodes at once and CAVI node by node (paper, eq. 2.3 and
section 2.1). ``(A - lambda (J - I)) u = A u - lambda (sum(u) - u)`` costs
``O(nnz + n)``.

Implementation notes
--------------------
The engine works with ``v = 2 psi - 1 = 2 u`` in ``[-1, 1]``, for which the update
reads ``v <- tanh(t (A v) - t lambda (sum(v) - v) + logit(pi) / 2)``. Only the
product ``t lambda = (1/2) log[(1 - q) / (1 - p)]`` enters, which stays finite when
``p = q`` (where ``t = 0`` and ``lambda`` tends to ``p``), so no limit has to be
taken. In terms of ``v``, ``S_A = m / 2 + v^T A v / 4`` and
``S = N / 2 + ((sum v)^2 - sum v^2) / 4``; the joint M-step is
``p_hat = S_A / S`` and ``q_hat = (m - S_A) / (N - S)``, the maximisers of the
ELBO in ``p`` and ``q``.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import entr

from initscape._validation import check_option, check_scalar
from initscape.sbm._graph import edge_count, n_pairs

logger = logging.getLogger(__name__)

__all__ = [
    "TwoClassResult",
    "bcavi_step",
    "constants",
    "elbo",
    "estimate_params",
    "run_twoclass",
]

#: Estimated p_hat, q_hat are clipped into [EPS, 1 - EPS], keeping logs finite.
EPS = 1e-12

# Rows per block of the element-wise passes, so that a block of an (n, R) array
# stays in cache (about 1 MiB of float64 whatever R is).
_BLOCK_ELEMENTS = 2**17


@dataclass
class TwoClassResult:
    """Outcome of :func:`run_twoclass` for every restart.

    Attributes
    ----------
    psi : ndarray of shape (n_nodes, n_restarts)
        Final ``psi_i = Q(z_i = 1)``.
    p, q : ndarray of shape (n_restarts,)
        Within- and between-block probabilities: the given ones, or the M-step
        estimates at the final ``psi``.
    elbo : ndarray of shape (n_restarts,)
        ELBO at the final ``psi`` (and ``p``, ``q``).
    elbo_history : ndarray of shape (max(n_iter) + 1, n_restarts)
        Row ``k`` holds the ELBO after ``k`` updates (row 0: at ``psi0``); a restart
        that stopped earlier repeats its final value.
    n_iter : ndarray of shape (n_restarts,)
        Updates applied (BCAVI steps or CAVI sweeps).
    converged : ndarray of shape (n_restarts,)
        Whether ``max_i |psi_new - psi| < tol`` was met before ``max_iter``.
    """

    psi: np.ndarray
    p: np.ndarray
    q: np.ndarray
    elbo: np.ndarray
    elbo_history: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


# --------------------------------------------------------------------------
# Small pure functions of the model
# --------------------------------------------------------------------------


def constants(p, q):
    """The constants ``t`` and ``lambda`` of the two-class update.

    ``t = (1/2) log[p (1 - q) / (q (1 - p))]`` and
    ``lambda = log[(1 - q) / (1 - p)] / (2 t)`` (Mukherjee et al. 2018, eq. 2.3).
    At ``p = q`` (``t = 0``) ``lambda`` takes its limit ``p``; for ``p`` and ``q``
    closer than ``1e-7`` relative, the midpoint ``(p + q) / 2``, which differs from
    the ratio by ``O((p - q)^2)``, replaces the ratio of two vanishing logs.

    Parameters
    ----------
    p, q : float or ndarray
        Probabilities in (0, 1).

    Returns
    -------
    t, lam : float or ndarray
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    t, t_lam = _coupling(p, q)
    close = np.abs(p - q) <= 1e-7 * np.minimum(np.minimum(p, q), 1 - np.maximum(p, q))
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(close, (p + q) / 2, t_lam / np.where(close, 1.0, t))
    if lam.ndim == 0:
        return float(t), float(lam)
    return t, lam


def _coupling(p, q):
    """``t`` and ``t lambda = (1/2) log[(1 - q) / (1 - p)]``, both finite at p = q."""
    t = 0.5 * (np.log(p) - np.log(q) + np.log1p(-q) - np.log1p(-p))
    t_lam = 0.5 * (np.log1p(-q) - np.log1p(-p))
    return t, t_lam


def bcavi_step(A, psi, p, q, prior=0.5):
    """One BCAVI update of every coordinate at once.

    ``psi <- sigmoid(4 t (A u - lambda (sum(u) - u)) + log(pi / (1 - pi)))`` with
    ``u = psi - 1/2`` (Mukherjee et al. 2018, eq. 2.3).

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated symmetric adjacency matrix.
    psi : ndarray of shape (n_nodes,) or (n_nodes, n_restarts)
        Current ``psi``.
    p, q : float or ndarray of shape (n_restarts,)
        Block probabilities.
    prior : float, default=0.5
        ``pi = P(z_i = 1)``.

    Returns
    -------
    ndarray, same shape as ``psi``
    """
    psi = np.asarray(psi, dtype=np.float64)
    v = 2 * psi - 1
    t, t_lam = _coupling(np.asarray(p, float), np.asarray(q, float))
    field = t * (A @ v) - t_lam * (v.sum(axis=0) - v) + 0.5 * _logit(prior)
    return 0.5 * (1 + np.tanh(field))


def estimate_params(A, psi):
    """Joint M-step: ``p_hat`` and ``q_hat`` maximising the ELBO at ``psi``.

    ``p_hat = sum_{i<j} s_ij A_ij / sum_{i<j} s_ij`` and
    ``q_hat = sum_{i<j} (1 - s_ij) A_ij / sum_{i<j} (1 - s_ij)`` with
    ``s_ij = psi_i psi_j + (1 - psi_i)(1 - psi_j)``, computed in ``O(nnz + n)``,
    clipped into ``[EPS, 1 - EPS]``; a zero denominator (no pair can be in the same
    block, or none in different ones) gives the edge density, clipped likewise.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated symmetric adjacency matrix.
    psi : ndarray of shape (n_nodes,) or (n_nodes, n_restarts)

    Returns
    -------
    p_hat, q_hat : float or ndarray of shape (n_restarts,)
    """
    v = 2 * np.asarray(psi, dtype=np.float64) - 1
    stats = _column_stats(v, A @ v)
    p_hat, q_hat = _mstep(_counts(A), stats)
    return (float(p_hat), float(q_hat)) if v.ndim == 1 else (p_hat, q_hat)


def elbo(A, psi, p, q, prior=0.5):
    """The exact ELBO of the two-class model (module docstring).

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated symmetric adjacency matrix.
    psi : ndarray of shape (n_nodes,) or (n_nodes, n_restarts)
    p, q : float or ndarray of shape (n_restarts,)
        Block probabilities in (0, 1).
    prior : float, default=0.5

    Returns
    -------
    float or ndarray of shape (n_restarts,)
    """
    psi = np.asarray(psi, dtype=np.float64)
    v = 2 * psi - 1
    stats = _column_stats(v, A @ v)
    entropy = (entr(psi) + entr(1 - psi)).sum(axis=0)
    value = _elbo(_counts(A), stats, entropy, p, q, prior)
    return float(value) if psi.ndim == 1 else value


def _logit(prior):
    return float(np.log(prior) - np.log1p(-prior))


def _counts(A):
    """(n_nodes, edges m, pairs N) of an undirected graph."""
    n = A.shape[0]
    return n, edge_count(A), n_pairs(n)


def _column_stats(v, av):
    """Per restart: ``v^T A v``, ``sum v`` and ``sum v^2``, block by block."""
    v2 = v.reshape(v.shape[0], -1)
    av2 = av.reshape(v2.shape)
    n, width = v2.shape
    vav = np.zeros(width)
    s1 = np.zeros(width)
    s2 = np.zeros(width)
    step = _block_rows(width)
    for start in range(0, n, step):
        block = v2[start : start + step]
        vav += np.einsum("ij,ij->j", block, av2[start : start + step])
        s1 += block.sum(axis=0)
        s2 += np.einsum("ij,ij->j", block, block)
    if v.ndim == 1:
        return vav[0], s1[0], s2[0]
    return vav, s1, s2


def _pair_sums(counts, stats):
    """``S_A = sum_{i<j} s_ij A_ij`` and ``S = sum_{i<j} s_ij``."""
    _, m, n_pair = counts
    vav, s1, s2 = stats
    return m / 2 + vav / 4, n_pair / 2 + (s1 * s1 - s2) / 4


def _mstep(counts, stats):
    _, m, n_pair = counts
    s_a, s = _pair_sums(counts, stats)
    density = m / n_pair if n_pair > 0 else 0.5
    tiny = 1e-12 * max(n_pair, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_hat = np.where(s > tiny, s_a / np.where(s > tiny, s, 1.0), density)
        rest = n_pair - s
        q_hat = np.where(
            rest > tiny, (m - s_a) / np.where(rest > tiny, rest, 1.0), density
        )
    return np.clip(p_hat, EPS, 1 - EPS), np.clip(q_hat, EPS, 1 - EPS)


def _elbo(counts, stats, entropy, p, q, prior):
    """ELBO per restart from the column statistics and the summed entropies."""
    n, m, n_pair = counts
    s_a, s = _pair_sums(counts, stats)
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    s1 = stats[1]
    likelihood = (
        s_a * np.log(p)
        + (s - s_a) * np.log1p(-p)
        + (m - s_a) * np.log(q)
        + (n_pair - s - m + s_a) * np.log1p(-q)
    )
    label_prior = (n + s1) / 2 * np.log(prior) + (n - s1) / 2 * np.log1p(-prior)
    return likelihood + label_prior + entropy


def _block_rows(width):
    """Rows per block: about ``_BLOCK_ELEMENTS`` entries, at most 1000 rows."""
    return max(1, min(1000, _BLOCK_ELEMENTS // max(width, 1)))


def _tanh_update(v, av, t, t_lam, offset, out):
    """``out <- tanh(t av + t_lam v + offset)``, block by block, in one pass.

    With ``f`` the argument and ``x = exp(-2 |f|)``: ``tanh f = sign(f) (1 - x) /
    (1 + x)`` and the entropy of ``psi = (1 + tanh f) / 2`` is
    ``H = log(2 cosh f) - f tanh f = log(1 + x) + |f| - f tanh f``, finite for
    every ``f``, so one exponential per entry gives both. ``sum log(1 + x)`` is
    taken as the log of a product over at most 1000 rows (each factor lies in
    [1, 2], so the product stays below 2^1000).

    Returns, per column: ``v^T av`` of the old ``v``; the summed entropy,
    ``sum out`` and ``sum out^2`` of the new one; ``max_i |out_i - v_i|``.
    """
    n, width = v.shape
    vav, entropy = np.zeros(width), np.zeros(width)
    s1, s2, change = np.zeros(width), np.zeros(width), np.zeros(width)
    step = _block_rows(width)
    f = np.empty((min(step, n), width))
    x = np.empty_like(f)
    y = np.empty_like(f)
    for start in range(0, n, step):
        stop = min(start + step, n)
        fb, xb, yb = f[: stop - start], x[: stop - start], y[: stop - start]
        vb, avb, ob = v[start:stop], av[start:stop], out[start:stop]
        vav += np.einsum("ij,ij->j", vb, avb)

        # f = t av + t_lam v + offset
        np.multiply(avb, t, out=fb)
        np.multiply(vb, t_lam, out=xb)
        fb += xb
        fb += offset

        # x = exp(-2 |f|); entropy terms |f| and log(1 + x)
        np.abs(fb, out=ob)
        entropy += ob.sum(axis=0)
        np.multiply(ob, -2.0, out=xb)
        np.exp(xb, out=xb)
        np.add(xb, 1.0, out=yb)
        entropy += np.log(yb.prod(axis=0))

        # new v = sign(f) (1 - x) / (1 + x); entropy term -f v; sums; change
        np.subtract(1.0, xb, out=ob)
        ob /= yb
        np.copysign(ob, fb, out=ob)
        entropy -= np.einsum("ij,ij->j", fb, ob)
        s1 += ob.sum(axis=0)
        s2 += np.einsum("ij,ij->j", ob, ob)
        np.subtract(ob, vb, out=xb)
        np.abs(xb, out=xb)
        np.maximum(change, xb.max(axis=0), out=change)
    return vav, entropy, s1, s2, change


# --------------------------------------------------------------------------
# The batched driver
# --------------------------------------------------------------------------


def run_twoclass(
    A,
    psi0,
    *,
    p=None,
    q=None,
    prior=0.5,
    algorithm="bcavi",
    max_iter=500,
    tol=1e-8,
    callback=None,
):
    """Run BCAVI or CAVI from many starts at once.

    All restarts advance together as the columns of one ``(n_nodes, n_restarts)``
    matrix, with one sparse product ``A @ V`` per iteration. A restart stops when
    ``max_i |psi_new_i - psi_i| < tol``; it is then frozen and its column leaves the
    working matrix, so the cost follows the restarts still running.

    Each iteration applies, to every running restart,

    - ``"bcavi"``: ``psi <- sigmoid(4 t (A u - lambda (sum(u) - u)) + logit(pi))``
      to all nodes at once (``u = psi - 1/2``);
    - ``"cavi"``: the same update node by node in the order ``0, ..., n - 1``, each
      node seeing the nodes already updated in this sweep; its ELBO never
      decreases;

    then, when ``p`` and ``q`` are None, the joint M-step ``p_hat = S_A / S``,
    ``q_hat = (m - S_A) / (N - S)`` (see :func:`estimate_params`); the initial
    ``p_hat``, ``q_hat`` come from ``psi0`` by the same M-step.

    Parameters
    ----------
    A : csr_matrix of shape (n_nodes, n_nodes)
        Validated symmetric adjacency matrix (see ``check_adjacency``).
    psi0 : ndarray of shape (n_nodes, n_restarts)
        Starting ``psi``, entries in [0, 1]; a 1-d array is one restart.
    p, q : float or None, default=None
        Known within- and between-block probabilities, ``0 < q < p < 1``, held
        fixed; both None to estimate them jointly.
    prior : float, default=0.5
        ``pi = P(z_i = 1)``, in (0, 1), held fixed.
    algorithm : {"bcavi", "cavi"}, default="bcavi"
        Batch (all nodes at once) or sequential coordinate ascent.
    max_iter : int, default=500
        Most updates (BCAVI steps or CAVI sweeps) per restart.
    tol : float, default=1e-8
        A restart stops once ``max_i |psi_new_i - psi_i| < tol``.
    callback : callable or None, default=None
        Called as ``callback(done, total)`` after every iteration, with ``done``
        the iteration count and ``total = max_iter``.

    Returns
    -------
    TwoClassResult

    References
    ----------
    Mukherjee, Sarkar, Wang and Yan. Mean field for the stochastic blockmodel:
    optimization landscape and convergence issues. NeurIPS 2018, eq. 2.3 (the
    update) and section 5 (parameters estimated jointly).
    """
    # Validate
    psi0, p, q = _check_run_args(A, psi0, p, q)
    prior = check_scalar(
        prior, "prior", low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    check_option(algorithm, "algorithm", ("bcavi", "cavi"))
    max_iter = check_scalar(max_iter, "max_iter", numbers.Integral, low=0)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    one_restart = psi0.ndim == 1
    psi0 = psi0.reshape(psi0.shape[0], -1)
    n_nodes, n_restarts = psi0.shape
    counts = _counts(A)
    estimate = p is None
    logit_half = 0.5 * _logit(prior)

    # State of every restart; the working matrix holds the running ones only
    v_final = np.empty((n_nodes, n_restarts))
    p_all = np.full(n_restarts, np.nan if estimate else p)
    q_all = np.full(n_restarts, np.nan if estimate else q)
    elbo_now = np.empty(n_restarts)
    history = []
    n_iter = np.zeros(n_restarts, dtype=np.int64)
    converged = np.zeros(n_restarts, dtype=bool)
    active = np.arange(n_restarts)
    v = np.ascontiguousarray(2 * psi0 - 1)
    entropy = (entr(psi0) + entr(1 - psi0)).sum(axis=0)
    s1, s2 = v.sum(axis=0), np.einsum("ij,ij->j", v, v)
    spare = None  # the previous state's memory, reused for the next one

    for iteration in range(max_iter + 1):
        # One sparse product serves the M-step, the ELBO and the update
        av = A @ v
        stop = converged[active] | (n_iter[active] >= max_iter)
        fused = algorithm == "bcavi" and not estimate and not stop.all()
        if fused:
            # known p, q: the ELBO's v^T A v comes out of the update pass
            t, t_lam = _coupling(p, q)
            v_new = _spare(spare, v)
            vav, ent_new, s1_new, s2_new, change = _tanh_update(
                v, av, t, t_lam, logit_half - t_lam * s1, v_new
            )
            p_act, q_act = p, q
        else:
            vav = _column_stats(v, av)[0]
            if estimate:
                p_act, q_act = _mstep(counts, (vav, s1, s2))
                p_all[active], q_all[active] = p_act, q_act
            else:
                p_act, q_act = p, q

        # ELBO of the current state
        elbo_now[active] = _elbo(counts, (vav, s1, s2), entropy, p_act, q_act, prior)
        history.append(elbo_now.copy())

        # Freeze restarts that met tol at the last update, or ran out of updates
        if stop.any():
            v_final[:, active[stop]] = v[:, stop]
            keep = ~stop
            active, v, av = active[keep], v[:, keep], av[:, keep]
            s1 = s1[keep]
            if fused:
                v_new = np.ascontiguousarray(v_new[:, keep])
                ent_new, s1_new, s2_new = ent_new[keep], s1_new[keep], s2_new[keep]
                change = change[keep]
            elif estimate:
                p_act, q_act = p_act[keep], q_act[keep]
        if active.size == 0:
            break

        # Update the running restarts (unless the fused pass did)
        if not fused:
            t, t_lam = _coupling(np.asarray(p_act), np.asarray(q_act))
            if algorithm == "bcavi":
                v = np.ascontiguousarray(v)
                v_new = _spare(spare, v)
                _, ent_new, s1_new, s2_new, change = _tanh_update(
                    v,
                    np.ascontiguousarray(av),
                    t,
                    t_lam,
                    logit_half - t_lam * s1,
                    v_new,
                )
            else:
                v_new, change = _cavi_sweep(A, v, t, t_lam, logit_half)
                psi_new = 0.5 * (1 + v_new)
                ent_new = (entr(psi_new) + entr(1 - psi_new)).sum(axis=0)
                s1_new = v_new.sum(axis=0)
                s2_new = np.einsum("ij,ij->j", v_new, v_new)
        spare = v
        v, entropy, s1, s2 = v_new, ent_new, s1_new, s2_new
        n_iter[active] += 1
        converged[active] = 0.5 * change < tol
        if callback is not None:
            callback(iteration + 1, max_iter)

    # Report
    n_done = int(converged.sum())
    logger.debug(
        "two-class %s: %d of %d restarts converged", algorithm, n_done, n_restarts
    )
    psi = 0.5 * (1 + v_final)
    elbo_history = np.vstack(history)
    if one_restart:
        psi = psi[:, 0]
    return TwoClassResult(
        psi=psi,
        p=p_all,
        q=q_all,
        elbo=elbo_now.copy(),
        elbo_history=elbo_history,
        n_iter=n_iter,
        converged=converged,
    )


def _spare(spare, v):
    """An array shaped like ``v``: ``spare`` when it fits, else a new one.

    Reusing the previous state's memory saves touching fresh pages every iteration.
    """
    if spare is not None and spare.shape == v.shape and spare.flags.c_contiguous:
        return spare
    return np.empty_like(v)


def _cavi_sweep(A, v, t, t_lam, logit_half):
    """One sequential sweep over the nodes for every column of ``v``.

    Node ``i`` takes ``v_i <- tanh(t (A v)_i - t_lam (sum(v) - v_i) + logit(pi)/2)``
    with the current ``v``, and ``sum(v)`` is kept up to date as nodes change.
    Returns the new ``v`` and ``max_i |v_new_i - v_i|`` per column.
    """
    v = v.copy()
    old = v.copy()
    total = v.sum(axis=0)
    indptr, indices = A.indptr, A.indices
    for i in range(v.shape[0]):
        neighbours = indices[indptr[i] : indptr[i + 1]]
        field = t * v[neighbours].sum(axis=0) - t_lam * (total - v[i]) + logit_half
        new = np.tanh(field)
        total += new - v[i]
        v[i] = new
    return v, np.abs(v - old).max(axis=0)


def _check_run_args(A, psi0, p, q):
    if not sp.issparse(A) or A.format != "csr":
        raise TypeError(
            "A must be a scipy.sparse CSR matrix (see check_adjacency); got "
            f"{type(A).__name__}."
        )
    psi0 = np.asarray(psi0, dtype=np.float64)
    n_nodes = A.shape[0]
    if psi0.ndim not in (1, 2) or psi0.shape[0] != n_nodes or psi0.size == 0:
        raise ValueError(
            f"psi0 must have shape (n_nodes, n_restarts) with n_nodes = {n_nodes}; "
            f"got shape {psi0.shape}."
        )
    if not np.all(np.isfinite(psi0)) or psi0.min() < 0 or psi0.max() > 1:
        raise ValueError(
            "psi0 must have finite entries in [0, 1]; got entries in "
            f"[{np.nanmin(psi0)!r}, {np.nanmax(psi0)!r}]."
        )
    if (p is None) != (q is None):
        raise ValueError(
            "p and q must both be given (known parameters) or both be None "
            f"(estimated); got p={p!r}, q={q!r}."
        )
    if p is not None:
        p = check_scalar(
            p, "p", low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        q = check_scalar(
            q, "q", low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        if not q < p:
            raise ValueError(
                f"p must be greater than q (assortative blocks); got p={p!r}, q={q!r}."
            )
    return psi0, p, q
