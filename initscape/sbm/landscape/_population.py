"""The population BCAVI map: ``A`` replaced by its expectation.

Let ``P = E[A]`` with zero diagonal: ``P_ij = p`` within a block, ``q`` between
blocks, ``P_ii = 0``. The BCAVI update with known ``p, q`` (Mukherjee, Sarkar, Wang
and Yan, NeurIPS 2018, eq. 2.3), applied to ``P``, is the *population map*

    psi_i' = sigmoid(4 t [(P - lambda (J - I)) u]_i + logit(pi)),  u = psi - 1/2.

Reduction to two numbers. Let block 1 hold ``m1`` nodes and block 2 ``m2``. If
``psi`` is constant on blocks, ``psi = x`` on block 1 and ``y`` on block 2, then a
node ``i`` of block 1 sees ``m1 - 1`` other nodes of its block, each contributing
``(p - lambda)(x - 1/2)``, and ``m2`` nodes of the other block, each contributing
``(q - lambda)(y - 1/2)``; the sum does not depend on ``i``, so ``psi'`` is again
constant on blocks and

    x' = sigmoid(A11 (x - 1/2) + A12 (y - 1/2) + logit(pi)),
    y' = sigmoid(A21 (x - 1/2) + A22 (y - 1/2) + logit(pi)),

    A11 = 4 t (p - lambda)(m1 - 1),  A12 = 4 t (q - lambda) m2,
    A21 = 4 t (q - lambda) m1,       A22 = 4 t (p - lambda)(m2 - 1).

For two equal blocks of ``m = n / 2`` nodes and ``pi = 1/2`` this is the map of the
issue, ``x' = sigmoid(a (x - 1/2) + b (y - 1/2))``,
``y' = sigmoid(b (x - 1/2) + a (y - 1/2))`` with ``a = 4 t (p - lambda)(m - 1)`` and
``b = 4 t (q - lambda) m``. The reduction is exact: block-constant states form an
invariant set of the ``n``-dimensional map. Every fixed point of the ``n``-dimensional
map is block-constant too (on a block, ``psi_i = sigmoid(k - 4 t (p - lambda) u_i)``
with ``k`` common to the block, and the right side decreases in ``psi_i``, so the
equation has one solution), hence the 2-D census is the full census.

Working in logits. Near the truth ``x`` is ``1 - exp(-a / 2)``, which rounds to 1
for ``n`` in the hundreds; the census therefore works with ``xi = logit(x)`` and
``eta = logit(y)``, for which the map reads ``w' = M (sigmoid(w) - 1/2) + logit(pi)``
with ``M = [[A11, A12], [A21, A22]]``, and every quantity stays accurate.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit, log_expit

from initscape._validation import check_option, check_scalar
from initscape.sbm.landscape._theory import check_probabilities, constants

__all__ = [
    "full_population_jacobian",
    "full_population_map",
    "map_coefficients",
    "population_estimates",
    "population_jacobian",
    "population_map",
    "reduced_elbo",
]

#: Estimated p_hat, q_hat are clipped into [EPS, 1 - EPS], as in the sample engine.
EPS = 1e-12


def check_sizes(sizes):
    """``sizes`` as ``(m1, m2)``: an even ``n`` (two equal blocks) or a pair."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        n = check_scalar(sizes, "n", numbers.Integral, low=4)
        if n % 2:
            raise ValueError(
                f"n must be even (two equal blocks); got {n!r}. Pass sizes=(m1, m2) "
                "for unequal blocks."
            )
        return n // 2, n // 2
    try:
        m1, m2 = sizes
    except (TypeError, ValueError):
        raise TypeError(
            f"sizes must be an even int n or a pair (m1, m2); got {sizes!r}."
        ) from None
    m1 = check_scalar(m1, "sizes[0]", numbers.Integral, low=2)
    m2 = check_scalar(m2, "sizes[1]", numbers.Integral, low=2)
    return m1, m2


def check_prior(prior):
    return check_scalar(
        prior,
        "prior",
        numbers.Real,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )


def map_coefficients(sizes, p, q) -> np.ndarray:
    """The matrix ``M = [[A11, A12], [A21, A22]]`` of the reduced map.

    Parameters
    ----------
    sizes : int or tuple of int
        An even number of nodes ``n`` (two blocks of ``n / 2``) or ``(m1, m2)``.
    p, q : float
        ``0 < q < p < 1``.

    Returns
    -------
    ndarray of shape (2, 2)
        ``A11 = 4 t (p - lambda)(m1 - 1)``, ``A12 = 4 t (q - lambda) m2``,
        ``A21 = 4 t (q - lambda) m1``, ``A22 = 4 t (p - lambda)(m2 - 1)``; for equal
        blocks ``A11 = A22 = a`` and ``A12 = A21 = b``.
    """
    m1, m2 = check_sizes(sizes)
    p, q = check_probabilities(p, q)
    t, lam, _ = constants(p, q)
    within, between = 4 * t * (p - lam), 4 * t * (q - lam)
    return np.array(
        [[within * (m1 - 1), between * m2], [between * m1, within * (m2 - 1)]]
    )


def _logit_prior(prior) -> float:
    prior = check_prior(prior)
    return float(np.log(prior) - np.log1p(-prior))


def logit_map(w, M, h=0.0):
    """The reduced map on logits: ``w' = M (sigmoid(w) - 1/2) + h``.

    ``w`` has shape ``(..., 2)``; ``sigmoid(w) - 1/2 = tanh(w / 2) / 2`` keeps full
    relative accuracy near the centre.
    """
    u = 0.5 * np.tanh(0.5 * np.asarray(w, dtype=np.float64))
    return u @ M.T + h


def logit_map_jacobian(w, M):
    """Jacobian of :func:`logit_map`: ``M diag(sigmoid'(w))``, shape ``(..., 2, 2)``.

    It is similar to the Jacobian of the map on ``(x, y)``,
    ``diag(sigmoid'(w')) M``, at a fixed point (same eigenvalues).
    """
    w = np.asarray(w, dtype=np.float64)
    slope = expit(w) * expit(-w)
    return M * slope[..., None, :]


def population_map(x, y, sizes, p, q, *, prior=0.5):
    """One step of the reduced population map on the block averages ``(x, y)``.

    ``x' = sigmoid(A11 (x - 1/2) + A12 (y - 1/2) + logit(pi))`` and
    ``y' = sigmoid(A21 (x - 1/2) + A22 (y - 1/2) + logit(pi))``, the coefficients of
    :func:`map_coefficients` (module docstring for the derivation).

    Parameters
    ----------
    x, y : float or ndarray
        Block averages of ``psi`` on block 1 and block 2, in [0, 1]; broadcast.
    sizes : int or tuple of int
        An even ``n`` (equal blocks) or ``(m1, m2)``.
    p, q : float
        ``0 < q < p < 1``.
    prior : float, default=0.5
        ``pi = P(z_i = 1)``.

    Returns
    -------
    x_new, y_new : ndarray
    """
    M = map_coefficients(sizes, p, q)
    h = _logit_prior(prior)
    u = np.asarray(x, dtype=np.float64) - 0.5
    v = np.asarray(y, dtype=np.float64) - 0.5
    return expit(M[0, 0] * u + M[0, 1] * v + h), expit(M[1, 0] * u + M[1, 1] * v + h)


def population_jacobian(x, y, sizes, p, q, *, prior=0.5):
    """Jacobian of :func:`population_map` at ``(x, y)``.

    ``D = diag(x' (1 - x'), y' (1 - y')) M``, with ``(x', y')`` the image of
    ``(x, y)``.

    Returns
    -------
    ndarray of shape (..., 2, 2)
    """
    M = map_coefficients(sizes, p, q)
    x_new, y_new = population_map(x, y, sizes, p, q, prior=prior)
    slope = np.stack([x_new * (1 - x_new), y_new * (1 - y_new)], axis=-1)
    return slope[..., :, None] * M


def _check_labels(z, n_nodes):
    z = np.asarray(z)
    if z.shape != (n_nodes,) or not np.isin(z, (0, 1)).all():
        raise ValueError(
            f"z must be an array of shape ({n_nodes},) of 0/1 block labels; got "
            f"shape {z.shape} with values {np.unique(z)[:5]!r}."
        )
    return z.astype(bool)


def _block_sums(v, ones):
    # per column: sum of v over block 1 (z = 0) and block 2 (z = 1)
    total = v.sum(axis=0)
    second = v[ones].sum(axis=0)
    return total - second, second


def population_estimates(psi, z, p, q):
    """Joint M-step with ``A`` replaced by ``P``: ``p_hat`` and ``q_hat``.

    ``p_hat = sum_{i<j} s_ij P_ij / sum_{i<j} s_ij``,
    ``q_hat = sum_{i<j} (1 - s_ij) P_ij / sum_{i<j} (1 - s_ij)``,
    ``s_ij = (1 + v_i v_j) / 2`` with ``v = 2 psi - 1``. In ``O(n)`` with block
    sums ``V_b`` and ``Q_b = sum_{i in b} v_i^2``:
    ``sum_{i<j} v_i v_j P_ij = [p (V_1^2 - Q_1 + V_2^2 - Q_2) + 2 q V_1 V_2] / 2``.

    Parameters
    ----------
    psi : ndarray of shape (n_nodes,) or (n_nodes, n_starts)
    z : ndarray of shape (n_nodes,)
        0/1 block labels (block 1 holds the zeros).
    p, q : float
        The true probabilities that define ``P``.

    Returns
    -------
    p_hat, q_hat : float or ndarray of shape (n_starts,)
    """
    psi = np.asarray(psi, dtype=np.float64)
    ones = _check_labels(z, psi.shape[0])
    v = 2 * psi - 1
    v1, v2 = _block_sums(v, ones)
    q1, q2 = _block_sums(v * v, ones)
    m2 = int(ones.sum())
    m1 = psi.shape[0] - m2
    n_pair = psi.shape[0] * (psi.shape[0] - 1) / 2
    expected_edges = p * (m1 * (m1 - 1) + m2 * (m2 - 1)) / 2 + q * m1 * m2
    vpv = p * (v1 * v1 - q1 + v2 * v2 - q2) + 2 * q * v1 * v2
    s_p = expected_edges / 2 + vpv / 4
    s = n_pair / 2 + ((v1 + v2) ** 2 - q1 - q2) / 4
    with np.errstate(divide="ignore", invalid="ignore"):
        p_hat = np.where(s > 0, s_p / np.where(s > 0, s, 1), expected_edges / n_pair)
        rest = n_pair - s
        q_hat = np.where(
            rest > 0,
            (expected_edges - s_p) / np.where(rest > 0, rest, 1),
            expected_edges / n_pair,
        )
    p_hat, q_hat = np.clip(p_hat, EPS, 1 - EPS), np.clip(q_hat, EPS, 1 - EPS)
    if psi.ndim == 1:
        return float(p_hat), float(q_hat)
    return p_hat, q_hat


def _coupling(p, q):
    # t and t lambda = (1/2) log[(1 - q) / (1 - p)], both finite at p = q
    t = 0.5 * (np.log(p) - np.log(q) + np.log1p(-q) - np.log1p(-p))
    return t, 0.5 * (np.log1p(-q) - np.log1p(-p))


def full_population_map(psi, z, p, q, *, prior=0.5, params="known"):
    """One step of the ``n``-dimensional population map, in ``O(n)`` per column.

    With ``v = 2 psi - 1`` the update ``psi' = sigmoid(4 t [(P - lambda (J - I))
    u]_i + logit(pi))`` reads ``psi' = (1 + tanh(f)) / 2`` with
    ``f_i = t (P v)_i - t lambda (sum(v) - v_i) + logit(pi) / 2`` and
    ``(P v)_i = p (V_{b(i)} - v_i) + q V_{other}`` (block sums ``V``). With
    ``params="estimated"``, ``p`` and ``q`` in ``t`` and ``lambda`` are first replaced
    by :func:`population_estimates` at ``psi`` (the joint update), while ``P`` keeps
    the true ``p`` and ``q``.

    Parameters
    ----------
    psi : ndarray of shape (n_nodes,) or (n_nodes, n_starts)
    z : ndarray of shape (n_nodes,)
        0/1 block labels.
    p, q : float
        True probabilities, ``0 < q < p < 1``.
    prior : float, default=0.5
    params : {"known", "estimated"}, default="known"

    Returns
    -------
    psi_new : ndarray, same shape as ``psi``
    p_used, q_used : float or ndarray of shape (n_starts,)
        The probabilities that entered ``t`` and ``lambda``.
    """
    p, q = check_probabilities(p, q)
    check_option(params, "params", ("known", "estimated"))
    offset = 0.5 * _logit_prior(prior)
    psi = np.asarray(psi, dtype=np.float64)
    ones = _check_labels(z, psi.shape[0])

    # the probabilities entering t and lambda
    if params == "known":
        p_used, q_used = p, q
    else:
        p_used, q_used = population_estimates(psi, z, p, q)
    t, t_lam = _coupling(np.asarray(p_used), np.asarray(q_used))

    # f = t P v - t lambda (sum v - v) + logit(pi) / 2 through the block sums:
    # (P v)_i = (p - q) V_own + q V - p v_i, so f = c0 + [z_i = 1] c1 + c2 v_i
    v = 2 * psi - 1
    v1, v2 = _block_sums(v, ones)
    total = v1 + v2
    c0 = t * (p - q) * v1 + (t * q - t_lam) * total + offset
    c1 = t * (p - q) * (v2 - v1)
    c2 = t_lam - t * p
    if v.ndim == 2:
        f = c2 * v
        f += c0
        f[ones] += c1
    else:
        f = c0 + np.where(ones, c1, 0.0) + c2 * v
    np.tanh(f, out=f)
    f += 1
    f *= 0.5
    return f, p_used, q_used


def population_matrix(z, p, q) -> np.ndarray:
    """The dense ``P = E[A]`` (zero diagonal) for labels ``z``; for small tests."""
    z = np.asarray(z)
    P = np.where(z[:, None] == z[None, :], p, q).astype(np.float64)
    np.fill_diagonal(P, 0.0)
    return P


def full_population_jacobian(psi, z, p, q, *, prior=0.5) -> np.ndarray:
    """Jacobian of the ``n``-dimensional population map (known ``p, q``).

    ``D = diag(psi' (1 - psi')) 4 t (P - lambda (J - I))``, a dense
    ``(n_nodes, n_nodes)`` matrix: meant for small ``n``.

    Parameters
    ----------
    psi : ndarray of shape (n_nodes,)
    z : ndarray of shape (n_nodes,)
    p, q : float
    prior : float, default=0.5

    Returns
    -------
    ndarray of shape (n_nodes, n_nodes)
    """
    psi = np.asarray(psi, dtype=np.float64)
    new, _, _ = full_population_map(psi, z, p, q, prior=prior)
    t, lam, _ = constants(p, q)
    n = psi.shape[0]
    K = population_matrix(z, p, q) - lam * (np.ones((n, n)) - np.eye(n))
    return (new * (1 - new))[:, None] * (4 * t * K)


def _entropy_logit(w):
    # binary entropy of sigmoid(w), finite for every w
    return expit(w) * -log_expit(w) + expit(-w) * -log_expit(-w)


def elbo_logits(w, sizes, p, q, prior=0.5):
    """Population ELBO at block-constant ``psi`` given by logits ``w = (xi, eta)``.

    ``sum_{i<j} [s_ij l_s(P_ij) + (1 - s_ij) l_d(P_ij)]`` with
    ``l_s(P) = P log p + (1 - P) log(1 - p)``, ``l_d(P) = P log q + (1 - P) log(1 - q)``
    and ``s_ij = x_i x_j + (1 - x_i)(1 - x_j)``, plus
    ``sum_i [x_i log pi + (1 - x_i) log(1 - pi) + H(x_i)]``; this is the ELBO of
    the two-class model with ``A`` replaced by its expectation ``P`` (it is linear in
    ``A``, so it equals the expected sample ELBO).
    """
    m1, m2 = check_sizes(sizes)
    w = np.asarray(w, dtype=np.float64)
    xi, eta = w[..., 0], w[..., 1]
    x, y = expit(xi), expit(eta)
    ls = (
        p * np.log(p) + (1 - p) * np.log1p(-p),
        q * np.log(p) + (1 - q) * np.log1p(-p),
    )
    ld = (
        p * np.log(q) + (1 - p) * np.log1p(-q),
        q * np.log(q) + (1 - q) * np.log1p(-q),
    )
    # s within a block is 1/2 + 2 u^2, between blocks 1/2 + 2 u v
    u, v = 0.5 * np.tanh(0.5 * xi), 0.5 * np.tanh(0.5 * eta)
    s11, s22, s12 = 0.5 + 2 * u * u, 0.5 + 2 * v * v, 0.5 + 2 * u * v
    pairs = (
        m1 * (m1 - 1) / 2 * (s11 * ls[0] + (1 - s11) * ld[0])
        + m2 * (m2 - 1) / 2 * (s22 * ls[0] + (1 - s22) * ld[0])
        + m1 * m2 * (s12 * ls[1] + (1 - s12) * ld[1])
    )
    log_pi, log_1mpi = np.log(prior), np.log1p(-prior)
    labels = m1 * (x * log_pi + (1 - x) * log_1mpi) + m2 * (
        y * log_pi + (1 - y) * log_1mpi
    )
    entropy = m1 * _entropy_logit(xi) + m2 * _entropy_logit(eta)
    return pairs + labels + entropy


def reduced_elbo(x, y, sizes, p, q, *, prior=0.5):
    """Population ELBO restricted to block-constant ``psi`` (``x`` and ``y``).

    See :func:`elbo_logits`; here from ``x, y`` in (0, 1).

    Returns
    -------
    float or ndarray
    """
    p, q = check_probabilities(p, q)
    prior = check_prior(prior)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.stack([np.log(x) - np.log1p(-x), np.log(y) - np.log1p(-y)], axis=-1)
    return elbo_logits(w, sizes, p, q, prior)


def elbo_hessian_logits(w, sizes, p, q):
    """Hessian in ``(x, y)`` of the restricted ELBO, at logits ``w``.

    The ELBO is ``sum_{i<j} 4 t (P_ij - lambda) u_i u_j + sum_i H(x_i)`` plus terms
    linear in ``psi`` (module :mod:`initscape.sbm._twoclass` docstring), so

        H = [[4 t (p - lambda) m1 (m1 - 1) - m1 / (x (1 - x)), 4 t (q - lambda) m1 m2],
             [4 t (q - lambda) m1 m2, 4 t (p - lambda) m2 (m2 - 1) - m2 / (y (1 - y))]],

    with ``1 / (x (1 - x)) = 2 + 2 cosh(xi)``.

    Returns
    -------
    ndarray of shape (..., 2, 2)
    """
    m1, m2 = check_sizes(sizes)
    t, lam, _ = constants(p, q)
    w = np.asarray(w, dtype=np.float64)
    with np.errstate(over="ignore"):
        curv = 2 + 2 * np.cosh(w)
    H = np.empty(w.shape[:-1] + (2, 2))
    with np.errstate(over="ignore"):
        H[..., 0, 0] = 4 * t * (p - lam) * m1 * (m1 - 1) - m1 * curv[..., 0]
        H[..., 1, 1] = 4 * t * (p - lam) * m2 * (m2 - 1) - m2 * curv[..., 1]
    H[..., 0, 1] = H[..., 1, 0] = 4 * t * (q - lam) * m1 * m2
    return H


def symmetric_eigenvalues(H) -> np.ndarray:
    """Ascending eigenvalues of a symmetric 2 x 2 matrix, finite or with -inf.

    ``(h11 + h22) / 2 -+ hypot((h11 - h22) / 2, h12)``; an infinite diagonal entry
    (a coordinate saturated beyond float range) gives that entry as an eigenvalue and
    the other diagonal entry as the second.
    """
    h11, h12, h22 = H[0, 0], H[0, 1], H[1, 1]
    if not (np.isfinite(h11) and np.isfinite(h22)):
        if np.isfinite(h11) or np.isfinite(h22):
            return np.sort([h11, h22])
        return np.array([h11, h22])
    mean, half = (h11 + h22) / 2, (h11 - h22) / 2
    radius = np.hypot(half, h12)
    return np.array([mean - radius, mean + radius])
