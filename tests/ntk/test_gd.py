"""Closed-form kernel gradient descent: against iterated gradient descent on the
linearised network, the t = 0 and t -> infinity limits, gradient flow and ridge."""

import numpy as np
import pytest
import torch
from scipy.linalg import expm

from initscape.ntk import (
    empirical_ntk,
    gd_filter,
    kernel_gradient_descent,
    kernel_ridge,
    tiny_model,
)

TRAIN = [
    "good movie here",
    "bad film really so",
    "positive",
    "a b c d e f",
    "the plot was fine",
    "awful acting and plot",
    "so so",
]
TEST = ["nice one", "not good at all", "meh"]
Y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0])


@pytest.fixture(scope="module")
def setting():
    model = tiny_model("encoder", random_state=2)
    kernel = empirical_ntk(model, TRAIN, TEST, params="attention")
    # the Jacobians of the network, taken with plain autograd
    params = model.named_trainable("attention")
    leaves = [p.clone().requires_grad_(True) for p in params.values()]
    names = list(params)

    def jacobian(texts):
        rows = []
        for text in texts:
            out = model.forward(
                dict(zip(names, leaves, strict=True)), model.encode([text])
            )
            grads = torch.autograd.grad(out[0], leaves)
            rows.append(torch.cat([g.reshape(-1) for g in grads]).detach().numpy())
        return np.stack(rows)

    return model, kernel, jacobian(TRAIN), jacobian(TEST)


def test_closed_form_equals_gradient_descent_on_the_linearised_network(setting):
    _, kernel, j_train, j_test = setting
    n = len(TRAIN)
    f0, f0_test = kernel.f0_train, kernel.f0_test
    alpha = 0.5 / np.linalg.eigvalsh(kernel.train / n).max()

    # gradient descent on theta for L = (1/2n) ||y - f0 - J (theta - theta0)||^2
    delta = np.zeros(j_train.shape[1])
    iterates = {}
    for t in range(1, 31):
        residual = Y - f0 - j_train @ delta
        delta = delta + alpha / n * j_train.T @ residual
        iterates[t] = (f0 + j_train @ delta, f0_test + j_test @ delta)

    steps = [1, 5, 30]
    path = kernel_gradient_descent(kernel, steps, step_size=alpha, y_train=Y)
    for i, t in enumerate(steps):
        # float64 sums in another order, amplified by the eigen-decomposition
        np.testing.assert_allclose(path.train_predictions[i], iterates[t][0], atol=1e-9)
        np.testing.assert_allclose(path.test_predictions[i], iterates[t][1], atol=1e-9)


def test_t_zero_gives_f0_and_t_infinity_the_min_norm_interpolant(setting):
    _, kernel, j_train, j_test = setting
    path = kernel_gradient_descent(kernel, [0, np.inf], y_train=Y)
    np.testing.assert_array_equal(path.train_predictions[0], kernel.f0_train)
    np.testing.assert_array_equal(path.test_predictions[0], kernel.f0_test)
    # the minimum-norm parameter change interpolating y - f0, from lstsq
    delta, *_ = np.linalg.lstsq(j_train, Y - kernel.f0_train, rcond=None)
    # 7 equations in 576 unknowns: the interpolant is exact up to round-off
    np.testing.assert_allclose(path.train_predictions[1], Y, atol=1e-8)
    np.testing.assert_allclose(
        path.test_predictions[1], kernel.f0_test + j_test @ delta, atol=1e-8
    )
    assert path.train_risk[1] < 1e-16 and path.train_risk[0] > 0.1
    # a large finite t is close to the limit
    late = kernel_gradient_descent(kernel, [1e7], y_train=Y, flow=True)
    np.testing.assert_allclose(
        late.test_predictions[0], path.test_predictions[1], atol=1e-4
    )


def _synthetic(n=12, m=5, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(n + m, 8))
    k_all = g @ g.T
    return (
        k_all[:n, :n],
        k_all[n:, :n],
        rng.normal(size=n),
        rng.normal(size=m),
        np.sign(rng.normal(size=n)),
    )


def test_discrete_steps_match_the_residual_recursion_even_when_oscillating():
    k, cross, f0, f0_test, y = _synthetic()
    n = k.shape[0]
    lam_max = np.linalg.eigvalsh(k / n).max()
    for alpha in (0.7 / lam_max, 1.6 / lam_max):  # the second oscillates
        r, f_test = y - f0, f0_test.copy()
        for _ in range(9):
            f_test = f_test + alpha / n * cross @ r
            r = r - alpha / n * k @ r
        path = kernel_gradient_descent(
            k,
            [9],
            step_size=alpha,
            k_cross=cross,
            f0_train=f0,
            f0_test=f0_test,
            y_train=y,
        )
        # float64 round-off through 9 products
        np.testing.assert_allclose(path.train_predictions[0], y - r, atol=1e-10)
        np.testing.assert_allclose(path.test_predictions[0], f_test, atol=1e-10)


def test_gradient_flow_is_a_matrix_exponential():
    k, _, f0, _, y = _synthetic()
    n = k.shape[0]
    alpha, t = 0.3, 2.5
    path = kernel_gradient_descent(
        k, [t], step_size=alpha, f0_train=f0, y_train=y, flow=True
    )
    expected = y - expm(-alpha * t * k / n) @ (y - f0)
    # scipy's Pade approximant vs the eigenbasis: round-off
    np.testing.assert_allclose(path.train_predictions[0], expected, atol=1e-10)


def test_filters_stay_finite_at_zero_eigenvalues_and_infinite_steps():
    g, ratio = gd_filter(np.array([2.0, 1e-300, 0.0]), [0, 3, np.inf], 0.25)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(ratio))
    # t = 3 at lambda = 0: g/lambda -> alpha t = 0.75
    assert ratio[1, 2] == pytest.approx(0.75) and ratio[1, 1] == pytest.approx(0.75)
    # 1 - (1 - 0.5)^3 = 0.875 at lambda = 2
    assert g[1, 0] == pytest.approx(0.875)
    # t = inf: 1 and 1/lambda on the range, 0 off it
    np.testing.assert_array_equal(g[2], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ratio[2], [0.5, 0.0, 0.0])


def test_ridge_matches_sklearn_and_sandwiches_the_flow_filter():
    from sklearn.kernel_ridge import KernelRidge

    k, cross, f0, f0_test, y = _synthetic()
    n = k.shape[0]
    gamma = 0.05
    train, test = kernel_ridge(
        k, gamma, k_cross=cross, f0_train=f0, f0_test=f0_test, y_train=y
    )
    # sklearn minimises ||r - K a||^2 + alpha a^T K a: alpha = n gamma here
    ref = KernelRidge(alpha=n * gamma, kernel="precomputed").fit(k, y - f0)
    np.testing.assert_allclose(train, f0 + ref.predict(k), atol=1e-10)
    np.testing.assert_allclose(test, f0_test + ref.predict(cross), atol=1e-10)

    # gradient flow at t and ridge at 1/(alpha t): x/(1+x) <= 1 - e^-x <= 2x/(1+x)
    lam = np.linalg.eigvalsh(k / n)
    lam = lam[lam > 1e-12]
    alpha = 0.5
    for t in (0.1, 1.0, 10.0, 1000.0):
        g, _ = gd_filter(lam, [t], alpha, flow=True)
        ridge = lam / (lam + 1 / (alpha * t))
        assert np.all(ridge <= g[0] + 1e-15) and np.all(g[0] <= 2 * ridge + 1e-15)


def test_gd_errors():
    k, _, _, _, y = _synthetic()
    n = k.shape[0]
    too_big = 1.5 / np.linalg.eigvalsh(k / n).max()
    with pytest.raises(ValueError, match=r"steps must be whole numbers"):
        kernel_gradient_descent(k, [2.5], step_size=too_big, y_train=y)
    with pytest.raises(ValueError, match=r"steps must be non-negative numbers"):
        kernel_gradient_descent(k, [-1], y_train=y)
    with pytest.raises(ValueError, match=r"y_train must be given"):
        kernel_gradient_descent(k, [1])
    with pytest.raises(ValueError, match=r"step_size must be > 0; got 0"):
        kernel_gradient_descent(k, [1], y_train=y, step_size=0)
    with pytest.raises(ValueError, match=r"f0_train must be of shape \(12,\)"):
        kernel_gradient_descent(k, [1], y_train=y, f0_train=np.zeros(3))
    with pytest.raises(ValueError, match=r"penalty must be > 0; got -1"):
        kernel_ridge(k, -1, y_train=y)
