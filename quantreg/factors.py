"""Rolling regressions of every asset on one shared factor table: ``rolling_ols(returns, factors=F)``.

The returns come long (a Series or one-column frame on the (datetime, instrument) MultiIndex)
or wide (a frame indexed by datetime, one column per instrument, NaN where an asset has no
row). ``F`` is a frame indexed by datetime, one column per factor. Each return is matched to
the factor row of its datetime; the factors are never broadcast onto the panel, and the factor
cross-products of every window's date range are factorised once for all assets (see
:mod:`quantreg._kernels.factor_rolling`). Results equal ``rolling_ols`` on the broadcast panel.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from quantreg._kernels.factor_rolling import factor_ols_kernel
from quantreg._kernels.shared_factors import empty_tables, shared_tables_kernel
from quantreg._kernels.sandwich import NONROBUST
from quantreg._parallel import run_segments
from quantreg.calendar import datetime_ns, time_axis
from quantreg.exceptions import MissingColumnError, MissingValueError, NonNumericError, PanelError
from quantreg.inference import CovSpec, covariance_spec
from quantreg.panel import Panel, column_as_float, resolve_levels, sort_order
from quantreg.results import KernelOutput, RollingOLSResult, WideLayout
from quantreg.rolling import (
    MISSING_OPTIONS,
    RESIDUAL_OPTIONS,
    Windowing,
    _run_kernel,
    check_choice,
    check_options,
    new_output,
    warn_degenerate_windows,
)

__all__ = ["factor_rolling_ols", "factor_rolling_resid"]

_NO_ROWS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class FactorPanel:
    """Returns and a factor table laid out for :func:`~quantreg._kernels.factor_rolling.factor_ols_kernel`.

    ``factors`` (dates × k, time order) and ``times`` (their int64 multiples of ``unit`` ns);
    ``y``: the returns' values in place (long: caller order; wide: the matrix's memory, cell
    ``(d, j)`` at ``d·row_stride + j·col_stride``); ``offsets``: rows per asset; long:
    ``perm`` (asset-major position → caller row), ``date_code`` (the index's time codes) and
    ``fmap`` (time code → factor row); wide: ``date_order`` (matrix rows in time order),
    ``fmap`` (matrix row → factor row), ``frame`` (the returns). ``index``: the long
    (datetime, instrument) index of the result (wide: built on demand).
    """

    factors: np.ndarray
    times: np.ndarray
    unit: int
    y: np.ndarray
    offsets: np.ndarray
    perm: np.ndarray
    date_code: np.ndarray
    fmap: np.ndarray
    row_stride: int
    col_stride: int
    date_order: np.ndarray
    long_index: pd.MultiIndex | None
    x_names: list[Hashable]
    y_name: Hashable
    time_pos: int
    frame: pd.DataFrame | None

    @property
    def is_wide(self) -> bool:
        return self.frame is not None

    @cached_property
    def _wide_mask(self) -> np.ndarray:
        return self.frame.notna().to_numpy()

    @cached_property
    def wide(self) -> WideLayout | None:
        """Where the long rows (row-major non-NaN cells) sit in the wide frame."""
        if self.frame is None:
            return None
        return WideLayout(self.frame.index, self.frame.columns, np.flatnonzero(self._wide_mask))

    @cached_property
    def index(self) -> pd.MultiIndex:
        if self.frame is None:
            return self.long_index
        rows, cols = np.divmod(self.wide.cells, len(self.frame.columns))
        names = [self.frame.index.name or "datetime", self.frame.columns.name or "instrument"]
        return pd.MultiIndex(levels=[self.frame.index, self.frame.columns], codes=[rows, cols],
                             names=names, verify_integrity=False)

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def x(self) -> np.ndarray:
        """The factor table (what the kernels address as regressors)."""
        return self.factors

    def asset_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(factor_row, caller_row, position)`` of every row in asset-major order: its factor
        row, its row in the long result (the frame's row, or the rank of a wide frame's cell in
        row-major order) and the position of its return in ``y``."""
        if self.frame is None:
            return self.fmap[self.date_code[self.perm]], self.perm, self.perm
        mask = self._wide_mask
        cols, pos = np.nonzero(mask[self.date_order].T)
        rows = self.date_order[pos]
        rank = np.cumsum(mask.ravel()) - 1
        return self.fmap[rows], rank[rows * mask.shape[1] + cols], rows * self.row_stride + cols * self.col_stride

    def to_panel(self) -> Panel:
        """The broadcast panel in kernel layout (materialises ``n × k`` regressors)."""
        frow, caller, position = self.asset_rows()
        return Panel(
            x=np.ascontiguousarray(self.factors[frow]),
            y=self.y[position],
            offsets=self.offsets,
            perm=caller,
            index=self.index,
            x_names=self.x_names,
            y_name=self.y_name,
            time_pos=self.time_pos,
        )


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


def prepare_long(
    returns: pd.Series | pd.DataFrame, y: Hashable | None, factors: pd.DataFrame, missing: str,
    time_level: Hashable | None, instrument_level: Hashable | None,
) -> FactorPanel:
    """Lay out long returns (Series or frame on the (datetime, instrument) MultiIndex)."""
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
    if missing == "raise" and np.isnan(yv).any():  # (missing as given: None means "drop")
        raise MissingValueError(
            f"the returns hold {int(np.isnan(yv).sum())} missing value(s) and missing='raise'; "
            "drop them, or use missing='drop' or 'skip'."
        )
    perm, offsets, _ = sort_order(index, time_pos, inst_pos, compact=True)
    date_code = np.asarray(index.codes[time_pos])
    used = np.flatnonzero(np.bincount(date_code, minlength=len(level)) > 0)
    order = np.argsort(level[used], kind="stable")
    dates = level[used[order]]
    fmap = np.full(len(level), -1, dtype=np.int64)
    fmap[used[order]] = np.arange(len(dates))
    times, unit = time_axis(datetime_ns(dates))
    return FactorPanel(
        factors=_align(factors, dates, missing), times=times, unit=unit, y=yv, offsets=offsets,
        perm=perm, date_code=date_code, fmap=fmap, row_stride=0, col_stride=0, date_order=_NO_ROWS,
        long_index=index, x_names=list(factors.columns), y_name=y_name, time_pos=time_pos, frame=None,
    )


def prepare_wide(returns: pd.DataFrame, factors: pd.DataFrame, missing: str) -> FactorPanel:
    """Lay out a wide frame of returns (datetime index, one column per instrument)."""
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
    values = returns.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas' own memory when float64
    if np.isinf(values).any():
        raise PanelError(
            "the wide frame holds infinite values; replace them (e.g. Y.replace([np.inf, -np.inf], np.nan))."
        )
    n_dates, n_cols = values.shape
    if values.flags.f_contiguous:
        flat, row_stride, col_stride = values.ravel(order="F"), 1, n_dates
    else:
        values = np.ascontiguousarray(values)
        flat, row_stride, col_stride = values.ravel(), n_cols, 1
    date_order = np.argsort(datetime_ns(returns.index), kind="stable").astype(np.int64)
    dates = returns.index[date_order]
    fmap = np.empty(n_dates, dtype=np.int64)
    fmap[date_order] = np.arange(n_dates)
    offsets = np.concatenate([[0], np.cumsum(n_dates - np.isnan(values).sum(axis=0))]).astype(np.int64)
    times, unit = time_axis(datetime_ns(dates))
    return FactorPanel(
        factors=_align(factors, dates, missing), times=times, unit=unit, y=flat, offsets=offsets,
        perm=_NO_ROWS, date_code=_NO_ROWS, fmap=fmap, row_stride=row_stride, col_stride=col_stride,
        date_order=date_order, long_index=None, x_names=list(factors.columns),
        y_name=returns.columns.name, time_pos=0, frame=returns,
    )


def _prepare(returns, y, factors, missing, time_level, instrument_level) -> FactorPanel:
    """``missing`` as given by the caller (None: not given)."""
    factors = check_factor_table(factors)
    if isinstance(returns, pd.DataFrame) and not isinstance(returns.index, pd.MultiIndex):
        if y is not None or time_level is not None or instrument_level is not None:
            raise PanelError("y=, time_level= and instrument_level= do not apply to a wide frame of returns.")
        return prepare_wide(returns, factors, missing)
    if not isinstance(returns, (pd.Series, pd.DataFrame)):
        raise PanelError(
            f"the returns must be a Series or DataFrame (long on a (datetime, instrument) MultiIndex, "
            f"or wide: dates × instruments); got {type(returns).__name__}."
        )
    return prepare_long(returns, y, factors, missing, time_level, instrument_level)


def _run(fp: FactorPanel, windowing: Windowing, add_constant: bool, missing: str, residual: str,
         full: bool, cov: CovSpec) -> KernelOutput:
    """Run the shared-factor kernel; outputs in the layout of :func:`factor_ols_kernel`."""
    k = fp.factors.shape[1]
    n_cells = fp.y.shape[0]
    out = new_output(fp.n_rows, k + int(add_constant), full, n_scalar=n_cells)
    if fp.is_wide:  # cells without a row
        out.resid[:] = np.nan
        out.status[:] = -1
        if full:
            out.fitted[:] = np.nan
            out.nobs[:] = 0
    if cov.code == NONROBUST:
        build = shared_tables_kernel(k)
        shared = build(fp.factors, fp.times, windowing.rows, windowing.span, windowing.lam, add_constant, full)
    else:
        shared = empty_tables(k)
    opts = windowing.kernel_options(missing, add_constant, residual, full, cov)
    kernel = factor_ols_kernel(k)

    def run(first: int, last: int) -> None:
        kernel(
            fp.factors, fp.times, fp.y, fp.offsets, fp.perm, fp.date_code, fp.fmap, fp.row_stride,
            fp.col_stride, fp.date_order, first, last, opts, cov.kernel_weights, shared, tuple(out),
        )

    run_segments(run, fp.offsets)
    return out


def _windowing(fp, window, min_nobs, add_constant, expanding, halflife) -> Windowing:
    return check_options(fp, window, min_nobs, add_constant, expanding, halflife, times=(fp.times, fp.unit))


def factor_rolling_resid(
    returns, factors, window, *, y=None, min_nobs=None, add_constant=True, expanding=False,
    missing=None, residual="in_sample", halflife=None, time_level=None, instrument_level=None,
) -> pd.Series | pd.DataFrame:
    """:func:`quantreg.rolling_resid` with ``factors=`` (see :func:`quantreg.rolling_ols`)."""
    given = missing
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    residual = check_choice("residual", residual, RESIDUAL_OPTIONS)
    fp = _prepare(returns, y, factors, given, time_level, instrument_level)
    windowing = _windowing(fp, window, min_nobs, add_constant, expanding, halflife)
    cov = covariance_spec("nonrobust", None, windowing.spec.rows, None)
    out = _run(fp, windowing, add_constant, missing, residual, False, cov)
    status = out.status[out.status >= 0] if fp.is_wide else out.status
    warn_degenerate_windows(status, fp, add_constant, stacklevel=4)
    if not fp.is_wide:
        return pd.Series(out.resid, index=fp.index, name="residual", copy=False)
    shape = fp.frame.shape
    resid = out.resid.reshape(shape, order="F" if fp.row_stride == 1 else "C")
    return pd.DataFrame(resid, index=fp.frame.index, columns=fp.frame.columns, copy=False)


def factor_rolling_ols(
    returns, factors, window, *, y=None, min_nobs=None, add_constant=True, expanding=False,
    missing=None, residual="in_sample", halflife=None, cov_type="nonrobust",
    cov_kwds: Mapping[str, object] | None = None, use_t=None, time_level=None, instrument_level=None,
) -> RollingOLSResult:
    """:func:`quantreg.rolling_ols` with ``factors=`` (see there)."""
    given = missing
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    residual = check_choice("residual", residual, RESIDUAL_OPTIONS)
    fp = _prepare(returns, y, factors, given, time_level, instrument_level)
    windowing = _windowing(fp, window, min_nobs, add_constant, expanding, halflife)
    cov = covariance_spec(cov_type, cov_kwds, windowing.spec.rows, use_t, windowing.rows)
    if cov.code != NONROBUST:
        # robust sandwiches read every row of every window: run on the broadcast layout
        panel_rows = fp.asset_rows()
        panel = fp.to_panel()
        if windowing.spec.calendar:  # the sorted rows' times, in the factor table's unit
            windowing = replace(windowing, times=np.ascontiguousarray(fp.times[panel_rows[0]]))
        output = _run_kernel(panel, windowing, add_constant, missing, residual, True, cov)
        sorted_panel = None
    else:
        output = _run(fp, windowing, add_constant, missing, residual, True, cov)
        panel, sorted_panel = _result_panel(fp), fp.to_panel
        if fp.is_wide:  # per-row scalars from the matrix cells to asset-major rows
            _, caller, cells = fp.asset_rows()
            output = output._replace(
                resid=output.resid[cells], fitted=output.fitted[cells], nobs=output.nobs[cells],
                status=output.status[cells],
            )
            panel = Panel(
                x=fp.factors, y=fp.y[cells], offsets=fp.offsets, perm=caller, index=fp.index,
                x_names=fp.x_names, y_name=fp.y_name, time_pos=0,
            )
    warn_degenerate_windows(output.status, panel, add_constant, stacklevel=3)
    return RollingOLSResult(
        cov=cov, panel=panel, output=output, windowing=windowing, add_constant=add_constant,
        expanding=expanding, missing=missing, residual=residual, halflife=halflife,
        wide=fp.wide, sorted_panel=sorted_panel,
    )


def _result_panel(fp: FactorPanel) -> Panel:
    """The long result's panel: outputs are already in the caller's order."""
    return Panel(
        x=fp.factors, y=fp.y, offsets=fp.offsets, perm=None, index=fp.index, x_names=fp.x_names,
        y_name=fp.y_name, time_pos=fp.time_pos,
    )
