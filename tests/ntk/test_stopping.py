"""The stopping rule against a brute-force evaluation of its inequality, its limits,
and its plug-ins."""

import math

import numpy as np
import pytest

from initscape.ntk import (
    empirical_ntk,
    local_width,
    noise_from_gcv,
    noise_from_label_range,
    radius_from_ridge,
    stopping_report,
    stopping_step,
    tiny_model,
)
from initscape.ntk._stopping import MAX_STEPS


def _brute_force(eigenvalues, sigma, alpha, radius, t_max=10**6):
    """min{t : R_hat(1/sqrt(alpha t)) > R / (2 e sigma alpha t)} - 1, term by term."""
    lam = list(eigenvalues)
    n = len(lam)
    for t in range(1, t_max):
        eta = alpha * t
        eps_sq = 1.0 / eta
        width = math.sqrt(sum(min(v, eps_sq) for v in lam) / n)
        if width > radius / (2 * math.e * sigma * eta):
            return t - 1
    raise AssertionError("the inequality never held below t_max")


SPECTRA = {
    "polynomial": 1.0 / np.arange(1, 201) ** 2,
    "exponential": np.exp(-0.5 * np.arange(200)),
}


@pytest.mark.parametrize("kind", sorted(SPECTRA))
@pytest.mark.parametrize(
    ("sigma", "alpha", "radius"),
    [(1.0, 1.0, 1.0), (0.3, 0.5, 2.0), (0.05, 1.0, 1.0), (2.0, 0.1, 0.7)],
)
def test_rule_matches_brute_force_on_synthetic_spectra(kind, sigma, alpha, radius):
    lam = SPECTRA[kind]
    rule = stopping_step(lam, sigma, alpha, radius)
    assert rule.step == _brute_force(lam, sigma, alpha, radius)
    assert not rule.capped
    assert rule.eta == pytest.approx(alpha * rule.step)


def test_less_noise_stops_later():
    lam = SPECTRA["polynomial"]
    steps = [stopping_step(lam, s, 1.0).step for s in (2.0, 1.0, 0.5, 0.1)]
    assert steps == sorted(steps) and steps[0] < steps[-1]


def test_rule_is_finite_at_its_limits():
    # no positive eigenvalue, or no noise: the rule never fires, and says so
    for lam, sigma in ((np.zeros(5), 1.0), (np.ones(5), 0.0)):
        rule = stopping_step(lam, sigma, 1.0)
        assert rule.capped and rule.step == MAX_STEPS and math.isfinite(rule.eta)
    # a target already reached (R = 0): stop before the first step
    assert stopping_step([1.0, 0.5, 0.0], 1.0, 0.1, radius=0.0).step == 0
    # tiny noise and zero eigenvalues mixed in: still a finite, exact answer
    lam = np.concatenate([SPECTRA["exponential"][:20], np.zeros(30)])
    rule = stopping_step(lam, 1e-3, 1.0)
    assert rule.step == _brute_force(lam, 1e-3, 1.0, 1.0)
    # R_hat at eps -> 0 and eps -> infinity
    np.testing.assert_allclose(local_width(lam, [0.0, 1e9]), [0.0, np.sqrt(lam.mean())])


def test_rule_errors():
    with pytest.raises(ValueError, match=r"noise_level must be >= 0; got -1"):
        stopping_step([1.0], -1, 1.0)
    with pytest.raises(ValueError, match=r"step_size must be > 0; got 0"):
        stopping_step([1.0], 1.0, 0)
    with pytest.raises(ValueError, match=r"eigenvalues must be a non-empty 1-d array"):
        stopping_step([], 1.0, 1.0)
    with pytest.raises(
        TypeError,
        match=r"eigenvalues must be a 1-d array of numbers; "
        r"got str '1,2'",
    ):
        stopping_step("1,2", 1.0, 0.1)
    # the message names the bad value and where it is, not the array's shape
    with pytest.raises(
        ValueError,
        match=r"eigenvalues must be finite; got nan at "
        r"index 1\.",
    ):
        stopping_step([1.0, float("nan"), 0.5], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"finite; got inf at index 0 \(and 1 more"):
        stopping_step([np.inf, 1.0, -np.inf], 1.0, 0.1)
    with pytest.raises(
        ValueError,
        match=r"eigenvalues must be >= 0.*got -0\.5 at "
        r"index 1\.",
    ):
        stopping_step([1.0, -0.5], 1.0, 0.1)


def test_round_off_negatives_are_clipped_not_refused():
    # -1e-12 is 1e-12 of the largest, eigensolver round-off: it counts as 0, so the
    # rule gives the answer of the spectrum with a 0 there, checked term by term
    rule = stopping_step([1.0, 0.25, -1e-12], 1.0, 0.1)
    assert rule.step == _brute_force([1.0, 0.25, 0.0], 1.0, 0.1, 1.0)


def test_noise_from_label_range():
    assert noise_from_label_range([1.0, -1.0, 1.0]) == 1.0
    assert noise_from_label_range([0.0, 3.0, 1.0]) == 1.5


def _regression(n=300, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, size=n))
    k = np.exp(-(np.subtract.outer(x, x) ** 2) / 0.5)
    y = np.sin(2 * x) + noise * rng.normal(size=n)
    return k, y


def test_gcv_noise_estimate_recovers_the_noise_level():
    k, y = _regression(noise=0.3)
    sigma, gamma = noise_from_gcv(k, y, np.zeros_like(y))
    # n = 300 residuals of a smooth fit: the estimate's relative standard error is
    # about 1/sqrt(2 (n - df)) ~ 4%; 15% allows for the smoother's bias
    assert abs(sigma - 0.3) < 0.15 * 0.3
    # GCV's choice is the grid minimum of its score, recomputed here with sklearn
    from sklearn.kernel_ridge import KernelRidge

    n = len(y)

    def gcv(g):
        fit = KernelRidge(alpha=n * g, kernel="precomputed").fit(k, y).predict(k)
        hat_trace = np.trace(k @ np.linalg.inv(k + n * g * np.eye(n)))
        return np.mean((y - fit) ** 2) / (1 - hat_trace / n) ** 2

    assert gcv(gamma) <= min(gcv(gamma * 3), gcv(gamma / 3)) * (1 + 1e-9)


def test_radius_is_the_rkhs_norm_of_the_ridge_fit():
    from sklearn.kernel_ridge import KernelRidge

    k, y = _regression(n=80)
    f0 = 0.1 * np.ones_like(y)
    n = len(y)
    fit = KernelRidge(alpha=n * 0.01, kernel="precomputed").fit(k, y - f0)
    a = fit.dual_coef_
    expected = math.sqrt(a @ k @ a)
    # the eigenbasis form vs sklearn's linear solve: round-off, amplified by the
    # conditioning of K + n gamma I
    assert radius_from_ridge(k, y, f0, penalty=0.01) == pytest.approx(
        expected, rel=1e-8
    )


def test_report_on_a_tiny_transformer_kernel():
    texts = [f"word{i % 7} word{(3 * i) % 11} word{i % 5}" for i in range(24)]
    labels = np.where(np.arange(24) % 2 == 0, 1.0, -1.0)
    from initscape.ntk import Split

    train = Split(texts[:16], labels[:16], ["a"] * 16)
    test = Split(texts[16:], labels[16:], ["a"] * 8)
    kernel = empirical_ntk(tiny_model("encoder"), train, test)
    report = stopping_report(kernel, noise="gcv")
    assert report.noise_plugin == "gcv" and report.radius_plugin == "ridge"
    assert report.at_start["step"] == 0
    assert (
        report.rule.step in report.steps and report.at_rule["step"] == report.rule.step
    )
    # the best step is the grid minimum of the held-out risk
    assert report.at_best["test_risk"] == pytest.approx(report.test_risk.min())
    assert report.at_best["test_risk"] <= report.at_rule["test_risk"]
    assert report.steps[0] == 0 and np.all(np.diff(report.steps) > 0)
    given = stopping_report(kernel, noise=0.5, radius=2.0)
    assert given.noise_plugin == "given" and given.rule.radius == 2.0
    with pytest.raises(ValueError, match=r"noise must be 'label-range', 'gcv'"):
        stopping_report(kernel, noise="mad")
