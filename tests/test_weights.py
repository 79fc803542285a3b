"""Row weights (WLS) in rolling_ols / rolling_resid and fama_macbeth.

References: statsmodels ``RollingWLS`` (params, bse, R², llf — on windows without missing
rows, where it is right) and a fresh statsmodels ``WLS`` on every window's rows (everywhere,
also with ``halflife``: the product weights); tolerance 1e-10 absolute on unit-scale data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.regression.rolling import RollingWLS

import quantreg
from quantreg.exceptions import MissingColumnError, PanelError

TOL = 1e-10


def make_panel(n_dates=50, assets=("A", "B", "C"), *, seed=0, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=n_dates), list(assets)],
                                     names=["datetime", "instrument"])
    n = len(idx)
    df = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n), "w": rng.uniform(0.1, 4.0, n)}, index=idx)
    df["y"] = 0.5 + df["x0"] - 0.3 * df["x1"] + rng.normal(size=n) / np.sqrt(df["w"])
    if nan_frac:
        df.loc[rng.random(n) < nan_frac, "x1"] = np.nan
    return df.sample(frac=1.0, random_state=seed)


def test_equals_statsmodels_rolling_wls():
    df = make_panel()
    res = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=12, weights="w")
    for asset in ("A", "B", "C"):
        a = df.xs(asset, level="instrument").sort_index()
        ref = RollingWLS(a["y"], sm.add_constant(a[["x0", "x1"]]), window=12, weights=a["w"]).fit()
        mine = res.params.xs(asset, level="instrument").sort_index()
        np.testing.assert_allclose(mine.to_numpy(), ref.params.to_numpy(), atol=TOL, equal_nan=True)
        for name in ("bse", "rsquared", "llf"):
            got = getattr(res, name).xs(asset, level="instrument").sort_index().to_numpy()
            np.testing.assert_allclose(got, getattr(ref, name).to_numpy(), atol=TOL, equal_nan=True)


@pytest.mark.parametrize("halflife", [None, 5.0])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1"])
def test_every_window_equals_a_wls_refit(halflife, cov_type):
    df = make_panel(n_dates=30, nan_frac=0.1, seed=2)
    dates = df.index.levels[0]
    zero_row, nan_row = (dates[20], "A"), (dates[22], "B")
    df.loc[zero_row, "w"] = 0.0  # a zero weight: a missing row
    df.loc[nan_row, "w"] = np.nan
    res = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=10, weights="w", halflife=halflife, cov_type=cov_type)
    lam = 1.0 if halflife is None else 0.5 ** (1.0 / halflife)
    checked = 0
    for asset in ("A", "B"):
        a = df.xs(asset, level="instrument").sort_index()
        for t in range(9, len(a)):
            rows = a.iloc[t - 9:t + 1]
            w = rows["w"] * lam ** np.arange(9, -1, -1)
            keep = rows[["x0", "x1", "y"]].notna().all(axis=1) & (rows["w"] > 0)
            key = (a.index[t], asset)
            if keep.sum() < 3:
                assert res.status.loc[key] != "ok"
                continue
            fit = sm.WLS(rows["y"][keep], sm.add_constant(rows[["x0", "x1"]][keep]), weights=w[keep]).fit(
                cov_type=cov_type)
            np.testing.assert_allclose(res.params.loc[key].to_numpy(), fit.params.to_numpy(), atol=TOL)
            np.testing.assert_allclose(res.bse.loc[key].to_numpy(), fit.bse.to_numpy(), atol=TOL)
            assert abs(res.rsquared.loc[key] - fit.rsquared) < TOL
            assert abs(res.llf.loc[key] - fit.llf) < 1e-9
            assert res.nobs.loc[key] == fit.nobs
            checked += 1
    assert checked > 20
    assert res.status.loc[zero_row] == "missing" and res.status.loc[nan_row] == "missing"


def test_unit_weights_equal_the_unweighted_fit_and_resid_agrees():
    df = make_panel(nan_frac=0.05)
    plain = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=8)
    ones = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=8, weights=pd.Series(1.0, index=df.index))
    pd.testing.assert_frame_equal(plain.params, ones.params)  # bit for bit: weight 1 multiplies exactly
    resid = quantreg.rolling_resid(df, "y", ["x0", "x1"], window=8, weights="w")
    full = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=8, weights="w")
    pd.testing.assert_series_equal(resid, full.resid.rename("residual"))


def test_weights_series_is_aligned_by_label_and_column_left_out_of_defaults():
    df = make_panel()
    by_label = quantreg.rolling_ols(df, "y", ["x0", "x1"], window=8, weights=df["w"].sort_index())
    by_name = quantreg.rolling_ols(df, window=8, weights="w")  # defaults: y the last column, x the others
    assert by_name.param_names == ["const", "x0", "x1"]
    pd.testing.assert_frame_equal(by_label.params, by_name.params)


@pytest.mark.parametrize(
    "weights, error, match",
    [
        (pd.Series([1.0, 2.0, 3.0]), PanelError, "weights has 3 values but the frame has 150 rows"),
        (np.ones(4), PanelError, "weights has shape \\(4,\\) but the frame has 150 rows"),
        ("weight", MissingColumnError, "weights='weight' is not a column"),
    ],
)
def test_bad_weights(weights, error, match):
    with pytest.raises(error, match=match):
        quantreg.rolling_ols(make_panel(), "y", ["x0", "x1"], window=8, weights=weights)


def test_infinite_weight_is_an_error():
    df = make_panel()
    w = df["w"].copy()
    w.iloc[3] = np.inf
    with pytest.raises(PanelError, match="weights holds 1 infinite value"):
        quantreg.rolling_resid(df, "y", ["x0", "x1"], window=8, weights=w)


def test_fama_macbeth_weighted_cross_sections():
    df = make_panel(n_dates=8, assets=[f"S{i}" for i in range(12)], seed=4)
    res = quantreg.fama_macbeth(df, "y", ["x0", "x1"], weights="w")
    for date, g in df.groupby(level="datetime"):
        fit = sm.WLS(g["y"], sm.add_constant(g[["x0", "x1"]]), weights=g["w"]).fit()
        np.testing.assert_allclose(res.params_by_period.loc[date].to_numpy(), fit.params.to_numpy(), atol=TOL)
        assert abs(res.rsquared_by_period[date] - fit.rsquared) < TOL
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = quantreg.fama_macbeth(df, "y", ["x0", "x1"])
    assert not np.allclose(plain.params, res.params)
