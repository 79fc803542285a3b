"""quantreg.rolling_ols / rolling_resid against independent references (see tests/references.py).

Tolerances: statsmodels ``RollingOLS`` 1e-9 relative (well-scaled data); per-window
``numpy.linalg.lstsq`` 1e-9 relative on params, 1e-9 absolute on residuals; NIST certified
values to 9 significant digits.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import quantreg
from quantreg import RankDeficientWindowWarning
from references import lstsq_rolling, make_test_panel, statsmodels_rolling, statsmodels_window, users_workflow

RTOL = 1e-9


def assert_frame_close(actual: pd.DataFrame | pd.Series, expected: pd.DataFrame | pd.Series, rtol=RTOL, atol=1e-10):
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg="NaN patterns differ")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"min_nobs": 12},
        {"expanding": True},
        {"expanding": True, "min_nobs": 8},
    ],
)
@pytest.mark.parametrize("nan_frac", [0.0, 0.08])
def test_equals_statsmodels_rolling_ols(options, nan_frac):
    df = make_test_panel(5, 90, 3, seed=3, nan_frac=nan_frac)
    res = quantreg.rolling_ols(df, window=20, **options)
    ref = statsmodels_rolling(df, 20, **options)
    assert_frame_close(res.params, ref["params"])
    assert_frame_close(res.bse, ref["bse"])
    for key in ("rsquared", "rsquared_adj", "llf", "ssr", "aic", "bic"):
        assert_frame_close(getattr(res, key), ref[key], atol=1e-9)
    estimated = res.params.notna().all(axis=1)
    assert (res.nobs[estimated] == ref["nobs"][estimated]).all()


def test_equals_statsmodels_without_constant():
    df = make_test_panel(3, 60, 2, seed=4, nan_frac=0.05)
    res = quantreg.rolling_ols(df, window=15, add_constant=False)
    ref = statsmodels_rolling(df, 15, add_constant=False)
    assert list(res.params.columns) == ["x0", "x1"]
    assert_frame_close(res.params, ref["params"])
    assert_frame_close(res.bse, ref["bse"])
    assert_frame_close(res.rsquared, ref["rsquared"])
    assert_frame_close(res.llf, ref["llf"])


@pytest.mark.parametrize("missing", ["drop", "skip"])
@pytest.mark.parametrize("expanding", [False, True])
def test_equals_per_window_lstsq(missing, expanding):
    df = make_test_panel(4, 70, 2, seed=5, nan_frac=0.06)
    res = quantreg.rolling_ols(df, window=12, missing=missing, expanding=expanding, min_nobs=5)
    ref = lstsq_rolling(df, 12, missing=missing, expanding=expanding, min_nobs=5)
    assert_frame_close(res.params, ref[res.param_names])
    assert_frame_close(res.resid, ref["residual"].where(res.params.notna().all(axis=1)), atol=1e-9)
    assert_frame_close(res.ssr, ref["ssr"])


def test_skip_follows_documented_semantics_where_statsmodels_has_an_off_by_one():
    """statsmodels 0.14/0.15 ``missing="skip"`` does not look at a window's first row and, with
    its default incremental updates, drifts after a skipped window. quantreg follows the
    documented rule (a window holding any missing row is NaN): where quantreg has a value it
    equals statsmodels recomputed at every step (``reset=1``)."""
    df = make_test_panel(3, 80, 2, seed=6, nan_frac=0.05)
    res = quantreg.rolling_ols(df, window=10, missing="skip")
    ref = statsmodels_rolling(df, 10, missing="skip", reset=1)
    ours = res.params.notna().all(axis=1)
    assert (ref["params"].notna().all(axis=1) | ~ours).all()
    assert_frame_close(res.params[ours], ref["params"][ours])
    assert (res.status[~ours & res.nobs.gt(0)].isin(["missing", "warmup"])).all()


def test_reproduces_the_users_workflow_where_it_has_values():
    df = make_test_panel(6, 70, 3, seed=7, nan_frac=0.05)
    short = df.xs("A05", level="instrument", drop_level=False).iloc[:10]  # shorter than the window
    df = pd.concat([df.drop(index="A05", level="instrument"), short]).sort_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels/pandas warnings of the users' code
        try:
            ref = users_workflow(df, 30)
        except Exception:  # statsmodels refuses the short asset: drop it, as users end up doing
            ref = users_workflow(df.drop(index="A05", level="instrument"), 30)
    ours = quantreg.rolling_resid(df, window=30)
    complete = df.notna().all(axis=1).reindex(ref.index)
    both = ref.index[ref["has_params"] & complete]
    np.testing.assert_allclose(ours.loc[both], ref.loc[both, "residual"], rtol=1e-9, atol=1e-9)
    # what the workflow gets wrong: warm-up rows are NaN here (residual == y there) ...
    warm = ref.index[~ref["has_params"] & complete]
    assert ours.loc[warm].isna().all()
    assert np.allclose(ref.loc[warm, "residual"], df.loc[warm, "y"])
    # ... and a row with a missing regressor gets a partial sum there, NaN here
    assert ours.loc[ref.index[~complete]].isna().all()
    # ... and the short asset is kept, as NaN rows
    assert ours.xs("A05", level="instrument").shape[0] == 10
    assert ours.xs("A05", level="instrument").isna().all()


def test_halflife_equals_weighted_least_squares_per_window():
    df = make_test_panel(2, 50, 2, seed=8, nan_frac=0.05)
    res = quantreg.rolling_ols(df, window=15, halflife=6.0)
    ref = lstsq_rolling(df, 15, halflife=6.0)
    assert_frame_close(res.params, ref[res.param_names])
    assert_frame_close(res.ssr, ref["ssr"])
    # every statistic against statsmodels WLS on a few windows
    g = df.xs("A01", level="instrument")
    X = sm.add_constant(g[["x0", "x1"]].to_numpy())
    yv = g["y"].to_numpy()
    sub = res.params.xs("A01", level="instrument")
    for t in range(14, len(g), 7):
        rows = np.arange(t - 14, t + 1)
        keep = ~(np.isnan(yv[rows]) | np.isnan(X[rows]).any(axis=1))
        rows = rows[keep]
        fit = statsmodels_window(X[rows], yv[rows], weights=0.5 ** ((t - rows) / 6.0))
        label = (g.index[t], "A01")
        np.testing.assert_allclose(sub.iloc[t], fit.params, rtol=RTOL)
        np.testing.assert_allclose(res.bse.loc[label], fit.bse, rtol=RTOL)
        np.testing.assert_allclose(res.llf.loc[label], fit.llf, rtol=RTOL)
        np.testing.assert_allclose(res.rsquared.loc[label], fit.rsquared, rtol=RTOL)
        np.testing.assert_allclose(res.aic.loc[label], fit.aic, rtol=RTOL)
        np.testing.assert_allclose(res.bic.loc[label], fit.bic, rtol=RTOL)
        np.testing.assert_allclose(res.pvalues.loc[label], fit.pvalues, rtol=1e-7)


def test_expanding_halflife_and_expanding_without_window():
    df = make_test_panel(2, 40, 1, seed=9)
    res = quantreg.rolling_ols(df, window=None, expanding=True, halflife=10.0)
    ref = lstsq_rolling(df, 10_000, expanding=True, halflife=10.0)
    assert_frame_close(res.params, ref[res.param_names])
    plain = quantreg.rolling_ols(df, expanding=True, min_nobs=5)
    assert_frame_close(plain.params, lstsq_rolling(df, 10_000, expanding=True, min_nobs=5)[plain.param_names])


def test_out_of_sample_uses_the_previous_rows_coefficients():
    df = make_test_panel(3, 50, 2, seed=10, nan_frac=0.05)
    ins = quantreg.rolling_ols(df, window=10)
    oos = quantreg.rolling_ols(df, window=10, residual="out_of_sample")
    prev = ins.params.groupby(level="instrument").shift(1)
    expected = df["y"] - prev["const"] - (prev[["x0", "x1"]] * df[["x0", "x1"]]).sum(axis=1, min_count=2)
    assert_frame_close(oos.resid, expected, atol=1e-9)
    assert_frame_close(oos.fitted + oos.resid, df["y"].where(oos.resid.notna()))
    assert_frame_close(oos.params, ins.params, rtol=0, atol=0)
    resid_only = quantreg.rolling_resid(df, window=10, residual="out_of_sample")
    assert_frame_close(resid_only, oos.resid, rtol=0, atol=0)


def test_in_sample_fitted_plus_resid_is_y_and_params_reproduce_fitted():
    df = make_test_panel(3, 40, 2, seed=11)
    res = quantreg.rolling_ols(df, window=8)
    fitted = res.params["const"] + (res.params[["x0", "x1"]] * df[["x0", "x1"]]).sum(axis=1, min_count=2)
    assert_frame_close(res.fitted, fitted)
    assert_frame_close(res.fitted + res.resid, df["y"].where(res.resid.notna()))


def test_price_level_data_match_per_window_least_squares_to_1e9():
    """T = 1,000,000 rows, x = 1e4 + 0.01·ε, window 60 (issue 2): residuals within 1e-9 absolute
    of an exact centred two-pass solution of every window, and of numpy lstsq on sampled windows."""
    n, w = 1_000_000, 60
    rng = np.random.default_rng(12)
    x = 1e4 + 0.01 * rng.standard_normal(n)
    y = 0.5 + 2.0 * x + 0.001 * rng.standard_normal(n)
    idx = pd.MultiIndex.from_arrays(
        [pd.date_range("2000-01-01", periods=n, freq="min"), np.repeat("P", n)], names=["datetime", "instrument"]
    )
    ours = quantreg.rolling_resid(pd.DataFrame({"x": x, "y": y}, index=idx), window=w).to_numpy()
    worst = 0.0
    for start in range(0, n - w + 1, 200_000):
        stop = min(start + 200_000, n - w + 1)
        xw = np.lib.stride_tricks.sliding_window_view(x, w)[start:stop]
        yw = np.lib.stride_tricks.sliding_window_view(y, w)[start:stop]
        xc = xw - xw.mean(axis=1, keepdims=True)
        yc = yw - yw.mean(axis=1, keepdims=True)
        beta = (xc * yc).sum(axis=1) / (xc * xc).sum(axis=1)
        ref = yc[:, -1] - beta * xc[:, -1]
        worst = max(worst, np.max(np.abs(ours[start + w - 1 : stop + w - 1] - ref)))
    assert worst <= 1e-9
    assert np.isnan(ours[: w - 1]).all()
    for t in rng.integers(w - 1, n, size=200):
        X = np.column_stack([np.ones(w), x[t - w + 1 : t + 1]])
        beta = np.linalg.lstsq(X, y[t - w + 1 : t + 1], rcond=None)[0]
        assert abs(ours[t] - (y[t] - X[-1] @ beta)) <= 1e-9


# NIST StRD "Longley" certified values (https://www.itl.nist.gov/div898/strd/lls/data/Longley.shtml)
LONGLEY_PARAMS = [
    -3482258.63459582, 15.0618722713733, -0.358191792925910e-01, -2.02022980381683,
    -1.03322686717359, -0.511041056535807e-01, 1829.15146461355,
]
LONGLEY_BSE = [
    890420.383607373, 84.9149257747669, 0.334910077722432e-01, 0.488399681651699,
    0.214274163161675, 0.226073200069370, 455.478499142212,
]
LONGLEY_RSQUARED = 0.995479004577296


def test_nist_longley_certified_values_full_sample_window():
    data = sm.datasets.longley.load_pandas()
    frame = data.exog.copy()
    frame["TOTEMP"] = data.endog
    frame.index = pd.MultiIndex.from_arrays(
        [pd.to_datetime(frame["YEAR"].astype(int).astype(str)), ["US"] * len(frame)], names=["datetime", "instrument"]
    )
    res = quantreg.rolling_ols(frame, window=len(frame))
    last = res.params.iloc[-1].to_numpy()
    np.testing.assert_allclose(last, LONGLEY_PARAMS, rtol=1e-9)
    np.testing.assert_allclose(res.bse.iloc[-1].to_numpy(), LONGLEY_BSE, rtol=1e-9)
    np.testing.assert_allclose(res.rsquared.iloc[-1], LONGLEY_RSQUARED, rtol=1e-9)
    assert res.params.iloc[:-1].isna().all().all()


def test_rank_deficient_windows_are_nan_with_one_aggregated_warning():
    df = make_test_panel(2, 60, 2, seed=13, unbalanced=False)
    df = df.copy()
    a1 = df.index.get_level_values("instrument") == "A01"
    first_dates = df.index.get_level_values("datetime") < pd.Timestamp("2020-01-21")
    df.loc[a1 & first_dates, "x0"] = 1.5  # constant stretch of 20 rows
    df["x2"] = df["x1"]  # duplicated column...
    df.loc[df.index.get_level_values("datetime") >= pd.Timestamp("2020-02-10"), "x2"] = 0.1 * np.arange(
        int((df.index.get_level_values("datetime") >= pd.Timestamp("2020-02-10")).sum())
    )  # ... until 2020-02-10
    df = df[["x0", "x1", "x2", "y"]]
    with pytest.warns(RankDeficientWindowWarning, match=r"^\d+ of 120 windows are rank deficient") as record:
        res = quantreg.rolling_ols(df, window=10)
    assert len(record) == 1
    ref = lstsq_rolling(df, 10)
    assert_frame_close(res.params, ref[res.param_names])
    deficient = res.status == "rank_deficient"
    assert str(res.status.dtype) == "category"
    assert int(deficient.sum()) == int(record[0].message.args[0].split()[0])
    assert res.params[deficient].isna().all().all() and res.resid[deficient].isna().all()
    assert res.params[res.status == "ok"].notna().all().all()


def test_unsorted_input_is_returned_in_the_callers_order():
    df = make_test_panel(4, 30, 2, seed=14, nan_frac=0.05)
    shuffled = df.sample(frac=1.0, random_state=3)
    res = quantreg.rolling_ols(shuffled, window=6)
    assert res.params.index.equals(shuffled.index)
    assert res.resid.index.equals(shuffled.index)
    expected = quantreg.rolling_ols(df, window=6)
    assert_frame_close(res.params.loc[df.index], expected.params, rtol=0, atol=0)
    assert_frame_close(res.resid.loc[df.index], expected.resid, rtol=0, atol=0)


def test_a_grid_panel_is_written_in_walk_order_and_returned_in_the_callers():
    """A balanced panel sorted by (datetime, instrument) is laid out as a grid (its residuals
    written in walk order, then moved to the caller's rows in one transposing copy): every
    output equals the same rows' in any other order, bit for bit, HAC errors included."""
    from quantreg import engine
    from quantreg.datasets import make_panel
    from quantreg.options import fit_options
    from quantreg.panel import panel_layout

    df = make_panel(5, 40, 2, nan_frac=0.05, unbalanced=False, seed=21)
    layout = panel_layout(df)
    assert layout.grid == 5
    shuffled = df.sample(frac=1.0, random_state=4)
    assert panel_layout(shuffled).grid == 0
    pd.testing.assert_series_equal(quantreg.rolling_resid(df, window=8),
                                   quantreg.rolling_resid(shuffled, window=8).loc[df.index])
    walk_order = engine.fit(layout, fit_options(layout, window=8), full=False)
    scattered = dataclasses.replace(layout, grid=0)
    expected = engine.fit(scattered, fit_options(scattered, window=8), full=False)
    np.testing.assert_array_equal(walk_order.resid, expected.resid)
    np.testing.assert_array_equal(walk_order.status, expected.status)
    for kwargs in ({}, {"cov_type": "HAC", "cov_kwds": {"maxlags": 2}}):
        grid = quantreg.rolling_ols(df, window=8, **kwargs)
        other = quantreg.rolling_ols(shuffled, window=8, **kwargs)
        assert grid.params.index.equals(df.index)
        for name in ("params", "bse", "resid", "fitted", "nobs", "rsquared", "status"):
            got, expected = getattr(grid, name), getattr(other, name).loc[df.index]
            if isinstance(got, pd.DataFrame):
                pd.testing.assert_frame_equal(got, expected)
            else:
                pd.testing.assert_series_equal(got, expected)


def test_level_names_are_configurable_and_time_is_detected_by_dtype():
    df = make_test_panel(2, 20, 1, seed=15)
    expected = quantreg.rolling_resid(df, window=5)
    renamed = df.rename_axis(["date", "ticker"])
    assert_frame_close(quantreg.rolling_resid(renamed, window=5), expected, rtol=0, atol=0)
    swapped = df.reorder_levels(["instrument", "datetime"]).rename_axis(["asset", "t"])
    got = quantreg.rolling_resid(swapped, window=5, time_level="t", instrument_level="asset")
    assert got.index.equals(swapped.index)
    assert_frame_close(got.reorder_levels([1, 0]).rename_axis(["datetime", "instrument"]).loc[df.index], expected, rtol=0, atol=0)


def test_integer_time_level_with_default_names():
    df = make_test_panel(2, 20, 1, seed=16)
    as_int = df.copy()
    as_int.index = as_int.index.set_levels(np.arange(len(df.index.levels[0])), level="datetime")
    assert_frame_close(quantreg.rolling_resid(as_int, window=5).to_numpy(), quantreg.rolling_resid(df, window=5).to_numpy(), rtol=0, atol=0)


def test_accessor_equals_the_functions_and_never_mutates_the_frame():
    df = make_test_panel(3, 30, 2, seed=17, nan_frac=0.05)
    before = df.copy(deep=True)
    res = df.quantreg.rolling_ols(window=8, min_nobs=4)
    resid = df.quantreg.rolling_resid(window=8, min_nobs=4)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(res.params, quantreg.rolling_ols(df, window=8, min_nobs=4).params)
    pd.testing.assert_series_equal(resid, res.resid)
    assert resid.name == "residual"


def test_explicit_y_and_x_selection():
    df = make_test_panel(2, 30, 3, seed=18)
    res = quantreg.rolling_ols(df, y="x2", x=["y", "x0"], window=10)
    assert res.param_names == ["const", "y", "x0"]
    ref = lstsq_rolling(df[["y", "x0", "x2"]], 10, y="x2")
    assert_frame_close(res.params, ref[["const", "y", "x0"]])
    single = quantreg.rolling_ols(df, y="y", x="x1", window=10)
    assert single.param_names == ["const", "x1"]


def test_result_summaries():
    df = make_test_panel(2, 30, 1, seed=19)
    res = quantreg.rolling_ols(df, window=10)
    frame = res.to_frame()
    assert {"residual", "fitted", "nobs", "rsquared", "status", "const", "x0"} <= set(frame.columns)
    assert "window=10" in repr(res) and "warmup=18" in repr(res)
    ci = res.conf_int(0.1)
    lower, upper = ci[("x0", "lower")], ci[("x0", "upper")]
    ok = res.status == "ok"
    assert (lower[ok] < res.params["x0"][ok]).all() and (upper[ok] > res.params["x0"][ok]).all()
    g = df.xs("A01", level="instrument")
    fit = sm.OLS(g["y"].iloc[5:15].to_numpy(), sm.add_constant(g[["x0"]].iloc[5:15].to_numpy())).fit()
    row = res.conf_int(0.1).xs("A01", level="instrument").iloc[14].to_numpy().reshape(2, 2)
    np.testing.assert_allclose(row, fit.conf_int(0.1), rtol=1e-9)
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        res.conf_int(1.5)
    assert res.df_model == 1


def test_windows_with_no_residual_degrees_of_freedom_have_nan_standard_errors():
    df = make_test_panel(1, 12, 1, seed=20)
    res = quantreg.rolling_ols(df, window=2)
    assert res.params.iloc[1:].notna().all().all()
    assert res.bse.isna().all().all() and res.rsquared_adj.isna().all()
    assert (res.resid.iloc[1:].abs() < 1e-9).all()  # two points, two parameters: an exact fit
