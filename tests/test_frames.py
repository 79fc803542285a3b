"""polars and flat pandas frames in and out (quantreg/frames.py, the polars namespace).

Reference: the same call on the (datetime, instrument) MultiIndex frame, whose numbers the rest
of the suite checks against statsmodels, numpy and linearmodels. A flat or polars frame goes
through the same engine on the same rows in the same order within each instrument, so the
numbers must agree to the last bit; the tests allow 1e-13 relative (exact in practice).
Inputs are shuffled so that "rows in the input's order" is tested, not assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pl = pytest.importorskip("polars")

import quantreg  # noqa: E402
from quantreg.exceptions import NonNumericError, PanelError  # noqa: E402
from quantreg.frames import panel_input  # noqa: E402
from quantreg.selection import Lasso  # noqa: E402
from references import make_test_panel  # noqa: E402

RTOL = 1e-13
KEYS = ["datetime", "instrument"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_test_panel(5, 70, 2, seed=3, nan_frac=0.03)


@pytest.fixture(scope="module")
def flat(panel) -> pd.DataFrame:
    """The panel as a flat frame, rows shuffled, on a non-default index."""
    shuffled = panel.reset_index().sample(frac=1.0, random_state=7)
    return shuffled.set_axis(np.arange(len(shuffled))[::-1] + 100, axis=0)


@pytest.fixture(scope="module")
def polars_frame(flat):
    return pl.from_pandas(flat)


def in_flat_order(expected: pd.Series | pd.DataFrame, flat: pd.DataFrame) -> pd.DataFrame:
    """A MultiIndex result in the flat frame's row order, as a frame."""
    frame = expected.to_frame() if isinstance(expected, pd.Series) else expected
    return frame.reindex(pd.MultiIndex.from_frame(flat[KEYS]))


def check_flat(got: pd.DataFrame, expected, flat: pd.DataFrame) -> None:
    """A flat result: the caller's index and key columns, then the expected values."""
    want = in_flat_order(expected, flat)
    assert got.index.equals(flat.index)
    pd.testing.assert_frame_equal(got[KEYS], flat[KEYS])
    values = got.drop(columns=KEYS)
    assert [str(c) for c in values.columns] == ["_".join(map(str, c)) if isinstance(c, tuple) else str(c)
                                               for c in want.columns]
    for name, column in zip(values.columns, want.columns):
        if isinstance(want[column].dtype, pd.CategoricalDtype) or want[column].dtype == "boolean":
            pd.testing.assert_series_equal(values[name], want[column], check_index=False, check_names=False)
        else:
            compare(values[name].to_numpy(dtype=np.float64, na_value=np.nan),
                    want[column].to_numpy(dtype=np.float64, na_value=np.nan))


def check_polars(got, expected, frame) -> None:
    """A polars result: the input's key columns in the input's order, then the expected values
    (null where the reference is NaN)."""
    want = in_flat_order(expected, frame.to_pandas())
    assert isinstance(got, pl.DataFrame)
    assert got.columns[:2] == KEYS
    assert got.select(KEYS).equals(frame.select(KEYS))
    values = got.drop(KEYS)
    for name, column in zip(values.columns, want.columns):
        expected_column = want[column]
        if isinstance(expected_column.dtype, pd.CategoricalDtype):
            assert values[name].dtype == pl.Enum(list(expected_column.cat.categories))
            assert values[name].to_list() == expected_column.astype(object).where(expected_column.notna(), None).tolist()
        else:
            actual = values[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            compare(actual, expected_column.to_numpy(dtype=np.float64, na_value=np.nan))
            assert values[name].is_nan().sum() == 0 if values[name].dtype.is_float() else True


def compare(actual, expected) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0.0)
    assert (np.isnan(actual) == np.isnan(expected)).all()


# ----------------------------------------------------------------------------- every entry point
def test_rolling_ols_tables(panel, flat, polars_frame):
    ref = quantreg.rolling_ols(panel, window=20, cov_type="HC1")
    from_flat = quantreg.rolling_ols(flat, window=20, cov_type="HC1")
    from_polars = quantreg.rolling_ols(polars_frame, window=20, cov_type="HC1")
    from_lazy = quantreg.rolling_ols(polars_frame.lazy(), window=20, cov_type="HC1")
    for name in ["params", "bse", "tvalues", "pvalues", "resid", "fitted", "nobs", "status", "rsquared",
                 "rsquared_adj", "llf", "df_resid", "rank"]:
        check_flat(getattr(from_flat, name), getattr(ref, name), flat)
        check_polars(getattr(from_polars, name), getattr(ref, name), polars_frame)
    check_polars(from_lazy.params, ref.params, polars_frame)
    check_flat(from_flat.conf_int(0.1), ref.conf_int(0.1), flat)
    check_polars(from_polars.conf_int(0.1), ref.conf_int(0.1), polars_frame)
    check_flat(from_flat.to_frame(), ref.to_frame(), flat)
    check_polars(from_polars.to_frame(), ref.to_frame(), polars_frame)
    # summary and plot read the same rows whatever the input
    name = panel.index.get_level_values("instrument")[0]
    assert str(from_polars.summary(name)) == str(ref.summary(name))
    table = from_polars.summary()
    assert isinstance(table, pl.DataFrame) and table.columns[:3] == ["instrument", "coefficient", "datetime"]
    compare(table["coef"].to_numpy(), ref.summary()["coef"].to_numpy())
    assert list(from_flat.summary().columns[:2]) == ["instrument", "coefficient"]


def test_rolling_resid(panel, flat, polars_frame):
    ref = quantreg.rolling_resid(panel, window=15, residual="out_of_sample", missing="skip")
    got = quantreg.rolling_resid(flat, window=15, residual="out_of_sample", missing="skip")
    check_flat(got, ref, flat)
    assert list(got.columns) == [*KEYS, "residual"]
    got = quantreg.rolling_resid(polars_frame, window=15, residual="out_of_sample", missing="skip")
    check_polars(got, ref, polars_frame)
    assert got.columns == [*KEYS, "residual"]
    # calendar windows and halflife go through the same conversion
    ref = quantreg.rolling_resid(panel, window="10D", halflife="5D")
    check_polars(quantreg.rolling_resid(polars_frame, window="10D", halflife="5D"), ref, polars_frame)


def test_rolling_select(panel, flat, polars_frame):
    ref = quantreg.rolling_select(panel, Lasso(alpha=0.05), window=25)
    from_flat = quantreg.rolling_select(flat, Lasso(alpha=0.05), window=25)
    from_polars = quantreg.rolling_select(polars_frame, Lasso(alpha=0.05), window=25)
    for name in ["params", "resid", "fitted", "nobs", "n_iter", "status", "n_selected"]:
        check_flat(getattr(from_flat, name), getattr(ref, name), flat)
        check_polars(getattr(from_polars, name), getattr(ref, name), polars_frame)
    selected = from_polars.selected
    want = in_flat_order(ref.selected, flat)
    for column in want.columns:
        assert selected[column].to_list() == want[column].astype(object).where(want[column].notna(), None).tolist()


def test_fama_macbeth_and_two_pass():
    panel = make_test_panel(8, 40, 2, seed=4, nan_frac=0.02, unbalanced=False)
    flat = panel.reset_index().sample(frac=1.0, random_state=3)
    polars_frame = pl.from_pandas(flat)
    ref = quantreg.fama_macbeth(panel, cov_type="kernel", bandwidth=2)
    for data in (flat, polars_frame, polars_frame.lazy()):
        got = quantreg.fama_macbeth(data, cov_type="kernel", bandwidth=2)
        compare(got.params, ref.params)
        compare(got.bse, ref.bse)
        pd.testing.assert_frame_equal(got.params_by_period, ref.params_by_period, rtol=RTOL)

    factors = make_test_panel(6, 60, 1, seed=5, unbalanced=False)
    market = factors["x0"].groupby(level="datetime").transform("first")  # one factor per date
    returns = factors.assign(x0=market)
    ref = quantreg.two_pass(returns, factors=["x0"], window=12)
    shuffled = returns.reset_index().sample(frac=1.0, random_state=2).reset_index(drop=True)
    for data in (shuffled, pl.from_pandas(shuffled)):
        got = quantreg.two_pass(data, factors=["x0"], window=12)
        compare(got.params, ref.params)
        compare(got.bse, ref.bse)
    check_flat(quantreg.two_pass(shuffled, factors=["x0"], window=12).betas, ref.betas, shuffled)
    got = quantreg.two_pass(pl.from_pandas(shuffled), factors=["x0"], window=12)
    check_polars(got.betas, ref.betas, pl.from_pandas(shuffled))
    check_polars(got.first_pass.params, ref.first_pass.params, pl.from_pandas(shuffled))


def test_factor_tables_flat_and_polars():
    long = make_test_panel(4, 50, 1, seed=11, unbalanced=True)
    dates = long.index.get_level_values("datetime").unique().sort_values()
    rng = np.random.default_rng(0)
    F = pd.DataFrame({"mkt": rng.normal(size=len(dates)), "smb": rng.normal(size=len(dates))}, index=dates)
    F.index.name = "datetime"
    returns = long["y"]
    ref = quantreg.rolling_ols(returns, factors=F, window=10)
    flat_returns = returns.reset_index().sample(frac=1.0, random_state=1).reset_index(drop=True)
    for data, factors in ((flat_returns, F.reset_index()), (pl.from_pandas(flat_returns), pl.from_pandas(F.reset_index())),
                          (pl.from_pandas(flat_returns), F)):
        got = quantreg.rolling_ols(data, factors=factors, window=10)
        if isinstance(data, pd.DataFrame):
            check_flat(got.params, ref.params, flat_returns)
        else:
            check_polars(got.params, ref.params, data)


def test_custom_key_columns_and_namespace(panel):
    renamed = panel.reset_index().rename(columns={"datetime": "date", "instrument": "ticker"})
    frame = pl.from_pandas(renamed)
    ref = quantreg.rolling_resid(panel, window=20)
    got = quantreg.rolling_resid(frame, window=20, time_col="date", instrument_col="ticker")
    assert got.columns == ["date", "ticker", "residual"]
    compare(got["residual"].fill_null(np.nan).to_numpy(), in_flat_order(ref, panel.reset_index())["residual"])
    # the namespace mirrors the pandas accessor, on DataFrame and LazyFrame
    via_namespace = frame.quantreg.rolling_resid(window=20, time_col="date", instrument_col="ticker")
    assert via_namespace.equals(got)
    assert frame.lazy().quantreg.rolling_ols(window=20, time_col="date", instrument_col="ticker").params.height == len(panel)
    with pytest.warns(quantreg.SkippedPeriodWarning):
        fm = frame.quantreg.fama_macbeth(time_col="date", instrument_col="ticker")
    with pytest.warns(quantreg.SkippedPeriodWarning):
        compare(fm.params, panel.quantreg.fama_macbeth().params)
    sel = frame.quantreg.rolling_select(Lasso(alpha=0.1), window=20, time_col="date", instrument_col="ticker")
    compare(sel.params.drop("date", "ticker").fill_null(np.nan).to_numpy(),
            in_flat_order(panel.quantreg.rolling_select(Lasso(alpha=0.1), window=20).params, panel.reset_index()))
    # on a MultiIndex frame a non-default time_col names the level
    levels = panel.rename_axis(["when", "who"])
    compare(quantreg.rolling_resid(levels, window=20, time_col="when", instrument_col="who"), ref)


def test_polars_nulls_are_missing_rows(panel):
    """polars nulls (in float and integer columns) are missing values, as NaN in pandas."""
    flat = panel.reset_index()
    frame = pl.from_pandas(flat, nan_to_null=True)
    assert frame["y"].null_count() > 0
    ref = quantreg.rolling_ols(panel, window=20)
    check_polars(quantreg.rolling_ols(frame, window=20).params, ref.params, frame)
    ints = frame.with_columns(pl.col("x0").round(0).cast(pl.Int64))
    ref = quantreg.rolling_ols(panel.assign(x0=panel["x0"].round(0)), window=20)
    check_polars(quantreg.rolling_ols(ints, window=20).params, ref.params, ints)


def test_arrow_conversion_shares_numeric_buffers(polars_frame):
    """Numeric polars columns without nulls reach the panel without a copy."""
    dense = polars_frame.with_columns(pl.col("x0").fill_null(0.0), pl.col("y").fill_null(0.0))
    assert dense["x0"].null_count() == 0
    frame, origin, t, i = panel_input(dense)
    assert origin.kind == "polars" and (t, i) == ("datetime", "instrument")
    assert np.shares_memory(frame["x0"].to_numpy(), dense["x0"].to_numpy())
    assert list(frame.index.names) == KEYS and len(frame) == dense.height


# ----------------------------------------------------------------------------- bad input
def test_missing_key_columns(panel, flat, polars_frame):
    with pytest.raises(PanelError, match=r"polars frame has no column\(s\) 'date'.*time_col="):
        quantreg.rolling_ols(polars_frame, window=5, time_col="date")
    with pytest.raises(PanelError, match=r"got a RangeIndex, and the frame has no column\(s\) 'datetime'.*time_col="):
        quantreg.rolling_resid(flat.drop(columns="datetime").reset_index(drop=True), window=5)
    with pytest.raises(PanelError, match=r"polars frame has no column\(s\) 'instrument'"):
        quantreg.fama_macbeth(polars_frame.drop("instrument"))
    with pytest.raises(PanelError, match=r"polars factor table has no time column 'datetime'"):
        quantreg.rolling_ols(polars_frame.select(*KEYS, "y"), factors=pl.DataFrame({"mkt": [1.0]}), window=5)
    with pytest.raises(PanelError, match=r"name the same column 'datetime'"):
        quantreg.rolling_select(polars_frame, Lasso(alpha=0.1), window=5, instrument_col="datetime")
    with pytest.raises(PanelError, match=r"time_col='a' and time_level='b' disagree"):
        quantreg.rolling_ols(panel, window=5, time_col="a", time_level="b")
    with pytest.raises(PanelError, match=r"frame is empty"):
        quantreg.rolling_ols(polars_frame.head(0), window=5)


def test_duplicate_keys(flat, polars_frame):
    with pytest.raises(PanelError, match=r"duplicated \(datetime, instrument\) entries.*df\.unique\("):
        quantreg.rolling_resid(pl.concat([polars_frame, polars_frame.head(1)]), window=5)
    with pytest.raises(PanelError, match=r"duplicated .*drop_duplicates\("):
        quantreg.two_pass(pd.concat([flat, flat.head(1)]), factors=["x0"], window=5)


def test_non_numeric_and_missing_keys(polars_frame, flat):
    with pytest.raises(NonNumericError, match=r"column 'sector' has non-numeric dtype"):
        quantreg.rolling_ols(polars_frame.with_columns(sector=pl.lit("tech")), y="y", x=["x0", "sector"], window=5)
    # an unused non-numeric column is fine
    res = quantreg.rolling_ols(polars_frame.with_columns(sector=pl.lit("tech")), y="y", x=["x0", "x1"], window=5)
    assert res.params.columns == [*KEYS, "const", "x0", "x1"]
    with pytest.raises(PanelError, match=r"level 'instrument' holds missing values"):
        quantreg.rolling_resid(polars_frame.with_columns(pl.when(pl.col("x0") > 1).then(None)
                                                         .otherwise(pl.col("instrument")).alias("instrument")), window=5)
    with pytest.raises(PanelError, match=r"time level 'datetime' has dtype .*not ordered as time"):
        quantreg.rolling_resid(flat.assign(datetime=flat["datetime"].dt.strftime("%m/%d/%Y")), window=5)


@pytest.mark.parametrize("change", [
    lambda f: f.with_columns(pl.col("instrument").cast(pl.Categorical)),
    lambda f: f.with_columns(pl.col("instrument").cast(pl.Enum(sorted(set(f["instrument"])))),
                             pl.col("datetime").cast(pl.Date)),
    lambda f: f.with_columns(pl.col("datetime").dt.replace_time_zone("UTC")),
    lambda f: pl.concat([f.head(60), f.tail(f.height - 60)], rechunk=False),  # two Arrow chunks
], ids=["categorical", "enum-and-date", "tz-aware", "chunked"])
def test_polars_key_dtypes(polars_frame, change):
    """Categorical/Enum instruments, Date and tz-aware times, chunked columns: same residuals,
    and the key columns come back as given."""
    ref = quantreg.rolling_resid(polars_frame, window=12)
    frame = change(polars_frame)
    got = quantreg.rolling_resid(frame, window=12)
    assert got.select(KEYS).equals(frame.select(KEYS))
    compare(got["residual"].fill_null(np.nan).to_numpy(), ref["residual"].fill_null(np.nan).to_numpy())
