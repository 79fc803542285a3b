"""Tests of quantreg.selection: estimators, penalties, Gram statistics, paths and tuning.

References (each shares no code with quantreg) and tolerances:

- scikit-learn ``Lasso`` (same objective) — coefficients within 1e-6;
- scikit-learn ``Ridge(alpha·n)`` — 1e-8; ``numpy.linalg.lstsq`` for ``Ridge(0)`` — 1e-10;
- Fan & Li's SCAD thresholding rule (eq. 2.8, written out below) on orthonormal designs — 1e-12;
- scipy L-BFGS-B on the SCAD objective written out below (convex case) — 1e-6;
- scikit-learn ``Lasso(positive=True)`` on the OLS-scaled columns for the garrote — 1e-6;
- hand-computed toys — 1e-12; brute-force grid minimisation of univariate problems;
- hat-matrix traces and residuals computed from rows with numpy for GCV/BIC — 1e-9 relative;
- scikit-learn ``cross_val_predict`` for K-fold CV scores — 1e-8;
- ``itertools`` + ``numpy.linalg.lstsq`` for best subset — 1e-10;
- optimality certificates: subgradient distances from a row-computed gradient ≤ the tolerance.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils.estimator_checks import parametrize_with_checks

from quantreg._kernels import coordinate_descent as cd
from quantreg._kernels._jit import jit
from quantreg.exceptions import ParameterError, QuantregError, SelectionConvergenceWarning
from quantreg.selection import (
    SCAD,
    Garrote,
    GramStats,
    HardThresholdPenalty,
    L1Penalty,
    L2Penalty,
    Lasso,
    MCPPenalty,
    NonNegativeL1Penalty,
    Ridge,
    SCADPenalty,
    best_subset,
    gram_stats,
    regularization_path,
    tune,
    tune_gram,
)

# ---------------------------------------------------------------------------------------------
# independent references, written out here


def scad_rule(z, lam, a):
    """Fan & Li (2001) eq. (2.8): the SCAD thresholding rule on an orthonormal design."""
    z = np.asarray(z, dtype=float)
    az = np.abs(z)
    soft = np.sign(z) * np.maximum(az - lam, 0.0)
    mid = ((a - 1) * z - np.sign(z) * a * lam) / (a - 2)
    return np.where(az <= 2 * lam, soft, np.where(az <= a * lam, mid, z))


def scad_pen(t, lam, a):
    t = np.abs(t)
    return np.where(
        t <= lam, lam * t, np.where(t <= a * lam, (2 * a * lam * t - t**2 - lam**2) / (2 * (a - 1)), (a + 1) * lam**2 / 2)
    )


def scad_deriv(t, lam, a):
    t = np.abs(t)
    return np.where(t <= lam, lam, np.maximum(a * lam - t, 0.0) / (a - 1))


def mcp_pen(t, lam, gamma):
    t = np.abs(t)
    return np.where(t <= gamma * lam, lam * t - t**2 / (2 * gamma), gamma * lam**2 / 2)


def centred(X, y, fit_intercept):
    if fit_intercept:
        return X - X.mean(axis=0), y - y.mean()
    return X, y


def scad_scipy(X, y, lam, a, fit_intercept):
    """SCAD by L-BFGS-B on w = u − v, u, v ≥ 0 (smooth on that domain), started at OLS."""
    Xc, yc = centred(X, y, fit_intercept)
    n, p = X.shape

    def f(z):
        u, v = z[:p], z[p:]
        r = yc - Xc @ (u - v)
        g = -Xc.T @ r / n
        val = r @ r / (2 * n) + scad_pen(u, lam, a).sum() + scad_pen(v, lam, a).sum()
        return val, np.concatenate([g + scad_deriv(u, lam, a), -g + scad_deriv(v, lam, a)])

    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    z0 = np.concatenate([np.maximum(ols, 0), np.maximum(-ols, 0)])
    res = minimize(
        f, z0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * p),
        options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 20000, "maxcor": 30},
    )  # fmt: skip
    return res.x[:p] - res.x[p:]


def ols_rows(X, y, fit_intercept):
    if fit_intercept:
        A = np.column_stack([np.ones(len(y)), X])
        sol = np.linalg.lstsq(A, y, rcond=None)[0]
        return sol[1:], sol[0]
    return np.linalg.lstsq(X, y, rcond=None)[0], 0.0


def make_data(n=120, p=5, seed=0, rho=0.4, beta=None, noise=1.0):
    rng = np.random.default_rng(seed)
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(cov).T + 0.5
    if beta is None:
        beta = np.zeros(p)
        beta[0], beta[2] = 2.0, -1.0
    y = 1.0 + X @ beta + noise * rng.standard_normal(n)
    return X, y


def orthonormal_design(n, p, seed, fit_intercept):
    """X with XᵀX/n = I (and zero column means when fit_intercept)."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, p))
    if fit_intercept:
        M -= M.mean(axis=0)
    Q, _ = np.linalg.qr(M)
    return np.sqrt(n) * Q


# ---------------------------------------------------------------------------------------------
# univariate rules (the kernels' building blocks)


@settings(max_examples=300, deadline=None)
@given(
    z=st.floats(-20, 20, allow_nan=False),
    lam=st.floats(0.01, 5),
    a=st.floats(2.01, 50),
)
def test_scad_threshold_is_fan_li_rule_on_orthonormal_design(z, lam, a):
    got = SCADPenalty(lam, a).threshold([z])[0]
    assert got == pytest.approx(float(scad_rule(z, lam, a)), rel=1e-12, abs=1e-12)


def test_hard_threshold_rule():
    z = np.linspace(-5, 5, 1001)
    got = HardThresholdPenalty(1.3).threshold(z)
    want = np.where(np.abs(z) > 1.3, z, 0.0)
    np.testing.assert_array_equal(got, want)


PENALTY_KINDS = ["l1", "l2", "scad", "nn_l1", "mcp"]


def _univariate_objective(kind, lam, extra, d, z, t):
    loss = 0.5 * d * (t - z) ** 2
    if kind == "l1":
        return loss + lam * np.abs(t)
    if kind == "l2":
        return loss + 0.5 * lam * t**2
    if kind == "scad":
        return loss + scad_pen(t, lam, extra)
    if kind == "nn_l1":
        return np.where(t >= 0, loss + lam * t, np.inf)
    return loss + mcp_pen(t, lam, extra)


def _penalty(kind, lam, extra):
    return {
        "l1": lambda: L1Penalty(lam),
        "l2": lambda: L2Penalty(lam),
        "scad": lambda: SCADPenalty(lam, extra),
        "nn_l1": lambda: NonNegativeL1Penalty(lam),
        "mcp": lambda: MCPPenalty(lam, extra),
    }[kind]()


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(PENALTY_KINDS),
    z=st.floats(-10, 10, allow_nan=False),
    lam=st.floats(0.05, 3),
    extra=st.floats(2.05, 8),
    d=st.floats(0.05, 3),
)
def test_univariate_update_is_the_global_minimiser(kind, z, lam, extra, d):
    """Brute force: the kernel's coordinate update beats a fine grid (also in non-convex cases)."""
    if kind == "mcp":
        extra = extra - 2.0  # gamma in (0.05, 6): covers d·gamma ≤ 1 (non-convex) and > 1
    t_hat = _penalty(kind, lam, extra).threshold([z], d=d)[0]
    grid = np.concatenate([np.linspace(-12, 12, 48001), [0.0, z]])
    f_grid = _univariate_objective(kind, lam, extra, d, z, grid).min()
    f_hat = float(_univariate_objective(kind, lam, extra, d, z, np.array(t_hat)))
    assert f_hat <= f_grid + 1e-9


# ---------------------------------------------------------------------------------------------
# hand-computable toys


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 1.0])
def test_toys_by_hand(alpha):
    # X = [-1, 0, 1], y = [-1, 0, 1]: G = 2/3, b = 2/3 (centred and raw alike)
    X, y = [[-1.0], [0.0], [1.0]], [-1.0, 0.0, 1.0]
    g = b = 2.0 / 3.0
    assert Lasso(alpha).fit(X, y).coef_[0] == pytest.approx(max(b - alpha, 0.0) / g, abs=1e-12)
    assert Ridge(alpha).fit(X, y).coef_[0] == pytest.approx(b / (g + alpha), abs=1e-12)
    # garrote: OLS slope 1, z = x → d = (b − α)₊/g
    assert Garrote(alpha).fit(X, y).coef_[0] == pytest.approx(max(b - alpha, 0.0) / g, abs=1e-12)
    # SCAD with G = 2/3: univariate rule with d = 2/3, z = 1 (d(a − 1) = 1.8 > 1)
    d, z, a = g, 1.0, 3.7
    if alpha == 0:
        want = z
    elif z <= alpha / d:
        want = 0.0
    elif z <= alpha * (1 + 1 / d):
        want = z - alpha / d
    elif z <= a * alpha:
        want = (d * (a - 1) * z - a * alpha) / (d * (a - 1) - 1)
    else:
        want = z
    assert SCAD(alpha, a=a).fit(X, y).coef_[0] == pytest.approx(want, abs=1e-12)


def test_garrote_toy_is_breiman_shrinkage():
    # orthonormal 1-D design: β̂ = z, garrote gives (1 − α/z²)₊·z
    X = np.array([[1.0], [-1.0]])
    for z in [0.3, 0.8, 2.0, -1.5]:
        coef = Garrote(alpha=0.5, fit_intercept=False).fit(X, [z, -z]).coef_[0]
        assert coef == pytest.approx(max(1 - 0.5 / z**2, 0.0) * z, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# agreement with scikit-learn and independent solvers


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5])
def test_lasso_matches_sklearn(alpha, fit_intercept):
    X, y = make_data(seed=1)
    ours = Lasso(alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000).fit(X, y)
    ref = sk.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [1e-3, 0.3, 5.0])
def test_ridge_matches_sklearn_with_alpha_times_n(alpha, fit_intercept):
    X, y = make_data(n=90, seed=2)
    ours = Ridge(alpha, fit_intercept=fit_intercept).fit(X, y)
    ref = sk.Ridge(alpha=alpha * X.shape[0], fit_intercept=fit_intercept, solver="svd").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_alpha_zero_is_ols(fit_intercept):
    X, y = make_data(seed=3)
    coef, icpt = ols_rows(X, y, fit_intercept)
    for alpha in (0.0, 1e-12):
        fit = Ridge(alpha, fit_intercept=fit_intercept).fit(X, y)
        np.testing.assert_allclose(fit.coef_, coef, atol=1e-9)
        assert fit.intercept_ == pytest.approx(icpt, abs=1e-9)


def test_ridge_alpha_zero_singular_is_min_norm_lstsq():
    X, y = make_data(seed=4)
    X = np.column_stack([X, X[:, 0]])  # duplicated column
    fit = Ridge(0.0).fit(X, y)
    assert fit.n_iter_ == -1
    Xc, yc = centred(X, y, True)
    np.testing.assert_allclose(fit.coef_, np.linalg.lstsq(Xc, yc, rcond=None)[0], atol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scad_on_orthonormal_design_is_the_thresholding_rule(fit_intercept):
    n, lam, a = 64, 0.5, 3.7
    z = np.array([0.1, 0.5, 0.9, 1.3, 1.8, 3.0, -0.7, -2.5])
    X = orthonormal_design(n, z.size, 5, fit_intercept)
    rng = np.random.default_rng(5)
    e = rng.standard_normal(n)
    e -= X @ (X.T @ e) / n  # orthogonal to the columns
    if fit_intercept:
        e -= e.mean()
    y = 0.7 * fit_intercept + X @ z + e
    fit = SCAD(lam, a=a, fit_intercept=fit_intercept, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(fit.coef_, scad_rule(X.T @ y / n, lam, a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scad_matches_scipy_on_convex_problem(fit_intercept):
    # λ_min(XᵀX/n) > 1/(a − 1): the SCAD objective is convex, its minimiser unique
    lam, a = 0.3, 3.7
    X, y = make_data(n=300, p=4, seed=6, rho=0.2, beta=np.array([2.0, -0.8, 0.3, 0.0]), noise=0.5)
    y = y - (not fit_intercept)  # no intercept in the model when none is fitted
    Xc, _ = centred(X, y, fit_intercept)
    assert np.linalg.eigvalsh(Xc.T @ Xc / len(y)).min() > 1 / (a - 1)
    ours = SCAD(lam, a=a, fit_intercept=fit_intercept, tol=1e-12).fit(X, y)
    ref = scad_scipy(X, y, lam, a, fit_intercept)
    np.testing.assert_allclose(ours.coef_, ref, atol=1e-6)
    assert np.sum(ours.coef_ == 0) >= 1  # the test covers the zero region
    assert np.any((np.abs(ours.coef_) > lam) & (np.abs(ours.coef_) < a * lam))  # and the concave one


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_garrote_is_nonnegative_lasso_on_ols_scaled_columns(alpha, fit_intercept):
    X, y = make_data(seed=7)
    ols, _ = ols_rows(X, y, fit_intercept)
    ref = sk.Lasso(alpha=alpha, positive=True, fit_intercept=fit_intercept, tol=1e-14, max_iter=1_000_000)
    ref.fit(X * ols, y)
    ours = Garrote(alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.shrinkage_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_ * ols, atol=1e-6)
    np.testing.assert_allclose(ours.ols_coef_, ols, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# limits


def test_scad_with_large_a_is_lasso():
    X, y = make_data(seed=8)
    for alpha in (0.05, 0.2):
        scad = SCAD(alpha, a=1e7, tol=1e-12).fit(X, y)
        lasso = Lasso(alpha, tol=1e-12).fit(X, y)
        np.testing.assert_allclose(scad.coef_, lasso.coef_, atol=1e-6)


@jit()
def _lasso_windows(Gs, bs, params, tol, out):
    w = np.zeros(bs.shape[1])
    for i in range(bs.shape[0]):  # warm start from the previous window
        cd.cd_gram(Gs[i], bs[i], w, cd.L1, params, 1000, tol)
        out[i] = w


@jit()
def _scad_windows(Gs, bs, params, tols, out):
    w = np.zeros(bs.shape[1])
    for i in range(bs.shape[0]):  # continuation: independent of the previous window
        cd.cd_continuation_gram(Gs[i], bs[i], w, cd.SCAD, params, 100, 1e-3, 1000, tols[i])
        out[i] = w


def test_kernels_run_inside_a_numba_loop_over_windows():
    """The per-window calls work from another kernel (as rolling selection will use them)."""
    X, y = make_data(n=200, p=4, seed=23)
    starts = range(0, 141, 20)
    probs = [gram_stats(X[s : s + 60], y[s : s + 60]).problem(True) for s in starts]
    Gs, bs = np.stack([q.G for q in probs]), np.stack([q.b for q in probs])
    out = np.empty_like(bs)
    _lasso_windows(Gs, bs, np.array([0.1]), 1e-12, out)
    for i, s in enumerate(starts):
        ref = sk.Lasso(alpha=0.1, tol=1e-14, max_iter=10**6).fit(X[s : s + 60], y[s : s + 60]).coef_
        np.testing.assert_allclose(out[i], ref, atol=1e-8)
    # SCAD window by window == the estimator fitted on each window alone (same relative tol)
    _scad_windows(Gs, bs, np.array([0.1, 3.7]), 1e-4 * np.abs(bs).max(axis=1), out)
    for i, s in enumerate(starts):
        np.testing.assert_array_equal(out[i], SCAD(0.1).fit(X[s : s + 60], y[s : s + 60]).coef_)


def test_mcp_with_large_gamma_is_lasso_in_the_kernel():
    X, y = make_data(seed=9)
    prob = gram_stats(X, y).problem(True)
    w_mcp, w_l1 = np.zeros(5), np.zeros(5)
    cd.cd_gram(prob.G, prob.b, w_mcp, cd.MCP, np.array([0.1, 1e8]), 10_000, 1e-13)
    cd.cd_gram(prob.G, prob.b, w_l1, cd.L1, np.array([0.1]), 10_000, 1e-13)
    np.testing.assert_allclose(w_mcp, w_l1, atol=1e-6)


def test_garrote_with_alpha_zero_is_ols():
    X, y = make_data(seed=10)
    fit = Garrote(0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(fit.coef_, ols_rows(X, y, True)[0], atol=1e-8)


# ---------------------------------------------------------------------------------------------
# optimality certificates (gradient computed from rows, subdifferential written out here)


def _subgradient_distance(kind, w, g, lam, a=3.7):
    if kind == "l1":
        return np.where(w != 0, np.abs(g + lam * np.sign(w)), np.maximum(np.abs(g) - lam, 0))
    if kind == "l2":
        return np.abs(g + lam * w)
    if kind == "nn":
        return np.where(w > 0, np.abs(g + lam), np.maximum(-g - lam, 0))
    return np.where(w != 0, np.abs(g + np.sign(w) * scad_deriv(w, lam, a)), np.maximum(np.abs(g) - lam, 0))


@pytest.mark.parametrize("name", ["lasso", "ridge", "scad", "garrote"])
def test_optimality_certificate(name):
    X, y = make_data(n=80, p=6, seed=11, rho=0.7)
    lam, tol = 0.15, 1e-8
    est = {
        "lasso": Lasso(lam, tol=tol),
        "ridge": Ridge(lam),
        "scad": SCAD(lam, tol=tol),
        "garrote": Garrote(lam, tol=tol),
    }[name].fit(X, y)
    Xc, yc = centred(X, y, True)
    n = len(y)
    if name == "garrote":
        Z = Xc * est.ols_coef_
        w, g = est.shrinkage_, -Z.T @ (yc - Z @ est.shrinkage_) / n
        scale = np.abs(Z.T @ yc / n).max()
    else:
        w, g = est.coef_, -Xc.T @ (yc - Xc @ est.coef_) / n
        scale = np.abs(Xc.T @ yc / n).max()
    kind = {"lasso": "l1", "ridge": "l2", "scad": "scad", "garrote": "nn"}[name]
    dist = _subgradient_distance(kind, w, g, lam)
    assert dist.max() <= tol * scale + 1e-12
    assert est.kkt_violation_ == pytest.approx(dist.max(), abs=1e-10)
    assert est.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ est.coef_, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Gram statistics


def test_gram_stats_match_numpy_on_price_level_data():
    rng = np.random.default_rng(12)
    X = 1e4 + 0.01 * rng.standard_normal((500, 3))
    y = 5e3 + X @ [1.0, -2.0, 0.5] + 0.001 * rng.standard_normal(500)
    s = GramStats.from_rows(X, y)
    cov = np.cov(np.column_stack([X, y]) - [1e4, 1e4, 1e4, 0.0], rowvar=False, ddof=0) * 500
    np.testing.assert_allclose(s.sxx, cov[:3, :3], rtol=1e-9)
    np.testing.assert_allclose(s.sxy, cov[:3, 3], rtol=1e-9)
    assert s.syy == pytest.approx(cov[3, 3], rel=1e-9)
    np.testing.assert_allclose(s.x_mean, X.mean(axis=0), rtol=1e-14)
    # slopes from the statistics equal lstsq on the rows
    coef = np.linalg.solve(s.sxx, s.sxy)
    np.testing.assert_allclose(coef, ols_rows(X, y, True)[0], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(1, 59), min_size=1, max_size=4, unique=True), seed=st.integers(0, 100))
def test_merging_chunks_equals_stats_of_all_rows(cuts, seed):
    X, y = make_data(n=60, p=3, seed=seed)
    edges = [0, *sorted(cuts), 60]
    parts = [GramStats.from_rows(X[i:j], y[i:j]) for i, j in zip(edges[:-1], edges[1:])]
    merged, whole = GramStats.merge_all(parts), GramStats.from_rows(X, y)
    np.testing.assert_allclose(merged.sxx, whole.sxx, rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose(merged.sxy, whole.sxy, rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose([merged.syy, merged.y_mean, merged.n], [whole.syy, whole.y_mean, whole.n], rtol=1e-12)


def test_gram_mse_matches_rows():
    X, y = make_data(seed=13)
    s = GramStats.from_rows(X, y)
    coef, c = np.array([1.0, 0.5, -0.2, 0.0, 0.1]), 0.3
    assert s.mse(coef, c) == pytest.approx(np.mean((y - c - X @ coef) ** 2), rel=1e-12)


@pytest.mark.parametrize("make", [Lasso, Ridge, SCAD, Garrote])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_solve_equals_row_solve(make, fit_intercept):
    X, y = make_data(seed=14)
    parts = [GramStats.from_rows(X[i : i + 40], y[i : i + 40]) for i in range(0, 120, 40)]
    from_rows = make(0.1, fit_intercept=fit_intercept).fit(X, y)
    from_gram = make(0.1, fit_intercept=fit_intercept).fit_gram(GramStats.merge_all(parts))
    np.testing.assert_allclose(from_gram.coef_, from_rows.coef_, atol=1e-10)
    assert from_gram.intercept_ == pytest.approx(from_rows.intercept_, abs=1e-10)
    np.testing.assert_allclose(from_gram.predict(X), from_rows.predict(X), atol=1e-9)
    assert from_gram.n_features_in_ == 5 and not hasattr(from_gram, "feature_names_in_")


# ---------------------------------------------------------------------------------------------
# paths and tuning


def test_lasso_path_matches_sklearn():
    X, y = make_data(seed=15)
    path = regularization_path(Lasso(tol=1e-12, max_iter=100_000), X, y, n_alphas=20)
    Xc, yc = centred(X, y, True)
    _, ref, _ = sk.lasso_path(Xc, yc, alphas=path.alphas, tol=1e-14, max_iter=1_000_000)
    np.testing.assert_allclose(path.coefs, ref.T, atol=1e-6)
    assert np.all(path.coefs[0] == 0) and np.all(np.diff(path.alphas) < 0)


def test_scad_fit_reproduces_its_path():
    X, y = make_data(n=60, p=6, seed=16, rho=0.7)
    est = SCAD(a=3.0)
    path = regularization_path(est, X, y)
    for k in (10, 45, 80, 99):
        fit = SCAD(path.alphas[k], a=3.0).fit(X, y)
        np.testing.assert_array_equal(fit.coef_, path.coefs[k])


def _row_criteria(X, y, coef, intercept, lam, kind, fit_intercept=True):
    """GCV and BIC from rows: e = tr[X_A(X_AᵀX_A + nΣ)⁻¹X_Aᵀ] (+1 for the intercept)."""
    n = len(y)
    Xc, _ = centred(X, y, fit_intercept)
    rss = np.sum((y - intercept - X @ coef) ** 2)
    A = np.ones(len(coef), bool) if kind == "l2" else coef != 0
    if kind == "l2":
        sig = np.full(A.sum(), lam)
    elif kind == "scad":
        sig = scad_deriv(coef[A], lam, 3.7) / np.abs(coef[A])
    else:
        sig = lam / np.abs(coef[A])
    XA = Xc[:, A]
    H = XA @ np.linalg.solve(XA.T @ XA + n * np.diag(sig), XA.T)
    e = np.trace(H) + fit_intercept
    return (rss / n) / (1 - e / n) ** 2, np.log(rss / n) + e * np.log(n) / n


@pytest.mark.parametrize("name", ["lasso", "ridge", "scad", "garrote"])
def test_gcv_and_bic_match_row_formulas(name):
    X, y = make_data(n=50, p=5, seed=17)
    est = {"lasso": Lasso(tol=1e-10), "ridge": Ridge(), "scad": SCAD(tol=1e-10), "garrote": Garrote(tol=1e-10)}[name]
    path = regularization_path(est, X, y, n_alphas=12)
    for k in range(1, 12):
        coef, icpt, lam = path.coefs[k], path.intercepts[k], path.alphas[k]
        if name == "garrote":
            ols = ols_rows(X, y, True)[0]
            gcv, bic = _row_criteria(X * ols, y, coef / ols, icpt, lam, "l1")
        else:
            kind = {"lasso": "l1", "ridge": "l2", "scad": "scad"}[name]
            gcv, bic = _row_criteria(X, y, coef, icpt, lam, kind)
        assert path.gcv[k] == pytest.approx(gcv, rel=1e-9)
        assert path.bic[k] == pytest.approx(bic, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["lasso", "garrote"])
def test_kfold_cv_scores_match_cross_val_predict(name):
    X, y = make_data(n=60, p=4, seed=18)
    alphas = [0.5, 0.2, 0.05, 0.01]
    res = tune({"lasso": Lasso, "garrote": Garrote}[name](tol=1e-12, max_iter=100_000), X, y,
               criterion="cv", alphas=alphas, cv=5, random_state=3)  # fmt: skip
    folds = KFold(5, shuffle=True, random_state=3)
    for j, alpha in enumerate(alphas):
        if name == "lasso":
            ref_est = sk.Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000)
        else:
            ref_est = Garrote(alpha, tol=1e-12, max_iter=100_000)
        pred = cross_val_predict(ref_est, X, y, cv=folds)
        assert res.scores[0, j] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-8)
    assert res.alpha == alphas[int(np.argmin(res.scores[0]))]


def test_tune_selects_the_argmin_and_refits_to_the_path_solution():
    X, y = make_data(n=80, p=6, seed=19)
    res = tune(SCAD(), X, y, criterion="gcv", a_values=[3.0, 3.7, 6.0])
    i, j = np.unravel_index(np.argmin(res.scores), res.scores.shape)
    assert res.a == [3.0, 3.7, 6.0][i] and res.alpha == res.alphas[j]
    assert res.estimator.a == res.a and res.estimator.alpha == res.alpha
    np.testing.assert_array_equal(res.estimator.coef_, res.coef)
    np.testing.assert_allclose(res.scores[i], res.path.gcv)
    # the same from statistics; and K-fold CV from per-fold statistics equals tune(..., "cv")
    res_gram = tune_gram(SCAD(), gram_stats(X, y), a_values=[3.0, 3.7, 6.0])
    np.testing.assert_array_equal(res_gram.scores, res.scores)
    folds = [gram_stats(X[t], y[t]) for _, t in KFold(4, shuffle=True, random_state=0).split(X)]
    cv_gram = tune_gram(Lasso(), folds, criterion="cv")
    cv_rows = tune(Lasso(), X, y, criterion="cv", cv=4, random_state=0)
    np.testing.assert_allclose(cv_gram.scores, cv_rows.scores, rtol=1e-12)


def test_ridge_gcv_matches_hat_matrix_minimum():
    X, y = make_data(n=40, p=6, seed=20)
    res = tune(Ridge(), X, y, criterion="gcv")
    Xc, yc = centred(X, y, True)
    n = len(y)
    best = np.inf
    for lam in res.alphas:
        H = Xc @ np.linalg.solve(Xc.T @ Xc + n * lam * np.eye(6), Xc.T)
        gcv = np.mean((yc - H @ yc) ** 2) / (1 - (np.trace(H) + 1) / n) ** 2
        best = min(best, gcv)
    assert res.scores.min() == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("criterion", ["bic", "gcv"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_best_subset_matches_brute_force(criterion, fit_intercept):
    X, y = make_data(n=40, p=5, seed=21)
    n = len(y)
    best_score, best_set = np.inf, ()
    for k in range(6):
        for subset in itertools.combinations(range(5), k):
            A = np.column_stack([np.ones(n)] * fit_intercept + [X[:, list(subset)]])
            resid = y - A @ np.linalg.lstsq(A, y, rcond=None)[0] if A.shape[1] else y
            mse, df = np.mean(resid**2), k + fit_intercept
            score = np.log(mse) + df * np.log(n) / n if criterion == "bic" else mse / (1 - df / n) ** 2
            if score < best_score:
                best_score, best_set = score, subset
    res = best_subset(X, y, criterion=criterion, fit_intercept=fit_intercept)
    assert tuple(np.flatnonzero(res.support)) == best_set
    coef, icpt = ols_rows(X[:, list(best_set)], y, fit_intercept)
    np.testing.assert_allclose(res.coef[list(best_set)], coef, atol=1e-10)
    assert res.intercept == pytest.approx(icpt, abs=1e-10)
    assert res.scores.min() == pytest.approx(best_score, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# scikit-learn compatibility


@parametrize_with_checks([Lasso(), Ridge(), SCAD(), Garrote()])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        # scikit-learn's checks cap max_iter at a few sweeps on purpose
        warnings.simplefilter("ignore", SelectionConvergenceWarning)
        check(estimator)


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("make", [Lasso, Ridge, SCAD, Garrote])
def test_negative_alpha_is_rejected(make):
    X, y = make_data()
    name = make.__name__
    with pytest.raises(ParameterError, match=rf"The 'alpha' parameter of {name} must be a float in the range \[0, inf\)\. Got -1 instead\."):
        make(alpha=-1).fit(X, y)
    with pytest.raises(ParameterError, match=rf"'alpha' parameter of {name} .* Got nan instead"):
        make(alpha=float("nan")).fit(X, y)


@pytest.mark.parametrize("a", [2, 1.5, -3.0, float("inf")])
def test_scad_a_must_exceed_two(a):
    X, y = make_data()
    with pytest.raises(ParameterError, match=r"The 'a' parameter of SCAD must be a float in the range \(2, inf\)\. .*Fan & Li recommend a = 3\.7"):
        SCAD(a=a).fit(X, y)
    with pytest.raises(ParameterError, match=r"'a' parameter of SCAD"):
        tune(SCAD(), X, y, a_values=[3.7, a])


@pytest.mark.parametrize("make", [Lasso, Ridge, SCAD, Garrote])
def test_non_finite_data_is_rejected(make):
    X, y = make_data()
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        make().fit(Xn, y)
    yi = y.copy()
    yi[0] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        make().fit(X, yi)
    with pytest.raises(QuantregError, match="GramStats got non-finite values"):
        GramStats(10, np.zeros(2), np.nan, np.eye(2), np.zeros(2), 1.0)


def test_garrote_needs_more_samples_than_features():
    X, y = make_data(n=5, p=5)
    with pytest.raises(QuantregError, match=r"Garrote needs n_samples > n_features .* got n_samples=5, n_features=5"):
        Garrote().fit(X, y)
    with pytest.raises(QuantregError, match=r"Garrote needs n_samples > n_features .* got n_samples=4, n_features=5"):
        Garrote(fit_intercept=False).fit(X[:4], y[:4])
    Garrote(fit_intercept=False).fit(X, y)  # n = p without intercept is enough


def test_garrote_rejects_singular_design():
    X, y = make_data()
    X = np.column_stack([X, 2 * X[:, 1]])
    with pytest.raises(QuantregError, match=r"Garrote needs the least-squares fit on all 6 features, but XᵀX is singular"):
        Garrote().fit(X, y)


def test_other_parameter_errors():
    X, y = make_data()
    with pytest.raises(ParameterError, match=r"The 'max_iter' parameter of Lasso must be an int in the range \[1, inf\)\. Got 0 instead\."):
        Lasso(max_iter=0).fit(X, y)
    with pytest.raises(ParameterError, match=r"The 'tol' parameter of SCAD must be a float in the range \(0, inf\)\. Got 0 instead\."):
        SCAD(tol=0).fit(X, y)
    with pytest.raises(ParameterError, match=r"The 'fit_intercept' parameter of Ridge must be an instance of 'bool'"):
        Ridge(fit_intercept="yes").fit(X, y)
    with pytest.raises(ParameterError, match=r"The 'criterion' parameter must be one of \('gcv', 'bic', 'cv'\)\. Got 'aic' instead\."):
        tune(Lasso(), X, y, criterion="aic")
    with pytest.raises(ParameterError, match="a_values can only be tuned for SCAD; got Lasso"):
        tune(Lasso(), X, y, a_values=[3.7])
    with pytest.raises(ParameterError, match=r"cv=200 folds need at least 200 rows; got n_samples=120"):
        tune(Lasso(), X, y, criterion="cv", cv=200)
    with pytest.raises(ParameterError, match="criterion='cv' needs the statistics of at least 2 folds; got 1"):
        tune_gram(Lasso(), gram_stats(X, y), criterion="cv")
    with pytest.raises(ParameterError, match="The 'alphas' parameter must be a non-empty sequence of finite floats >= 0"):
        regularization_path(Lasso(), X, y, alphas=[0.1, -1.0])
    with pytest.raises(ParameterError, match=r"best_subset would fit 2\*\*21 subsets; max_features=20"):
        best_subset(np.random.default_rng(0).standard_normal((30, 21)), np.zeros(30))
    with pytest.raises(TypeError, match="Lasso.fit_gram expects a GramStats; got ndarray"):
        Lasso().fit_gram(X)
    with pytest.raises(ParameterError, match="Expected one of quantreg.selection's estimators"):
        tune(sk.Lasso(), X, y)


def test_non_convergence_warns_with_gap_and_tolerance():
    X, y = make_data(n=60, p=6, seed=22, rho=0.95)
    with pytest.warns(SelectionConvergenceWarning, match=r"Lasso did not converge in max_iter=1 sweeps: the optimality violation is .* above the tolerance"):
        Lasso(0.01, max_iter=1, tol=1e-10).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="did not converge"):  # also scikit-learn's class
        SCAD(0.01, max_iter=1, tol=1e-10).fit(X, y)
