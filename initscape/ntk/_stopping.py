"""A data-dependent early-stopping rule for kernel gradient descent from f_0.

Raskutti, Wainwright and Yu (JMLR 2014, eq. 12 and Theorem 1) stop gradient
descent on a kernel with empirical eigenvalues lambda_1 >= ... >= lambda_n of K/n
at

    T_hat = min{ t : R_hat(1/sqrt(eta_t)) > 1/(2 e sigma eta_t) } - 1,
    R_hat(eps) = [ (1/n) sum_i min(lambda_i, eps^2) ]^(1/2),  eta_t = alpha t,

for a target of RKHS norm at most 1 and noise of scale sigma. Sun and Raskutti
(2026) start from pretrained predictions: the target becomes f* - f_0, of RKHS
norm R, and the right-hand side R/(2 e sigma eta_t).

Both sides are written as one increasing function: multiplying by eta_t,
eta R_hat(1/sqrt(eta)) = [ (1/n) sum_i min(eta^2 lambda_i, eta) ]^(1/2), which
grows with eta and stays finite at eta = 0 and at lambda_i = 0, so T_hat is found
by bisection and checked exactly at the integers around it.
"""

from __future__ import annotations

import logging
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from initscape._validation import check_scalar
from initscape.ntk._gd import _arrays, _eigh, kernel_gradient_descent

logger = logging.getLogger(__name__)

__all__ = [
    "StoppingRule",
    "StoppingReport",
    "stopping_step",
    "local_width",
    "noise_from_label_range",
    "noise_from_gcv",
    "radius_from_ridge",
    "stopping_report",
]

MAX_STEPS = 10**12


def local_width(eigenvalues, eps):
    """R_hat(eps) = [ (1/n) sum_i min(lambda_i, eps^2) ]^(1/2) (RWY 2014, eq. 11)."""
    lam = np.clip(np.asarray(eigenvalues, dtype=float), 0.0, None)
    eps = np.asarray(eps, dtype=float)
    return np.sqrt(np.mean(np.minimum(lam[None, :], (eps**2).reshape(-1, 1)), axis=1))


def _scaled_width(lam, eta):
    """eta * R_hat(1/sqrt(eta)) = [ (1/n) sum_i min(eta^2 lambda_i, eta) ]^(1/2)."""
    return math.sqrt(float(np.mean(np.minimum(eta * eta * lam, eta))))


@dataclass(frozen=True)
class StoppingRule:
    """T_hat of the early-stopping rule and what it was computed from.

    Attributes
    ----------
    step : int
        T_hat; ``MAX_STEPS`` (10^12) when the rule never fires (no positive
        eigenvalue, or sigma = 0), with ``capped`` set.
    eta : float
        eta_T_hat = alpha T_hat.
    critical_radius : float
        eps at the first step that meets the inequality, 1/sqrt(alpha (T_hat + 1)).
    step_size : float
    noise_level : float
    radius : float
    capped : bool
    """

    step: int
    eta: float
    critical_radius: float
    step_size: float
    noise_level: float
    radius: float
    capped: bool


# an eigenvalue of K/n below -_NEGATIVE_TOLERANCE times the largest magnitude is
# refused rather than clipped: K/n = J J^T / n is positive semidefinite, so
# eigensolver round-off leaves negatives of order machine epsilon (1e-16 in
# float64) times the largest, far above this line, while anything below it means
# the input is not the spectrum of a kernel (a sign slip, or the wrong matrix)
_NEGATIVE_TOLERANCE = 1e-8


def _check_eigenvalues(eigenvalues):
    """lambda as a finite 1-d float array, round-off negatives clipped to 0."""
    if isinstance(eigenvalues, (str, bytes)):
        raise TypeError(
            "eigenvalues must be a 1-d array of numbers; got "
            f"{type(eigenvalues).__name__} {eigenvalues!r}."
        )
    try:
        lam = np.asarray(eigenvalues, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            "eigenvalues must be a 1-d array of numbers; got "
            f"{type(eigenvalues).__name__} {str(eigenvalues)[:60]!r} ({err})."
        ) from None
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(
            f"eigenvalues must be a non-empty 1-d array; got shape {lam.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(lam))
    if bad.size:
        raise ValueError(
            f"eigenvalues must be finite; got {float(lam[bad[0]])!r} at index {bad[0]}"
            f"{f' (and {bad.size - 1} more)' if bad.size > 1 else ''}."
        )
    floor = -_NEGATIVE_TOLERANCE * float(np.abs(lam).max())
    if lam.min() < floor:
        i = int(np.argmin(lam))
        raise ValueError(
            "eigenvalues must be >= 0, as those of K/n, a positive semidefinite "
            f"matrix, are (up to round-off of {_NEGATIVE_TOLERANCE:g} times the "
            f"largest); got {float(lam[i])!r} at index {i}."
        )
    return np.clip(lam, 0.0, None)


def stopping_step(eigenvalues, noise_level, step_size, radius=1.0):
    """T_hat = min{t >= 1 : R_hat(1/sqrt(alpha t)) > R/(2 e sigma alpha t)} - 1.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n,)
        lambda_i, eigenvalues of K/n: finite, and >= 0 up to round-off (an
        eigenvalue above -1e-8 times the largest magnitude is clipped to 0, one
        below it refused).
    noise_level : float
        sigma >= 0.
    step_size : float
        alpha > 0.
    radius : float, default=1.0
        R >= 0, the RKHS norm of f* - f_0.

    Returns
    -------
    StoppingRule
    """
    lam = _check_eigenvalues(eigenvalues)
    sigma = check_scalar(noise_level, "noise_level", numbers.Real, low=0)
    alpha = check_scalar(
        step_size, "step_size", numbers.Real, low=0, low_inclusive=False
    )
    radius = check_scalar(radius, "radius", numbers.Real, low=0)

    def fires(t):
        # R_hat(1/sqrt(eta)) > R/(2 e sigma eta), multiplied through by eta > 0
        return 2.0 * math.e * sigma * _scaled_width(lam, alpha * t) > radius

    def result(first, capped=False):
        step = first - 1
        return StoppingRule(
            step,
            alpha * step,
            1.0 / math.sqrt(alpha * first),
            alpha,
            sigma,
            radius,
            capped,
        )

    # the rule never fires without signal or without noise
    if lam.max() <= 0 or sigma == 0 or not fires(MAX_STEPS):
        return result(MAX_STEPS + 1, capped=True)

    # bisection on integers over the increasing left-hand side
    lo, hi = 0, 1
    while not fires(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    return result(hi)


def noise_from_label_range(y):
    """sigma <= (max y - min y)/2: bounded labels are sub-Gaussian (Hoeffding).

    Labels +1/-1 give sigma = 1.
    """
    y = np.asarray(y, dtype=float)
    return float((y.max() - y.min()) / 2.0)


def _gcv(lam, coef, n, penalties):
    """GCV score of the ridge smoother S = U diag(lambda/(lambda+g)) U^T per g."""
    shrink = penalties[:, None] / (lam[None, :] + penalties[:, None])
    rss = np.sum((shrink * coef[None, :]) ** 2, axis=1)
    dof_left = np.sum(shrink, axis=1)
    return (rss / n) / (dof_left / n) ** 2, rss, dof_left


def _penalty_grid(lam):
    top = lam.max()
    return top * np.logspace(-8, 2, 61)


def noise_from_gcv(kernel, y_train=None, f0_train=None, *, penalties=None):
    """sigma from the residuals of a GCV-chosen kernel ridge smoother.

    The smoother S_gamma = K (K + n gamma I)^{-1} applied to r = y - f_0; gamma
    minimises GCV(gamma) = (1/n) ||(I - S) r||^2 / ((1/n) tr(I - S))^2 (Craven and
    Wahba, 1979), and sigma^2 = ||(I - S) r||^2 / tr(I - S) (Wahba, 1990, eq.
    4.7.1).

    Returns
    -------
    sigma : float
    penalty : float
        The chosen gamma.
    """
    k, _, f0, _, y, _ = _arrays(kernel, None, f0_train, None, y_train, None)
    lam, u = _eigh(k)
    coef = u.T @ (y - f0)
    penalties = _penalty_grid(lam) if penalties is None else np.asarray(penalties)
    score, rss, dof_left = _gcv(lam, coef, k.shape[0], penalties)
    best = int(np.argmin(score))
    sigma = math.sqrt(rss[best] / dof_left[best]) if dof_left[best] > 0 else 0.0
    return float(sigma), float(penalties[best])


def radius_from_ridge(kernel, y_train=None, f0_train=None, *, penalty=None):
    """R, the RKHS norm of the ridge-smoothed residual f = K a, a = (K + n gamma
    I)^{-1} (y - f_0): ||f||_H^2 = a^T K a = sum_i lambda_i c_i^2 / (n (lambda_i +
    gamma)^2), with c = U^T (y - f_0). ``penalty=None`` takes the GCV choice of
    :func:`noise_from_gcv`.
    """
    k, _, f0, _, y, _ = _arrays(kernel, None, f0_train, None, y_train, None)
    if penalty is None:
        _, penalty = noise_from_gcv(k, y, f0)
    gamma = check_scalar(penalty, "penalty", numbers.Real, low=0, low_inclusive=False)
    lam, u = _eigh(k)
    coef = u.T @ (y - f0)
    n = k.shape[0]
    return float(math.sqrt(np.sum(lam * coef**2 / (n * (lam + gamma) ** 2))))


@dataclass(frozen=True)
class StoppingReport:
    """T_hat with its plug-ins, against the best step on held-out data.

    Attributes
    ----------
    rule : StoppingRule
    noise_plugin : str
        ``"label-range"``, ``"gcv"`` or ``"given"``.
    radius_plugin : str
        ``"ridge"`` or ``"given"``.
    steps : ndarray of shape (n_steps,)
        The grid of t the held-out risk was evaluated on (T_hat included).
    test_risk : ndarray of shape (n_steps,) or None
    best_step : int or None
        The grid step of least held-out risk.
    at_rule : dict
        Held-out risk and accuracy at T_hat (and training risk).
    at_best : dict
        The same at ``best_step``.
    at_start : dict
        The same at t = 0, the predictions f_0.
    """

    rule: StoppingRule
    noise_plugin: str
    radius_plugin: str
    steps: np.ndarray
    test_risk: np.ndarray | None
    train_risk: np.ndarray | None
    best_step: int | None
    at_rule: dict = field(default_factory=dict)
    at_best: dict = field(default_factory=dict)
    at_start: dict = field(default_factory=dict)


def _step_grid(lam, alpha, t_hat, n_grid=120):
    """0, T_hat and a geometric grid up to where every direction above the
    round-off floor has converged (alpha t lambda >= 10)."""
    positive = lam[lam > lam.max() * 1e-10]
    t_max = min(
        MAX_STEPS, max(10 * (t_hat + 1), int(np.ceil(10 / (alpha * positive.min()))))
    )
    grid = np.unique(np.round(np.geomspace(1, t_max, n_grid)))
    extra = [0.0] + ([float(t_hat)] if t_hat < MAX_STEPS else [])
    return np.unique(np.concatenate([extra, grid]))


def stopping_report(
    kernel,
    *,
    noise="label-range",
    radius="ridge",
    step_size=None,
    y_train=None,
    y_test=None,
):
    """Apply the rule to an eNTK and check it against held-out data.

    Parameters
    ----------
    kernel : EmpiricalNTK
        With training labels (and held-out labels and cross-kernel for the check).
    noise : {"label-range", "gcv"} or float, default="label-range"
        sigma: :func:`noise_from_label_range`, :func:`noise_from_gcv`, or given.
    radius : "ridge" or float, default="ridge"
        R: :func:`radius_from_ridge` or given.
    step_size : float, default=None
        alpha; ``None`` means 1/lambda_1 of K/n.
    y_train, y_test : ndarray, default=None
        Override the labels carried by ``kernel``.

    Returns
    -------
    StoppingReport
    """
    k, k_cross, f0, f0_test, y, y_test = _arrays(
        kernel, None, None, None, y_train, y_test
    )
    lam, u = _eigh(k)
    alpha = 1.0 / lam.max() if step_size is None else step_size

    # plug-ins for sigma and R
    if isinstance(noise, str):
        if noise == "label-range":
            sigma = noise_from_label_range(y)
        elif noise == "gcv":
            sigma, _ = noise_from_gcv(k, y, f0)
        else:
            raise ValueError(
                f"noise must be 'label-range', 'gcv' or a number; got {noise!r}."
            )
        noise_plugin = noise
    else:
        sigma, noise_plugin = noise, "given"
    if isinstance(radius, str):
        if radius != "ridge":
            raise ValueError(f"radius must be 'ridge' or a number; got {radius!r}.")
        r = radius_from_ridge(k, y, f0)
        radius_plugin = "ridge"
    else:
        r, radius_plugin = radius, "given"

    # the rule, then the risk curves on a grid of steps through T_hat
    rule = stopping_step(lam, sigma, alpha, r)
    steps = _step_grid(lam, alpha, rule.step)
    path = kernel_gradient_descent(
        k,
        steps,
        step_size=alpha,
        k_cross=k_cross,
        f0_train=f0,
        f0_test=f0_test,
        y_train=y,
        y_test=y_test,
    )

    def at(i):
        out = {
            "step": int(steps[i]),
            "train_risk": float(path.train_risk[i]),
            "train_accuracy": float(path.train_accuracy[i]),
        }
        if path.test_risk is not None:
            out["test_risk"] = float(path.test_risk[i])
            out["test_accuracy"] = float(path.test_accuracy[i])
        return out

    best = int(np.argmin(path.test_risk)) if path.test_risk is not None else None
    rule_index = int(np.searchsorted(steps, min(rule.step, steps[-1])))
    return StoppingReport(
        rule=rule,
        noise_plugin=noise_plugin,
        radius_plugin=radius_plugin,
        steps=steps,
        test_risk=path.test_risk,
        train_risk=path.train_risk,
        best_step=None if best is None else int(steps[best]),
        at_rule=at(rule_index),
        at_best={} if best is None else at(best),
        at_start=at(0),
    )
