"""Calendar windows (``window="90D"``): the rows of pandas' ``Series.rolling("90D")``.

References: pandas ``rolling(window).count()`` for the rows selected, ``numpy.linalg.lstsq`` and
statsmodels ``WLS`` on exactly those rows for the fits, and the row-count window where both
select the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from references import statsmodels_window

import quantreg
from quantreg.exceptions import PanelError


def irregular_panel(n_assets: int = 4, n_rows: int = 150, freq: str = "D", step_max: int = 4, seed: int = 0,
                    nan_frac: float = 0.05) -> pd.DataFrame:
    """Each asset on its own irregular time stamps (random gaps of 1…step_max ``freq``)."""
    rng = np.random.default_rng(seed)
    frames = []
    for a in range(n_assets):
        steps = rng.integers(1, step_max + 1, size=n_rows)
        times = pd.Timestamp("2022-01-03 09:30") + pd.to_timedelta(np.cumsum(steps), unit=freq)
        x = rng.normal(size=(n_rows, 2))
        y = 0.5 + x @ np.array([1.0, -2.0]) + rng.normal(scale=0.3, size=n_rows)
        y[rng.random(n_rows) < nan_frac] = np.nan
        frames.append(pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": y,
                                    "datetime": times, "instrument": f"S{a}"}))
    return pd.concat(frames).set_index(["datetime", "instrument"]).sort_index()


def window_rows(df: pd.DataFrame, inst: str, end: pd.Timestamp, span: str) -> pd.DataFrame:
    asset = df.xs(inst, level="instrument")
    return asset[(asset.index > end - pd.Timedelta(span)) & (asset.index <= end)]


@pytest.mark.parametrize("freq,span", [("D", "20D"), ("min", "45min"), ("h", "12h")])
def test_nobs_equal_pandas_rolling_count(freq, span):
    df = irregular_panel(freq=freq, seed=1)
    res = quantreg.rolling_ols(df, window=span)
    for inst, asset in df.groupby(level="instrument"):
        expected = asset["y"].droplevel("instrument").rolling(span).count()
        got = res.nobs.xs(inst, level="instrument")
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy().astype(int))


@pytest.mark.parametrize("freq,span", [("D", "20D"), ("min", "45min")])
def test_params_equal_lstsq_on_exactly_those_rows(freq, span):
    df = irregular_panel(freq=freq, seed=2)
    res = quantreg.rolling_ols(df, window=span, min_nobs=4)
    checked = 0
    for (end, inst) in df.index[::7]:
        rows = window_rows(df, inst, end, span).dropna()
        got = res.params.loc[(end, inst)].to_numpy()
        if len(rows) < 4:
            assert np.isnan(got).all()
            continue
        X = np.column_stack([np.ones(len(rows)), rows[["x0", "x1"]].to_numpy()])
        beta = np.linalg.lstsq(X, rows["y"].to_numpy(), rcond=None)[0]
        np.testing.assert_allclose(got, beta, rtol=0, atol=1e-10)
        assert res.nobs.loc[(end, inst)] == len(rows)
        checked += 1
    assert checked > 50


def test_halflife_ages_in_time_equal_wls():
    df = irregular_panel(freq="D", seed=3, nan_frac=0.0)
    res = quantreg.rolling_ols(df, window="30D", halflife="7D")
    for (end, inst) in df.index[40::23]:
        rows = window_rows(df, inst, end, "30D")
        age_days = (end - rows.index).days.to_numpy()
        weights = 0.5 ** (age_days / 7.0)
        X = np.column_stack([np.ones(len(rows)), rows[["x0", "x1"]].to_numpy()])
        fit = statsmodels_window(X, rows["y"].to_numpy(), weights)
        np.testing.assert_allclose(res.params.loc[(end, inst)], fit.params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(res.bse.loc[(end, inst)], fit.bse, rtol=1e-9)
        np.testing.assert_allclose(res.llf.loc[(end, inst)], fit.llf, rtol=1e-9)


def test_out_of_sample_uses_the_previous_rows_window():
    df = irregular_panel(freq="D", seed=4)
    res = quantreg.rolling_ols(df, window="25D")
    oos = quantreg.rolling_ols(df, window="25D", residual="out_of_sample")
    for inst, asset in df.groupby(level="instrument"):
        params = res.params.xs(inst, level="instrument").shift(1)
        x = asset.droplevel("instrument")
        fit = params["const"] + params["x0"] * x["x0"] + params["x1"] * x["x1"]
        np.testing.assert_allclose(oos.resid.xs(inst, level="instrument"), x["y"] - fit, atol=1e-10)


def test_equal_to_row_windows_when_they_select_the_same_rows():
    rng = np.random.default_rng(5)
    dates = pd.date_range("2023-01-01", periods=120, freq="D")  # one row every day: 10D == 10 rows
    idx = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["datetime", "instrument"])
    df = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["x0", "x1", "y"])
    df.iloc[::17, 2] = np.nan
    by_time = quantreg.rolling_ols(df, window="10D", halflife="4D")
    by_rows = quantreg.rolling_ols(df, window=10, expanding=True, halflife=4)
    np.testing.assert_allclose(by_time.resid, by_rows.resid, rtol=0, atol=1e-12)
    np.testing.assert_allclose(by_time.params, by_rows.params, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(by_time.nobs, by_rows.nobs)
    assert by_time.status.equals(by_rows.status)
    resid = quantreg.rolling_resid(df, window=pd.Timedelta(days=10), halflife=pd.Timedelta(days=4))
    np.testing.assert_allclose(resid, by_rows.resid, rtol=0, atol=1e-12)


def test_robust_covariances_over_calendar_windows():
    df = irregular_panel(freq="D", seed=6, nan_frac=0.0)
    res = quantreg.rolling_ols(df, window="40D", cov_type="HAC", cov_kwds={"maxlags": 2})
    end, inst = df.index[-1]
    rows = window_rows(df, inst, end, "40D")
    X = np.column_stack([np.ones(len(rows)), rows[["x0", "x1"]].to_numpy()])
    import statsmodels.api as sm

    fit = sm.OLS(rows["y"].to_numpy(), X).fit(cov_type="HAC", cov_kwds={"maxlags": 2})
    np.testing.assert_allclose(res.bse.loc[(end, inst)], fit.bse, rtol=1e-9)


def test_rank_and_condition_follow_calendar_windows():
    df = irregular_panel(freq="D", seed=7)
    res = quantreg.rolling_ols(df, window="15D")
    end, inst = df.index[-5]
    rows = window_rows(df, inst, end, "15D").dropna()
    X = rows[["x0", "x1"]].to_numpy()
    corr = np.corrcoef(X, rowvar=False)
    eig = np.linalg.eigvalsh(corr)
    np.testing.assert_allclose(res.condition.loc[(end, inst)], np.sqrt(eig.max() / eig.min()), rtol=1e-8)
    assert res.rank.loc[(end, inst)] == 3


def test_bad_calendar_windows():
    df = irregular_panel()
    for offset in ("1M", "BME", "1W"):
        with pytest.raises(ValueError, match=rf"window='{offset}' is not a fixed time length.*'90D'"):
            quantreg.rolling_ols(df, window=offset)
    with pytest.raises(ValueError, match="not a fixed time length"):
        quantreg.rolling_ols(df, window="ninety days")
    with pytest.raises(ValueError, match="must be a positive length of time"):
        quantreg.rolling_ols(df, window="-5D")
    with pytest.raises(ValueError, match="half-life is a length of time"):
        quantreg.rolling_ols(df, window="30D", halflife=5)
    with pytest.raises(ValueError, match="a length of time only with a calendar window"):
        quantreg.rolling_ols(df, window=30, halflife="5D")
    with pytest.raises(ValueError, match="expanding=True does not combine with a calendar window"):
        quantreg.rolling_ols(df, window="30D", expanding=True)
    periods = df.copy()
    periods.index = periods.index.set_levels(range(len(periods.index.levels[0])), level="datetime")
    with pytest.raises(PanelError, match="calendar window needs a datetime time level.*number of rows"):
        quantreg.rolling_ols(periods, window="30D", time_level="datetime")
    with pytest.raises(ValueError, match="rolling_select takes a window in rows"):
        from quantreg.selection import Lasso

        quantreg.rolling_select(df, Lasso(alpha=0.1), window="30D")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), span_days=st.integers(2, 30), step_max=st.integers(1, 6))
def test_property_nobs_match_pandas(seed, span_days, step_max):
    df = irregular_panel(n_assets=2, n_rows=40, step_max=step_max, seed=seed, nan_frac=0.1)
    span = f"{span_days}D"
    res = quantreg.rolling_ols(df, window=span, add_constant=False, min_nobs=2)
    for inst, asset in df.groupby(level="instrument"):
        expected = asset.dropna()["y"].reindex(asset.index).droplevel("instrument").rolling(span).count()
        np.testing.assert_array_equal(res.nobs.xs(inst, level="instrument").to_numpy(), expected.to_numpy().astype(int))
