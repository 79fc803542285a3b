"""Tests of quantreg.asset_pricing: fama_macbeth and two_pass.

References:
- linearmodels ``FamaMacBeth(dependent, exog).fit(cov_type=..., bandwidth=..., kernel=...)``
  (an independent implementation: per-period ``scipy.linalg.lstsq``, pandas groupby) —
  params, std errors, p-values, confidence intervals and per-period estimates to 1e-8 relative;
- per-window ``numpy.linalg.lstsq`` for the first-pass betas of ``two_pass`` (1e-8 relative);
- ``two_pass`` equals composing ``rolling_ols``, a per-asset ``groupby(...).shift(1)`` and
  ``fama_macbeth`` by hand (exactly).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linearmodels import FamaMacBeth
from numpy.testing import assert_allclose

import quantreg
from quantreg.asset_pricing import (
    FamaMacBethResult,
    TwoPassResult,
    automatic_bandwidth,
    fama_macbeth,
    kernel_weights,
    two_pass,
)
from quantreg.exceptions import (
    MissingColumnError,
    PanelError,
    ParameterError,
    SkippedPeriodWarning,
)

RTOL = 1e-8  # relative agreement with linearmodels (observed ~1e-14)


# --------------------------------------------------------------------------- helpers
def make_panel(n_dates=40, n_assets=12, k=2, *, nan_frac=0.0, seed=0, ar=0.0):
    """(datetime, instrument) panel, regressors x1..xk then y; AR(1) premia when ar > 0."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2001-01-31", periods=n_dates, freq="ME")
    names = [f"A{i:02d}" for i in range(n_assets)]
    idx = pd.MultiIndex.from_product([dates, names], names=["datetime", "instrument"])
    n = n_dates * n_assets
    x = rng.standard_normal((n, k)) + 1.0
    shocks = rng.standard_normal((n_dates, k))
    premia = np.empty_like(shocks)
    premia[0] = shocks[0]
    for t in range(1, n_dates):
        premia[t] = ar * premia[t - 1] + shocks[t]
    y = 0.2 + np.sum(x * np.repeat(premia, n_assets, axis=0), axis=1) + rng.standard_normal(n)
    df = pd.DataFrame(x, index=idx, columns=[f"x{j + 1}" for j in range(k)])
    df["y"] = y
    if nan_frac:
        mask = rng.random(df.shape) < nan_frac
        df = df.mask(mask)
    return df


def lm_fit(df, y="y", x=None, add_constant=True, **fit_kwargs):
    """linearmodels FamaMacBeth on the same panel ((entity, time) index, explicit constant)."""
    x = [c for c in df.columns if c != y] if x is None else list(x)
    panel = df.swaplevel().sort_index()
    exog = panel[x].copy()
    if add_constant:
        exog.insert(0, "const", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its missing-value / rank notices
        return FamaMacBeth(panel[y], exog).fit(**fit_kwargs)


def assert_matches_linearmodels(res: FamaMacBethResult, ref) -> None:
    assert list(res.params.index) == list(ref.params.index)
    assert_allclose(res.params, ref.params, rtol=RTOL, atol=0)
    assert_allclose(res.bse, ref.std_errors, rtol=RTOL, atol=0)
    assert_allclose(res.tvalues, ref.tstats, rtol=RTOL, atol=0)
    assert_allclose(res.pvalues, ref.pvalues, rtol=RTOL, atol=1e-300)
    assert_allclose(res.cov_params, ref.cov, rtol=RTOL, atol=1e-300)
    assert_allclose(res.conf_int(), ref.conf_int(), rtol=RTOL, atol=0)
    assert res.df_resid == ref.df_resid
    assert res.params_by_period.index.equals(ref.all_params.index)
    assert_allclose(res.params_by_period, ref.all_params, rtol=RTOL, atol=1e-14)
    assert_allclose(res.avg_rsquared, ref.avg_rsquared, rtol=RTOL)


# --------------------------------------------------------------------------- vs linearmodels
@pytest.mark.parametrize("nan_frac", [0.0, 0.05])
def test_unadjusted_matches_linearmodels(nan_frac):
    df = make_panel(nan_frac=nan_frac, seed=1)
    res = fama_macbeth(df)
    assert_matches_linearmodels(res, lm_fit(df))
    assert res.cov_type == "unadjusted" and res.bandwidth is None and res.kernel is None


@pytest.mark.parametrize(
    "kernel, bandwidth",
    [
        ("bartlett", 0),
        ("bartlett", 1),
        ("bartlett", 4),
        ("bartlett", 2.7),  # integer part used
        ("bartlett", None),  # automatic (Newey-West 1994)
        ("newey-west", 3),
        ("parzen", 5),
        ("parzen", None),
        ("qs", 2.5),  # not truncated: real-valued bandwidth
        ("quadratic-spectral", None),
        ("Andrews", 0),
    ],
)
def test_kernel_matches_linearmodels(kernel, bandwidth):
    df = make_panel(nan_frac=0.05, seed=2, ar=0.5)
    res = fama_macbeth(df, cov_type="kernel", kernel=kernel, bandwidth=bandwidth)
    ref = lm_fit(df, cov_type="kernel", kernel=kernel, bandwidth=bandwidth)
    assert_matches_linearmodels(res, ref)
    assert res.bandwidth is not None and res.bandwidth >= 0
    if bandwidth is None:
        assert res.bandwidth == float(int(res.bandwidth)) >= 1


def test_no_constant_and_single_regressor_match_linearmodels():
    df = make_panel(nan_frac=0.03, seed=3)
    res = fama_macbeth(df, add_constant=False, cov_type="kernel", bandwidth=2)
    assert list(res.params.index) == ["x1", "x2"]
    assert_matches_linearmodels(res, lm_fit(df, add_constant=False, cov_type="kernel", bandwidth=2))
    res1 = fama_macbeth(df, y="y", x="x2")
    assert_matches_linearmodels(res1, lm_fit(df, x=["x2"]))


def test_price_level_regressors_match_centred_lstsq():
    """Regressors at level 1e6 with unit spread: per-period slopes equal lstsq on centred data."""
    df = make_panel(n_dates=6, n_assets=50, seed=4)
    df["x1"] += 1e6
    res = fama_macbeth(df)
    for date, part in df.groupby(level="datetime"):
        xc = part[["x1", "x2"]].to_numpy() - part[["x1", "x2"]].to_numpy().mean(0)
        yc = part["y"].to_numpy() - part["y"].mean()
        slopes = np.linalg.lstsq(xc, yc, rcond=None)[0]
        assert_allclose(res.params_by_period.loc[date, ["x1", "x2"]], slopes, rtol=1e-9)


# --------------------------------------------------------------------------- skipped periods
def skipped_panel():
    df = make_panel(n_dates=12, n_assets=6, seed=5)
    dates = df.index.levels[0]
    in_date = lambda i: df.index.get_level_values("datetime") == dates[i]
    rows = np.flatnonzero(in_date(2))
    df.iloc[rows[2:], df.columns.get_loc("y")] = np.nan  # 2 complete rows for 3 coefficients
    df.loc[in_date(5), "x2"] = 0.7  # constant across assets: collinear with the intercept
    df.loc[in_date(8), "x1"] = np.nan  # no complete row at all
    return df, dates


def test_skipped_periods_warn_once_and_match_linearmodels():
    df, dates = skipped_panel()
    msg = (
        "2 of 11 periods were skipped: 1 with fewer complete rows than the 3 coefficients, "
        "1 with collinear regressors"
    )
    with pytest.warns(SkippedPeriodWarning, match=re.escape(msg)) as record:
        res = fama_macbeth(df, cov_type="kernel", bandwidth=2)
    assert len(record) == 1
    assert res.nperiods == 9
    status = res.status_by_period
    assert status[dates[2]] == "too_few" and status[dates[5]] == "rank_deficient"
    assert dates[8] not in res.params_by_period.index  # no complete row: absent, as in linearmodels
    assert res.params_by_period.loc[dates[[2, 5]]].isna().all().all()
    assert res.nobs_by_period[dates[2]] == 2 and res.nobs_by_period[dates[0]] == 6
    assert_matches_linearmodels(res, lm_fit(df, cov_type="kernel", bandwidth=2))


def test_no_estimable_period_is_an_error():
    df = make_panel(n_dates=5, n_assets=6, seed=6)
    df["x2"] = np.repeat(np.arange(5.0), 6)  # depends on the date only
    with pytest.raises(PanelError, match="no cross-section can be estimated"):
        fama_macbeth(df)


def test_too_few_periods_for_automatic_bandwidth():
    df = make_panel(n_dates=3, n_assets=6, seed=7)
    with pytest.raises(ParameterError, match=r"automatic bandwidth of the 'bartlett' kernel needs at least 4"):
        fama_macbeth(df, cov_type="kernel")
    with pytest.raises(ParameterError, match=r"'qs' kernel needs at least 6"):
        fama_macbeth(make_panel(n_dates=5, n_assets=6), cov_type="kernel", kernel="qs")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(cov_type="HAC"), ParameterError, r"'cov_type' parameter of fama_macbeth must be one of \['unadjusted', 'kernel'\] \(Newey-West errors: cov_type='kernel'\)\. Got 'HAC' instead"),
        (dict(cov_type="kernel", kernel="triangle"), ParameterError, r"'kernel' parameter of fama_macbeth must be one of .*Got 'triangle'"),
        (dict(kernel=None), ParameterError, r"'kernel' parameter .* Got None"),
        (dict(cov_type="kernel", bandwidth=-1), ParameterError, r"'bandwidth' parameter of fama_macbeth must be a number in the range \[0, number of periods\).*Got -1"),
        (dict(cov_type="kernel", bandwidth="3"), ParameterError, r"Got '3' instead"),
        (dict(cov_type="kernel", bandwidth=True), ParameterError, r"Got True instead"),
        (dict(cov_type="kernel", bandwidth=np.inf), ParameterError, r"Got inf instead"),
        (dict(bandwidth=3), ParameterError, r"only used with cov_type='kernel'"),
        (dict(cov_type="kernel", bandwidth=20), ParameterError, r"must be below the number of estimated periods, 20 .*Got 20 instead"),
        (dict(cov_type="kernel", bandwidth=25.5), ParameterError, r"below the number of estimated periods, 20 .*Got 25.5"),
        (dict(y="ret"), MissingColumnError, r"column\(s\) \['ret'\] not found"),
        (dict(x=[], add_constant=False), PanelError, "there are no regressors"),
    ],
)
def test_fama_macbeth_bad_input(kwargs, error, match):
    df = make_panel(n_dates=20, n_assets=5, seed=8)
    with pytest.raises(error, match=match):
        fama_macbeth(df, **kwargs)


def test_fama_macbeth_bad_frames():
    df = make_panel(n_dates=4, n_assets=5)
    with pytest.raises(PanelError, match="expected a pandas DataFrame"):
        fama_macbeth(df["y"])
    with pytest.raises(PanelError, match="the frame is empty"):
        fama_macbeth(df.iloc[:0])
    dup = pd.concat([df, df.iloc[:1]])
    with pytest.raises(PanelError, match="duplicated"):
        fama_macbeth(dup)
    with pytest.raises(ParameterError, match=r"'alpha' parameter of conf_int"):
        fama_macbeth(df).conf_int(alpha=1.5)


# --------------------------------------------------------------------------- result API
def test_result_api_and_summary():
    df = make_panel(n_dates=15, n_assets=8, seed=9, nan_frac=0.02)
    res = fama_macbeth(df, cov_type="kernel", bandwidth=3)
    table = res.summary()
    assert list(table.columns) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    assert_allclose(table["coef"], res.params)
    assert_allclose(table["[0.025"], res.conf_int()["lower"])
    text = str(res)
    assert "Fama-MacBeth regression of 'y'" in text and "bandwidth 3" in text and "t(14)" in text
    assert repr(res).startswith("<FamaMacBethResult 'y'")
    counts = df.dropna().groupby(level="datetime").size()
    assert (res.nobs_by_period == counts).all()
    assert res.nobs == counts.sum()
    assert list(res.status_by_period.cat.categories) == ["ok", "empty", "too_few", "rank_deficient"]
    # the ones a user would check by hand
    est = res.params_by_period
    assert_allclose(res.params, est.mean(), rtol=1e-12)
    narrow = fama_macbeth(df)
    assert_allclose(narrow.bse, est.std(ddof=1) / np.sqrt(len(est)), rtol=1e-12)
    assert_allclose(res.conf_int(0.10)["upper"] - res.params, res.params - res.conf_int(0.10)["lower"])


def test_level_names_and_row_layout():
    df = make_panel(n_dates=10, n_assets=7, seed=10, nan_frac=0.05)
    ref = fama_macbeth(df, cov_type="kernel", bandwidth=2)
    other = df.swaplevel().sort_index()  # (instrument, datetime) order and level order
    other.index = other.index.set_names(["asset", "date"])
    res = fama_macbeth(other, cov_type="kernel", bandwidth=2, time_level="date", instrument_level="asset")
    assert_allclose(res.params, ref.params, rtol=1e-13)
    assert_allclose(res.bse, ref.bse, rtol=1e-13)
    assert res.params_by_period.index.name == "date"


def test_kernel_weights_and_bandwidth_helpers():
    assert_allclose(kernel_weights("bartlett", 3.9, 10), [1, 0.75, 0.5, 0.25])
    assert_allclose(kernel_weights("parzen", 1, 10), [1.0, 0.25])  # z = 1/2: 1 - 6/4 + 6/8
    w = kernel_weights("qs", 2.0, 5)
    assert w.shape == (5,) and w[0] == 1.0 and np.all(np.abs(w[1:]) < 1)
    assert_allclose(kernel_weights("qs", 0.0, 5), 0.0)
    with pytest.raises(ParameterError, match="some coefficient does not vary"):
        automatic_bandwidth(np.zeros((10, 2)), "bartlett")


# --------------------------------------------------------------------------- properties
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_row_order_does_not_matter(seed, data):
    df = make_panel(n_dates=8, n_assets=5, seed=seed, nan_frac=0.05)
    perm = data.draw(st.permutations(range(len(df))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedPeriodWarning)  # a date may lose too many rows
        ref = fama_macbeth(df, cov_type="kernel", bandwidth=2)
        res = fama_macbeth(df.iloc[list(perm)], cov_type="kernel", bandwidth=2)
    pd.testing.assert_series_equal(res.status_by_period, ref.status_by_period)
    pd.testing.assert_frame_equal(res.params_by_period, ref.params_by_period, rtol=1e-13)
    assert_allclose(res.bse, ref.bse, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3), shift=st.floats(-1e3, 1e3))
def test_affine_equivariance_in_y(seed, scale, shift):
    """y → a·y + b: slopes and their errors scale by a; the intercept becomes a·c + b."""
    df = make_panel(n_dates=8, n_assets=6, seed=seed)
    ref = fama_macbeth(df)
    res = fama_macbeth(df.assign(y=scale * df["y"] + shift))
    assert_allclose(res.params[["x1", "x2"]], scale * ref.params[["x1", "x2"]], rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(res.bse, scale * ref.bse, rtol=1e-7)
    assert_allclose(res.params["const"], scale * ref.params["const"] + shift, rtol=1e-7, atol=1e-9 * (scale + abs(shift)))


# --------------------------------------------------------------------------- two_pass
def factor_panel(n_dates=48, n_assets=10, seed=11, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2000-01-31", periods=n_dates, freq="ME")
    names = [f"P{i:02d}" for i in range(n_assets)]
    idx = pd.MultiIndex.from_product([dates, names], names=["datetime", "instrument"])
    f = rng.normal(0.005, 0.04, (n_dates, 2))
    beta = rng.normal(1.0, 0.4, (n_assets, 2))
    ret = f @ beta.T + rng.normal(0, 0.02, (n_dates, n_assets))
    df = pd.DataFrame(
        {"mkt": np.repeat(f[:, 0], n_assets), "hml": np.repeat(f[:, 1], n_assets), "ret": ret.ravel()},
        index=idx,
    )
    if nan_frac:
        df.loc[rng.random(len(df)) < nan_frac, "ret"] = np.nan
    return df


@pytest.mark.parametrize("cov", [dict(), dict(cov_type="kernel", bandwidth=3, kernel="parzen")])
def test_two_pass_equals_composition_by_hand(cov):
    df = factor_panel(nan_frac=0.03)
    res = two_pass(df, y="ret", factors=["mkt", "hml"], window=12, **cov)
    assert isinstance(res, TwoPassResult)
    first = quantreg.rolling_ols(df, y="ret", x=["mkt", "hml"], window=12)
    pd.testing.assert_frame_equal(res.first_pass.params, first.params)
    betas = first.params[["mkt", "hml"]].groupby(level="instrument").shift(1)  # df is time-sorted
    pd.testing.assert_frame_equal(res.betas, betas)
    by_hand = fama_macbeth(betas.assign(ret=df["ret"]), y="ret", **cov)
    pd.testing.assert_frame_equal(res.fama_macbeth.params_by_period, by_hand.params_by_period)
    pd.testing.assert_series_equal(res.params, by_hand.params)
    pd.testing.assert_series_equal(res.bse, by_hand.bse)
    pd.testing.assert_series_equal(res.pvalues, by_hand.pvalues)
    assert res.summary().equals(by_hand.summary())
    # the second pass against linearmodels, and the premia's names are the factors'
    assert list(res.params.index) == ["const", "mkt", "hml"]
    assert_matches_linearmodels(res.fama_macbeth, lm_fit(betas.assign(ret=df["ret"]), y="ret", **cov))


def test_two_pass_betas_are_known_before_t():
    """The beta used at (t, i) is lstsq on asset i's 12 rows ending at its previous row."""
    df = factor_panel(seed=12)
    res = two_pass(df, factors=["mkt", "hml"], window=12)
    dates = df.index.levels[0]
    for t_pos, asset in [(12, "P00"), (30, "P07"), (47, "P09")]:
        rows = df.xs(asset, level="instrument").iloc[t_pos - 12 : t_pos]
        design = np.column_stack([np.ones(12), rows[["mkt", "hml"]].to_numpy()])
        coef = np.linalg.lstsq(design, rows["ret"].to_numpy(), rcond=None)[0]
        assert_allclose(res.betas.loc[(dates[t_pos], asset)], coef[1:], rtol=1e-8)
    assert res.betas.loc[dates[11]].isna().all().all()  # first window ends at row 11
    assert res.fama_macbeth.nperiods == len(dates) - 12


def test_two_pass_row_order_and_defaults():
    df = factor_panel(seed=13)
    ref = two_pass(df, window=12)  # y = last column, factors = the others
    shuffled = df.sample(frac=1.0, random_state=0)
    res = two_pass(shuffled, window=12)
    pd.testing.assert_frame_equal(res.betas, ref.betas.loc[shuffled.index])
    assert_allclose(res.params, ref.params, rtol=1e-13)
    # assets that start late: dates where fewer than 3 assets have lagged betas are skipped
    starts = {"P00": 0, "P01": 20, "P02": 24, "P03": 24}
    late = pd.concat(
        [df.xs(a, level="instrument", drop_level=False).iloc[s:] for a, s in starts.items()]
    ).sort_index()
    msg = "24 of 36 periods were skipped: 24 with fewer complete rows than the 3 coefficients"
    with pytest.warns(SkippedPeriodWarning, match=msg):
        res = two_pass(late, window=12)
    assert res.fama_macbeth.nperiods == 12  # from date 36 on, 4 assets have betas


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(factors=["mkt", "nope"]), MissingColumnError, r"two_pass: factor\(s\) \['nope'\] not found in the frame"),
        (dict(factors="smb"), MissingColumnError, r"factor\(s\) \['smb'\] not found"),
        (dict(factors=[]), PanelError, "factors is empty"),
        (dict(y="nope"), MissingColumnError, r"column\(s\) \['nope'\] not found"),
        (dict(cov_type="HAC"), ParameterError, r"'cov_type' parameter of two_pass must be one of"),
        (dict(cov_type="kernel", kernel="box"), ParameterError, r"'kernel' parameter of two_pass"),
        (dict(cov_type="kernel", bandwidth=-2), ParameterError, r"'bandwidth' parameter of two_pass must be a number"),
        (dict(cov_type="kernel", bandwidth=36), ParameterError, r"below the number of estimated periods, 36"),
        (dict(x=["mkt"]), TypeError, "factors=, not x="),
    ],
)
def test_two_pass_bad_input(kwargs, error, match):
    df = factor_panel()
    with pytest.raises(error, match=match):
        two_pass(df, window=12, **kwargs)



# --------------------------------------------------------------------------- accessor
def test_accessor_methods():
    """df.quantreg.fama_macbeth / two_pass give the functions' results."""
    df = make_panel(n_dates=10, n_assets=8, seed=14)
    res = df.quantreg.fama_macbeth(cov_type="kernel", bandwidth=2)
    ref = fama_macbeth(df, cov_type="kernel", bandwidth=2)
    pd.testing.assert_series_equal(res.params, ref.params)
    pd.testing.assert_series_equal(res.bse, ref.bse)
    panel = factor_panel(seed=15)
    two = panel.quantreg.two_pass(y="ret", factors=["mkt", "hml"], window=12)
    pd.testing.assert_frame_equal(two.betas, two_pass(panel, y="ret", factors=["mkt", "hml"], window=12).betas)
    assert isinstance(two, TwoPassResult)


@pytest.mark.parametrize("cov", [dict(), dict(cov_type="kernel", bandwidth=2)])
def test_two_pass_shanken_by_hand(cov):
    """Shanken (1992): c = 1 + λ'Σ_f⁻¹λ; Var(λ_j) = c·V_FM,jj + Σ_f,jj/T; Var(const) = c·V_FM,00,
    computed here from the returned pieces and the factor columns (ddof=1 over the periods used)."""
    df = factor_panel(nan_frac=0.03)
    plain = two_pass(df, y="ret", factors=["mkt", "hml"], window=12, **cov)
    res = two_pass(df, y="ret", factors=["mkt", "hml"], window=12, shanken=True, **cov)
    pd.testing.assert_series_equal(res.params, plain.params)
    used = res.fama_macbeth.status_by_period.index[res.fama_macbeth.status_by_period == "ok"]
    f = df[["mkt", "hml"]].groupby(level="datetime").first().loc[used].to_numpy()
    sigma = np.cov(f, rowvar=False, ddof=1)
    np.testing.assert_allclose(res.factor_cov.to_numpy(), sigma, rtol=1e-14)
    lam = res.params[["mkt", "hml"]].to_numpy()
    c = 1.0 + lam @ np.linalg.inv(sigma) @ lam
    assert abs(res.shanken_c - c) < 1e-12
    v = np.diag(plain.fama_macbeth.cov_params.to_numpy())
    t_used = len(used)
    expected = np.sqrt([c * v[0], c * v[1] + sigma[0, 0] / t_used, c * v[2] + sigma[1, 1] / t_used])
    np.testing.assert_allclose(res.bse.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(res.tvalues.to_numpy(), res.params.to_numpy() / expected, rtol=1e-12)
    from scipy import stats as sps

    p = 2 * sps.t.sf(np.abs(res.params.to_numpy() / expected), t_used - 1)
    np.testing.assert_allclose(res.pvalues.to_numpy(), p, rtol=1e-10)
    table = res.summary()
    assert table.attrs["correction"].startswith("Shanken (1992)")
    np.testing.assert_allclose(table["std err"].to_numpy(), expected, rtol=1e-12)
    assert "Shanken (1992)" in str(res) and "none (Fama-MacBeth" in str(plain)
    # shanken=False is unchanged
    pd.testing.assert_series_equal(plain.bse, plain.fama_macbeth.bse)
    assert plain.summary().drop(columns=[]).equals(plain.fama_macbeth.summary())
    assert np.isnan(plain.shanken_c)


def test_two_pass_shanken_must_be_bool():
    with pytest.raises(ValueError, match="The 'shanken' parameter must be a bool"):
        two_pass(factor_panel(), y="ret", factors=["mkt"], window=12, shanken="yes")
