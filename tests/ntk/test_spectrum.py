"""Spectrum of K/n: eigenvalues, clipping, decay fits against known kernels."""

import logging

import numpy as np
import pytest

from initscape.ntk import fit_decay, spectrum


def test_eigenvalues_are_those_of_k_over_n_descending():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(30, 12))
    k = g @ g.T
    s = spectrum(k)
    expected = np.sort(np.linalg.eigvalsh(k / 30))[::-1]
    # rank 12: the 18 zero eigenvalues are round-off around 0, clipped from below
    np.testing.assert_allclose(s.eigenvalues[:12], expected[:12], rtol=1e-10)
    assert np.all(s.eigenvalues >= 0) and s.eigenvalues[12:].max() < 1e-12
    # eigenvectors: K/n u_j = lambda_j u_j
    u, lam = s.eigenvectors[:, :12], s.eigenvalues[:12]
    np.testing.assert_allclose(k / 30 @ u, u * lam, atol=1e-10 * lam[0])


def test_negative_eigenvalues_are_clipped_and_reported(caplog):
    k = np.diag([4.0, 2.0, 1.0, -1e-14])
    s = spectrum(k)
    assert s.n_clipped == 1 and s.most_negative == pytest.approx(-1e-14 / 4)
    assert s.eigenvalues[-1] == 0.0
    with caplog.at_level(logging.WARNING, logger="initscape.ntk._spectrum"):
        bad = spectrum(np.diag([4.0, 2.0, 1.0, -0.5]))
    assert bad.most_negative == pytest.approx(-0.5 / 4)
    assert "more than round-off" in caplog.text


def test_polynomial_decay_of_the_brownian_motion_kernel():
    # k(x, x') = min(x, x') on U(0, 1): operator eigenvalues 1/((j - 1/2)^2 pi^2),
    # polynomial decay of exponent 2 (Wahba, 1990, section 1.2)
    n = 400
    x = (np.arange(n) + 0.5) / n
    s = spectrum(np.minimum.outer(x, x), window=(10, 60))
    j = np.arange(1, 6)
    np.testing.assert_allclose(
        s.eigenvalues[:5], 1 / ((j - 0.5) ** 2 * np.pi**2), rtol=1e-3
    )
    # the local slope of log (j - 1/2)^-2 against log j is 2j/(j - 1/2): between
    # 2.11 and 2.02 over the window, so 5% holds
    assert abs(s.polynomial_fit.rate - 2.0) < 0.05 * 2.0
    assert s.polynomial_fit.r2 > 0.999
    assert s.polynomial_fit.window == (10, 60)


def test_exponential_decay_of_the_gaussian_kernel():
    from scipy.stats import norm

    # k(x, x') = exp(-(x - x')^2 / (2 l^2)) on N(0, s^2): eigenvalues
    # sqrt(2a/A) B^j, j = 0, 1, ..., with a = 1/(4 s^2), b = 1/(2 l^2),
    # c = sqrt(a^2 + 2ab), A = a + b + c, B = b/A (Rasmussen and Williams, 2006,
    # eq. 4.41). Points at the normal quantiles make K/n a quadrature of the
    # operator.
    n = 300
    x = norm.ppf((np.arange(n) + 0.5) / n)
    k = np.exp(-(np.subtract.outer(x, x) ** 2) / 2)
    a, b = 0.25, 0.5
    big_a = a + b + np.sqrt(a * a + 2 * a * b)
    s = spectrum(k, window=(1, 8))
    closed = np.sqrt(2 * a / big_a) * (b / big_a) ** np.arange(3)
    # quadrature error of 300 points on the top eigenvalues: below 0.5%
    np.testing.assert_allclose(s.eigenvalues[:3], closed, rtol=5e-3)
    rate = -np.log(b / big_a)
    assert abs(s.exponential_fit.rate - rate) < 0.05 * rate
    assert s.exponential_fit.r2 > 0.99
    # the polynomial fit of an exponential spectrum is worse
    assert s.polynomial_fit.r2 < s.exponential_fit.r2


def test_fits_recover_exact_power_and_exponential_laws():
    j = np.arange(1, 41, dtype=float)
    power = fit_decay(3.0 * j**-1.5, "polynomial")
    assert power.rate == pytest.approx(1.5, rel=1e-12)
    assert power.log_scale == pytest.approx(np.log(3.0), rel=1e-12)
    assert power.window == (1, 20)  # default: the upper half is left out
    expo = fit_decay(np.exp(-0.3 * j), "exponential", window=(3, 30))
    assert expo.rate == pytest.approx(0.3, rel=1e-12) and expo.r2 == pytest.approx(1)
    np.testing.assert_allclose(expo.predict([5, 6]), np.exp(-0.3 * np.array([5, 6])))


def test_effective_dimension_by_hand():
    # flat spectrum: n; rank one: 1; (1, 1, 0, 0): (2)^2 / 2 = 2
    assert spectrum(np.eye(6)).effective_dimension == pytest.approx(6)
    v = np.arange(1.0, 7.0)
    assert spectrum(np.outer(v, v) + 0.0).effective_dimension == pytest.approx(1)
    assert spectrum(np.diag([1.0, 1, 0, 0])).effective_dimension == pytest.approx(2)


def test_spectrum_errors():
    with pytest.raises(ValueError, match=r"kernel must be a square matrix"):
        spectrum(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"kernel must have a positive eigenvalue"):
        spectrum(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"window must be two 1-based indices"):
        spectrum(np.eye(4), window=(0, 3))
    with pytest.raises(ValueError, match=r"window must cover positive eigenvalues"):
        spectrum(np.diag([3.0, 2.0, 0.0]), window=(1, 3))
    with pytest.raises(ValueError, match=r"kind must be 'polynomial' or 'exponential'"):
        fit_decay(np.ones(4), "linear")


def test_asymmetric_kernel_is_refused_round_off_is_not():
    # regression: [[1, 2], [0, 1]] was symmetrised silently
    with pytest.raises(
        ValueError,
        match=r"kernel must be symmetric; got a matrix with max \|K - K\^T\| = 2, "
        r"1 times max \|K\|",
    ):
        spectrum(np.array([[1, 2], [0, 1.0]]))
    # a Gram matrix with float64 round-off on one side passes
    x = np.random.default_rng(0).standard_normal((6, 3))
    k = x @ x.T
    k[0, 1] *= 1 + 1e-13
    assert spectrum(k).n == 6


def test_rank_one_kernel_has_no_decay_fit():
    # regression: eigenvalues [4, ~4e-16, ...] of ones((4, 4)) were fitted with
    # R^2 = 1 and divide-by-zero warnings; by hand K/n has one eigenvalue, 1
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in (4, 10):
            s = spectrum(np.ones((n, n)))
            assert s.eigenvalues[0] == pytest.approx(1.0)
            assert s.polynomial_fit is None and s.exponential_fit is None
            assert s.summary()["polynomial_rate"] is None
    with pytest.raises(
        ValueError,
        match=r"window must hold at least 3 eigenvalues to fit a decay; got "
        r"\(1, 1\), 1 eigenvalue\(s\) \(the default keeps j <= ceil\(n/2\) = 5 "
        r"with lambda_j > 1e-10 lambda_1",
    ):
        fit_decay(spectrum(np.ones((10, 10))).eigenvalues)
    # an explicit two-point window is refused too: a line fits two points exactly
    with pytest.raises(ValueError, match=r"got \(1, 2\), 2 eigenvalue\(s\)\.$"):
        fit_decay(np.array([4.0, 2.0, 1.0]), window=(1, 2))


def test_sparse_and_complex_kernels_are_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="kernel must be a dense real array"):
        spectrum(sp.eye(3))
    with pytest.raises(TypeError, match="got ndarray of complex numbers"):
        spectrum(np.eye(3) * (1 + 1j))


def test_effective_dimension_is_finite_for_a_huge_kernel():
    # (sum lambda)^2 / sum lambda^2 of three equal eigenvalues is 3, by hand;
    # 1e307 squared overflows unless the ratio is taken on lambda / lambda_1
    assert spectrum(np.eye(3) * 1e307).effective_dimension == pytest.approx(3.0)
    assert spectrum(np.ones((3, 3)) * 1e307).effective_dimension == pytest.approx(1.0)
