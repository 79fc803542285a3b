"""Bad input gets a clear error naming the problem and the fix (quantreg.panel, quantreg.rolling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantreg
from quantreg.exceptions import MissingColumnError, MissingValueError, NonNumericError, PanelError
from references import make_test_panel


@pytest.fixture
def df() -> pd.DataFrame:
    return make_test_panel(2, 20, 2, seed=1)


def test_not_a_multiindex(df):
    with pytest.raises(PanelError, match=r"two-level MultiIndex .* got a DatetimeIndex.*set_index"):
        quantreg.rolling_ols(df.reset_index(level="instrument"), window=5)
    with pytest.raises(PanelError, match=r"got a MultiIndex with 3 levels"):
        quantreg.rolling_ols(df.assign(z=1).set_index("z", append=True), window=5)


def test_not_a_dataframe(df):
    with pytest.raises(PanelError, match=r"expected a pandas DataFrame .* got Series.*to_frame"):
        quantreg.rolling_ols(df["y"], window=5)


def test_level_names_that_cannot_be_resolved(df):
    no_time = df.copy()
    no_time.index = no_time.index.set_levels(no_time.index.levels[0].astype(str), level=0)
    no_time = no_time.rename_axis(["a", "b"])
    with pytest.raises(PanelError, match=r"cannot tell which index level is time.*time_level="):
        quantreg.rolling_ols(no_time, window=5)
    with pytest.raises(PanelError, match=r"time level 'when' is not in the index levels"):
        quantreg.rolling_ols(df, window=5, time_level="when")
    with pytest.raises(PanelError, match=r"name the same index level"):
        quantreg.rolling_ols(df, window=5, time_level="datetime", instrument_level="datetime")


def test_duplicated_entries(df):
    dup = pd.concat([df, df.iloc[[3]]])
    with pytest.raises(PanelError, match=r"duplicated \(datetime, instrument\) entries, first .*duplicated\(keep='last'\)"):
        quantreg.rolling_ols(dup, window=5)
    shuffled = dup.sample(frac=1.0, random_state=0)
    with pytest.raises(PanelError, match=r"duplicated \(datetime, instrument\) entries"):
        quantreg.rolling_ols(shuffled, window=5)


def test_non_numeric_column(df):
    bad = df.assign(x1=df["x1"].astype(str))
    with pytest.raises(NonNumericError, match=r"column 'x1' has non-numeric dtype .*pd.to_numeric"):
        quantreg.rolling_ols(bad, window=5)
    with pytest.raises(TypeError):  # also a TypeError, as pandas users expect
        quantreg.rolling_ols(bad, window=5)
    # a non-numeric column that is not used is fine
    assert quantreg.rolling_ols(df.assign(name="a"), y="y", x=["x0", "x1"], window=5).params.shape[1] == 3


def test_infinite_values(df):
    bad = df.copy()
    bad.iloc[4, 0] = np.inf
    with pytest.raises(PanelError, match=r"column 'x0' holds 1 infinite value\(s\), first at .*replace"):
        quantreg.rolling_ols(bad, window=5)


def test_window_smaller_than_the_number_of_regressors(df):
    with pytest.raises(ValueError, match=r"window \(2\) is smaller than the number of regressors \(3, including the constant\)"):
        quantreg.rolling_ols(df, window=2)
    with pytest.raises(ValueError, match=r"window \(1\) is smaller than the number of regressors \(2\)"):
        quantreg.rolling_ols(df, window=1, add_constant=False)


def test_bad_option_values(df):
    with pytest.raises(ValueError, match=r"The 'window' parameter must be an int in the range \[1, inf\). Got 0"):
        quantreg.rolling_ols(df, window=0)
    with pytest.raises(ValueError, match=r"window='1M' is not a fixed time length"):
        quantreg.rolling_ols(df, window="1M")
    with pytest.raises(ValueError, match=r"window is required unless expanding=True"):
        quantreg.rolling_ols(df)
    with pytest.raises(ValueError, match=r"min_nobs \(2\) must be at least the number of regressors \(3\) and at most window \(5\)"):
        quantreg.rolling_ols(df, window=5, min_nobs=2)
    with pytest.raises(ValueError, match=r"min_nobs \(6\) must be"):
        quantreg.rolling_ols(df, window=5, min_nobs=6)
    with pytest.raises(ValueError, match=r"The 'missing' parameter must be one of \['drop', 'skip', 'raise'\]. Got 'none'"):
        quantreg.rolling_ols(df, window=5, missing="none")
    with pytest.raises(ValueError, match=r"The 'residual' parameter must be one of"):
        quantreg.rolling_ols(df, window=5, residual="oos")
    with pytest.raises(ValueError, match=r"The 'halflife' parameter must be a positive finite number"):
        quantreg.rolling_ols(df, window=5, halflife=0)


def test_missing_columns(df):
    with pytest.raises(MissingColumnError, match=r"column\(s\) \['ret'\] not found .*available columns: \['x0', 'x1', 'y'\]"):
        quantreg.rolling_ols(df, y="ret", window=5)
    with pytest.raises(KeyError, match=r"\['beta'\] not found"):
        quantreg.rolling_ols(df, x=["x0", "beta"], window=5)
    with pytest.raises(PanelError, match=r"column 'y' is both the regressand \(y\) and a regressor"):
        quantreg.rolling_ols(df, x=["x0", "y"], window=5)


def test_empty_frame(df):
    with pytest.raises(PanelError, match=r"the frame is empty"):
        quantreg.rolling_ols(df.iloc[:0], window=5)


def test_missing_raise(df):
    bad = df.copy()
    bad.iloc[6, 2] = np.nan
    with pytest.raises(MissingValueError, match=r"column 'y' holds 1 missing value\(s\), first at .*missing='raise'"):
        quantreg.rolling_ols(bad, window=5, missing="raise")
    quantreg.rolling_ols(df, window=5, missing="raise")  # no NaN: fine


def test_missing_index_values(df):
    bad = df.reset_index()
    bad.loc[3, "instrument"] = None
    bad = bad.set_index(["datetime", "instrument"])
    with pytest.raises(PanelError, match=r"index level 'instrument' holds missing values"):
        quantreg.rolling_ols(bad, window=5)


def test_constant_column_duplicating_the_intercept(df):
    with pytest.warns(
        quantreg.RankDeficientWindowWarning,
        match=r"23 of 31 windows are rank deficient.*Regressor\(s\) \['one'\] are constant in every row .*add_constant=False",
    ):
        res = quantreg.rolling_ols(df.assign(one=1.0)[["one", "x0", "y"]], window=5)
    assert res.params.isna().all().all() and (res.status.isin(["rank_deficient", "warmup"])).all()
    with_const = quantreg.rolling_ols(df.assign(one=1.0)[["one", "x0", "y"]], window=5, add_constant=False)
    plain = quantreg.rolling_ols(df[["x0", "y"]], window=5)
    np.testing.assert_allclose(with_const.params.to_numpy(), plain.params.to_numpy(), rtol=1e-10, equal_nan=True)


def test_no_regressors(df):
    with pytest.raises(PanelError, match=r"there are no regressors"):
        quantreg.rolling_ols(df[["y"]], window=5, add_constant=False)
    mean_only = quantreg.rolling_ols(df[["y"]], window=5)  # intercept only: the rolling mean
    expected = df["y"].groupby(level="instrument").transform(lambda s: s.rolling(5).mean())
    np.testing.assert_allclose(mean_only.params["const"], expected, rtol=1e-12)


def test_duplicated_column_labels(df):
    bad = df.copy()
    bad.columns = ["x0", "x0", "y"]
    with pytest.raises(PanelError, match=r"duplicated column labels \['x0'\]"):
        quantreg.rolling_ols(bad, window=5)


def test_nullable_and_integer_dtypes_are_accepted(df):
    nullable = df.astype({"x0": "Float64"})
    nullable.iloc[2, 0] = pd.NA
    ints = df.assign(x1=(df["x1"] * 10).round().astype("int64"))
    for frame in (nullable, ints):
        res = quantreg.rolling_ols(frame, window=6)
        assert res.params.notna().any().all()


# --- data integrity at the edges: never reinterpret, every parameter checked ----------------
def test_time_level_that_is_not_ordered_as_time_is_refused(df):
    as_text = df.copy()
    as_text.index = as_text.index.set_levels(
        as_text.index.levels[0].strftime("%m/%d/%Y"), level="datetime"
    )  # what read_csv gives without parse_dates: '01/10/2020' sorts before '01/02/2020'
    with pytest.raises(PanelError, match=r"time level 'datetime' has dtype (object|str) .*not ordered as time.*pd.to_datetime"):
        quantreg.rolling_ols(as_text, window=5)
    with pytest.raises(PanelError, match=r"not ordered as time"):
        quantreg.fama_macbeth(as_text)
    categorical = df.copy()
    dates = categorical.index.levels[0]
    categorical.index = categorical.index.set_levels(
        pd.CategoricalIndex(dates, categories=dates[::-1]), level="datetime"
    )
    with pytest.raises(PanelError, match=r"time level 'datetime' is categorical: its order is the categories' order"):
        quantreg.rolling_resid(categorical, window=5)


def test_period_and_numeric_time_levels_are_ordered_as_time(df):
    expected = quantreg.rolling_resid(df, window=5)
    periods = df.copy()
    periods.index = periods.index.set_levels(periods.index.levels[0].to_period("D"), level="datetime")
    pd.testing.assert_series_equal(quantreg.rolling_resid(periods, window=5).reset_index(drop=True),
                                   expected.reset_index(drop=True), check_exact=True)


def test_frame_without_columns(df):
    with pytest.raises(PanelError, match=r"the frame has no columns"):
        quantreg.rolling_ols(df[[]], window=5)


@pytest.mark.parametrize("name", ["add_constant", "expanding"])
@pytest.mark.parametrize("value", ["no", 1, None])
def test_boolean_options_must_be_bools(df, name, value):
    with pytest.raises(ValueError, match=rf"The '{name}' parameter must be a bool \(True or False\). Got {value!r}"):
        quantreg.rolling_ols(df, window=5, **{name: value})
    with pytest.raises(ValueError, match=rf"The '{name}' parameter must be a bool"):
        quantreg.rolling_resid(df, window=5, **{name: value})


def test_window_beyond_int64_and_windows_longer_than_every_instrument(df):
    with pytest.raises(ValueError, match=r"The 'window' parameter must be an int in the range \[1, inf\) \(at most 9223372036854775807 rows\). Got 100000000000000000000"):
        quantreg.rolling_ols(df, window=10**20)
    with pytest.raises(ValueError, match=r"The 'min_nobs' parameter must be an int in the range \[1, inf\)"):
        quantreg.rolling_ols(df, window="5D", min_nobs=10**20)
    longest = quantreg.rolling_ols(df, window=2**62)  # no full window anywhere: all warm-up
    assert (longest.status == "warmup").all() and longest.params.isna().all().all()
    grown = quantreg.rolling_ols(df, window=2**62, expanding=True)
    expanding = quantreg.rolling_ols(df, expanding=True)
    pd.testing.assert_frame_equal(grown.params, expanding.params)


def test_numpy_timedelta_window_is_a_calendar_window(df):
    got = quantreg.rolling_resid(df, window=np.timedelta64(5, "D"))
    pd.testing.assert_series_equal(got, quantreg.rolling_resid(df, window="5D"))


@given(n_groups=st.integers(1, 6), n_blocks=st.integers(1, 6), swap=st.booleans(), drop=st.booleans(),
       by_code=st.booleans())
@settings(max_examples=80, deadline=None)
def test_grouping_equals_the_stable_sort(n_groups, n_blocks, swap, drop, by_code):
    """Rows grouped without a sort — already in code order (None), or a grid (a balanced panel
    sorted by date, grouped by instrument: the grid's transpose) — get exactly the stable sort's
    permutation and offsets; any other layout (a swapped pair, a missing row) is sorted."""
    from quantreg.panel import group_rows

    codes = np.repeat(np.arange(n_groups), n_blocks) if by_code else np.tile(np.arange(n_groups), n_blocks)
    if swap and n_groups > 1:
        codes[[0, n_blocks if by_code else 1]] = codes[[n_blocks if by_code else 1, 0]]
    if drop:
        codes = codes[1:]
    codes = codes.astype(np.int8)
    order, offsets, _ = group_rows(codes, n_groups)
    perm = np.arange(codes.shape[0]) if order is None else order
    np.testing.assert_array_equal(perm, np.argsort(codes, kind="stable"))
    np.testing.assert_array_equal(offsets, np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_groups))]))
    assert offsets.dtype == np.int64 and (order is None or order.dtype == np.int64)
    if by_code and not (swap and n_groups > 1):
        assert order is None  # already grouped: nothing sorted, nothing copied
    if not by_code and not swap and not drop and n_groups > 1 and n_blocks > 1:
        assert order is not None and order.reshape(n_groups, n_blocks)[:, 0].tolist() == list(range(n_groups))


@given(n_inst=st.integers(1, 5), n_dates=st.integers(1, 6), change=st.sampled_from(
    ["none", "repeat_date", "swap_dates", "swap_rows", "unsorted_level"]))
@settings(max_examples=80, deadline=None)
def test_sort_order_of_a_grid_equals_the_lexsort(n_inst, n_dates, change):
    """A balanced panel sorted by (datetime, instrument) is grouped by its transpose without
    looking at the keys row by row; the permutation is the (instrument, time) lexsort's, and a
    grid whose dates repeat or go backwards is not taken for one: duplicates are refused and
    dates out of order are sorted."""
    from quantreg.panel import sort_order

    dates = pd.date_range("2021-01-01", periods=n_dates)
    if change == "unsorted_level":  # the time level's values not in order: keys are ranks
        dates = dates[::-1]
    time_codes = np.repeat(np.arange(n_dates), n_inst)
    inst_codes = np.tile(np.arange(n_inst), n_dates)
    if change == "repeat_date" and n_dates > 1:
        time_codes[n_inst:2 * n_inst] = 0
    if change == "swap_dates" and n_dates > 1:
        time_codes[:n_inst], time_codes[n_inst:2 * n_inst] = 1, 0
    if change == "swap_rows" and n_inst > 1:
        inst_codes[[0, 1]] = inst_codes[[1, 0]]
    index = pd.MultiIndex(levels=[dates, [f"A{i}" for i in range(n_inst)]], codes=[time_codes, inst_codes],
                          names=["datetime", "instrument"])
    times = dates.asi8[time_codes]
    if index.duplicated().any():
        with pytest.raises(PanelError, match="duplicated"):
            sort_order(index, 0, 1)
        return
    order, offsets, _ = sort_order(index, 0, 1)
    perm = np.arange(len(index)) if order is None else order
    np.testing.assert_array_equal(perm, np.lexsort((times, inst_codes)))
    np.testing.assert_array_equal(offsets, np.arange(n_inst + 1) * n_dates)


def test_balanced_and_shuffled_panels_give_the_same_fit():
    """The grid path (rows sorted by date, every instrument each date) and the sorted path
    (the same rows shuffled) give identical residuals, on the caller's rows."""
    df = make_test_panel(4, 30, 2, seed=3)
    grid = df.sort_index(level=["datetime", "instrument"])
    shuffled = grid.sample(frac=1.0, random_state=0)
    a = quantreg.rolling_resid(grid, window=8)
    b = quantreg.rolling_resid(shuffled, window=8)
    pd.testing.assert_series_equal(a.loc[shuffled.index], b)
