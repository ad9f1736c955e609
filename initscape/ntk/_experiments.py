"""The comparisons of ``initscape reproduce ntk``, each returning plain numbers.

- :func:`trajectory_comparison`: real fine-tuning, the linearised model and closed
  form kernel gradient descent at the same steps (Sun and Raskutti, 2026, section
  3: near theta_0 the three coincide).
- :func:`stopping_comparison`: the best held-out step of a run against T_hat of the
  data-dependent rule (Raskutti, Wainwright and Yu, 2014, eq. 12) and against the
  step a hold-out split would choose.
- :func:`sample_size_sweep`: over nested training sets of size n, the steps to the
  best held-out risk and that risk, against the rates the fitted eigenvalue decay
  predicts.
- :func:`start_summary`: the numbers that set a pretrained start beside a random
  one (decay rates, steps to the best held-out risk, final accuracy).
"""

from __future__ import annotations

import logging

import numpy as np

from initscape._validation import check_random_state

logger = logging.getLogger(__name__)

__all__ = [
    "trajectory_comparison",
    "stopping_comparison",
    "sample_size_sweep",
    "start_summary",
    "polynomial_rates",
]


def _rms(a, b):
    return np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2, axis=-1))


def trajectory_comparison(real, linear, kernel):
    """Real, linearised and closed-form kernel trajectories at the same steps.

    Parameters
    ----------
    real : FinetuneResult
        Full-batch gradient descent with the squared loss on the network.
    linear : FinetuneResult
        The same on :class:`LinearizedModel`, same data, step size and steps.
    kernel : EmpiricalNTK
        The eNTK at theta_0 on the same training and held-out inputs.

    Returns
    -------
    dict
        ``steps``; held-out risks ``real_test_risk``, ``linear_test_risk`` and
        ``kernel_test_risk``; RMS prediction gaps per step: ``real_vs_linear``
        (train and test together) and ``linear_vs_kernel``; and their maxima.
    """
    from initscape.ntk._gd import kernel_gradient_descent

    steps = np.intersect1d(real.steps, linear.steps)
    path = kernel_gradient_descent(kernel, steps, step_size=real.step_size)
    ir = np.searchsorted(real.steps, steps)
    il = np.searchsorted(linear.steps, steps)

    def both(result, index):
        parts = [result.train_predictions[index]]
        if result.test_predictions is not None:
            parts.append(result.test_predictions[index])
        return np.concatenate(parts, axis=1)

    kern = path.train_predictions
    if path.test_predictions is not None and real.test_predictions is not None:
        kern = np.concatenate([kern, path.test_predictions], axis=1)
    real_vs_linear = _rms(both(real, ir), both(linear, il))
    linear_vs_kernel = _rms(both(linear, il), kern)
    scale = float(np.sqrt(np.mean(both(real, ir)[0] ** 2))) or 1.0
    return {
        "steps": steps,
        "step_size": real.step_size,
        "real_test_risk": None if real.test_risk is None else real.test_risk[ir],
        "linear_test_risk": (
            None if linear.test_risk is None else linear.test_risk[il]
        ),
        "kernel_test_risk": path.test_risk,
        "real_train_risk": real.train_risk[ir],
        "linear_train_risk": linear.train_risk[il],
        "kernel_train_risk": path.train_risk,
        "real_vs_linear": real_vs_linear,
        "linear_vs_kernel": linear_vs_kernel,
        "max_real_vs_linear": float(real_vs_linear.max()),
        "max_linear_vs_kernel": float(linear_vs_kernel.max()),
        "prediction_scale": scale,
    }


def _halves(n, rng):
    perm = rng.permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])


def stopping_comparison(
    kernel,
    result=None,
    *,
    noise="label-range",
    radius="ridge",
    random_state=None,
):
    """T_hat against the best held-out step and against a hold-out choice.

    The held-out set is split in two seeded halves: a validation half, on which the
    hold-out rule picks the step of least risk, and an evaluation half, on which
    the picked step, T_hat and the oracle best step are scored. With a real run,
    the steps and risks are the run's (T_hat beyond its last step is scored at the
    last step and flagged); without one, those of closed-form kernel gradient
    descent.

    Parameters
    ----------
    kernel : EmpiricalNTK
        At theta_0, with training and held-out labels.
    result : FinetuneResult, default=None
        Full-batch gradient descent with the squared loss from the same theta_0
        on the same data; its step size is used for the rule.
    noise : {"label-range", "gcv"} or float, default="label-range"
        sigma's plug-in (see :func:`initscape.ntk.stopping_report`).
    radius : "ridge" or float, default="ridge"
        R's plug-in.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the split of the held-out set.

    Returns
    -------
    dict
    """
    from initscape.ntk._gd import kernel_gradient_descent
    from initscape.ntk._stopping import stopping_report

    rng = check_random_state(random_state)
    step_size = None if result is None else result.step_size
    report = stopping_report(kernel, noise=noise, radius=radius, step_size=step_size)
    t_hat = int(report.rule.step)
    alpha = float(report.rule.step_size) if step_size is None else step_size

    # the trajectory scored: the run's, or the kernel's on the rule's grid
    if result is not None:
        steps, preds, source = result.steps, result.test_predictions, "fine-tuning"
    else:
        steps = report.steps
        path = kernel_gradient_descent(kernel, steps, step_size=alpha)
        preds, source = path.test_predictions, "kernel"
    y = kernel.y_test
    val, ev = _halves(len(y), rng)
    risk_val = np.mean((preds[:, val] - y[val]) ** 2, axis=1)
    risk_ev = np.mean((preds[:, ev] - y[ev]) ** 2, axis=1)
    risk_all = np.mean((preds - y) ** 2, axis=1)

    # the three choices of step
    best = int(np.argmin(risk_all))
    holdout = int(np.argmin(risk_val))
    rule = int(np.argmin(np.abs(steps - t_hat)))
    return {
        "source": source,
        "step_size": alpha,
        "t_hat": t_hat,
        "t_hat_beyond_run": bool(t_hat > steps[-1]),
        "noise_level": float(report.rule.noise_level),
        "radius": float(report.rule.radius),
        "noise_plugin": report.noise_plugin,
        "radius_plugin": report.radius_plugin,
        "best_step": int(steps[best]),
        "holdout_step": int(steps[holdout]),
        "risk_at_best": float(risk_all[best]),
        "risk_at_t_hat": float(risk_all[rule]),
        "risk_at_start": float(risk_all[0]),
        "eval_risk_at_best": float(risk_ev.min()),
        "eval_risk_at_holdout": float(risk_ev[holdout]),
        "eval_risk_at_t_hat": float(risk_ev[rule]),
        "kernel_best_step": report.best_step,
        "kernel_risk_at_best": report.at_best.get("test_risk"),
        "kernel_risk_at_t_hat": report.at_rule.get("test_risk"),
    }


def polynomial_rates(decay):
    """The rates a polynomial eigenvalue decay lambda_j ~ j^(-beta) predicts in n.

    Early-stopped kernel gradient descent attains the minimax rate delta_n^2 ~
    n^(-beta/(beta + 1)) for the excess risk, at eta_T = alpha T ~ 1/delta_n^2 ~
    n^(beta/(beta + 1)) (Raskutti, Wainwright and Yu, 2014, Corollary 3, with
    beta = 2 nu for a Sobolev-type kernel of smoothness nu).

    Parameters
    ----------
    decay : float
        beta > 0.

    Returns
    -------
    dict
        ``risk_exponent`` (-beta/(beta + 1)) and ``eta_exponent`` (beta/(beta + 1)).
    """
    b = float(decay)
    if not b > 0:
        raise ValueError(f"decay must be > 0; got {decay!r}.")
    return {"risk_exponent": -b / (b + 1.0), "eta_exponent": b / (b + 1.0)}


def _slope(x, y):
    # a zero (a best step of 0) has no logarithm and is left out of the fit
    with np.errstate(divide="ignore"):
        x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(x[keep], y[keep], 1)[0])


def sample_size_sweep(
    kernel, sizes, *, noise="label-range", radius="ridge", random_state=None
):
    """Stopping steps and best held-out risk over nested training sets.

    The training set of size n is the first n examples of one seeded permutation
    of ``kernel``'s training rows (so the sets are nested and every K is a
    principal block of the one computed); the held-out set is the same for every
    n. For each n: the eigenvalues of K/n and their polynomial decay rate, T_hat,
    the best held-out step of closed-form kernel gradient descent with alpha =
    1/lambda_1 and its risk. Then the slopes of log risk and log eta = alpha t
    against log n, beside the exponents :func:`polynomial_rates` predicts from
    the mean fitted decay.

    The held-out risk includes the label noise, so its slope is flatter than the
    excess-risk exponent it is set beside; the report says so.

    Parameters
    ----------
    kernel : EmpiricalNTK
        On the largest training set, with held-out labels and cross-kernel.
    sizes : array-like of int
        Training-set sizes, each between 4 and ``kernel.n_train``.
    noise, radius
        Plug-ins of the rule, as in :func:`stopping_comparison`.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the permutation.

    Returns
    -------
    dict
    """
    from initscape.ntk._spectrum import spectrum
    from initscape.ntk._stopping import stopping_report

    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 4 or max(sizes) > kernel.n_train:
        raise ValueError(
            f"sizes must be between 4 and n_train={kernel.n_train}; got {sizes}."
        )
    rng = check_random_state(random_state)
    order = rng.permutation(kernel.n_train)
    rows = []
    for n in sizes:
        sub = kernel.subset(order[:n])
        spec = spectrum(sub).summary()
        rep = stopping_report(sub, noise=noise, radius=radius)
        alpha = float(rep.rule.step_size)
        rows.append(
            {
                "n": n,
                "lambda_1": float(spec["top_eigenvalues"][0]),
                "polynomial_rate": spec["polynomial_rate"],
                "polynomial_r2": spec["polynomial_r2"],
                "exponential_rate": spec["exponential_rate"],
                "t_hat": int(rep.rule.step),
                "eta_t_hat": alpha * rep.rule.step,
                "best_step": int(rep.best_step),
                "eta_best": alpha * rep.best_step,
                "best_risk": float(rep.at_best["test_risk"]),
                "risk_at_t_hat": float(rep.at_rule["test_risk"]),
                "risk_at_start": float(rep.at_start["test_risk"]),
            }
        )
    ns = [r["n"] for r in rows]
    # the mean over the sizes whose spectrum has a decay fit (None: none has)
    fitted = [r["polynomial_rate"] for r in rows if r["polynomial_rate"] is not None]
    beta = float(np.mean(fitted)) if fitted else None
    predicted = polynomial_rates(beta) if beta is not None and beta > 0 else {}
    return {
        "rows": rows,
        "mean_polynomial_rate": beta,
        "predicted": predicted,
        "risk_slope": _slope(ns, [r["best_risk"] for r in rows]),
        "eta_best_slope": _slope(ns, [r["eta_best"] for r in rows]),
        "eta_t_hat_slope": _slope(ns, [r["eta_t_hat"] for r in rows]),
    }


def start_summary(kernel, result=None):
    """Spectrum, rule and fine-tuning numbers of one start (pretrained or random).

    Parameters
    ----------
    kernel : EmpiricalNTK
        At the start, with held-out labels.
    result : FinetuneResult, default=None
        A fine-tuning run from the same start.

    Returns
    -------
    dict
    """
    from initscape.ntk._spectrum import spectrum
    from initscape.ntk._stopping import stopping_report

    spec = spectrum(kernel)
    fits = spec.summary()
    step_size = None if result is None else result.step_size
    rep = stopping_report(kernel, step_size=step_size)
    out = {
        "eigenvalues": spec.eigenvalues,
        "polynomial_rate": fits["polynomial_rate"],
        "polynomial_r2": fits["polynomial_r2"],
        "exponential_rate": fits["exponential_rate"],
        "exponential_r2": fits["exponential_r2"],
        "effective_dimension": spec.effective_dimension,
        "t_hat": int(rep.rule.step),
        "kernel_best_step": rep.best_step,
        "kernel_best_risk": rep.at_best.get("test_risk"),
        "start_test_risk": rep.at_start.get("test_risk"),
        "start_test_accuracy": rep.at_start.get("test_accuracy"),
    }
    if result is not None:
        best = result.at(result.best_step)
        out.update(
            {
                "step_size": result.step_size,
                "best_step": best["step"],
                "best_test_risk": best["test_risk"],
                "best_test_accuracy": best["test_accuracy"],
                "final_test_risk": float(result.test_risk[-1]),
                "final_test_accuracy": float(result.test_accuracy[-1]),
                "n_steps": int(result.steps[-1]),
            }
        )
    return out
