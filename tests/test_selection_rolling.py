"""quantreg.rolling_select: every window equals the estimator fitted on that window's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import quantreg
from quantreg.selection import SCAD, Garrote, Lasso, Ridge
from references import make_test_panel


def per_window_fits(df: pd.DataFrame, estimator, window: int) -> pd.DataFrame:
    """Reference: ``estimator.fit`` on the non-missing rows of every full window, per instrument."""
    xcols = [c for c in df.columns if c != "y"]
    out = pd.DataFrame(np.nan, index=df.index, columns=["const", *xcols])
    for _, g in df.groupby(level="instrument"):
        X, y = g[xcols].to_numpy(), g["y"].to_numpy()
        for t in range(window - 1, len(g)):
            rows = slice(t - window + 1, t + 1)
            keep = ~(np.isnan(y[rows]) | np.isnan(X[rows]).any(axis=1))
            fit = type(estimator)(**estimator.get_params()).fit(X[rows][keep], y[rows][keep])
            out.loc[g.index[t]] = [fit.intercept_, *fit.coef_]
    return out


@pytest.mark.parametrize(
    "estimator",
    [Lasso(alpha=0.05), Ridge(alpha=0.5), SCAD(alpha=0.1), Garrote(alpha=0.02), Lasso(alpha=0.05, fit_intercept=False)],
    ids=["lasso", "ridge", "scad", "garrote", "lasso-no-intercept"],
)
def test_each_window_equals_the_estimator_fitted_on_its_rows(estimator):
    df = make_test_panel(3, 45, 3, seed=21, nan_frac=0.04)
    res = quantreg.rolling_select(df, estimator, window=15)
    ref = per_window_fits(df, estimator, 15)
    np.testing.assert_allclose(res.params.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-10, equal_nan=True)
    fitted = res.params["const"] + (res.params[["x0", "x1", "x2"]] * df[["x0", "x1", "x2"]]).sum(axis=1, min_count=3)
    np.testing.assert_allclose(res.resid, df["y"] - fitted, atol=1e-9)
    assert (res.selected.dropna() == (res.params[["x0", "x1", "x2"]].dropna() != 0)).all().all()


def test_warm_start_agrees_to_the_solver_tolerance_with_fewer_sweeps():
    df = make_test_panel(2, 60, 4, seed=22)
    tight = Lasso(alpha=0.05, tol=1e-12, max_iter=100_000)
    cold = quantreg.rolling_select(df, tight, window=20)
    warm = quantreg.rolling_select(df, tight, window=20, warm_start=True)
    np.testing.assert_allclose(warm.params.to_numpy(), cold.params.to_numpy(), atol=1e-9, equal_nan=True)
    assert warm.n_iter.sum() < cold.n_iter.sum()


def test_lasso_selects_the_true_factors():
    rng = np.random.default_rng(23)
    idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=200), ["A"]], names=["datetime", "instrument"])
    X = rng.normal(size=(200, 6))
    df = pd.DataFrame(X, index=idx, columns=[f"f{j}" for j in range(6)]).assign(y=1.5 * X[:, 0] - X[:, 3] + 0.3 * rng.normal(size=200))
    res = df.quantreg.rolling_select(Lasso(alpha=0.1), window=60)
    share = res.selected.dropna().astype(bool).mean()
    assert share["f0"] == 1.0 and share["f3"] == 1.0
    assert share.drop(["f0", "f3"]).max() < 0.5


def test_out_of_sample_and_status():
    df = make_test_panel(2, 40, 2, seed=24, nan_frac=0.05)
    ins = quantreg.rolling_select(df, Ridge(alpha=0.2), window=10)
    oos = quantreg.rolling_select(df, Ridge(alpha=0.2), window=10, residual="out_of_sample")
    prev = ins.params.groupby(level="instrument").shift(1)
    expected = df["y"] - prev["const"] - (prev[["x0", "x1"]] * df[["x0", "x1"]]).sum(axis=1, min_count=2)
    np.testing.assert_allclose(oos.resid, expected, atol=1e-9)
    assert set(ins.status.unique()) <= {"ok", "warmup", "missing"}
    assert ins.params[ins.status == "ok"].notna().all().all()


def test_singular_garrote_windows_are_nan_with_a_warning():
    df = make_test_panel(1, 40, 2, seed=25, unbalanced=False)
    df = df.assign(x2=df["x1"])[["x0", "x1", "x2", "y"]]
    with pytest.warns(quantreg.RankDeficientWindowWarning, match=r"31 of 40 windows are rank deficient"):
        res = quantreg.rolling_select(df, Garrote(alpha=0.01), window=10)
    assert (res.status.iloc[9:] == "rank_deficient").all() and res.params.iloc[9:].isna().all().all()


def test_bad_input():
    df = make_test_panel(1, 20, 2, seed=26)
    from sklearn.linear_model import Lasso as SkLasso

    with pytest.raises(TypeError, match=r"needs a quantreg.selection estimator .* got Lasso"):
        quantreg.rolling_select(df, SkLasso(), window=5)
    with pytest.raises(ValueError, match=r"alpha"):
        quantreg.rolling_select(df, Lasso(alpha=-1.0), window=5)
    with pytest.raises(ValueError, match=r"window \(2\) is smaller"):
        quantreg.rolling_select(df, Lasso(alpha=0.1), window=2)
