"""Tests of quantreg.theory: likelihoods, fits and the MLE ≡ least-squares demonstrations.

References and tolerances
-------------------------
* Closed forms (log-likelihood values, Gaussian MLE, RSS/n, AIC/BIC) against scipy.stats and
  statsmodels ``OLS``: relative 1e-10 (``CLOSED_RTOL``).
* Optimiser results: the fitters stop when the gradient or Newton step in standardised units
  (residual RMS = 1, orthonormal design) is below ``tol = 1e-10``; the Hessian's conditioning
  can amplify that, so fitted values must agree to ``FIT_TOL = 1e-7`` residual RMS.
* statsmodels ``QuantReg`` (IRLS, ``p_tol = 1e-6``, residuals floored at 1e-6) agrees to
  1e-5 × its largest coefficient; the exact check is the Koenker–Bassett certificate.
* statsmodels ``TLinearModel(fix_df=ν).fit(method="bfgs")`` (numerical derivatives, gtol 1e-5):
  1e-4 × its largest parameter, relative 1e-8 on the log-likelihood, and ours must be at least
  as high.
* ``scipy.stats.<law>.fit`` (Nelder–Mead, xtol 1e-4): our maximum must be at least as high.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from scipy.special import gammaln
from statsmodels.miscmodels.tmodel import TLinearModel

import quantreg
from quantreg.exceptions import TheoryConvergenceWarning, TheoryInputError
from quantreg.theory._solvers import _objective, standardise
from quantreg.theory.likelihoods import DENSITIES
from quantreg.theory import (
    fit_loss,
    fit_mle,
    gaussian_loglike,
    gennorm_loglike,
    gennorm_mle_equals_min_loss,
    laplace_loglike,
    laplace_mle_equals_lad,
    loglike,
    max_gaussian_llf,
    mle_equals_ols,
    sigma2_mle_vs_unbiased,
    student_t_loglike,
)

CLOSED_RTOL = 1e-10
FIT_TOL = 1e-7
QUANTREG_TOL = 1e-5
FAST = settings(max_examples=20, deadline=None)


def make_data(seed: int, n: int = 80, k: int = 3, noise: str = "t3", level: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """A constant plus ``k - 1`` regressors (around ``level``) and noise of the named law."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), level + rng.normal(size=(n, k - 1))])
    draw = {
        "normal": lambda: rng.normal(size=n),
        "t3": lambda: rng.standard_t(3, size=n),
        "laplace": lambda: rng.laplace(size=n),
        "uniform": lambda: rng.uniform(-1.0, 1.0, size=n),
        "contaminated": lambda: np.where(rng.random(n) < 0.1, 10.0, 1.0) * rng.normal(size=n),
    }[noise]
    return X, X @ np.linspace(1.0, -1.0, k) + draw()


def real(name: str) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' bundled (offline) data sets, with a constant added."""
    if name == "engel":  # food expenditure on income: the classic median-regression example
        data = sm.datasets.engel.load_pandas().data
        return sm.add_constant(data["income"].to_numpy()), data["foodexp"].to_numpy()
    data = getattr(sm.datasets, name).load_pandas()
    return sm.add_constant(data.exog.to_numpy(dtype=float)), data.endog.to_numpy(dtype=float)


def rms_resid(X: np.ndarray, y: np.ndarray) -> float:
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return float(np.sqrt(resid @ resid / len(y)))


def assert_same_fit(X: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Fitted values of coefficient vectors ``a`` and ``b`` agree to FIT_TOL residual RMS."""
    assert np.max(np.abs(X @ (a - b))) <= FIT_TOL * rms_resid(X, y)


# --- log-likelihood functions --------------------------------------------------------------


@FAST
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.05, 20.0),
       shape=st.floats(0.3, 8.0), df=st.floats(0.3, 60.0))
def test_loglikes_match_scipy_stats(seed: int, scale: float, shape: float, df: float) -> None:
    """Each log-likelihood is the sum of scipy.stats log-densities of the residuals."""
    X, y = make_data(seed, n=30)
    params = np.random.default_rng(seed).normal(size=3)
    e = y - X @ params
    cases = [
        (gaussian_loglike(params, scale, X, y), stats.norm.logpdf(e, scale=scale)),
        (laplace_loglike(params, scale, X, y), stats.laplace.logpdf(e, scale=scale)),
        (student_t_loglike(params, scale, X, y, df), stats.t.logpdf(e, df, scale=scale)),
        (gennorm_loglike(params, scale, X, y, shape), stats.gennorm.logpdf(e, shape, scale=scale)),
    ]
    for ours, reference in cases:
        assert ours == pytest.approx(reference.sum(), rel=CLOSED_RTOL)


@FAST
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.05, 20.0))
def test_gennorm_nests_laplace_and_gaussian(seed: int, scale: float) -> None:
    """gennorm(1, b) = Laplace(b) and gennorm(2, σ√2) = Gaussian(σ); loglike dispatches."""
    X, y = make_data(seed, n=25)
    params = np.random.default_rng(seed).normal(size=3)
    laplace = laplace_loglike(params, scale, X, y)
    gauss = gaussian_loglike(params, scale, X, y)
    assert gennorm_loglike(params, scale, X, y, 1.0) == pytest.approx(laplace, rel=1e-12)
    assert gennorm_loglike(params, scale * np.sqrt(2.0), X, y, 2.0) == pytest.approx(
        gauss, rel=1e-12)
    assert loglike(params, scale, X, y) == gauss
    assert loglike(params, scale, X, y, "student_t", 4.0) == student_t_loglike(
        params, scale, X, y, 4.0)


# --- the Gaussian family: closed form, numerical maximisation and statsmodels OLS -----------


@pytest.mark.parametrize("data", ["random", "longley", "stackloss"])
def test_gaussian_closed_form_matches_statsmodels_ols(data: str) -> None:
    X, y = make_data(0, noise="normal") if data == "random" else real(data)
    ours, ols = fit_mle(X, y), sm.OLS(y, X).fit()
    assert ours.method == "closed_form" and ours.converged
    # longley's condition number is 5e9: compare the well-conditioned fitted values
    np.testing.assert_allclose(X @ ours.params, ols.fittedvalues, rtol=CLOSED_RTOL)
    for name in ("llf", "aic", "bic"):
        assert getattr(ours, name) == pytest.approx(getattr(ols, name), rel=CLOSED_RTOL)
    assert ours.scale**2 == pytest.approx(ols.ssr / ols.nobs, rel=CLOSED_RTOL)
    assert ours.llf == pytest.approx(gaussian_loglike(ours.params, ours.scale, X, y),
                                     rel=CLOSED_RTOL)


@pytest.mark.parametrize("data", ["random", "price_level", "longley"])
def test_mle_equals_ols(data: str) -> None:
    """Numerical maximisation (started at LAD, not at OLS) finds the least-squares betas."""
    if data == "longley":
        X, y = real("longley")
    else:
        X, y = make_data(1, noise="normal", level=1e4 if data == "price_level" else 0.0)
    eq = mle_equals_ols(X, y)
    assert_same_fit(X, y, eq.left, eq.right)
    np.testing.assert_allclose(eq.right, sm.OLS(y, X).fit().params, rtol=1e-6)
    numerical = fit_mle(X, y, method="numerical")
    assert numerical.converged and numerical.n_iter > 0 and numerical.method == "trust-exact"


@pytest.mark.parametrize("data", ["random", "longley"])
def test_sigma2_mle_is_rss_over_n_and_unbiased_divides_by_n_minus_k(data: str) -> None:
    X, y = make_data(2, n=25, k=4, noise="normal") if data == "random" else real("longley")
    est, ols = sigma2_mle_vs_unbiased(X, y), sm.OLS(y, X).fit()
    n, k = X.shape
    assert est.rss == pytest.approx(ols.ssr, rel=CLOSED_RTOL)
    assert est.unbiased == pytest.approx(ols.scale, rel=CLOSED_RTOL)  # statsmodels: RSS/(n-k)
    assert est.rss_over_n == pytest.approx(ols.ssr / n, rel=CLOSED_RTOL)
    assert est.sigma2_mle == pytest.approx(est.rss_over_n, rel=2 * FIT_TOL)
    assert est.bias_factor == (n - k) / n
    assert est.rss_over_n == pytest.approx(est.bias_factor * est.unbiased, rel=1e-14)


@pytest.mark.parametrize("data", ["random", "longley", "engel"])
def test_max_gaussian_llf_formula_and_statsmodels(data: str) -> None:
    X, y = make_data(3) if data == "random" else real(data)
    eq = max_gaussian_llf(X, y)
    # at a maximum the likelihood is flat, so the optimiser's error enters squared
    assert eq.max_rel_diff <= CLOSED_RTOL
    assert eq.right[0] == pytest.approx(sm.OLS(y, X).fit().llf, rel=CLOSED_RTOL)


# --- Laplace = least absolute deviations = statsmodels QuantReg(q=0.5) ----------------------


def assert_lad_optimal(X: np.ndarray, y: np.ndarray, params: np.ndarray) -> None:
    """Koenker–Bassett certificate: at a vertex with k zero residuals (set h), β minimises
    Σ|e| iff the u_h solving X_hᵀ u_h = -X_restᵀ sign(e_rest) lie in [-1, 1]."""
    k = X.shape[1]
    e = y - X @ params
    order = np.argsort(np.abs(e))
    h, rest = order[:k], order[k:]
    scale = np.max(np.abs(y))
    assert np.max(np.abs(e[h])) <= 1e-10 * scale  # a vertex of the linear program
    assert np.min(np.abs(e[rest])) > 1e-10 * scale  # ...and a non-degenerate one
    u_h = np.linalg.solve(X[h].T, -X[rest].T @ np.sign(e[rest]))
    assert np.max(np.abs(u_h)) <= 1.0 + 1e-9


@pytest.mark.parametrize("data", ["random", "engel", "stackloss"])
def test_laplace_mle_equals_lad_and_quantreg(data: str) -> None:
    X, y = make_data(4, noise="laplace") if data == "random" else real(data)
    eq = laplace_mle_equals_lad(X, y)
    assert eq.max_abs_diff <= FIT_TOL * rms_resid(X, y)
    mle = fit_mle(X, y, "laplace")
    assert mle.converged and mle.method == "highs-ipm"
    assert_lad_optimal(X, y, mle.params)
    qr = sm.QuantReg(y, X).fit(q=0.5)
    np.testing.assert_allclose(mle.params, qr.params, atol=QUANTREG_TOL * np.max(np.abs(qr.params)))
    sad = np.sum(np.abs(y - X @ mle.params))
    assert sad <= np.sum(np.abs(y - X @ qr.params)) * (1.0 + 1e-12)
    n = len(y)
    assert mle.scale == pytest.approx(sad / n, rel=CLOSED_RTOL)
    assert mle.llf == pytest.approx(-n * (np.log(2.0 * sad / n) + 1.0), rel=CLOSED_RTOL)
    assert fit_mle(X, y, "gennorm", shape=1.0).llf == pytest.approx(mle.llf, rel=CLOSED_RTOL)


# --- generalised normal with shape p = argmin Σ|e|^p -----------------------------------------


def loss_gradient_ratio(X: np.ndarray, y: np.ndarray, params: np.ndarray, p: float) -> float:
    """|∇ Σ|e|^p| relative to the size of its terms: 0 at the minimiser."""
    e = y - X @ params
    terms = X * (np.sign(e) * np.abs(e) ** (p - 1.0))[:, None]
    return float(np.max(np.abs(terms.sum(axis=0)) / np.abs(terms).sum(axis=0)))


@pytest.mark.parametrize(("data", "p"), [("t3", 1.5), ("t3", 3.0), ("uniform", 4.0),
                                         ("contaminated", 3.0), ("engel", 3.0),
                                         ("price_level", 3.0)])
def test_gennorm_mle_equals_loss_minimiser(data: str, p: float) -> None:
    if data == "engel":
        X, y = real("engel")
    elif data == "price_level":
        X, y = make_data(5, noise="uniform", level=1e4)
    else:
        X, y = make_data(5, n=120, noise=data)
    eq = gennorm_mle_equals_min_loss(X, y, p)
    assert_same_fit(X, y, eq.left, eq.right)
    assert loss_gradient_ratio(X, y, eq.right, p) <= FIT_TOL
    mle, loss = fit_mle(X, y, "gennorm", shape=p), fit_loss(X, y, p)
    assert mle.converged and loss.converged
    n = len(y)
    # profile: α̂^p = (p/n) Σ|e|^p and ℓ = n log(p / (2 Γ(1/p) α̂)) - n/p
    assert mle.scale == pytest.approx((p / n * loss.objective) ** (1.0 / p), rel=FIT_TOL)
    alpha = (p / n * loss.objective) ** (1.0 / p)
    profile = n * (np.log(p / 2.0) - gammaln(1.0 / p) - np.log(alpha)) - n / p
    assert mle.llf == pytest.approx(profile, rel=CLOSED_RTOL)


def test_cubic_and_quadratic_losses_on_real_data() -> None:
    """p = 2 reproduces statsmodels OLS from the LAD start; p = 3 differs from both."""
    X, y = real("engel")
    ols = sm.OLS(y, X).fit().params
    quad = fit_loss(X, y, 2.0)
    assert quad.n_iter > 0
    np.testing.assert_allclose(quad.params, ols, rtol=FIT_TOL)
    cubic, lad = fit_loss(X, y, 3.0).params, fit_loss(X, y, 1.0).params
    assert np.all(np.abs(cubic - ols) > 1e-2 * np.abs(ols))
    assert np.all(np.abs(cubic - lad) > 1e-2 * np.abs(lad))


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_gennorm_location_model_beats_scipy_fit(p: float) -> None:
    """Intercept only: scipy.stats.gennorm.fit(f0=p) is an independent MLE of (loc, scale)."""
    z = stats.gennorm.rvs(p, loc=2.0, scale=1.5, size=300, random_state=7)
    ours = fit_mle(np.ones((300, 1)), z, "gennorm", shape=p)
    _, loc, scale = stats.gennorm.fit(z, f0=p)
    theirs = stats.gennorm.logpdf(z, p, loc, scale).sum()
    assert ours.llf >= theirs - 1e-9 * abs(theirs)
    assert ours.llf == pytest.approx(theirs, rel=1e-6)
    np.testing.assert_allclose([ours.params[0], ours.scale], [loc, scale], rtol=1e-3)


# --- Student-t -------------------------------------------------------------------------------


@pytest.mark.parametrize("df", [1.0, 3.0, 10.0])
def test_student_t_matches_statsmodels_tlinearmodel(df: float) -> None:
    X, y = make_data(6, n=150, noise="t3")
    ours = fit_mle(X, y, "student_t", shape=df)
    with contextlib.redirect_stdout(io.StringIO()):  # TLinearModel prints while initialising
        ref = TLinearModel(y, X, fix_df=df).fit(method="bfgs", maxiter=1000, disp=0)
    assert ours.converged and ref.mle_retvals["converged"]
    np.testing.assert_allclose(np.append(ours.params, ours.scale), ref.params,
                               atol=1e-4 * np.max(np.abs(ref.params)))
    assert ours.llf >= ref.llf - 1e-12 * abs(ref.llf)
    assert ours.llf == pytest.approx(ref.llf, rel=1e-8)
    # statsmodels' GenericLikelihoodModel counts the scale; quantreg does not (documented)
    assert ref.aic == pytest.approx(ours.aic + 2.0, rel=1e-8)
    assert ref.bic == pytest.approx(ours.bic + np.log(len(y)), rel=1e-8)


def test_student_t_location_model_beats_scipy_fit() -> None:
    z = stats.t.rvs(3.0, loc=-1.0, scale=0.5, size=300, random_state=8)
    ours = fit_mle(np.ones((300, 1)), z, "student_t", shape=3.0)
    _, loc, scale = stats.t.fit(z, f0=3.0)
    theirs = stats.t.logpdf(z, 3.0, loc, scale).sum()
    assert ours.llf >= theirs - 1e-9 * abs(theirs)
    np.testing.assert_allclose([ours.params[0], ours.scale], [loc, scale], rtol=1e-3)


# --- the optimisers' analytic derivatives ---------------------------------------------------


@pytest.mark.parametrize(("family", "shape"), [("gaussian", None), ("student_t", 3.0),
                                               ("gennorm", 1.5), ("gennorm", 3.0)])
@pytest.mark.parametrize("with_scale", [False, True])
def test_newton_derivatives_match_finite_differences(family: str, shape: float | None,
                                                     with_scale: bool) -> None:
    """Gradient and Hessian fed to trust-exact against scipy's forward differences."""
    X, y = make_data(12, n=40)
    prob = standardise(X, y)
    fun_and_grad, hess = _objective(DENSITIES[family], shape, prob.Q, prob.z, with_scale)
    theta = prob.gamma_ols + 0.3
    if with_scale:
        theta = np.append(theta, 0.2)
    fun = lambda t: fun_and_grad(t)[0]  # noqa: E731
    grad = lambda t: fun_and_grad(t)[1]  # noqa: E731
    step = np.sqrt(np.finfo(float).eps)  # forward differences: error of order step
    np.testing.assert_allclose(grad(theta), optimize.approx_fprime(theta, fun, step),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hess(theta), optimize.approx_fprime(theta, grad, step),
                               rtol=1e-6, atol=1e-6)


# --- invariants ------------------------------------------------------------------------------


@FAST
@given(seed=st.integers(0, 2**32 - 1), p=st.sampled_from([1.0, 1.5, 3.0]),
       a=st.floats(0.01, 100.0) | st.floats(-100.0, -0.01),
       shift=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3))
def test_fit_loss_is_scale_and_regression_equivariant(seed: int, p: float, a: float,
                                                      shift: list[float]) -> None:
    """β̂(X, a·y + X g) = a·β̂(X, y) + g for every a ≠ 0 and g."""
    X, y = make_data(seed, n=40)
    base = fit_loss(X, y, p).params
    moved = fit_loss(X, a * y + X @ np.array(shift), p).params
    assert np.max(np.abs(X @ (moved - (a * base + np.array(shift))))) <= (
        FIT_TOL * abs(a) * rms_resid(X, y))


@FAST
@given(seed=st.integers(0, 2**32 - 1),
       case=st.sampled_from([("gaussian", None), ("laplace", None), ("student_t", 3.0),
                             ("gennorm", 3.0)]))
def test_mle_is_a_maximum(seed: int, case: tuple[str, float | None]) -> None:
    """No nearby (β, s) has a higher likelihood: a check that uses no optimiser at all."""
    family, shape = case
    X, y = make_data(seed % 1000, n=50)
    fit = fit_mle(X, y, family, shape=shape)
    rng = np.random.default_rng(seed)
    for size in (1e-3, 1e-1):
        params = fit.params + size * rng.normal(size=3) * np.abs(fit.params)
        scale = fit.scale * np.exp(size * rng.normal())
        assert loglike(params, scale, X, y, family, shape) <= fit.llf + 1e-12 * abs(fit.llf)


# --- the rolling engine reports the same likelihood per window -------------------------------


def test_rolling_ols_llf_aic_bic_match_each_window() -> None:
    rng = np.random.default_rng(9)
    dates = pd.date_range("2024-01-01", periods=60, freq="B")
    index = pd.MultiIndex.from_product([dates, ["AAA", "BBB"]], names=["datetime", "instrument"])
    frame = pd.DataFrame({"x1": rng.normal(size=120), "x2": 50.0 + rng.normal(size=120)},
                         index=index)
    frame["y"] = 0.5 + frame["x1"] - 2.0 * frame["x2"] + rng.standard_t(4, size=120)
    window = 20
    result = quantreg.rolling_ols(frame, window=window)
    checked = 0
    for instrument in ("AAA", "BBB"):
        rows = frame.xs(instrument, level="instrument")
        X = sm.add_constant(rows[["x1", "x2"]].to_numpy())
        y = rows["y"].to_numpy()
        for end in range(len(rows)):
            key = (rows.index[end], instrument)
            if end < window - 1:
                assert np.isnan(result.llf.loc[key])
                continue
            Xw, yw = X[end - window + 1:end + 1], y[end - window + 1:end + 1]
            ours = fit_mle(Xw, yw)
            for name in ("llf", "aic", "bic"):
                assert getattr(result, name).loc[key] == pytest.approx(
                    getattr(ours, name), rel=CLOSED_RTOL)
            params = result.params.loc[key, ["const", "x1", "x2"]].to_numpy(dtype=float)
            scale = np.sqrt(result.ssr.loc[key] / window)
            assert gaussian_loglike(params, scale, Xw, yw) == pytest.approx(
                result.llf.loc[key], rel=CLOSED_RTOL)
            checked += 1
    assert checked == 2 * (60 - window + 1)


# --- bad input -------------------------------------------------------------------------------


def _xy() -> tuple[np.ndarray, np.ndarray]:
    return make_data(10, n=20)


@pytest.mark.parametrize(("call", "match"), [
    (lambda X, y: fit_mle(np.where(np.arange(60).reshape(20, 3) == 7, np.nan, X), y),
     r"X contains 1 non-finite value\(s\) \(NaN or inf\)"),
    (lambda X, y: fit_loss(X, np.where(np.arange(20) == 3, np.inf, y), 2.0),
     r"y contains 1 non-finite value\(s\)"),
    (lambda X, y: gaussian_loglike([0, 0, 0], 1.0, X, np.full(20, np.nan)),
     r"y contains 20 non-finite value\(s\)"),
    (lambda X, y: fit_mle(np.column_stack([X, X[:, 1]]), y),
     r"X is rank deficient: rank 3 < 4 columns"),
    (lambda X, y: fit_loss(np.column_stack([X, 2 * X[:, 0]]), y, 3.0),
     r"X is rank deficient: rank 3 < 4 columns"),
    (lambda X, y: fit_mle(X[:3], y[:3]), r"X has 3 rows and 3 columns"),
    (lambda X, y: gaussian_loglike([0, 0, 0], 0.0, X, y),
     r"scale must be finite and > 0; got 0\.0"),
    (lambda X, y: laplace_loglike([0, 0, 0], -1.0, X, y), r"scale must be finite and > 0; got -1"),
    (lambda X, y: loglike([0, 0, 0], np.nan, X, y), r"scale must be finite and > 0; got nan"),
    (lambda X, y: loglike([0, 0, 0], "wide", X, y), r"scale must be a positive number; got 'wide'"),
    (lambda X, y: fit_mle(X, y, family="cauchy"),
     r"Unknown family 'cauchy'; expected one of 'gaussian', 'laplace', 'student_t', 'gennorm'"),
    (lambda X, y: loglike([0, 0, 0], 1.0, X, y, family="normal"), r"Unknown family 'normal'"),
    (lambda X, y: fit_mle(X, y, family="student_t"), r"family='student_t' needs shape="),
    (lambda X, y: fit_mle(X, y, family="gaussian", shape=2.0),
     r"family='gaussian' has no shape parameter; got shape=2\.0"),
    (lambda X, y: student_t_loglike([0, 0, 0], 1.0, X, y, df=0.0), r"shape \(the degrees of"),
    (lambda X, y: fit_mle(X, y, family="gennorm", shape=0.5), r"needs shape p >= 1"),
    (lambda X, y: fit_loss(X, y, 0.5), r"p must be >= 1 .*; got p=0\.5"),
    (lambda X, y: fit_loss(X, y, -1.0), r"p must be finite and > 0; got -1\.0\. For example p=1"),
    (lambda X, y: fit_mle(X, y, family="laplace", method="closed_form"),
     r"method='closed_form' exists only for family='gaussian'; got family='laplace'"),
    (lambda X, y: fit_mle(X, y, method="newton"), r"Unknown method 'newton'"),
    (lambda X, y: fit_mle(X, X[:, 1] * 3.0 + 1.0), r"y is an exact linear function of X"),
    (lambda X, y: fit_mle(X[:6], y[:6], family="student_t", shape=0.9),
     r"Student-t likelihood with ν=0\.9 is unbounded for n=6, k=3"),
    (lambda X, y: fit_mle(X[:, 1], y), r"X must be 2-D; got an array of shape \(20,\)\. Use X"),
    (lambda X, y: fit_mle(X, y[:-1]), r"X with 20 rows and y with 19"),
    (lambda X, y: fit_mle(X[:, :0], y), r"X has no columns"),
    (lambda X, y: fit_mle(np.full((20, 2), "a"), y), r"X must be numeric"),
    (lambda X, y: gaussian_loglike([0, 0], 1.0, X, y), r"params must have one entry per column"),
    (lambda X, y: fit_loss(X, y, 2.0, tol=0.0), r"tol must be finite and > 0"),
    (lambda X, y: fit_loss(X, y, 2.0, maxiter=0), r"maxiter must be a positive integer or None"),
])
def test_bad_input_raises_clear_errors(call, match: str) -> None:  # noqa: ANN001
    X, y = _xy()
    with pytest.raises(TheoryInputError, match=match) as info:
        call(X, y)
    assert isinstance(info.value, ValueError)


def test_non_convergence_warns_and_is_reported() -> None:
    X, y = make_data(11, n=60)
    with pytest.warns(TheoryConvergenceWarning, match=r"stopped before convergence after 1 "):
        fit = fit_mle(X, y, "student_t", shape=3.0, maxiter=1)
    assert not fit.converged
    with pytest.warns(TheoryConvergenceWarning,
                      match=r"highs-ipm stopped .* least-squares estimate is returned instead"):
        lad = fit_loss(X, y, 1.0, maxiter=1)
    assert not lad.converged
    np.testing.assert_allclose(lad.params, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-12)
