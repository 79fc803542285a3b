"""``rolling_ols(returns, factors=F)``: shared factor tables and wide return frames.

References: ``rolling_ols`` on the panel with ``F`` broadcast onto it (the documented
equivalence, ≤ 1e-10 on residuals), and ``numpy.linalg.lstsq`` on single windows (independent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quantreg
from quantreg.exceptions import NonNumericError, PanelError

TOL = 1e-10


def make_factor_data(n_dates: int = 160, n_assets: int = 7, k: int = 3, seed: int = 0):
    """Factors on business days; returns with late listings, a delisting, gaps and NaNs."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n_dates)
    F = pd.DataFrame(rng.normal(scale=0.01, size=(n_dates, k)), index=dates,
                     columns=[f"f{j}" for j in range(k)])
    betas = rng.normal(size=(k, n_assets))
    values = 0.001 + F.to_numpy() @ betas + rng.normal(scale=0.02, size=(n_dates, n_assets))
    Y = pd.DataFrame(values, index=dates, columns=[f"A{j}" for j in range(n_assets)])
    Y.iloc[: n_dates // 5, 1] = np.nan  # listed late
    Y.iloc[3 * n_dates // 4:, 2] = np.nan  # delisted
    Y.iloc[n_dates // 3: n_dates // 3 + 4, 3 % n_assets] = np.nan  # a gap: no rows
    Y.iloc[:, -1] = Y.iloc[:, -1].where(rng.random(n_dates) > 0.1)  # scattered missing days
    long = Y.stack().dropna().rename("ret")
    long.index.names = ["datetime", "instrument"]
    long.iloc[rng.choice(len(long), 12, replace=False)] = np.nan  # rows with a missing return
    return F, Y, long


@pytest.fixture(scope="module")
def data():
    return make_factor_data()


def broadcast(long: pd.Series, F: pd.DataFrame) -> pd.DataFrame:
    """What users do today: the factor table joined onto every row of the panel."""
    return long.to_frame().join(F, on="datetime")


OPTIONS = [
    dict(window=30),
    dict(window=30, expanding=True),
    dict(window=30, missing="skip"),
    dict(window=30, min_nobs=20),
    dict(window=30, halflife=12),
    dict(window=30, residual="out_of_sample"),
    dict(window=30, add_constant=False),
    dict(window=None, expanding=True),
    dict(window="45D"),
    dict(window="45D", halflife="10D", residual="out_of_sample"),
    dict(window=30, cov_type="HC1"),
    dict(window="45D", cov_type="HAC", cov_kwds={"maxlags": 3}),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_factors_equal_the_broadcast_panel(data, options):
    F, _, long = data
    got = quantreg.rolling_ols(long, factors=F, **options)
    ref = quantreg.rolling_ols(broadcast(long, F), y="ret", x=list(F.columns), **options)
    pd.testing.assert_index_equal(got.resid.index, long.index)
    np.testing.assert_allclose(got.resid, ref.resid, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.fitted, ref.fitted, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.params, ref.params, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.bse, ref.bse, rtol=1e-8, atol=TOL)
    np.testing.assert_allclose(got.rsquared, ref.rsquared, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.llf, ref.llf, rtol=1e-9)
    np.testing.assert_array_equal(got.nobs, ref.nobs)
    assert got.status.equals(ref.status)
    assert got.params.columns.tolist() == ref.params.columns.tolist()
    assert np.isfinite(got.resid).sum() > len(long) // 2  # not a vacuous comparison
    resid = quantreg.rolling_resid(long, factors=F, **{k: v for k, v in options.items() if not k.startswith("cov")})
    np.testing.assert_allclose(resid, ref.resid, rtol=0, atol=TOL)


def test_params_equal_lstsq_on_the_window(data):
    F, _, long = data
    res = quantreg.rolling_ols(long, factors=F, window=30)
    asset = long.xs("A3", level="instrument")
    rows = asset.index
    for end in (29, 70, len(rows) - 1):
        window_dates = rows[end - 29:end + 1]
        y = asset.loc[window_dates].to_numpy()
        keep = ~np.isnan(y)
        X = np.column_stack([np.ones(30), F.loc[window_dates].to_numpy()])
        beta = np.linalg.lstsq(X[keep], y[keep], rcond=None)[0]
        np.testing.assert_allclose(res.params.loc[(rows[end], "A3")], beta, rtol=0, atol=1e-10)


def test_row_order_of_returns_and_factors_does_not_matter(data):
    F, _, long = data
    rng = np.random.default_rng(3)
    shuffled = long.iloc[rng.permutation(len(long))]
    F_shuffled = F.iloc[rng.permutation(len(F))]
    got = quantreg.rolling_resid(shuffled, factors=F_shuffled, window=30)
    ref = quantreg.rolling_resid(long, factors=F, window=30)
    pd.testing.assert_index_equal(got.index, shuffled.index)
    np.testing.assert_allclose(got, ref.reindex(shuffled.index), rtol=0, atol=TOL)


def test_one_column_frame_and_extra_factor_dates(data):
    F, _, long = data
    extra = pd.DataFrame(0.0, index=pd.bdate_range("2020-06-01", periods=10), columns=F.columns)
    longer_F = pd.concat([extra, F])  # factor dates without returns are ignored
    got = quantreg.rolling_ols(long.to_frame(), factors=longer_F, window=30)
    ref = quantreg.rolling_ols(long, factors=F, window=30)
    np.testing.assert_allclose(got.resid, ref.resid, rtol=0, atol=TOL)


def test_absent_factor_dates(data):
    F, _, long = data
    holes = F.drop(F.index[[50, 51, 90]])
    with pytest.raises(PanelError, match=r"3 date\(s\) of the returns are not in the factor table, first \['2021-03-15.*missing='drop'"):
        quantreg.rolling_ols(long, factors=holes, window=30)
    with pytest.raises(PanelError, match="not in the factor table"):
        quantreg.rolling_resid(long, factors=holes, window=30, missing="skip")
    got = quantreg.rolling_ols(long, factors=holes, window=30, missing="drop")
    ref = quantreg.rolling_ols(broadcast(long, holes), y="ret", x=list(F.columns), window=30)
    np.testing.assert_allclose(got.resid, ref.resid, rtol=0, atol=TOL)
    np.testing.assert_array_equal(got.nobs, ref.nobs)
    day = F.index[50]
    assert got.status.xs(day, level="datetime").isin(["missing", "warmup"]).all()
    assert got.resid.xs(day, level="datetime").isna().all()


def test_missing_factor_values(data):
    F, _, long = data
    gappy = F.copy()
    gappy.iloc[[10, 80], 1] = np.nan
    got = quantreg.rolling_ols(long, factors=gappy, window=30)
    ref = quantreg.rolling_ols(broadcast(long, gappy), y="ret", x=list(F.columns), window=30)
    np.testing.assert_allclose(got.resid, ref.resid, rtol=0, atol=TOL)
    np.testing.assert_array_equal(got.nobs, ref.nobs)


def test_wide_equals_long(data):
    F, Y, _ = data
    wide = quantreg.rolling_ols(Y, factors=F, window=30)
    long = Y.stack().dropna().rename("ret")
    long.index.names = ["datetime", "instrument"]
    ref = quantreg.rolling_ols(long, factors=F, window=30)
    for name in ("resid", "fitted", "nobs", "rsquared"):
        frame = getattr(wide, name)
        assert isinstance(frame, pd.DataFrame) and frame.shape == Y.shape, name
        pd.testing.assert_index_equal(frame.index, Y.index)
        pd.testing.assert_index_equal(frame.columns, Y.columns)
        assert frame.isna().to_numpy()[Y.isna().to_numpy()].all(), name  # no row, no value
        stacked = frame.stack().reindex(ref.resid.index)
        np.testing.assert_allclose(stacked, getattr(ref, name), rtol=0, atol=TOL, err_msg=name)
    pd.testing.assert_index_equal(wide.params.index, ref.params.index)
    np.testing.assert_allclose(wide.params, ref.params, rtol=0, atol=TOL)
    assert (wide.status.stack().reindex(ref.status.index).astype(str) == ref.status.astype(str)).all()
    accessor = Y.quantreg.rolling_resid(factors=F, window=30)
    pd.testing.assert_frame_equal(accessor, wide.resid, check_names=False)
    robust = quantreg.rolling_ols(Y, factors=F, window=30, cov_type="HC0")
    ref_robust = quantreg.rolling_ols(long, factors=F, window=30, cov_type="HC0")
    np.testing.assert_allclose(robust.bse, ref_robust.bse, rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(robust.resid.stack().reindex(ref.resid.index), ref_robust.resid, atol=TOL)


def test_wide_in_any_row_order_and_calendar_windows(data):
    F, Y, _ = data
    shuffled = Y.iloc[np.random.default_rng(5).permutation(len(Y))]
    got = quantreg.rolling_resid(shuffled, factors=F, window="40D")
    ref = quantreg.rolling_resid(Y, factors=F, window="40D")
    pd.testing.assert_frame_equal(got, ref.loc[shuffled.index])


def test_series_accessor_and_result_extras(data):
    F, _, long = data
    res = long.quantreg.rolling_ols(factors=F, window=30)
    ref = quantreg.rolling_ols(broadcast(long, F), y="ret", window=30)
    pd.testing.assert_series_equal(res.rank, ref.rank)
    np.testing.assert_allclose(res.condition, ref.condition, rtol=1e-6)
    assert "window=30" in repr(res)
    frame = res.to_frame()
    assert list(frame.columns[:5]) == ["residual", "fitted", "nobs", "rsquared", "status"]


def test_bad_factor_tables(data):
    F, Y, long = data
    with pytest.raises(PanelError, match="duplicated dates"):
        quantreg.rolling_ols(long, factors=pd.concat([F, F.iloc[:2]]), window=30)
    with pytest.raises(PanelError, match="must be indexed by datetime"):
        quantreg.rolling_ols(long, factors=F.reset_index(drop=True), window=30)
    with pytest.raises(NonNumericError, match="non-numeric"):
        quantreg.rolling_ols(long, factors=F.assign(f1="x"), window=30)
    with pytest.raises(PanelError, match="infinite"):
        quantreg.rolling_ols(long, factors=F.replace(F.iloc[3, 0], np.inf), window=30)
    with pytest.raises(ValueError, match="x= and factors= are exclusive"):
        quantreg.rolling_ols(long.to_frame(), x=["ret"], factors=F, window=30)
    with pytest.raises(PanelError, match="tz-naive"):
        quantreg.rolling_ols(long, factors=F.tz_localize("UTC"), window=30)
    with pytest.raises(ValueError, match=r"window \(3\) is smaller than the number of regressors \(4"):
        quantreg.rolling_ols(long, factors=F, window=3)


def test_bad_returns(data):
    F, Y, long = data
    with pytest.raises(NonNumericError, match=r"non-numeric column\(s\) \['name'\]"):
        quantreg.rolling_ols(Y.assign(name="x"), factors=F, window=30)
    with pytest.raises(PanelError, match="needs a datetime index"):
        quantreg.rolling_ols(Y.reset_index(drop=True), factors=F, window=30)
    with pytest.raises(PanelError, match="duplicated dates"):
        quantreg.rolling_ols(pd.concat([Y, Y.iloc[:1]]), factors=F, window=30)
    with pytest.raises(PanelError, match="pass y= to choose it"):
        quantreg.rolling_ols(long.to_frame().assign(other=1.0), factors=F, window=30)
    periods = long.copy()
    periods.index = periods.index.set_levels(range(len(periods.index.levels[0])), level="datetime")
    with pytest.raises(PanelError, match="matched to the returns by datetime"):
        quantreg.rolling_ols(periods, factors=F, window=30)
    with pytest.raises(PanelError, match="duplicated"):
        quantreg.rolling_ols(pd.concat([long, long.iloc[:1]]), factors=F, window=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    window=st.integers(4, 25),
    n_dates=st.integers(20, 70),
    halflife=st.sampled_from([None, 5.0]),
    expanding=st.booleans(),
)
def test_property_factors_equal_broadcast(seed, window, n_dates, halflife, expanding):
    F, _, long = make_factor_data(n_dates=n_dates, n_assets=4, k=2, seed=seed)
    got = quantreg.rolling_ols(long, factors=F, window=window, halflife=halflife, expanding=expanding)
    ref = quantreg.rolling_ols(broadcast(long, F), y="ret", window=window, halflife=halflife, expanding=expanding)
    np.testing.assert_allclose(got.resid, ref.resid, rtol=0, atol=TOL)
    np.testing.assert_array_equal(got.status.to_numpy(), ref.status.to_numpy())


def test_missing_raise_covers_the_factor_table():
    from quantreg.exceptions import MissingValueError

    factors, wide, _ = make_factor_data(n_dates=60, n_assets=3, k=2, seed=41)
    factors.iloc[7, 1] = np.nan
    wide = wide.fillna(0.0)
    returns = wide.stack().rename("ret").rename_axis(["datetime", "instrument"])
    with pytest.raises(MissingValueError, match=r"the factor table holds missing values on 1 date\(s\).*column 'f1'.*missing='raise'"):
        quantreg.rolling_resid(returns, factors=factors, window=10, missing="raise")
    with pytest.raises(MissingValueError, match=r"factor table holds missing values"):
        quantreg.rolling_ols(wide, factors=factors, window=10, missing="raise")
    quantreg.rolling_resid(returns, factors=factors, window=10)  # drop (the default): fine
