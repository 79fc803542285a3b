"""Tests of quantreg.datasets: the bundled French portfolios and the synthetic panel generator.

References: linearmodels' ``french`` dataset (the source of the bundled file; exact equality),
statsmodels OLS per instrument (recovery of make_panel's true coefficients within 5 standard
errors), binomial bounds for the NaN fraction.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import quantreg
from quantreg.datasets import FRENCH_PORTFOLIO_GROUPS, load_french_portfolios, make_panel
from quantreg.exceptions import QuantregError

FACTORS = ["Mkt-RF", "SMB", "HML", "Mom"]
SOURCE_FACTORS = {"Mkt-RF": "MktRF", "SMB": "SMB", "HML": "HML", "Mom": "Mom"}
SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_french_portfolios.py"


@pytest.fixture(scope="module")
def french() -> pd.DataFrame:
    return load_french_portfolios()


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    from linearmodels.datasets import french as lm_french

    return lm_french.load()


# ----------------------------------------------------------------------------- French data
def test_french_file_is_package_data():
    resource = resources.files("quantreg.data").joinpath("french_portfolios.parquet")
    assert resource.is_file()
    package_dir = Path(quantreg.__file__).resolve().parent
    with resources.as_file(resource) as path:
        assert path.resolve().parent == package_dir / "data"


def test_loader_does_not_depend_on_working_directory(tmp_path, monkeypatch, french):
    monkeypatch.chdir(tmp_path)
    pd.testing.assert_frame_equal(load_french_portfolios(), french)


def test_french_layout(french):
    n_months, n_portfolios = 819, 30
    assert french.shape == (n_months * n_portfolios, 5)
    assert list(french.columns) == [*FACTORS, "excess_return"]  # the label last
    assert (french.dtypes == np.float64).all()
    assert list(french.index.names) == ["datetime", "instrument"]
    assert french.index.levels[0].dtype == "datetime64[ns]"
    assert pd.api.types.is_string_dtype(french.index.levels[1].dtype)
    assert french.index.is_unique and french.index.is_monotonic_increasing
    assert not french.isna().any().any()

    dates = french.index.get_level_values("datetime")
    assert dates.min() == pd.Timestamp("1949-01-01")
    assert dates.max() == pd.Timestamp("2017-03-01")
    assert dates.nunique() == n_months
    assert (dates.day == 1).all()
    instruments = french.index.get_level_values("instrument")
    assert set(instruments) == set(FRENCH_PORTFOLIO_GROUPS)
    assert (instruments.value_counts() == n_months).all()  # balanced
    # the factors are one table repeated for every portfolio
    assert (french[FACTORS].groupby(level="datetime").nunique() == 1).all().all()


def test_french_groups():
    counts = pd.Series(FRENCH_PORTFOLIO_GROUPS).value_counts()
    assert counts.to_dict() == {"industry": 12, "size/value": 9, "size/momentum": 9}


def test_french_equals_linearmodels_excess_returns(french, source):
    """excess_return == portfolio return - RF, factors unchanged, exactly (float64)."""
    source = source.set_index("dates")
    for name in FRENCH_PORTFOLIO_GROUPS:
        mine = french.xs(name, level="instrument")
        assert mine.index.equals(pd.DatetimeIndex(source.index))
        np.testing.assert_array_equal(
            mine["excess_return"].to_numpy(), (source[name] - source["RF"]).to_numpy()
        )
        for ours, theirs in SOURCE_FACTORS.items():
            np.testing.assert_array_equal(mine[ours].to_numpy(), source[theirs].to_numpy())


def test_french_units_are_decimal(french, source):
    # Monthly decimal returns: RF of a few tenths of a percent, market s.d. of ~4 %.
    assert 0.0 <= source["RF"].min() and source["RF"].max() < 0.02
    assert 0.02 < french["Mkt-RF"].std() < 0.08
    assert french["excess_return"].abs().max() < 1.0


def test_conversion_script_reproduces_the_file(french):
    spec = importlib.util.spec_from_file_location("make_french_portfolios", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    pd.testing.assert_frame_equal(script.convert(script.load_source()), french)


def test_default_regression_is_the_four_factor_model(french):
    small = french[french.index.get_level_values("instrument").isin(["NoDur", "S1V5"])]
    result = quantreg.rolling_ols(small, window=60)
    assert list(result.params.columns) == ["const", *FACTORS]


# ----------------------------------------------------------------------------- make_panel
def test_make_panel_layout():
    panel, params = make_panel(7, 120, 3, seed=3, return_params=True)
    assert list(panel.columns) == ["x1", "x2", "x3", "y"]
    assert (panel.dtypes == np.float64).all()
    assert list(panel.index.names) == ["datetime", "instrument"]
    assert panel.index.is_unique and panel.index.is_monotonic_increasing
    assert pd.api.types.is_datetime64_any_dtype(panel.index.levels[0].dtype)
    assert list(params.columns) == ["const", "x1", "x2", "x3"]
    assert list(params.index) == sorted(panel.index.get_level_values("instrument").unique())
    assert list(params.index) == ["A000", "A001", "A002", "A003", "A004", "A005", "A006"]


def test_make_panel_recovers_known_betas():
    """Full-sample OLS per instrument (statsmodels) lands within 5 standard errors of truth."""
    panel, params = make_panel(6, 400, 3, nan_frac=0.02, seed=11, return_params=True)
    for name, rows in panel.dropna().groupby(level="instrument"):
        design = sm.add_constant(rows[["x1", "x2", "x3"]].to_numpy())
        fit = sm.OLS(rows["y"].to_numpy(), design).fit()
        error = np.abs(fit.params - params.loc[name].to_numpy())
        assert (error < 5 * fit.bse).all(), (name, error, fit.bse)


def test_make_panel_price_level_regressors():
    panel, params = make_panel(3, 3000, 2, level=1e4, x_scale=0.01, noise=1e-4, nan_frac=0.0,
                               unbalanced=False, seed=5, return_params=True)
    x = panel[["x1", "x2"]].to_numpy()
    assert np.abs(x.mean() - 1e4) < 1e-3
    assert abs(x.std() - 0.01) < 1e-3
    one = panel.xs("A001", level="instrument")
    centred = one[["x1", "x2"]] - one[["x1", "x2"]].mean()
    slopes, *_ = np.linalg.lstsq(centred.to_numpy(), (one["y"] - one["y"].mean()).to_numpy())
    np.testing.assert_allclose(slopes, params.loc["A001", ["x1", "x2"]], atol=1e-3)


def test_make_panel_nan_fraction():
    nan_frac = 0.05
    panel = make_panel(100, 500, 3, nan_frac=nan_frac, seed=2)
    cells = panel.size
    bound = 4 * np.sqrt(nan_frac * (1 - nan_frac) / cells)  # 4 binomial standard deviations
    assert abs(panel.isna().to_numpy().mean() - nan_frac) < bound
    for column in panel.columns:  # y included
        assert abs(panel[column].isna().mean() - nan_frac) < 4 * bound
    assert not make_panel(10, 50, 2, nan_frac=0.0).isna().any().any()


def test_make_panel_unbalanced_starts():
    n_assets, n_dates = 40, 200
    panel = make_panel(n_assets, n_dates, 2, seed=4)
    dates = panel.index.levels[0]
    grouped = panel.reset_index("datetime").groupby("instrument")["datetime"]
    first, last, count = grouped.min(), grouped.max(), grouped.size()
    assert first.iloc[0] == dates[0]  # the first instrument spans the calendar
    assert first.nunique() > n_assets // 4  # starts differ
    assert (first <= dates[n_dates // 4]).all()
    assert (last == dates[-1]).all()  # every instrument ends on the last date
    starts = dates.get_indexer(first)
    np.testing.assert_array_equal(count.to_numpy(), n_dates - starts)  # no gaps


def test_make_panel_balanced():
    panel = make_panel(5, 30, 1, unbalanced=False, nan_frac=0.0)
    assert len(panel) == 150
    assert (panel.groupby(level="instrument").size() == 30).all()


def test_make_panel_short_assets_with_window():
    n_assets, window = 30, 50
    panel = make_panel(n_assets, 300, 2, window=window, seed=8)
    size = panel.groupby(level="instrument").size()
    n_short = n_assets // 10
    assert (size.iloc[-n_short:] < window).all()
    assert (size.iloc[-n_short:] >= 1).all()
    assert (size.iloc[:-n_short] >= window).all()


def test_make_panel_shared_regressors():
    panel = make_panel(6, 80, 2, shared_x=True, nan_frac=0.0, seed=1)
    assert (panel[["x1", "x2"]].groupby(level="datetime").nunique() == 1).all().all()
    assert panel["y"].groupby(level="datetime").nunique().max() > 1


def test_make_panel_is_deterministic():
    pd.testing.assert_frame_equal(make_panel(4, 60, 2, seed=9), make_panel(4, 60, 2, seed=9))
    assert not make_panel(4, 60, 2, seed=9).equals(make_panel(4, 60, 2, seed=10))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n_assets=0), r"The 'n_assets' parameter of make_panel must be an int >= 1\. Got 0"),
        (dict(k=2.5), r"The 'k' parameter of make_panel must be an int >= 1\. Got 2\.5"),
        (dict(nan_frac=1.0), r"'nan_frac' parameter of make_panel must be a float in the range "
                             r"\[0, 1\)\. Got 1\.0"),
        (dict(n_dates=20, window=30), r"'window' parameter of make_panel must be at most "
                                      r"n_dates=20.*Got 30"),
    ],
)
def test_make_panel_bad_arguments(kwargs, match):
    with pytest.raises(QuantregError, match=match):
        make_panel(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    n_assets=st.integers(1, 12),
    n_dates=st.integers(2, 60),
    k=st.integers(1, 3),
    unbalanced=st.booleans(),
    window_frac=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
)
def test_make_panel_invariants(n_assets, n_dates, k, unbalanced, window_frac, seed):
    window = max(1, int(window_frac * n_dates))
    panel = make_panel(n_assets, n_dates, k, window=window, unbalanced=unbalanced, seed=seed)
    assert panel.index.is_unique and panel.index.is_monotonic_increasing
    size = panel.groupby(level="instrument").size()
    assert len(size) == n_assets  # no instrument vanishes
    assert len(panel) == size.sum() <= n_assets * n_dates
    assert list(panel.columns)[-1] == "y"
    if not unbalanced:
        assert (size == n_dates).all()
    elif n_assets >= 2 and window >= 2:
        n_short = max(1, n_assets // 10)
        assert (size.iloc[-n_short:] < window).all()
        assert (size.iloc[:-n_short] >= window).all()
