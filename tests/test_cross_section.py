"""cross_sectional_ols / cross_sectional_resid against statsmodels OLS/WLS fitted per date.

Reference: ``statsmodels.api.OLS``/``WLS`` on each date's complete rows (explicit dummies for
``groups``, built only for the categories present on that date, with no constant: the
dummies span it). Tolerance 1e-10 (absolute, on unit-scale data) for params, residuals,
fitted values and R²; nobs exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quantreg
from quantreg.exceptions import MissingColumnError, PanelError, RankDeficientWindowWarning

TOL = 1e-10


def make_panel(n_dates=6, n_assets=20, *, seed=0, nan_frac=0.05, n_groups=4, level=0.0, shuffle=True):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", periods=n_dates)
    idx = pd.MultiIndex.from_product([dates, [f"S{i:02d}" for i in range(n_assets)]],
                                     names=["datetime", "instrument"])
    n = len(idx)
    df = pd.DataFrame({
        "size": level + rng.normal(size=n),
        "beta": rng.normal(size=n),
        "industry": rng.choice([f"g{j}" for j in range(n_groups)], n),
        "w": rng.uniform(0.1, 3.0, n),
    }, index=idx)
    df["signal"] = 0.4 * df["size"] - 0.2 * df["beta"] + rng.normal(size=n)
    for col in ("size", "beta", "signal"):
        df.loc[rng.random(n) < nan_frac, col] = np.nan
    return df.sample(frac=1.0, random_state=seed) if shuffle else df


def reference(df, x, *, groups=None, weights=None, add_constant=True):
    """Per date: (params Series, resid, fitted, rsquared, nobs) of statsmodels on explicit columns."""
    out = {}
    for date, g in df.groupby(level="datetime"):
        g = g.dropna(subset=[*x, "signal"])
        if weights is not None:
            g = g[g[weights] > 0]
        design = g[x].astype(float)
        if groups is not None:
            design = pd.concat([design, pd.get_dummies(g[groups], dtype=float)], axis=1)
        elif add_constant:
            design = sm.add_constant(design, has_constant="add")
        if len(g) < design.shape[1]:
            out[date] = None
            continue
        model = sm.WLS(g["signal"], design, weights=g[weights]) if weights else sm.OLS(g["signal"], design)
        out[date] = model.fit()
    return out


def check(res, df, refs, x):
    for date, fit in refs.items():
        if fit is None:
            assert res.status[date] == "too_few"
            assert res.params.loc[date].isna().all()
            continue
        assert res.status[date] == "ok"
        assert res.nobs[date] == fit.nobs
        np.testing.assert_allclose(res.params.loc[date, x], fit.params[x], atol=TOL, rtol=0)
        rows = fit.resid.index
        np.testing.assert_allclose(res.resid.loc[rows], fit.resid, atol=TOL, rtol=0)
        np.testing.assert_allclose(res.fitted.loc[rows], fit.fittedvalues, atol=TOL, rtol=0)
        assert abs(res.rsquared[date] - fit.rsquared) < TOL
        assert abs(res.ssr[date] - fit.ssr) < TOL


@pytest.mark.parametrize("weights", [None, "w"])
def test_equals_statsmodels_per_date(weights):
    df = make_panel()
    res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], weights=weights)
    refs = reference(df, ["size", "beta"], weights=weights)
    check(res, df, refs, ["size", "beta"])
    for date, fit in refs.items():
        assert abs(res.params.loc[date, "const"] - fit.params["const"]) < TOL
    assert res.resid.index.equals(df.index)  # the caller's index and order


@pytest.mark.parametrize("weights", [None, "w"])
def test_groups_equal_explicit_dummies(weights):
    df = make_panel(n_assets=30, n_groups=5, seed=3)
    res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], groups="industry", weights=weights)
    refs = reference(df, ["size", "beta"], groups="industry", weights=weights)
    check(res, df, refs, ["size", "beta"])
    for date, fit in refs.items():  # sum-to-zero convention: α_g = const + effect_g
        cats = [c for c in fit.params.index if c.startswith("g")]
        alpha = res.group_effects.loc[date, cats] + res.params.loc[date, "const"]
        np.testing.assert_allclose(alpha, fit.params[cats], atol=TOL, rtol=0)
        assert abs(res.group_effects.loc[date, cats].sum()) < TOL
    no_const = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], groups="industry", weights=weights,
                                            add_constant=False)
    np.testing.assert_allclose(no_const.resid, res.resid, atol=TOL, rtol=0)
    for date, fit in refs.items():
        cats = [c for c in fit.params.index if c.startswith("g")]
        np.testing.assert_allclose(no_const.group_effects.loc[date, cats], fit.params[cats], atol=TOL, rtol=0)


def test_groups_from_an_index_level_and_price_level_data():
    df = make_panel(n_assets=25, seed=5, level=1e6, nan_frac=0.0)
    df = df.set_index("industry", append=True)
    res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], groups="industry")
    flat = df.reset_index("industry")
    refs = reference(flat, ["size", "beta"], groups="industry")
    for date, fit in refs.items():
        np.testing.assert_allclose(res.params.loc[date, ["size", "beta"]], fit.params[["size", "beta"]], atol=1e-8)


def test_short_dates_are_nan_with_status():
    df = make_panel(n_dates=3, n_assets=6, nan_frac=0.0, shuffle=False)
    first = df.index.get_level_values(0) == df.index.levels[0][0]
    keep = ~first | (np.cumsum(first) <= 2)  # the first date keeps 2 rows: fewer than 3 coefficients
    df = df[keep]
    res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"])
    date = df.index.levels[0][0]
    assert res.status[date] == "too_few" and res.nobs[date] == 2
    assert res.params.loc[date].isna().all() and res.resid.loc[date].isna().all()
    assert (res.status.iloc[1:] == "ok").all()
    grouped = quantreg.cross_sectional_ols(df, "signal", ["size"], groups="industry", min_nobs=5)
    assert grouped.status[date] == "too_few"


def test_rank_deficient_date_warns():
    df = make_panel(n_dates=2, n_assets=8, nan_frac=0.0, shuffle=False)
    df.loc[df.index.levels[0][0], "beta"] = 1.0  # constant across the date's assets
    with pytest.warns(RankDeficientWindowWarning, match="1 of 2 cross-sections are rank deficient"):
        res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"])
    assert res.status.tolist() == ["rank_deficient", "ok"]


def test_resid_by_column_on_a_flat_frame_and_accessor():
    df = make_panel()
    expected = quantreg.cross_sectional_resid(df, "signal", ["size", "beta"], groups="industry", weights="w")
    flat = df.reset_index()
    got = quantreg.cross_sectional_resid(flat, "signal", ["size", "beta"], by="datetime", groups="industry",
                                         weights="w")
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-13, equal_nan=True)
    via = df.quantreg.cross_sectional_resid("signal", ["size", "beta"], groups="industry", weights=df["w"])
    pd.testing.assert_series_equal(via, expected)
    assert df.quantreg.cross_sectional_ols("signal", ["size"]).params.shape == (6, 2)


def test_defaults_leave_weights_and_groups_columns_out():
    df = make_panel()[["size", "industry", "w", "signal"]]
    res = quantreg.cross_sectional_ols(df, groups="industry", weights="w")
    assert res.param_names == ["const", "size"] and res.layout.y_name == "signal"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_assets=st.integers(3, 15), n_groups=st.integers(1, 4),
       weighted=st.booleans(), grouped=st.booleans())
def test_property_random_panels(seed, n_assets, n_groups, weighted, grouped):
    df = make_panel(n_dates=3, n_assets=n_assets, seed=seed, n_groups=n_groups, nan_frac=0.1)
    weights = "w" if weighted else None
    groups = "industry" if grouped else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficientWindowWarning)
        res = quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], groups=groups, weights=weights)
    refs = reference(df, ["size", "beta"], groups=groups, weights=weights)
    for date, fit in refs.items():
        if res.status[date] != "ok":
            assert fit is None or np.linalg.matrix_rank(fit.model.wexog) < fit.model.wexog.shape[1] or (
                res.status[date] == "too_few")
            continue
        assert fit is not None and res.nobs[date] == fit.nobs
        scale = 1.0 + np.abs(fit.params[["size", "beta"]]).max()
        np.testing.assert_allclose(res.params.loc[date, ["size", "beta"]], fit.params[["size", "beta"]],
                                   atol=1e-8 * scale, rtol=0)
        np.testing.assert_allclose(res.resid.loc[fit.resid.index], fit.resid, atol=1e-8 * scale, rtol=0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(groups="sector"), MissingColumnError, "groups='sector' is neither a column"),
        (dict(by="date"), PanelError, "by='date' is neither an index level"),
        (dict(weights=pd.Series([1.0, 2.0])), PanelError, "weights has 2 values but the frame has"),
        (dict(weights=[1.0] * 5), PanelError, "weights has shape \\(5,\\)"),
        (dict(weights="nope"), MissingColumnError, "weights='nope' is not a column"),
    ],
)
def test_bad_input(kwargs, error, match):
    df = make_panel()
    with pytest.raises(error, match=match):
        quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], **kwargs)


def test_infinite_weight_is_an_error():
    df = make_panel()
    df.iloc[4, df.columns.get_loc("w")] = np.inf
    with pytest.raises(PanelError, match="weights column 'w' holds 1 infinite value"):
        quantreg.cross_sectional_ols(df, "signal", ["size", "beta"], weights="w")


def test_group_level_regressor_is_rank_deficient():
    """A regressor that depends only on the group is collinear with the absorbed dummies."""
    df = make_panel(n_dates=2, n_assets=30, nan_frac=0.0)
    df["group_level"] = df["industry"].map({"g0": 0.1, "g1": 0.7, "g2": 1.3, "g3": -2.9}) * 3.7
    with pytest.warns(RankDeficientWindowWarning, match="2 of 2 cross-sections"):
        res = quantreg.cross_sectional_ols(df, "signal", ["size", "group_level"], groups="industry", weights="w")
    assert (res.status == "rank_deficient").all() and res.resid.isna().all()


def test_dask_partitions_of_whole_dates_equal_pandas():
    dd = pytest.importorskip("dask.dataframe")
    import dask

    import quantreg.distributed as qd
    from quantreg.exceptions import PartitionLayoutError

    df = make_panel(n_dates=8, n_assets=15)
    expected = quantreg.cross_sectional_resid(df, "signal", ["size", "beta"], groups="industry", weights="w")
    flat = df.reset_index().sort_values(["datetime", "instrument"])
    ddf = dd.from_pandas(flat.set_index("datetime"), npartitions=3, sort=True)
    with dask.config.set(scheduler="synchronous"):
        got = qd.cross_sectional_resid(ddf, "signal", ["size", "beta"], groups="industry", weights="w").compute()
        want = expected.loc[list(zip(flat["datetime"], flat["instrument"]))].to_numpy()
        np.testing.assert_allclose(got.to_numpy(), want, atol=1e-13, equal_nan=True)
        split = dd.from_pandas(flat.reset_index(drop=True), npartitions=3, sort=False)
        with pytest.raises(PartitionLayoutError, match="date .* spans partitions"):
            qd.cross_sectional_resid(split, "signal", ["size", "beta"])


def test_bad_options():
    df = make_panel()
    with pytest.raises(ValueError, match="The 'min_nobs' parameter must be an int"):
        quantreg.cross_sectional_ols(df, "signal", ["size"], min_nobs=0)
    with pytest.raises(ValueError, match="The 'add_constant' parameter must be a bool"):
        quantreg.cross_sectional_ols(df, "signal", ["size"], add_constant="yes")


def test_polars_input_gives_the_flat_frames_numbers():
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(7)
    n = 240
    flat = pd.DataFrame({
        "datetime": np.repeat(pd.date_range("2024-01-01", periods=8), n // 8),
        "instrument": [f"S{i}" for i in range(n // 8)] * 8,
        "industry": rng.choice(["a", "b", "c"], n),
        "size": rng.normal(size=n),
        "signal": rng.normal(size=n),
    }).sample(frac=1.0, random_state=1).reset_index(drop=True)
    expected = quantreg.cross_sectional_resid(flat, "signal", ["size"], groups="industry")
    got = quantreg.cross_sectional_resid(pl.from_pandas(flat), "signal", ["size"], groups="industry")
    assert isinstance(got, pl.DataFrame) and got.columns == ["datetime", "instrument", "residual"]
    np.testing.assert_allclose(got["residual"].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-14)
    assert got["instrument"].to_list() == flat["instrument"].tolist()  # the input's row order
    lazy = quantreg.cross_sectional_ols(pl.from_pandas(flat).lazy(), "signal", ["size"], groups="industry")
    pd.testing.assert_frame_equal(lazy.params, quantreg.cross_sectional_ols(flat, "signal", ["size"],
                                                                            groups="industry").params)
