"""Closed forms of the two-class landscape: t, lambda, c, the limit law and d*.

Notation (Mukherjee, Sarkar, Wang and Yan, NeurIPS 2018, section 2):

    t      = (1/2) log[p (1 - q) / (q (1 - p))],
    lambda = log[(1 - q) / (1 - p)] / (2 t),
    c      = (p + q - 2 lambda) / (p - q).

Two facts hold for every ``0 < q < p < 1``:

* ``q < lambda < p``. Since ``2 t = logit(p) - logit(q)`` and
  ``2 t lambda = log(1 - q) - log(1 - p)``, and the derivative of
  ``-log(1 - s)`` is ``s`` times that of ``logit(s)``, which is
  ``w(s) = 1 / (s (1 - s))``,

      lambda = int_q^p s w(s) ds / int_q^p w(s) ds,

  the mean of ``s`` on ``[q, p]`` under the weight ``w``: strictly inside.
* ``sign(p + q - 2 lambda) = sign(1 - p - q)``. The weight ``w`` is symmetric
  about 1/2 and grows with ``|s - 1/2|``. With ``mid = (p + q) / 2`` and
  ``0 < r``, ``w(mid - r) > w(mid + r)`` exactly when ``mid < 1/2``
  (``(mid - r)(1 - mid + r) - (mid + r)(1 - mid - r) = -2 r (1 - 2 mid)``), so the
  weighted mean ``lambda`` lies below the midpoint when ``p + q < 1``, above it
  when ``p + q > 1``, and equals 1/2 when ``p + q = 1``.

So ``|c| < 1`` and ``c`` has the sign of ``1 - p - q``.
"""

from __future__ import annotations

import numbers

import numpy as np

from initscape._validation import check_scalar

__all__ = [
    "Constants",
    "constants",
    "critical_correlation",
    "limit_success_probability",
]


class Constants(tuple):
    """``(t, lambda_, c)``: the constants of the two-class update, by name."""

    __slots__ = ()

    def __new__(cls, t, lambda_, c):
        return super().__new__(cls, (t, lambda_, c))

    @property
    def t(self) -> float:
        """``t = (1/2) log[p (1 - q) / (q (1 - p))]``."""
        return self[0]

    @property
    def lambda_(self) -> float:
        """``lambda = log[(1 - q) / (1 - p)] / (2 t)``."""
        return self[1]

    @property
    def c(self) -> float:
        """``c = (p + q - 2 lambda) / (p - q)``, in (-1, 1)."""
        return self[2]

    def __repr__(self) -> str:
        return f"Constants(t={self[0]!r}, lambda_={self[1]!r}, c={self[2]!r})"


def check_probabilities(p, q):
    """Check ``0 < q < p < 1`` and return ``(p, q)`` as floats."""
    p = check_scalar(
        p, "p", numbers.Real, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    q = check_scalar(
        q, "q", numbers.Real, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    if not q < p:
        raise ValueError(
            f"q must be smaller than p (assortative blocks); got p={p!r}, q={q!r}."
        )
    return p, q


def constants(p, q) -> Constants:
    """The constants ``t``, ``lambda`` and ``c`` of the two-class landscape.

    Parameters
    ----------
    p : float
        Within-block edge probability, in (0, 1).
    q : float
        Between-block edge probability, in (0, p).

    Returns
    -------
    Constants
        ``(t, lambda_, c)`` with ``t = (1/2) log[p (1 - q) / (q (1 - p))]``,
        ``lambda = log[(1 - q) / (1 - p)] / (2 t)`` (Mukherjee et al. 2018,
        eq. 2.3) and ``c = (p + q - 2 lambda) / (p - q)``.

    Examples
    --------
    >>> t, lam, c = constants(0.5, 0.1)
    >>> round(t, 4), round(lam, 4), round(c, 4)
    (1.0986, 0.2675, 0.1624)
    """
    p, q = check_probabilities(p, q)
    t = 0.5 * (np.log(p) - np.log(q) + np.log1p(-q) - np.log1p(-p))
    lam = 0.5 * (np.log1p(-q) - np.log1p(-p)) / t
    c = (p + q - 2 * lam) / (p - q)
    return Constants(float(t), float(lam), float(c))


def limit_success_probability(p, q) -> float:
    """Limit, as ``n -> inf``, of P(an iid random start reaches the truth).

    For the population BCAVI map with known ``p, q`` and equal blocks, from a start
    with iid coordinates of mean 1/2 (Uniform(0, 1), Bernoulli(1/2), ...):

        P_inf = 1 - (2 / pi) arctan |c|.

    Derivation. Write ``u = x - 1/2`` and ``v = y - 1/2`` for the block averages
    (see :func:`initscape.sbm.landscape.population_map`). By the central limit
    theorem ``(u_0, v_0)`` is a centred isotropic Gaussian of scale
    ``1 / sqrt(n)``. Linearised at ``(1/2, 1/2)`` the first step is
    ``x_1 = sigmoid(a u_0 + b v_0)``, ``y_1 = sigmoid(b u_0 + a v_0)`` with ``a``
    and ``b`` of order ``n``, so the arguments are of order ``sqrt(n)`` and ``x_1``,
    ``y_1`` are already 0 or 1 up to ``exp(-sqrt(n))``: the start reaches the truth
    ``(1, 0)`` or ``(0, 1)`` exactly when ``a u_0 + b v_0`` and ``b u_0 + a v_0``
    have opposite signs (otherwise it lands on ``(1, 1)`` or ``(0, 0)``: all nodes
    in one block, or, when ``p + q > 1``, the 2-cycle between them). In the
    coordinates ``d = u - v`` and ``s = u + v`` the normals ``(a, b)`` and
    ``(b, a)`` make angles ``phi`` and ``pi - phi`` with the ``d`` axis, where
    ``tan phi = (a + b) / (a - b) -> c``; the two half-planes disagree on a double
    wedge of angle ``pi - 2 |phi|``, whose isotropic probability is
    ``1 - (2 / pi) arctan |c|``.

    Parameters
    ----------
    p, q : float
        ``0 < q < p < 1``.

    Returns
    -------
    float
        ``P_inf`` in (1/2, 1]; equal to 1 exactly when ``p + q = 1``.
    """
    c = constants(p, q).c
    return float(1 - 2 / np.pi * np.arctan(abs(c)))


def critical_correlation(n, p, q) -> float:
    """The start correlation ``d*`` that joint estimation needs to escape 1/2.

    ``d* = 2 sqrt(rho (1 - rho) / n) / (p - q)`` with ``rho = (p + q) / 2``.

    Derivation. Start from ``psi_i = 1/2 + (d / 2)(2 z_i - 1)`` (plus noise of mean
    zero). The joint M-step gives ``p_hat - q_hat = d^2 (p - q)`` to leading order,
    hence ``t_hat = d^2 (p - q) / (2 rho (1 - rho))`` (``logit`` has slope
    ``1 / (rho (1 - rho))`` at ``rho``) and ``lambda_hat`` near ``rho``. The next
    update's argument on a node of either block is
    ``4 t_hat (n / 2)(p - q) d / 2 = n d^3 (p - q)^2 / (2 rho (1 - rho))``, so the
    new correlation is ``d' = n (p - q)^2 d^3 / (4 rho (1 - rho)) = (d / d*)^2 d``:
    below ``d*`` the correlation shrinks to zero (the collapse to the uninformative
    point), above it it grows until the sigmoid saturates at the truth.

    Parameters
    ----------
    n : int
        Number of nodes, >= 2.
    p, q : float
        ``0 < q < p < 1``.

    Returns
    -------
    float
    """
    n = check_scalar(n, "n", numbers.Integral, low=2)
    p, q = check_probabilities(p, q)
    rho = (p + q) / 2
    return float(2 * np.sqrt(rho * (1 - rho) / n) / (p - q))
