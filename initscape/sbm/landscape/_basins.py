"""Basins of attraction of the reduced population map over the (x, y) square."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from initscape._validation import check_scalar
from initscape.sbm.landscape._census import critical_points
from initscape.sbm.landscape._population import logit_map
from initscape.sbm.landscape._study import _targets, classify_states

__all__ = ["Basins", "basins"]


@dataclass
class Basins:
    """Where each start of a grid over the square ends.

    Attributes
    ----------
    x, y : ndarray of shape (resolution,)
        Cell centres of the grid; start ``(x[j], y[i])`` is entry ``[i, j]``.
    outcome : ndarray of shape (resolution, resolution)
        Outcome of each start (``"truth"``, ``"one_block"``, ``"uninformative"``,
        ``"cycle"``, ``"other"``), by the rule of :func:`classify_states`.
    target : ndarray of shape (resolution, resolution)
        Index of the end point: census points in order, then 2-cycle points.
    target_kinds : list of str
        Kind of each target (``"cycle"`` for cycle points).
    n_iter : ndarray of shape (resolution, resolution)
    converged : ndarray of shape (resolution, resolution)
    census : Census
    """

    x: np.ndarray
    y: np.ndarray
    outcome: np.ndarray = field(repr=False)
    target: np.ndarray = field(repr=False)
    target_kinds: list
    n_iter: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    census: object = field(repr=False)

    def fractions(self) -> dict:
        """Share of the square's area in each outcome's basin."""
        names, counts = np.unique(self.outcome, return_counts=True)
        return {
            str(k): float(c) / self.outcome.size
            for k, c in zip(names, counts, strict=True)
        }


def basins(n, p, q, *, resolution=201, max_iter=1000, tol=1e-10, census=None) -> Basins:
    """Iterate the reduced population map from every cell of a grid on the square.

    All starts advance together (vectorised, on logits, see
    :mod:`initscape.sbm.landscape._population`); a start stops when its ``(x, y)``
    moves by less than ``tol``. End states are classified by their nearest census
    point (:func:`classify_states`).

    Parameters
    ----------
    n : int
        Even number of nodes.
    p, q : float
        ``0 < q < p < 1``, known.
    resolution : int, default=201
        Cells per axis; the starts are the cell centres ``(k + 1/2) / resolution``.
    max_iter : int, default=1000
    tol : float, default=1e-10
    census : Census or None, default=None
        A census of the same setting, to avoid recomputing it.

    Returns
    -------
    Basins
    """
    resolution = check_scalar(resolution, "resolution", numbers.Integral, low=2)
    max_iter = check_scalar(max_iter, "max_iter", numbers.Integral, low=1)
    tol = check_scalar(tol, "tol", numbers.Real, low=0, low_inclusive=False)
    if census is None:
        census = critical_points(n, p, q)
    elif (census.n, census.p, census.q) != (n, p, q):
        raise ValueError(
            f"census must be of the same setting (n={n}, p={p}, q={q}); got "
            f"(n={census.n}, p={census.p}, q={census.q})."
        )
    M = census.coefficients

    # every cell centre, as logits
    grid = (np.arange(resolution) + 0.5) / resolution
    xx, yy = np.meshgrid(grid, grid)
    xy = np.stack([xx.ravel(), yy.ravel()], axis=1)
    w = np.log(xy) - np.log1p(-xy)

    # iterate, freezing the starts that have stopped moving
    n_iter = np.zeros(len(w), dtype=np.int64)
    converged = np.zeros(len(w), dtype=bool)
    active = np.arange(len(w))
    for _ in range(max_iter):
        new = logit_map(w[active], M)
        change = np.abs(expit(new) - expit(w[active])).max(axis=1)
        w[active] = new
        n_iter[active] += 1
        done = change < tol
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break

    # classify the end states
    outcome, target = classify_states(expit(w), census, converged)
    is_cycle = _targets(census)[2]
    target_kinds = [pt.kind for pt in census] + ["cycle"] * int(is_cycle.sum())
    shape = (resolution, resolution)
    return Basins(
        grid,
        grid.copy(),
        outcome.reshape(shape),
        target.reshape(shape),
        target_kinds,
        n_iter.reshape(shape),
        converged.reshape(shape),
        census,
    )
