"""Every fixed point and 2-cycle of the reduced population map, classified.

The search works on logits ``w = (xi, eta)`` (see :mod:`._population`), where the
map is ``Phi(w) = M (sigmoid(w) - 1/2)`` with ``M = [[a, b], [b, a]]`` for two equal
blocks and ``pi = 1/2``. Every fixed point lies in the box ``|w_k| <= (|a| + |b|) / 2``
(the image of the whole plane). The census:

1. starts Newton's method on ``w - Phi(w) = 0`` from a grid of starts (uniform in
   ``(x, y)`` and uniform in logits), with steps clipped to the box;
2. keeps the converged roots and merges those closer than ``1e-6 (1 + |w|)``;
3. checks completeness independently of that search. The map commutes with the
   swap ``(x, y) -> (y, x)`` and with ``(x, y) -> (1 - y, 1 - x)``, so the lines
   ``x = y`` and ``x + y = 1`` are invariant, and on them the fixed points solve
   ``xi = k (sigmoid(xi) - 1/2)`` with ``k = a + b`` and ``k = a - b``. Sign changes of
   ``xi - k (sigmoid(xi) - 1/2)`` on a fine grid count them exactly (there are three,
   ``0`` and ``+-r``, when ``k > 4``; one when ``k <= 4``), and the census must hold
   the same number on each line. Fixed points off both lines come in orbits of four
   under the two symmetries, so their number must be a multiple of four.

Kinds. ``uninformative`` is ``(1/2, 1/2)``; on the line ``x + y = 1`` the other
points are ``truth`` (``x > 1/2``: ``psi`` near 1 on block 1) and ``swapped_truth``;
on ``x = y`` they are ``one_block`` (all nodes put in the same block). Off both lines,
a point that is a saddle of the map (one Jacobian eigenvalue of modulus above 1,
one below) lying nearer the edge of the square than its centre
(``max(|x - 1/2|, |y - 1/2|) > 1/4``) is an ``edge_saddle``: one coordinate
saturated at 0 or 1, the other interior; anything else is ``other``.

2-cycles ``w -> Phi(w) -> w`` with ``Phi(w) != w`` are found by the same Newton
search on ``w - Phi(Phi(w))``; a cycle attracts when both eigenvalues of
``D Phi(Phi(w)) D Phi(w)`` have modulus below 1. When ``p + q > 1``, ``a + b < 0`` and
the diagonal carries the attracting cycle ``(r, r) <-> (1 - r, 1 - r)`` as soon as
``|a + b| > 4``.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from initscape._validation import check_scalar
from initscape.sbm.landscape._population import (
    check_sizes,
    elbo_hessian_logits,
    elbo_logits,
    logit_map,
    logit_map_jacobian,
    map_coefficients,
    symmetric_eigenvalues,
)
from initscape.sbm.landscape._theory import check_probabilities

__all__ = ["Census", "CriticalPoint", "TwoCycle", "critical_points", "line_root_count"]

logger = logging.getLogger(__name__)

KINDS = ("truth", "swapped_truth", "one_block", "edge_saddle", "uninformative", "other")

# relative tolerance for "same root" and "on a symmetry line", in logits
_MERGE = 1e-6


@dataclass(frozen=True)
class CriticalPoint:
    """A fixed point of the reduced population map (a critical point of the ELBO).

    Attributes
    ----------
    x, y : float
        Block averages of ``psi`` on block 1 and block 2.
    kind : str
        One of ``"truth"``, ``"swapped_truth"``, ``"one_block"``,
        ``"edge_saddle"``, ``"uninformative"``, ``"other"`` (module docstring).
    map_eigenvalues : ndarray of shape (2,)
        Eigenvalues of the map's Jacobian (complex in general, real here since the
        Jacobian is similar to a symmetric matrix), by decreasing modulus.
    hessian_eigenvalues : ndarray of shape (2,)
        Ascending eigenvalues of the Hessian of the ELBO restricted to
        block-constant ``psi``, in ``(x, y)``.
    elbo : float
        Population ELBO at the point.
    logits : tuple of float
        ``(logit(x), logit(y))``, exact where ``x`` or ``y`` rounds to 0 or 1.
    """

    x: float
    y: float
    kind: str
    map_eigenvalues: np.ndarray = field(repr=False)
    hessian_eigenvalues: np.ndarray = field(repr=False)
    elbo: float
    logits: tuple = field(repr=False)

    @property
    def stable(self) -> bool:
        """Whether the map attracts nearby starts (spectral radius below 1)."""
        return bool(np.max(np.abs(self.map_eigenvalues)) < 1)

    @property
    def hessian_type(self) -> str:
        """``"maximum"``, ``"minimum"`` or ``"saddle"`` of the restricted ELBO."""
        h = self.hessian_eigenvalues
        if np.all(h < 0):
            return "maximum"
        if np.all(h > 0):
            return "minimum"
        return "saddle"

    def as_dict(self) -> dict:
        return {
            "x": self.x,
            "y": self.y,
            "kind": self.kind,
            "stable": self.stable,
            "hessian_type": self.hessian_type,
            "map_eigenvalues": [float(e) for e in self.map_eigenvalues],
            "hessian_eigenvalues": [float(e) for e in self.hessian_eigenvalues],
            "elbo": self.elbo,
            "logits": list(self.logits),
        }


@dataclass(frozen=True)
class TwoCycle:
    """A 2-cycle ``(x1, y1) -> (x2, y2) -> (x1, y1)`` of the reduced map.

    Attributes
    ----------
    points : ndarray of shape (2, 2)
        The two states, rows ``(x, y)``.
    multipliers : ndarray of shape (2,)
        Eigenvalues of the Jacobian of the twice-applied map along the cycle.
    attracting : bool
        Both multipliers of modulus below 1.
    logits : ndarray of shape (2, 2)
    """

    points: np.ndarray
    multipliers: np.ndarray = field(repr=False)
    attracting: bool
    logits: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        return {
            "points": self.points.tolist(),
            "multipliers": [float(e) for e in self.multipliers],
            "attracting": self.attracting,
        }


class Census(list):
    """The list of :class:`CriticalPoint` of one ``(n, p, q)``, with extras.

    Attributes
    ----------
    cycles : list of TwoCycle
    n, p, q : the setting.
    coefficients : ndarray of shape (2, 2)
        ``M = [[a, b], [b, a]]`` of the reduced map.
    line_counts : dict
        Fixed points on ``x = y`` and ``x + y = 1`` counted by sign changes
        (``"diagonal"``, ``"antidiagonal"``) and found by the search
        (``"diagonal_found"``, ``"antidiagonal_found"``).
    complete : bool
        Whether the completeness check passed (module docstring).
    """

    def __init__(self, points, *, cycles, n, p, q, coefficients, line_counts, complete):
        super().__init__(points)
        self.cycles = cycles
        self.n, self.p, self.q = n, p, q
        self.coefficients = coefficients
        self.line_counts = line_counts
        self.complete = complete

    def kind_counts(self) -> dict:
        """Number of critical points of each kind present."""
        counts = {}
        for point in self:
            counts[point.kind] = counts.get(point.kind, 0) + 1
        return counts

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "p": self.p,
            "q": self.q,
            "a": float(self.coefficients[0, 0]),
            "b": float(self.coefficients[0, 1]),
            "points": [point.as_dict() for point in self],
            "cycles": [cycle.as_dict() for cycle in self.cycles],
            "line_counts": dict(self.line_counts),
            "complete": self.complete,
        }


def line_root_count(k, bound, n_grid=200_001) -> int:
    """Number of roots of ``r(s) = s - k (sigmoid(s) - 1/2)`` on ``[-bound, bound]``.

    Counted as sign changes of ``r`` on an even grid (which never holds the root
    ``s = 0`` itself, so it is seen as a sign change). Independent of the Newton
    search of :func:`critical_points`.
    """
    if n_grid % 2:
        n_grid += 1
    s = np.linspace(-bound - 1, bound + 1, n_grid)
    r = s - k * 0.5 * np.tanh(0.5 * s)
    return int(np.count_nonzero(np.sign(r[1:]) != np.sign(r[:-1])))


def _newton(starts, residual, jacobian, bound, max_iter=200):
    # vectorised Newton on (..., 2) with steps clipped to a fraction of the box;
    # a start leaves the working set once its step is negligible
    w = starts.copy()
    active = np.arange(len(w))
    for _ in range(max_iter):
        wa = w[active]
        F = residual(wa)
        J = jacobian(wa)
        det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
        det = np.where(np.abs(det) < 1e-300, 1e-300, det)
        step0 = (J[:, 1, 1] * F[:, 0] - J[:, 0, 1] * F[:, 1]) / det
        step1 = (J[:, 0, 0] * F[:, 1] - J[:, 1, 0] * F[:, 0]) / det
        step = np.clip(np.stack([step0, step1], axis=1), -bound / 4, bound / 4)
        wa = np.clip(wa - step, -2 * bound, 2 * bound)
        w[active] = wa
        moving = np.any(np.abs(step) > 1e-13 * (1 + np.abs(wa)), axis=1)
        active = active[moving]
        if active.size == 0:
            break
    ok = np.all(np.abs(residual(w)) <= 1e-9 * (1 + np.abs(w)), axis=1)
    return w[ok]


def _merge(roots):
    # keep one root per cluster of roots closer than _MERGE (1 + |w|); rounding
    # first removes the exact repeats cheaply
    if len(roots) == 0:
        return roots.reshape(0, 2)
    _, first = np.unique(np.round(roots, 7), axis=0, return_index=True)
    roots = roots[np.sort(first)]
    kept = []
    for w in roots[np.lexsort(roots.T[::-1])]:
        if not any(np.all(np.abs(w - k) <= _MERGE * (1 + np.abs(k))) for k in kept):
            kept.append(w)
    return np.array(kept).reshape(-1, 2)


def _starts(bound, n_grid):
    # a grid uniform in (x, y) and one uniform in logits, together
    x = np.linspace(0, 1, n_grid + 2)[1:-1]
    logits = np.log(x) - np.log1p(-x)
    grids = [logits, np.linspace(-bound, bound, n_grid)]
    starts = [np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2) for g in grids]
    return np.concatenate(starts)


def _on_line(w, sign):
    # sign = -1: diagonal xi = eta; sign = +1: antidiagonal xi = -eta
    return abs(w[0] + sign * w[1]) <= _MERGE * (1 + abs(w[0]) + abs(w[1]))


def _kind(w, eigenvalues) -> str:
    xi, eta = w
    diagonal, antidiagonal = _on_line(w, -1), _on_line(w, +1)
    if diagonal and antidiagonal:
        return "uninformative"
    if antidiagonal:
        return "truth" if xi > 0 else "swapped_truth"
    if diagonal:
        return "one_block"
    moduli = np.abs(eigenvalues)
    u, v = expit(xi) - 0.5, expit(eta) - 0.5
    if moduli.max() > 1 > moduli.min() and max(abs(u), abs(v)) > 0.25:
        return "edge_saddle"
    return "other"


def critical_points(n, p, q, *, n_grid=41) -> Census:
    """Census of the fixed points of the population BCAVI map, two equal blocks.

    Parameters
    ----------
    n : int
        Number of nodes, even, >= 4 (two blocks of ``n / 2``).
    p, q : float
        ``0 < q < p < 1``, known.
    n_grid : int, default=41
        Starts per axis of each of the two grids of starts (module docstring).

    Returns
    -------
    Census
        A list of :class:`CriticalPoint`, sorted by decreasing ELBO, with the
        2-cycles in ``.cycles`` and the completeness check in ``.complete``.

    Examples
    --------
    >>> census = critical_points(100, 0.5, 0.1)
    >>> sorted(point.kind for point in census)[:3]
    ['edge_saddle', 'edge_saddle', 'edge_saddle']
    """
    n = check_scalar(n, "n", numbers.Integral, low=4)
    check_sizes(n)
    p, q = check_probabilities(p, q)
    n_grid = check_scalar(n_grid, "n_grid", numbers.Integral, low=3)
    M = map_coefficients(n, p, q)
    a, b = M[0, 0], M[0, 1]
    bound = (abs(a) + abs(b)) / 2 + 1
    starts = _starts(bound, n_grid)
    eye = np.eye(2)

    # fixed points: Newton on w - Phi(w), merged
    roots = _merge(
        _newton(
            starts,
            lambda w: w - logit_map(w, M),
            lambda w: eye - logit_map_jacobian(w, M),
            bound,
        )
    )
    points = []
    for w in roots:
        eig = np.linalg.eigvals(logit_map_jacobian(w, M))
        eig = np.real_if_close(eig[np.argsort(-np.abs(eig))])
        kind = _kind(w, eig)
        hess = symmetric_eigenvalues(elbo_hessian_logits(w, n, p, q))
        elbo = float(elbo_logits(w, n, p, q))
        x, y = float(expit(w[0])), float(expit(w[1]))
        points.append(
            CriticalPoint(x, y, kind, eig, hess, elbo, (float(w[0]), float(w[1])))
        )
    points.sort(key=lambda point: -point.elbo)

    # 2-cycles: Newton on w - Phi(Phi(w)), minus the fixed points, as pairs
    def twice(w):
        return logit_map(logit_map(w, M), M)

    def twice_jacobian(w):
        return logit_map_jacobian(logit_map(w, M), M) @ logit_map_jacobian(w, M)

    period2 = _newton(
        starts, lambda w: w - twice(w), lambda w: eye - twice_jacobian(w), bound
    )
    moved = np.abs(period2 - logit_map(period2, M)) > 1e-6 * (1 + np.abs(period2))
    cycles = []
    for w in _merge(period2[np.any(moved, axis=1)]):
        partner = logit_map(w, M)
        if any(
            np.allclose(partner, c.logits[0], rtol=_MERGE, atol=_MERGE)
            or np.allclose(w, c.logits[1], rtol=_MERGE, atol=_MERGE)
            for c in cycles
        ):
            continue
        mult = np.linalg.eigvals(twice_jacobian(w[None])[0])
        mult = np.real_if_close(mult[np.argsort(-np.abs(mult))])
        logits = np.stack([w, partner])
        cycles.append(
            TwoCycle(expit(logits), mult, bool(np.max(np.abs(mult)) < 1), logits)
        )

    # completeness: exact counts on the symmetry lines, orbits of four off them
    line_counts = {
        "diagonal": line_root_count(a + b, bound),
        "antidiagonal": line_root_count(a - b, bound),
        "diagonal_found": sum(_on_line(pt.logits, -1) for pt in points),
        "antidiagonal_found": sum(_on_line(pt.logits, +1) for pt in points),
    }
    off = sum(not (_on_line(pt.logits, -1) or _on_line(pt.logits, +1)) for pt in points)
    complete = (
        line_counts["diagonal"] == line_counts["diagonal_found"]
        and line_counts["antidiagonal"] == line_counts["antidiagonal_found"]
        and off % 4 == 0
    )
    if not complete:
        logger.warning(
            "census of (n=%d, p=%g, q=%g) failed its completeness check: %s, %d off "
            "the symmetry lines; try a larger n_grid",
            n,
            p,
            q,
            line_counts,
            off,
        )
    return Census(
        points,
        cycles=cycles,
        n=n,
        p=p,
        q=q,
        coefficients=M,
        line_counts=line_counts,
        complete=complete,
    )
