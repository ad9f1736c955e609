"""Kernel gradient descent from the pretrained predictions f_0, in closed form.

Linearise the network at theta_0, f(x; theta) ~ f_0(x) + grad f(x; theta_0) .
(theta - theta_0), and run gradient descent with step size alpha on the squared
loss L(theta) = (1/2n) sum_i (y_i - f(x_i; theta))^2. The training residuals
r_t = y - f_t(X) then follow r_{t+1} = (I - alpha K/n) r_t, and with K/n = U diag
(lambda) U^T (Raskutti, Wainwright and Yu, 2014, eq. 6; Lee et al., NeurIPS 2019,
eq. 9 for the network):

    f_t(X)   = f_0(X) + U diag(g_t(lambda)) U^T r_0,
    f_t(x*)  = f_0(x*) + (1/n) K(x*, X) U diag(g_t(lambda) / lambda) U^T r_0,
    g_t(lambda) = 1 - (1 - alpha lambda)^t,

with g_t(lambda)/lambda -> alpha t as lambda -> 0. Gradient flow replaces (1 -
alpha lambda)^t by exp(-alpha t lambda), for any real t >= 0. At t = 0 the
predictions are f_0; as t -> infinity they tend to the minimum-norm interpolant
f_0 + K(x*, X) K^+ r_0.

Kernel ridge regression with penalty gamma, minimising (1/2n) ||y - f_0 - f||^2 +
(gamma/2) ||f||_H^2, applies the filter lambda / (lambda + gamma) instead of g_t.
With gamma = 1/(alpha t) (Yao, Rosasco and Caponnetto, 2007), the gradient-flow
filter is sandwiched: x/(1 + x) <= 1 - e^(-x) <= 2x/(1 + x) for x = alpha t lambda,
so early stopping at t and ridge at 1/(alpha t) shrink every eigendirection within
a factor of two of each other.
"""

from __future__ import annotations

import logging
import numbers
from dataclasses import dataclass

import numpy as np

from initscape._validation import check_scalar

logger = logging.getLogger(__name__)

__all__ = ["KernelGDPath", "kernel_gradient_descent", "kernel_ridge", "gd_filter"]


@dataclass(frozen=True)
class KernelGDPath:
    """Predictions and risks of kernel gradient descent at a list of steps.

    Attributes
    ----------
    steps : ndarray of shape (n_steps,)
        t, the numbers of gradient steps (``inf`` allowed).
    step_size : float
        alpha.
    train_predictions : ndarray of shape (n_steps, n_train)
    test_predictions : ndarray of shape (n_steps, n_test) or None
    train_risk : ndarray of shape (n_steps,) or None
        (1/n) sum_i (y_i - f_t(x_i))^2, when training labels are known.
    test_risk : ndarray of shape (n_steps,) or None
        The same mean squared error on held-out data.
    train_accuracy : ndarray of shape (n_steps,) or None
        Share of sign(f_t(x_i)) == y_i, for labels +1/-1.
    test_accuracy : ndarray of shape (n_steps,) or None
    """

    steps: np.ndarray
    step_size: float
    train_predictions: np.ndarray
    test_predictions: np.ndarray | None
    train_risk: np.ndarray | None
    test_risk: np.ndarray | None
    train_accuracy: np.ndarray | None
    test_accuracy: np.ndarray | None


def gd_filter(eigenvalues, steps, step_size, *, flow=False, rcond=None):
    """The spectral filters of kernel gradient descent after ``steps`` steps.

    Returns the pair (g_t(lambda), g_t(lambda)/lambda), with g_t(lambda) = 1 - (1 -
    alpha lambda)^t for gradient descent and 1 - exp(-alpha t lambda) for gradient
    flow; both in a form that stays finite as lambda -> 0 (where g_t/lambda -> alpha
    t) and as t -> infinity (where g_t -> 1 and g_t/lambda -> 1/lambda on
    eigenvalues above ``rcond * lambda_1``, 0 below: the pseudo-inverse).

    Parameters
    ----------
    eigenvalues : ndarray of shape (n,)
        lambda, eigenvalues of K/n, non-negative.
    steps : ndarray of shape (n_steps,)
        t >= 0; integers for gradient descent when some alpha lambda > 1.
    step_size : float
        alpha > 0.
    flow : bool, default=False
    rcond : float, default=None
        Relative cut-off of the pseudo-inverse at t = inf; ``None`` means n times
        the float64 machine epsilon.

    Returns
    -------
    g : ndarray of shape (n_steps, n)
    g_over_lambda : ndarray of shape (n_steps, n)
    """
    lam = np.asarray(eigenvalues, dtype=float)
    t = np.atleast_1d(np.asarray(steps, dtype=float))[:, None]
    rcond = lam.size * np.finfo(float).eps if rcond is None else rcond
    x = step_size * lam[None, :]
    finite = np.isfinite(t)
    tf = np.where(finite, t, 0.0)

    # g = 1 - (1 - x)^t, through log1p/expm1 where 1 - x > 0
    if flow:
        g = -np.expm1(-tf * x)
    else:
        smooth = x < 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            g_smooth = -np.expm1(tf * np.log1p(-np.where(smooth, x, 0.0)))
        if not np.all(smooth):
            whole = np.all(tf == np.round(tf))
            if not whole:
                raise ValueError(
                    "steps must be whole numbers when step_size * lambda_1 > 1 "
                    f"(here {x.max():.3g}), where (1 - alpha lambda)^t is not real; "
                    "use flow=True for gradient flow."
                )
        g = np.where(smooth, g_smooth, 1.0 - np.power(1.0 - x, tf))

    # g / lambda, with its limit alpha t at lambda = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            lam[None, :] > 0, g / np.where(lam > 0, lam, 1.0), step_size * tf
        )

    # t = inf: projection onto the range, pseudo-inverse on it
    keep = lam > rcond * lam.max() if lam.max() > 0 else np.zeros_like(lam, bool)
    g_inf = keep.astype(float)
    ratio_inf = np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)
    g = np.where(finite, g, g_inf[None, :])
    ratio = np.where(finite, ratio, ratio_inf[None, :])
    return g, ratio


def _arrays(kernel, k_cross, f0_train, f0_test, y_train, y_test):
    """Unpack an EmpiricalNTK or explicit arrays, explicit ones taking precedence."""
    if hasattr(kernel, "train"):
        k_cross = kernel.cross if k_cross is None else k_cross
        f0_train = kernel.f0_train if f0_train is None else f0_train
        f0_test = kernel.f0_test if f0_test is None else f0_test
        y_train = kernel.y_train if y_train is None else y_train
        y_test = kernel.y_test if y_test is None else y_test
        kernel = kernel.train
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"kernel must be square; got shape {k.shape}.")
    n = k.shape[0]
    f0_train = np.zeros(n) if f0_train is None else np.asarray(f0_train, float)
    if y_train is None:
        raise ValueError(
            "y_train must be given (or carried by an EmpiricalNTK built from a "
            "Split); got None."
        )
    y_train = np.asarray(y_train, dtype=float)
    for name, v in (("f0_train", f0_train), ("y_train", y_train)):
        if v.shape != (n,):
            raise ValueError(f"{name} must be of shape ({n},); got {v.shape}.")
    if k_cross is not None:
        k_cross = np.asarray(k_cross, dtype=float)
        if k_cross.ndim != 2 or k_cross.shape[1] != n:
            raise ValueError(
                f"k_cross must be of shape (n_test, {n}); got {k_cross.shape}."
            )
        m = k_cross.shape[0]
        f0_test = np.zeros(m) if f0_test is None else np.asarray(f0_test, float)
        if f0_test.shape != (m,):
            raise ValueError(f"f0_test must be of shape ({m},); got {f0_test.shape}.")
        if y_test is not None:
            y_test = np.asarray(y_test, dtype=float)
            if y_test.shape != (m,):
                raise ValueError(f"y_test must be of shape ({m},); got {y_test.shape}.")
    return k, k_cross, f0_train, f0_test, y_train, y_test


def _eigh(k):
    from scipy.linalg import eigh

    n = k.shape[0]
    lam, u = eigh((k + k.T) / (2.0 * n))
    return np.clip(lam, 0.0, None), u


def _risks(pred, y):
    if y is None or pred is None:
        return None, None
    risk = np.mean((pred - y[None, :]) ** 2, axis=1)
    acc = np.mean(np.where(pred >= 0, 1.0, -1.0) == y[None, :], axis=1)
    return risk, acc


def kernel_gradient_descent(
    kernel,
    steps,
    *,
    step_size=None,
    flow=False,
    k_cross=None,
    f0_train=None,
    f0_test=None,
    y_train=None,
    y_test=None,
    spectrum=None,
):
    """Closed-form kernel gradient descent from f_0 at any steps t.

    f_t(X) = f_0(X) + U diag(g_t(lambda)) U^T (y - f_0(X)) and f_t(x*) = f_0(x*)
    + (1/n) K(x*, X) U diag(g_t(lambda)/lambda) U^T (y - f_0(X)), with K/n = U diag
    (lambda) U^T (see the module docstring and :func:`gd_filter`).

    Parameters
    ----------
    kernel : EmpiricalNTK or ndarray of shape (n_train, n_train)
        K; an :class:`EmpiricalNTK` also supplies the cross-kernel, f_0 and labels.
    steps : int, float or ndarray of shape (n_steps,)
        t >= 0; ``numpy.inf`` gives the minimum-norm interpolant.
    step_size : float, default=None
        alpha; ``None`` means 1/lambda_1, the largest step at which every
        eigendirection decays monotonically.
    flow : bool, default=False
        Gradient flow, exp(-alpha t lambda), instead of discrete steps.
    k_cross : ndarray of shape (n_test, n_train), default=None
    f0_train : ndarray of shape (n_train,), default=None
        f_0 on the training inputs; ``None`` means zeros.
    f0_test : ndarray of shape (n_test,), default=None
    y_train : ndarray of shape (n_train,), default=None
    y_test : ndarray of shape (n_test,), default=None
    spectrum : Spectrum, default=None
        A precomputed :func:`initscape.ntk.spectrum` of the same K, to skip the
        eigen-decomposition.

    Returns
    -------
    KernelGDPath
    """
    # inputs and the eigenbasis of K/n
    k, k_cross, f0_train, f0_test, y_train, y_test = _arrays(
        kernel, k_cross, f0_train, f0_test, y_train, y_test
    )
    if spectrum is not None:
        lam, u = spectrum.eigenvalues, spectrum.eigenvectors
    else:
        lam, u = _eigh(k)
    steps = np.atleast_1d(np.asarray(steps, dtype=float))
    if steps.ndim != 1 or np.any(np.isnan(steps)) or np.any(steps < 0):
        raise ValueError(f"steps must be non-negative numbers; got {steps!r}.")
    if step_size is None:
        step_size = 1.0 / lam.max()
    step_size = check_scalar(
        step_size, "step_size", numbers.Real, low=0, low_inclusive=False
    )
    if not flow and step_size * lam.max() >= 2.0:
        logger.warning(
            "step_size * lambda_1 = %.3g >= 2: gradient descent diverges along the "
            "top eigendirection.",
            step_size * lam.max(),
        )

    # residual coordinates in the eigenbasis, then the filters
    n = k.shape[0]
    coef = u.T @ (y_train - f0_train)
    g, ratio = gd_filter(lam, steps, step_size, flow=flow)
    train = f0_train[None, :] + (g * coef[None, :]) @ u.T
    test = None
    if k_cross is not None:
        test = f0_test[None, :] + ((ratio * coef[None, :]) @ u.T) @ k_cross.T / n

    # risks and accuracies
    train_risk, train_acc = _risks(train, y_train)
    test_risk, test_acc = _risks(test, y_test)
    return KernelGDPath(
        steps,
        float(step_size),
        train,
        test,
        train_risk,
        test_risk,
        train_acc,
        test_acc,
    )


def kernel_ridge(
    kernel, penalty, *, k_cross=None, f0_train=None, f0_test=None, y_train=None
):
    """Kernel ridge regression of the residual y - f_0, added back to f_0.

    Minimises (1/2n) ||y - f_0(X) - f(X)||^2 + (gamma/2) ||f||_H^2, so that
    f(x*) = K(x*, X) (K + n gamma I)^{-1} (y - f_0(X)).

    Parameters
    ----------
    kernel : EmpiricalNTK or ndarray of shape (n_train, n_train)
    penalty : float
        gamma > 0; gamma = 1/(alpha t) pairs it with t steps of size alpha.
    k_cross, f0_train, f0_test, y_train
        As in :func:`kernel_gradient_descent`.

    Returns
    -------
    train : ndarray of shape (n_train,)
    test : ndarray of shape (n_test,) or None
    """
    k, k_cross, f0_train, f0_test, y_train, _ = _arrays(
        kernel, k_cross, f0_train, f0_test, y_train, None
    )
    gamma = check_scalar(penalty, "penalty", numbers.Real, low=0, low_inclusive=False)
    lam, u = _eigh(k)
    coef = u.T @ (y_train - f0_train)
    n = k.shape[0]
    train = f0_train + u @ (lam / (lam + gamma) * coef)
    test = None
    if k_cross is not None:
        test = f0_test + k_cross @ (u @ (coef / (lam + gamma))) / n
    return train, test
