"""Returns and a factor table shared by every asset, laid out for the engine: ``rolling_ols(returns, factors=F)``.

The returns come long (a Series or one-column frame on the (datetime, instrument) MultiIndex)
or wide (a frame indexed by datetime, one column per instrument, NaN where an asset has no
row). ``F`` is a frame indexed by datetime, one column per factor. Each return is matched to
the factor row of its datetime: the layout (:class:`quantreg.panel.Layout`) keeps the factor
table as its regressor rows and maps every return to its date's row, so the factors are never
broadcast onto the panel. Results equal ``rolling_ols`` on the broadcast panel.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from quantreg.calendar import datetime_ns, time_axis
from quantreg.exceptions import MissingColumnError, MissingValueError, NonNumericError, PanelError
from quantreg.panel import (
    NO_ROWS,
    Layout,
    WideLayout,
    column_as_float,
    readable_values,
    resolve_levels,
    sort_order,
)

__all__ = ["check_factor_table", "factor_layout"]



def _check_labels(frame: pd.DataFrame, what: str, columns: str) -> None:
    """Errors for missing or duplicated dates and duplicated columns of a date-indexed frame."""
    if frame.index.hasnans:
        raise PanelError(f"{what}'s index holds missing dates (NaT); drop those rows.")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()].unique()[:5].tolist()
        raise PanelError(
            f"{what} has duplicated dates, first {dup}: one row per date is needed; drop or "
            "aggregate them, e.g. frame[~frame.index.duplicated(keep='last')]."
        )
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise PanelError(f"{what} has duplicated {columns} {dup}; rename or drop them.")


def check_factor_table(factors: object) -> pd.DataFrame:
    """Validate ``factors=`` and return it sorted by time."""
    if not isinstance(factors, pd.DataFrame):
        if isinstance(factors, pd.Series):
            factors = factors.to_frame()
        else:
            raise PanelError(
                f"factors must be a DataFrame indexed by datetime with one column per factor; got {type(factors).__name__}."
            )
    if isinstance(factors.index, pd.MultiIndex) or not pd.api.types.is_datetime64_any_dtype(factors.index.dtype):
        raise PanelError(
            f"the factor table must be indexed by datetime (one row per date); its index has dtype "
            f"{factors.index.dtype}. Use F.set_index('date') or F.index = pd.to_datetime(F.index)."
        )
    if factors.shape[1] == 0:
        raise PanelError("the factor table has no columns: give one column per factor.")
    _check_labels(factors, "the factor table", "column labels")
    for name in factors.columns:
        column_as_float(factors, name)  # errors for non-numeric and infinite values
    return factors if factors.index.is_monotonic_increasing else factors.sort_index()


def _align(factors: pd.DataFrame, dates: pd.Index, missing: str | None) -> np.ndarray:
    """The factor rows of ``dates`` (sorted, unique), NaN rows for absent dates with
    ``missing="drop"`` given explicitly; otherwise an error naming the first absent dates (a
    factor table that does not cover the returns is usually a mistake)."""
    if dates.tz is None and factors.index.tz is not None or dates.tz is not None and factors.index.tz is None:
        raise PanelError(
            f"the returns' dates are {'tz-naive' if dates.tz is None else 'tz-aware'} and the factor "
            "table's are not: localise or convert one of them (tz_localize / tz_convert)."
        )
    where = factors.index.get_indexer(dates)
    absent = where < 0
    if absent.any() and missing != "drop":
        first = [str(d) for d in dates[absent][:5]]
        raise PanelError(
            f"{int(absent.sum())} date(s) of the returns are not in the factor table, first {first}; "
            "extend the factor table, drop those returns, or pass missing='drop' to treat those "
            "rows as missing."
        )
    values = np.column_stack([column_as_float(factors, name) for name in factors.columns])
    out = values[np.where(absent, 0, where)]
    out[absent] = np.nan
    if missing == "raise":
        nan_rows = np.isnan(out).any(axis=1)
        if nan_rows.any():
            column = factors.columns[int(np.argmax(np.isnan(out[nan_rows][0])))]
            raise MissingValueError(
                f"the factor table holds missing values on {int(nan_rows.sum())} date(s) of the "
                f"returns, first {dates[int(np.argmax(nan_rows))]} (column {column!r}), and "
                "missing='raise'; fill or drop them, or use missing='drop' or 'skip'."
            )
    return np.ascontiguousarray(out)


def _long_layout(
    returns: pd.Series | pd.DataFrame, y: Hashable | None, factors: pd.DataFrame, missing: str | None,
    time_level: Hashable | None, instrument_level: Hashable | None, calendar: bool,
) -> Layout:
    """Long returns (Series or frame on the (datetime, instrument) MultiIndex)."""
    if isinstance(returns, pd.Series):
        y_name = returns.name if returns.name is not None else "y"
        frame = returns.to_frame(name=y_name)
    else:
        if returns.shape[1] != 1 and y is None:
            raise PanelError(
                f"with factors=, the returns are one column; this frame has {returns.shape[1]} "
                f"({list(returns.columns)[:5]}): pass y= to choose it, or a Series."
            )
        y_name = returns.columns[0] if y is None else y
        frame = returns
        if y_name not in frame.columns:
            raise MissingColumnError(f"column {y_name!r} not found; available columns: {list(frame.columns)}.")
    if frame.shape[0] == 0:
        raise PanelError("the returns are empty: there are no rows to regress.")
    index = frame.index
    time_pos, inst_pos = resolve_levels(index, time_level, instrument_level)
    level = index.levels[time_pos]
    if not pd.api.types.is_datetime64_any_dtype(level.dtype):
        raise PanelError(
            f"factors are matched to the returns by datetime, but the time level {index.names[time_pos]!r} "
            f"has dtype {level.dtype}; convert it with pd.to_datetime."
        )
    yv = column_as_float(frame, y_name)
    if missing == "raise" and np.isnan(yv).any():
        raise MissingValueError(
            f"the returns hold {int(np.isnan(yv).sum())} missing value(s) and missing='raise'; "
            "drop them, or use missing='drop' or 'skip'."
        )
    rows, offsets, _ = sort_order(index, time_pos, inst_pos)  # None: already in walk order
    date_code = np.asarray(index.codes[time_pos])
    used = np.flatnonzero(np.bincount(date_code, minlength=len(level)) > 0)
    order = np.argsort(level[used], kind="stable")
    dates = level[used[order]]
    fmap = np.full(len(level), -1, dtype=np.int64)
    fmap[used[order]] = np.arange(len(dates))
    xrow = fmap[date_code if rows is None else date_code[rows]]
    times, unit = time_axis(datetime_ns(dates)) if calendar else (NO_ROWS, 1)
    return Layout(
        x=_align(factors, dates, missing), y=readable_values(yv) if rows is None else yv[rows], offsets=offsets, xrow=xrow,
        dest=NO_ROWS if rows is None else rows, pdest=NO_ROWS,
        times=times[xrow] if calendar else NO_ROWS, unit=unit, n_out=len(frame), index=index,
        x_names=list(factors.columns), y_name=y_name,
    )


def _wide_layout(returns: pd.DataFrame, factors: pd.DataFrame, missing: str | None, calendar: bool) -> Layout:
    """A wide frame of returns (datetime index, one column per instrument; NaN: no row)."""
    if not pd.api.types.is_datetime64_any_dtype(returns.index.dtype):
        raise PanelError(
            f"a wide frame of returns needs a datetime index (one row per date, one column per "
            f"instrument); its index has dtype {returns.index.dtype}. For a long panel use a "
            "(datetime, instrument) MultiIndex."
        )
    if returns.shape[0] == 0 or returns.shape[1] == 0:
        raise PanelError("the returns are empty: there are no rows to regress.")
    _check_labels(returns, "the wide frame", "instruments (columns)")
    bad = [c for c, t in returns.dtypes.items() if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))
           or pd.api.types.is_complex_dtype(t)]
    if bad:
        raise NonNumericError(
            f"the wide frame has non-numeric column(s) {bad[:5]} (dtypes {[str(returns[c].dtype) for c in bad[:5]]}); "
            "every column must be an instrument's returns: convert with pd.to_numeric or drop them."
        )
    values = returns.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise PanelError(
            "the wide frame holds infinite values; replace them (e.g. Y.replace([np.inf, -np.inf], np.nan))."
        )
    n_dates, n_cols = values.shape
    mask = ~np.isnan(values)
    date_order = np.argsort(datetime_ns(returns.index), kind="stable").astype(np.int64)
    dates = returns.index[date_order]
    fmap = np.empty(n_dates, dtype=np.int64)  # matrix row -> row of the (time-ordered) factor table
    fmap[date_order] = np.arange(n_dates)
    cols, pos = np.nonzero(mask[date_order].T)  # asset by asset, its cells in time order
    rows = date_order[pos]
    cells = rows * n_cols + cols
    rank = np.cumsum(mask.ravel()) - 1  # a cell's long row (row-major: Y.stack() order)
    offsets = np.concatenate([[0], np.cumsum(mask.sum(axis=0))]).astype(np.int64)
    xrow = fmap[rows]
    times, unit = time_axis(datetime_ns(dates)) if calendar else (NO_ROWS, 1)
    wide = WideLayout(returns.index, returns.columns, np.flatnonzero(mask.ravel()))
    return Layout(
        x=_align(factors, dates, missing), y=values[rows, cols], offsets=offsets, xrow=xrow,
        dest=cells.astype(np.int64), pdest=rank[cells].astype(np.int64),
        times=times[xrow] if calendar else NO_ROWS, unit=unit, n_out=n_dates * n_cols,
        index=returns.index, x_names=list(factors.columns), y_name=returns.columns.name, wide=wide,
    )


def factor_layout(
    returns: pd.Series | pd.DataFrame,
    factors: pd.DataFrame,
    *,
    y: Hashable | None = None,
    missing: str | None = None,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    calendar: bool = False,
) -> Layout:
    """The layout of returns (long or wide) regressed on a factor table shared by all assets.

    ``missing`` as given by the caller (None: not given): a date of the returns absent from
    the factor table is an error unless ``missing="drop"`` was given explicitly.
    """
    factors = check_factor_table(factors)
    if isinstance(returns, pd.DataFrame) and not isinstance(returns.index, pd.MultiIndex):
        if y is not None or time_level is not None or instrument_level is not None:
            raise PanelError("y=, time_level= and instrument_level= do not apply to a wide frame of returns.")
        return _wide_layout(returns, factors, missing, calendar)
    if not isinstance(returns, (pd.Series, pd.DataFrame)):
        raise PanelError(
            f"the returns must be a Series or DataFrame (long on a (datetime, instrument) MultiIndex, "
            f"or wide: dates × instruments); got {type(returns).__name__}."
        )
    return _long_layout(returns, y, factors, missing, time_level, instrument_level, calendar)
