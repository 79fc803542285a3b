"""Per-window status, rank, condition and robust covariances (quantreg.inference, issue 8).

References: statsmodels ``OLS``/``WLS(...).fit(cov_type=..., cov_kwds=...)`` on every window
(bse and p-values to 1e-8 relative); ``numpy.linalg.matrix_rank`` and ``numpy.linalg.cond``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import quantreg
from quantreg import RankDeficientWindowWarning
from references import make_test_panel


def window_fits(df: pd.DataFrame, window: int, halflife=None, **fit_kwargs):
    """statsmodels fit of every full window of every instrument: {(date, inst): (bse, pvalues, conf_int(0.1))}."""
    out = {}
    xcols = [c for c in df.columns if c != "y"]
    for inst, g in df.groupby(level="instrument"):
        X = sm.add_constant(g[xcols].to_numpy(), has_constant="add")
        yv = g["y"].to_numpy()
        for t in range(window - 1, len(g)):
            rows = np.arange(t - window + 1, t + 1)
            rows = rows[~(np.isnan(yv[rows]) | np.isnan(X[rows]).any(axis=1))]
            model = sm.OLS(yv[rows], X[rows]) if halflife is None else sm.WLS(
                yv[rows], X[rows], weights=0.5 ** ((t - rows) / halflife)
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels: sqrt of a negative variance
                fit = model.fit(**fit_kwargs)
                out[g.index[t]] = (fit.bse, fit.pvalues, fit.conf_int(0.1))
    return out


COVS = [
    ("HC0", None),
    ("HC1", None),
    ("HAC", {"maxlags": 0}),
    ("HAC", {"maxlags": 1}),
    ("HAC", {"maxlags": 4}),
    ("HAC", {"maxlags": 3, "kernel": "uniform"}),
    ("HAC", {"maxlags": 2, "use_correction": True}),
]


@pytest.mark.parametrize("cov_type,cov_kwds", COVS)
@pytest.mark.parametrize("halflife", [None, 6.0])
def test_robust_standard_errors_equal_statsmodels_on_every_window(cov_type, cov_kwds, halflife):
    df = make_test_panel(2, 45, 2, seed=31, nan_frac=0.05)
    res = quantreg.rolling_ols(df, window=14, cov_type=cov_type, cov_kwds=cov_kwds, halflife=halflife)
    fits = window_fits(df, 14, halflife, cov_type=cov_type, cov_kwds=cov_kwds)
    assert res.cov_type == cov_type and not res.use_t
    compared = 0
    conf_int = res.conf_int(0.1)
    for label, (bse, pvalues, interval) in fits.items():
        if res.status.loc[label] not in ("ok", "missing"):
            continue
        np.testing.assert_allclose(res.bse.loc[label], bse, rtol=1e-8)
        np.testing.assert_allclose(res.pvalues.loc[label], pvalues, rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(conf_int.loc[label].to_numpy().reshape(-1, 2), interval, rtol=1e-8)
        compared += 1
    assert compared > 20


def test_nonrobust_uses_t_and_use_t_overrides():
    df = make_test_panel(1, 30, 2, seed=32)
    fits = window_fits(df, 10)
    res = quantreg.rolling_ols(df, window=10)
    label = list(fits)[-1]
    np.testing.assert_allclose(res.pvalues.loc[label], fits[label][1], rtol=1e-9)
    hac_t = quantreg.rolling_ols(df, window=10, cov_type="HAC", cov_kwds={"maxlags": 2}, use_t=True)
    ref = window_fits(df, 10, cov_type="HAC", cov_kwds={"maxlags": 2}, use_t=True)[label]
    np.testing.assert_allclose(hac_t.pvalues.loc[label], ref[1], rtol=1e-9)


def degenerate_panel() -> pd.DataFrame:
    """Constant, duplicated and collinear stretches in some instruments' windows."""
    df = make_test_panel(3, 70, 3, seed=33, unbalanced=False).copy()
    dates = df.index.get_level_values("datetime")
    inst = df.index.get_level_values("instrument")
    df.loc[(inst == "A00") & (dates < pd.Timestamp("2020-01-20")), "x0"] = 2.5  # constant
    dup = (inst == "A01") & (dates > pd.Timestamp("2020-01-25")) & (dates < pd.Timestamp("2020-02-15"))
    df.loc[dup, "x2"] = df.loc[dup, "x1"]  # duplicated
    lin = (inst == "A02") & (dates > pd.Timestamp("2020-02-01"))
    df.loc[lin, "x2"] = 2.0 * df.loc[lin, "x1"] - 0.5 * df.loc[lin, "x0"] + 1.0  # collinear with the constant
    return df


def test_status_and_rank_agree_with_matrix_rank():
    df = degenerate_panel()
    with pytest.warns(RankDeficientWindowWarning, match=r"\d+ of 210 windows are rank deficient"):
        res = quantreg.rolling_ols(df, window=9)
    for inst, g in df.groupby(level="instrument"):
        X = sm.add_constant(g[["x0", "x1", "x2"]].to_numpy(), has_constant="add")
        for t in range(len(g)):
            rows = slice(max(0, t - 8), t + 1)
            label = g.index[t]
            assert res.rank.loc[label] == np.linalg.matrix_rank(X[rows]), label
            if t >= 8:
                deficient = np.linalg.matrix_rank(X[rows]) < 4
                assert (res.status.loc[label] == "rank_deficient") == deficient, label
    values = res.to_frame()[["residual", "const", "x0", "x1", "x2"]]
    assert (values.isna().any(axis=1) == (res.status != "ok")).all()
    assert res.params[res.status == "ok"].notna().all().all()


def test_condition_equals_numpy_cond_of_scaled_centred_regressors():
    df = make_test_panel(2, 40, 3, seed=34)
    res = quantreg.rolling_ols(df, window=10)
    for inst, g in df.groupby(level="instrument"):
        X = g[["x0", "x1", "x2"]].to_numpy()
        for t in range(9, len(g)):
            Xw = X[t - 9 : t + 1] - X[t - 9 : t + 1].mean(axis=0)
            Xw = Xw / np.sqrt((Xw**2).sum(axis=0))
            assert res.condition.loc[g.index[t]] == pytest.approx(np.linalg.cond(Xw), rel=1e-8)
    with pytest.warns(RankDeficientWindowWarning):
        degenerate = quantreg.rolling_ols(degenerate_panel(), window=9)
    assert np.isinf(degenerate.condition[degenerate.status == "rank_deficient"]).all()


def test_ill_conditioned_windows_are_flagged_and_nan():
    rng = np.random.default_rng(35)
    df = make_test_panel(1, 50, 2, seed=35, unbalanced=False).copy()
    # 1 − R² ≈ 1e-24: sqrt(1 − R²) ≈ 1e-12, below what a QR fit resolves to 6 digits
    df["x1"] = df["x0"] + 1e-12 * rng.standard_normal(len(df))
    with pytest.warns(RankDeficientWindowWarning, match=r"and \d+ are ill conditioned"):
        res = quantreg.rolling_ols(df, window=12)
    ill = res.status == "ill_conditioned"
    assert ill.sum() > 0 and res.params[ill].isna().all().all()
    assert (res.condition[ill] > 1e10).all() and (res.rank[ill] == 3).all()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"cov_type": "HC3"}, r"The 'cov_type' parameter must be one of \['nonrobust', 'HC0', 'HC1', 'HAC'\]. Got 'HC3'"),
        ({"cov_type": "HAC"}, r"needs cov_kwds=\{'maxlags': L\}"),
        ({"cov_type": "HAC", "cov_kwds": {"maxlags": -1}}, r"maxlags'\] must be an int >= 0. Got -1"),
        ({"cov_type": "HAC", "cov_kwds": {"maxlags": 10}}, r"maxlags'\] \(10\) must be smaller than the window \(10\)"),
        ({"cov_type": "HAC", "cov_kwds": {"maxlags": 2, "kernel": "parzen"}}, r"kernel'\] must be one of \['bartlett', 'uniform'\]"),
        ({"cov_type": "HAC", "cov_kwds": {"maxlags": 2, "lags": 1}}, r"unknown cov_kwds \['lags'\]"),
        ({"cov_type": "HC0", "cov_kwds": {"maxlags": 2}}, r"cov_type='HC0' takes no cov_kwds"),
        ({"use_t": "yes"}, r"The 'use_t' parameter must be a bool or None"),
    ],
)
def test_bad_covariance_options(kwargs, message):
    df = make_test_panel(1, 20, 1, seed=36)
    with pytest.raises(ValueError, match=message):
        quantreg.rolling_ols(df, window=10, **kwargs)


EXACT_FIT_COVS = [
    ("nonrobust", None), ("HC0", None), ("HC1", None), ("HAC", {"maxlags": 0}), ("HAC", {"maxlags": 2}),
    ("HAC", {"maxlags": 2, "kernel": "uniform"}), ("HAC", {"maxlags": 1, "use_correction": True}),
]


@pytest.mark.parametrize("cov_type,cov_kwds", EXACT_FIT_COVS)
def test_exact_fit_windows_have_nan_standard_errors_for_every_cov_type(cov_type, cov_kwds):
    """A window with nobs == k has no residual variance: NaN bse, t and p (never 1e-15 and p = 0)."""
    df = make_test_panel(2, 30, 2, seed=33)
    res = quantreg.rolling_ols(df, window=3, cov_type=cov_type, cov_kwds=cov_kwds)
    ok = res.status == "ok"
    assert ok.sum() > 20 and res.params[ok].notna().all().all()
    assert res.bse.isna().all().all() and res.tvalues.isna().all().all() and res.pvalues.isna().all().all()
    wider = quantreg.rolling_ols(df, window=5, min_nobs=3, missing="drop", expanding=True,
                                 cov_type=cov_type, cov_kwds=cov_kwds)
    exact = (wider.nobs == 3) & (wider.status == "ok")
    assert exact.sum() >= 2 and wider.bse[exact].isna().all().all()
    if (cov_kwds or {}).get("kernel") != "uniform":  # uniform weights can give a negative variance
        assert wider.bse[(wider.nobs > 3) & (wider.status == "ok")].notna().all().all()
