"""The spectrum of an empirical NTK: eigenvalues of K/n, decay fits, dimension.

The eigenvalues lambda_1 >= ... >= lambda_n of the normalised kernel matrix K/n
estimate those of the kernel's integral operator (Koltchinskii and Gine, 2000); how
fast they decay sets the rate of early-stopped kernel gradient descent
(Raskutti, Wainwright and Yu, 2014, section 3; Sun and Raskutti, 2026).
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np

from initscape._validation import check_scalar

logger = logging.getLogger(__name__)

__all__ = ["DecayFit", "Spectrum", "spectrum", "fit_decay"]


@dataclass(frozen=True)
class DecayFit:
    """A least-squares fit of log eigenvalues over a window of indices.

    ``"polynomial"``: log lambda_j = log C - rate * log j, so lambda_j ~ C j^-rate.
    ``"exponential"``: log lambda_j = log C - rate * j, so lambda_j ~ C e^(-rate j).

    Attributes
    ----------
    kind : {"polynomial", "exponential"}
    rate : float
        The decay exponent (polynomial) or rate (exponential).
    log_scale : float
        log C.
    r2 : float
        Coefficient of determination of the fit in log space.
    window : tuple of (int, int)
        First and last index j (1-based, inclusive) used.
    """

    kind: str
    rate: float
    log_scale: float
    r2: float
    window: tuple

    def predict(self, j):
        """Fitted lambda_j at 1-based indices ``j``."""
        j = np.asarray(j, dtype=float)
        x = np.log(j) if self.kind == "polynomial" else j
        return np.exp(self.log_scale - self.rate * x)


@dataclass(frozen=True)
class Spectrum:
    """Eigen-decomposition of K/n with its decay fits.

    Attributes
    ----------
    eigenvalues : ndarray of shape (n,)
        lambda_j of K/n, descending, negatives clipped to 0.
    eigenvectors : ndarray of shape (n, n)
        Column j is the unit eigenvector of lambda_j.
    n : int
    most_negative : float
        The most negative eigenvalue before clipping (0.0 when none was).
    n_clipped : int
        How many eigenvalues were negative and clipped to 0.
    polynomial_fit : DecayFit or None
        None when the default window holds fewer than 3 eigenvalues above the
        round-off floor of :func:`default_window` (a kernel of rank 1 or 2, or
        n < 5): the decay is then undetermined.
    exponential_fit : DecayFit or None
        None in the same case.
    effective_dimension : float
        The participation ratio (sum_j lambda_j)^2 / sum_j lambda_j^2, between 1
        (one direction) and n (a flat spectrum).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    n: int
    most_negative: float
    n_clipped: int
    polynomial_fit: DecayFit | None
    exponential_fit: DecayFit | None
    effective_dimension: float

    def summary(self, top=5) -> dict:
        """A dict of the numbers worth printing (a fit None when undetermined)."""
        poly, expo = self.polynomial_fit, self.exponential_fit
        return {
            "n": self.n,
            "top_eigenvalues": self.eigenvalues[:top].tolist(),
            "most_negative": self.most_negative,
            "n_clipped": self.n_clipped,
            "polynomial_rate": None if poly is None else poly.rate,
            "polynomial_r2": None if poly is None else poly.r2,
            "exponential_rate": None if expo is None else expo.rate,
            "exponential_r2": None if expo is None else expo.r2,
            "window": None if poly is None else list(poly.window),
            "effective_dimension": self.effective_dimension,
        }


def fit_decay(eigenvalues, kind="polynomial", window=None):
    """Fit polynomial or exponential decay to descending eigenvalues.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n,)
        Descending, non-negative.
    kind : {"polynomial", "exponential"}, default="polynomial"
    window : tuple of (int, int), default=None
        First and last 1-based index j to fit; ``None`` takes
        :func:`default_window`.

    Returns
    -------
    DecayFit

    Raises
    ------
    ValueError
        When the window holds fewer than 3 eigenvalues: a line through two points
        fits them exactly (R^2 = 1) and says nothing about the decay.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if kind not in ("polynomial", "exponential"):
        raise ValueError(f"kind must be 'polynomial' or 'exponential'; got {kind!r}.")
    lo, hi = default_window(lam) if window is None else _check_window(window, lam)
    if hi - lo + 1 < 3:
        raise ValueError(
            f"window must hold at least 3 eigenvalues to fit a decay; got "
            f"{(lo, hi)!r}, {hi - lo + 1} eigenvalue(s)"
            + (
                f" (the default keeps j <= ceil(n/2) = {int(np.ceil(lam.size / 2))} "
                f"with lambda_j > {_FLOOR:g} lambda_1; lower ones are round-off)."
                if window is None
                else "."
            )
        )
    j = np.arange(lo, hi + 1, dtype=float)
    y = np.log(lam[lo - 1 : hi])
    x = np.log(j) if kind == "polynomial" else j
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return DecayFit(kind, float(-slope), float(intercept), float(r2), (lo, hi))


# eigh of a float64 matrix gets each eigenvalue to within about n * 1e-16 times
# lambda_1, so anything below 1e-10 * lambda_1 (a margin of a million for n up to
# 100) may be round-off: a rank-1 kernel's "zero" eigenvalues come out near 1e-16
# and would otherwise fit a fake decay with R^2 = 1
_FLOOR = 1e-10


def default_window(eigenvalues, floor=_FLOOR):
    """Indices 1 .. m with m = min(#{j : lambda_j > floor * lambda_1}, ceil(n/2)).

    The lower half of a finite kernel matrix's spectrum estimates the operator's
    eigenvalues poorly (Braun, JMLR 2006), and eigenvalues at round-off level
    carry no decay information. The window may hold fewer than 3 indices (even
    none); :func:`fit_decay` refuses such a window.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    above = int(np.sum(lam > floor * lam[0])) if lam[0] > 0 else 0
    return 1, min(above, int(np.ceil(lam.size / 2)))


def _check_window(window, lam):
    ok = (
        isinstance(window, (tuple, list))
        and len(window) == 2
        and all(isinstance(w, numbers.Integral) for w in window)
        and 1 <= window[0] < window[1] <= lam.size
    )
    if not ok:
        raise ValueError(
            f"window must be two 1-based indices (first, last) with 1 <= first < "
            f"last <= {lam.size}; got {window!r}."
        )
    if np.any(lam[window[0] - 1 : window[1]] <= 0):
        raise ValueError(
            f"window must cover positive eigenvalues only; got {tuple(window)!r}, "
            f"which reaches eigenvalue {lam[window[1] - 1]:.3g}."
        )
    return int(window[0]), int(window[1])


def spectrum(kernel, *, window=None, warn_tolerance=1e-8):
    """Eigenvalues of K/n in float64, clipped at 0, with decay fits.

    Parameters
    ----------
    kernel : EmpiricalNTK or ndarray of shape (n, n)
        A symmetric positive semi-definite kernel matrix K (refused when max |K -
        K^T| exceeds round-off: 1e-8 times max |K| for float64) (its ``train`` block for
        an :class:`EmpiricalNTK`).
    window : tuple of (int, int), default=None
        Indices (1-based, inclusive) for both decay fits; ``None`` takes
        :func:`default_window`, and leaves both fits None when it holds fewer than
        3 eigenvalues.
    warn_tolerance : float, default=1e-8
        A negative eigenvalue below ``-warn_tolerance * lambda_1`` is logged as a
        warning: more than round-off, so K is not a Gram matrix.

    Returns
    -------
    Spectrum
    """
    from scipy.linalg import eigh

    k = getattr(kernel, "train", kernel)
    if hasattr(k, "toarray") or np.iscomplexobj(k):
        raise TypeError(
            "kernel must be a dense real array (or an EmpiricalNTK); got "
            f"{type(k).__name__}"
            f"{' of complex numbers' if np.iscomplexobj(k) else ''}."
        )
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] < 2:
        raise ValueError(
            f"kernel must be a square matrix with at least 2 rows; got shape {k.shape}."
        )
    if not np.all(np.isfinite(k)):
        raise ValueError("kernel must hold finite numbers only; got NaN or inf.")
    # a kernel built in floating point is symmetric only to round-off: float64
    # products of Jacobian blocks differ from their transposes near 1e-16
    # relative, float32 ones near 1e-7, so the bound is 1e-8 or 100 machine
    # epsilons of the input's own precision, whichever is larger
    given = np.asarray(getattr(kernel, "train", kernel))
    precision = given.dtype if np.issubdtype(given.dtype, np.floating) else np.float64
    tolerance = max(1e-8, 100 * float(np.finfo(precision).eps))
    scale = float(np.max(np.abs(k)))
    asymmetry = float(np.max(np.abs(k - k.T)))
    if asymmetry > tolerance * scale:
        raise ValueError(
            f"kernel must be symmetric; got a matrix with max |K - K^T| = "
            f"{asymmetry:.3g}, {asymmetry / scale:.3g} times max |K| (round-off "
            f"allows {tolerance:.0e})."
        )
    check_scalar(warn_tolerance, "warn_tolerance", numbers.Real, low=0)
    n = k.shape[0]

    # eigen-decomposition of the symmetrised K/n, largest first
    values, vectors = eigh((k + k.T) / (2.0 * n))
    values, vectors = values[::-1].copy(), vectors[:, ::-1].copy()

    # clip what round-off pushed below zero, and say how far below it was
    most_negative = float(min(values.min(), 0.0))
    n_clipped = int(np.sum(values < 0))
    if most_negative < -warn_tolerance * max(values[0], 0.0):
        logger.warning(
            "K/n has eigenvalue %.3g, below -%.0e times the largest (%.3g): more "
            "than round-off; check that the kernel is a Gram matrix.",
            most_negative,
            warn_tolerance,
            values[0],
        )
    values = np.clip(values, 0.0, None)
    if values[0] <= 0:
        raise ValueError(
            "kernel must have a positive eigenvalue; got a kernel whose K/n has "
            f"largest eigenvalue {values[0]:.3g} (are the selected parameters "
            "connected to the output?)."
        )

    # decay fits over one window (none when the default window is too short to
    # determine a decay), and the effective dimension
    kinds = ("polynomial", "exponential")
    if window is None and np.diff(default_window(values))[0] + 1 < 3:
        fits = [None, None]
    else:
        fits = [fit_decay(values, kind, window) for kind in kinds]
    # (sum lambda)^2 / sum lambda^2, on lambda / lambda_1 so that it stays finite
    # for any finite kernel
    scaled = values / values[0]
    dim = float(scaled.sum() ** 2 / np.sum(scaled**2))
    return Spectrum(values, vectors, n, most_negative, n_clipped, *fits, dim)
