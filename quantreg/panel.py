"""The one place that understands pandas panels: every input becomes one :class:`Layout`.

A layout is what the engine (:mod:`quantreg.engine`) runs on, whatever the caller gave:

- a long panel (a frame on a (datetime, instrument) MultiIndex, any row order):
  :func:`panel_layout`;
- returns and a factor table shared by all assets, long or wide: :mod:`quantreg.factors`;
- cross-sections by date (one regression per date across instruments):
  :func:`cross_section_layout`.

It holds the rows grouped into contiguous *segments* (an instrument's rows in time order, or a
date's rows), float64 values and int64 indices normalised once, a row → regressor-row map (so
that a factor table shared by every asset is never broadcast) and the output position of every
row (so that results land on the caller's rows, in the caller's order). The caller's frame is
never modified. Validation happens here, once, with errors that say what is wrong and how to
fix it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from quantreg._parallel import row_blocks, run_segments
from quantreg.exceptions import MissingColumnError, MissingValueError, NonNumericError, PanelError

TIME_LEVEL = "datetime"
INSTRUMENT_LEVEL = "instrument"

#: An empty index array (``Layout.xrow``, ``dest``, ``pdest``, ``times``): the walk row itself, or none.
NO_ROWS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class WideLayout:
    """Where the rows of a long result sit in a wide (dates × instruments) frame.

    ``cells``: flat (C-order) position in the ``shape`` matrix of each long row, in the long
    result's order (row-major: ``Y.stack()`` order).
    """

    index: pd.Index
    columns: pd.Index
    cells: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.index), len(self.columns)

    def pivot(self, values: np.ndarray) -> pd.DataFrame:
        """Long per-row values as a frame shaped like the returns (NaN elsewhere)."""
        kind = values.dtype if values.dtype.kind == "f" else np.float64
        wide = np.full(self.shape[0] * self.shape[1], np.nan, dtype=kind)
        wide[self.cells] = values
        return pd.DataFrame(wide.reshape(self.shape), index=self.index, columns=self.columns)

    def pivot_categories(self, codes: np.ndarray, categories: Sequence[str]) -> pd.DataFrame:
        """Long category codes as a frame of Categoricals (NaN where there is no row)."""
        wide = np.full(self.shape[0] * self.shape[1], -1, dtype=np.int8)
        wide[self.cells] = codes
        wide = wide.reshape(self.shape)
        columns = {
            j: pd.Categorical.from_codes(wide[:, j], categories=list(categories)) for j in range(self.shape[1])
        }
        frame = pd.DataFrame(columns, index=self.index)
        frame.columns = self.columns
        return frame

    def long_index(self, names: Sequence[Hashable]) -> pd.MultiIndex:
        """The (datetime, instrument) index of the long rows."""
        rows, cols = np.divmod(self.cells, self.shape[1])
        return pd.MultiIndex(levels=[self.index, self.columns], codes=[rows, cols], names=list(names),
                             verify_integrity=False)


@dataclass(frozen=True)
class Layout:
    """Rows grouped into segments, in the form every kernel takes.

    Attributes
    ----------
    x : (m, k) float64, C-contiguous
        Regressor rows; walk row ``i`` uses ``x[xrow[i]]`` (``x[i]`` when ``xrow`` is empty).
    y : (n,) float64
        The regressand of the walk rows — possibly a view of the caller's column (made
        writeable only so that numba sees one array type): read it, never write it.
    offsets : (n_segments + 1,) int64
        Segment ``g`` is the walk rows ``offsets[g] … offsets[g + 1] − 1``, in time order.
    xrow : (n,) int64 or empty
        Regressor row of each walk row (a factor table's date), or empty: the walk row itself.
    dest : (n,) int64 or empty
        Position of each walk row in the per-row outputs (the caller's row, or the cell of a
        wide frame), or empty: the walk row itself.
    pdest : (n,) int64 or empty
        Position of each walk row in the coefficient outputs, or empty: as ``dest``.
    times : (n,) int64 or empty
        Times of the walk rows in multiples of ``unit`` ns (calendar windows; else empty).
    n_out : int
        Length of the per-row outputs (rows, or cells of a wide frame).
    index : pandas Index
        The caller's index (long results are wrapped on it, in the caller's order).
    x_names, y_name : labels of the regressors and of the regressand.
    wide : WideLayout or None
        For a wide frame of returns: where the long rows sit in it.
    weights : (n,) float64 or empty
        Row weights of the walk rows (WLS), or empty: unweighted. A weight that is not
        positive (or NaN) makes its row a missing row.
    grid : int
        The number of segments when ``dest`` is the transpose of a grid (:class:`RowOrder`),
        else 0: the engine then writes residuals in walk order and moves them to the caller's
        rows with one transposing copy (:func:`grid_to_caller`) instead of scattered stores.
    """

    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray
    xrow: np.ndarray
    dest: np.ndarray
    pdest: np.ndarray
    times: np.ndarray
    unit: int
    n_out: int
    index: pd.Index
    x_names: list[Hashable]
    y_name: Hashable
    wide: WideLayout | None = None
    weights: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    grid: int = 0

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_segments(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def k(self) -> int:
        """Number of regressors (the intercept not counted)."""
        return int(self.x.shape[1])

    @cached_property
    def longest(self) -> int:
        """Rows of the longest segment (at least 1)."""
        return max(int(np.diff(self.offsets).max(initial=0)), 1)

    @cached_property
    def row_index(self) -> pd.MultiIndex:
        """The (datetime, instrument) index of the coefficient rows (the caller's index, or the
        long rows of a wide frame)."""
        if self.wide is None:
            return self.index
        names = [self.wide.index.name or TIME_LEVEL, self.wide.columns.name or INSTRUMENT_LEVEL]
        return self.wide.long_index(names)

    def constant_columns(self) -> list[Hashable]:
        """Regressors that hold one value in every non-missing row."""
        names = []
        for j, name in enumerate(self.x_names):
            column = self.x[:, j]
            finite = column[~np.isnan(column)]
            if finite.size and finite.min() == finite.max():
                names.append(name)
        return names


def resolve_levels(
    index: pd.Index, time_level: Hashable | None, instrument_level: Hashable | None
) -> tuple[int, int]:
    """Positions of the time and instrument levels of a two-level MultiIndex."""
    if not isinstance(index, pd.MultiIndex) or index.nlevels != 2:
        got = f"a MultiIndex with {index.nlevels} levels" if isinstance(index, pd.MultiIndex) else (
            f"a {type(index).__name__}"
        )
        raise PanelError(
            f"the panel needs a two-level MultiIndex (datetime, instrument); got {got}. "
            "Build one with df.set_index(['datetime', 'instrument'])."
        )
    names = list(index.names)

    def position(name: Hashable, role: str) -> int:
        if name in names:
            return names.index(name)
        raise PanelError(
            f"{role} level {name!r} is not in the index levels {names}; "
            f"pass {role}_level= with one of {names}."
        )

    if time_level is not None or instrument_level is not None:
        if time_level is not None and instrument_level is not None:
            t, i = position(time_level, "time"), position(instrument_level, "instrument")
        elif time_level is not None:
            t = position(time_level, "time")
            i = 1 - t
        else:
            i = position(instrument_level, "instrument")
            t = 1 - i
        if t == i:
            raise PanelError("time_level and instrument_level name the same index level.")
        return t, i
    if TIME_LEVEL in names and INSTRUMENT_LEVEL in names:
        return names.index(TIME_LEVEL), names.index(INSTRUMENT_LEVEL)
    is_time = [pd.api.types.is_datetime64_any_dtype(level.dtype) for level in index.levels]
    if sum(is_time) == 1:
        t = is_time.index(True)
        return t, 1 - t
    raise PanelError(
        f"cannot tell which index level is time: levels are named {names}. Name them "
        "'datetime' and 'instrument' (df.index = df.index.set_names(['datetime', 'instrument'])) "
        "or pass time_level= and instrument_level=."
    )


def check_time_level(index: pd.MultiIndex, time_pos: int) -> None:
    """Refuse a time level whose order is not the order of time.

    Datetimes, Periods and numbers are ordered as times; anything else — strings such as
    ``"1/10/2020"`` (what ``read_csv`` gives without ``parse_dates``, ordered as text), objects,
    booleans, categoricals (ordered by category, not by time) — would put the wrong rows in the
    windows, so it is an error with the fix.
    """
    level = index.levels[time_pos]
    dtype = level.dtype
    name = index.names[time_pos]
    if isinstance(dtype, pd.CategoricalDtype):
        raise PanelError(
            f"the time level {name!r} is categorical: its order is the categories' order, not the "
            "order of time. Convert it to datetimes, e.g. df.index = df.index.set_levels("
            f"pd.to_datetime(df.index.levels[{time_pos}].astype(str)), level={time_pos}), or "
            "rebuild the index from pd.to_datetime(...) values."
        )
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype))
    ):
        return
    sample = level[0] if len(level) else None
    raise PanelError(
        f"the time level {name!r} has dtype {dtype} (e.g. {sample!r}), which is not ordered as "
        "time: strings sort as text ('1/10/2020' before '1/2/2020'). Convert it to datetimes "
        "with pd.to_datetime (give format=, e.g. format='%m/%d/%Y', for non-ISO dates), or use "
        "Periods or numbers."
    )


def select_columns(
    data: pd.DataFrame, y: Hashable | None, x: Sequence[Hashable] | Hashable | None
) -> tuple[Hashable, list[Hashable]]:
    """Resolve the regressand and regressor labels (defaults: y = last column, x = the others)."""
    columns = list(data.columns)
    if not columns:
        raise PanelError(
            "the frame has no columns: it needs a regressand (y) and regressors (x) as columns."
        )
    if len(set(columns)) != len(columns):
        dup = data.columns[data.columns.duplicated()].unique().tolist()
        raise PanelError(f"the frame has duplicated column labels {dup}; rename them first.")
    if y is None:
        y = columns[-1]
    if x is None:
        x_list = [c for c in columns if c != y]
    elif isinstance(x, (str, bytes)) or not isinstance(x, Sequence | pd.Index):
        x_list = [x]
    else:
        x_list = list(x)
    missing = [c for c in [y, *x_list] if c not in columns]
    if missing:
        raise MissingColumnError(
            f"column(s) {missing} not found in the frame; available columns: {columns}. "
            "Pass y= and x= with existing column names."
        )
    if y in x_list:
        raise PanelError(f"column {y!r} is both the regressand (y) and a regressor (x); remove it from x.")
    if len(set(x_list)) != len(x_list):
        raise PanelError(f"x lists a column more than once: {x_list}.")
    return y, x_list


def column_as_float(data: pd.DataFrame, name: Hashable) -> np.ndarray:
    """One column as float64 (NaN for missing); errors on non-numeric data and on ±inf."""
    col = data[name]
    dtype = col.dtype
    if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) or (
        pd.api.types.is_complex_dtype(dtype)
    ):
        raise NonNumericError(
            f"column {name!r} has non-numeric dtype {dtype}; convert it with "
            f"pd.to_numeric(df[{name!r}]) or leave it out of x/y."
        )
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        where = data.index[int(np.argmax(infinite))]
        raise PanelError(
            f"column {name!r} holds {int(infinite.sum())} infinite value(s), first at {where}; "
            "replace them (e.g. df.replace([np.inf, -np.inf], np.nan)) before fitting."
        )
    return values


def _time_keys(index: pd.MultiIndex, level: int) -> np.ndarray:
    """Integer keys with the order of the time level's values (equal keys ⇔ equal times): the
    level's codes themselves (no copy) when its values are sorted."""
    codes = np.asarray(index.codes[level])
    values = index.levels[level]
    if values.is_monotonic_increasing:
        return codes
    try:
        rank = np.empty(len(values), dtype=np.int64)
        rank[values.argsort()] = np.arange(len(values))
    except TypeError as err:
        raise PanelError(f"the time level cannot be ordered: {err}") from err
    return rank[codes]


class RowOrder(NamedTuple):
    """How rows are grouped: ``perm`` the caller's row of each grouped row (int64; None: the
    rows are grouped already), ``offsets`` the groups' bounds (int64), and ``grid`` the number
    of groups when ``perm`` is the transpose of a grid (see :func:`group_rows`: grouped row
    ``g·d + i`` is the caller's row ``i·grid + g``, ``d`` rows per group), else 0."""

    perm: np.ndarray | None
    offsets: np.ndarray
    grid: int = 0


def sort_order(index: pd.MultiIndex, time_pos: int, inst_pos: int) -> RowOrder:
    """The order grouping rows by instrument in time order (see :class:`RowOrder`). Errors for
    missing index values and duplicated (datetime, instrument) entries."""
    for pos in (time_pos, inst_pos):
        if (index.codes[pos] < 0).any():
            raise PanelError(
                f"index level {index.names[pos]!r} holds missing values (NaN/NaT); drop those rows."
            )
    inst_codes = np.asarray(index.codes[inst_pos])
    n_inst = len(index.levels[inst_pos])
    keys = np.asarray(_time_keys(index, time_pos), dtype=np.int64)
    if _is_grid(inst_codes, n_inst):
        grid = _grid_transpose(len(inst_codes), n_inst)
        if _increasing_blocks(keys, n_inst):
            # a balanced panel sorted by (datetime, instrument): in time order within each
            # instrument and without duplicates by construction, nothing to check
            return grid
        order, offsets = grid.perm, grid.offsets
    else:  # grouping keeps the rows' order within an instrument
        order, offsets, _ = group_rows(inst_codes, n_inst)
    # only when that order is not time order, sort by both
    position, kind = _first_disorder(keys if order is None else keys[order], offsets)
    if kind == 1:
        order = np.lexsort((keys, inst_codes))
        position, kind = _first_disorder(keys[order], offsets)
    if kind == 2:
        label = index[position if order is None else order[position]]
        raise PanelError(
            f"the index has duplicated (datetime, instrument) entries, first {label}; "
            "aggregate or drop them, e.g. df[~df.index.duplicated(keep='last')] (a flat frame: "
            "df.drop_duplicates([time, instrument], keep='last'); polars: df.unique([time, "
            "instrument], keep='last'))."
        )
    return RowOrder(order, offsets)


def group_rows(codes: np.ndarray, n_groups: int) -> RowOrder:
    """The order grouping rows by their (non-negative) integer code, the rows in their order
    within a group (see :class:`RowOrder`). Without a sort when it can be:
    None when the rows are grouped in code order already (nothing copied); the grid's transpose
    when they come as a grid — each code once per block of ``n_groups`` rows, in code order (a
    balanced panel sorted by (datetime, instrument), as ``stack()`` or
    ``MultiIndex.from_product`` make it, grouped by instrument; or sorted by (instrument,
    datetime), grouped by date); else a stable sort (a radix sort for up to 65,536 groups)."""
    n = codes.shape[0]
    if n == 0 or (codes[1:] >= codes[:-1]).all():  # grouped: where each code starts
        starts = np.arange(n_groups + 1)
        if n_groups < np.iinfo(codes.dtype).max:  # searched in the codes' own type: no converted copy
            starts = starts.astype(codes.dtype)
        return RowOrder(None, np.searchsorted(codes, starts).astype(np.int64))
    if _is_grid(codes, n_groups):
        return _grid_transpose(n, n_groups)
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    narrow = codes.astype(np.uint16) if n_groups <= 65_536 else codes
    np.cumsum(np.bincount(codes, minlength=n_groups), out=offsets[1:])
    return RowOrder(np.argsort(narrow, kind="stable").astype(np.int64), offsets)


def _is_grid(codes: np.ndarray, n_groups: int) -> bool:
    """Whether every block of ``n_groups`` rows holds each code once, in code order."""
    n = codes.shape[0]
    return n > 0 and n % n_groups == 0 and bool((codes.reshape(-1, n_groups) == np.arange(n_groups)).all())


def _increasing_blocks(keys: np.ndarray, size: int) -> bool:
    """Whether ``keys`` is constant within each block of ``size`` rows and increases strictly
    from block to block."""
    blocks = keys.reshape(-1, size)
    return bool((blocks[1:, 0] > blocks[:-1, 0]).all() and (blocks == blocks[:, :1]).all())


def _grid_transpose(n: int, n_groups: int) -> RowOrder:
    """The order grouping a grid's rows (see :func:`_is_grid`) by code."""
    per_group = n // n_groups
    order = (np.arange(n_groups, dtype=np.int64)[:, None] + n_groups * np.arange(per_group, dtype=np.int64)).ravel()
    return RowOrder(order, np.arange(n_groups + 1, dtype=np.int64) * per_group, n_groups)


def grid_to_caller(values: np.ndarray, grid: int) -> np.ndarray:
    """Values of the rows (first axis) of a ``grid``-group grid in grouped order, in the
    caller's order (see :class:`RowOrder`): ``values[perm.argsort()]``, as one transposing copy
    (numpy's, block-friendly) instead of a scatter."""
    n = values.shape[0]
    grouped = values.reshape(grid, n // grid, *values.shape[1:])
    return np.ascontiguousarray(grouped.swapaxes(0, 1)).reshape(values.shape)


def _first_disorder(sorted_keys: np.ndarray, offsets: np.ndarray) -> tuple[int, int]:
    """The first position (in grouped order) whose key does not increase on its predecessor
    within its segment, and its kind: 2 a duplicate (reported in preference), 1 out of order,
    0 none."""
    step = np.diff(sorted_keys)  # step[i]: position i + 1 against position i
    within = np.ones(step.shape[0], dtype=bool)
    starts = offsets[1:-1]
    starts = starts[(starts > 0) & (starts < sorted_keys.shape[0])]
    within[starts - 1] = False  # a segment's first row has no predecessor
    for kind, bad in ((2, step == 0), (1, step < 0)):
        bad &= within
        if bad.any():
            return int(np.argmax(bad)) + 1, kind
    return 0, 0


def check_frame(data: object) -> None:
    """Errors for what is not a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise PanelError(
            f"expected a pandas DataFrame on a (datetime, instrument) MultiIndex; got "
            f"{type(data).__name__}. Use series.to_frame() to turn a Series into one."
        )
    if data.shape[0] == 0:
        raise PanelError("the frame is empty: there are no rows to regress.")


def _frame_values(
    data: pd.DataFrame, y: Hashable | None, x: Sequence[Hashable] | Hashable | None, missing: str
) -> tuple[Hashable, list[Hashable], np.ndarray, list[np.ndarray]]:
    """The regressand and regressors of a frame as float64 columns (errors for what cannot be)."""
    y_name, x_names = select_columns(data, y, x)
    y_values = column_as_float(data, y_name)
    x_columns = [column_as_float(data, name) for name in x_names]
    if missing == "raise":
        for name, values in zip([y_name, *x_names], [y_values, *x_columns]):
            nan = np.isnan(values)
            if nan.any():
                raise MissingValueError(
                    f"column {name!r} holds {int(nan.sum())} missing value(s), first at "
                    f"{data.index[int(np.argmax(nan))]}, and missing='raise'; drop or fill "
                    "them, or use missing='drop' or 'skip'."
                )
    return y_name, x_names, y_values, x_columns


#: Rows per block when the regressor columns are interleaved into rows (the block of ``x`` stays
#: in a core's cache while its columns are written).
_GATHER_BLOCK = 16_384


def _gather(y_values: np.ndarray, x_columns: list[np.ndarray], perm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` in walk order (``perm``: caller row of each walk row; None: the same order).
    The columns are interleaved into the rows of ``x`` (and ``y`` gathered) block by block, the
    blocks shared out between the cores (numpy copies without the GIL)."""
    n = y_values.shape[0]
    x = np.empty((n, len(x_columns)), dtype=np.float64)
    y = readable_values(y_values) if perm is None else np.empty(n, dtype=np.float64)

    def fill(first: int, last: int) -> None:  # blocks first … last − 1
        lo, hi = first * _GATHER_BLOCK, min(last * _GATHER_BLOCK, n)
        for start in range(lo, hi, _GATHER_BLOCK):
            stop = min(start + _GATHER_BLOCK, hi)
            rows = None if perm is None else perm[start:stop]
            if rows is not None:
                y[start:stop] = y_values[rows]
            for j, values in enumerate(x_columns):
                x[start:stop, j] = values[start:stop] if rows is None else values[rows]

    run_segments(fill, row_blocks(n, _GATHER_BLOCK))
    return x, y


def readable_values(values: np.ndarray) -> np.ndarray:
    """``values`` as a C-contiguous array for the kernels to read: itself, or a writeable view
    of a read-only array (a column under pandas' copy-on-write) — the kernels only read it, but
    numba would compile a read-only array as another signature — or a copy when no writeable
    view can be had (an Arrow buffer)."""
    values = np.ascontiguousarray(values)
    if values.flags.writeable:
        return values
    view = values.view()
    try:
        view.flags.writeable = True
    except ValueError:
        return values.copy()
    return view


def panel_times(index: pd.MultiIndex, time_pos: int, perm: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Times of the walk rows as int64 multiples of a unit, and the unit in ns (see
    :mod:`quantreg.calendar`); the time level must be datetime."""
    from quantreg.calendar import time_axis, time_values

    units, unit = time_axis(time_values(index.levels[time_pos], "a calendar window"))
    codes = np.asarray(index.codes[time_pos])
    times = units[codes] if perm is None else units[codes[perm]]
    return np.ascontiguousarray(times, dtype=np.int64), unit


def panel_layout(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    missing: str = "drop",
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    calendar: bool = False,
) -> Layout:
    """Validate a long panel and lay it out: one segment per instrument, in time order.

    Parameters
    ----------
    data : DataFrame on a (datetime, instrument) MultiIndex, in any row order.
    y, x : regressand label and regressor labels (defaults: last column; all other columns).
    missing : ``"raise"`` makes any NaN in the used columns an error.
    time_level, instrument_level : index level names when they are not ``datetime`` and
        ``instrument`` (a single datetime-typed level is recognised as time automatically).
    calendar : also give the rows' times (calendar windows).

    Returns
    -------
    Layout
    """
    check_frame(data)
    time_pos, inst_pos = resolve_levels(data.index, time_level, instrument_level)
    check_time_level(data.index, time_pos)
    y_name, x_names, y_values, x_columns = _frame_values(data, y, x, missing)
    order, offsets, grid = sort_order(data.index, time_pos, inst_pos)
    x_rows, y_rows = _gather(y_values, x_columns, order)
    times, unit = panel_times(data.index, time_pos, order) if calendar else (NO_ROWS, 1)
    return Layout(
        x=x_rows, y=y_rows, offsets=offsets, xrow=NO_ROWS, dest=NO_ROWS if order is None else order,
        pdest=NO_ROWS, times=times, unit=unit, n_out=len(data), index=data.index, x_names=x_names,
        y_name=y_name, grid=grid,
    )


def cross_section_layout(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    weights: np.ndarray | None = None,
) -> tuple[Layout, pd.Index]:
    """Lay out a long panel by date: one segment per datetime (its instruments' rows), for one
    regression per date. Returns the layout and the date of each segment (the time level's
    values, not necessarily in time order); segment ``g``'s outputs go to position ``g``.
    ``weights``: row weights in the caller's order (:func:`row_weights`), or None."""
    check_frame(data)
    time_pos, inst_pos = resolve_levels(data.index, time_level, instrument_level)
    check_time_level(data.index, time_pos)
    y_name, x_names, y_values, x_columns = _frame_values(data, y, x, "drop")
    # group rows by date (the roles of the levels swapped: instruments ordered within a date)
    order, offsets, _ = sort_order(data.index, inst_pos, time_pos)
    x_rows, y_rows = _gather(y_values, x_columns, order)
    dates = data.index.levels[time_pos]
    layout = Layout(
        x=x_rows, y=y_rows, offsets=offsets, xrow=NO_ROWS, dest=NO_ROWS, pdest=NO_ROWS, times=NO_ROWS,
        unit=1, n_out=len(dates), index=data.index, x_names=x_names, y_name=y_name,
        weights=np.empty(0) if weights is None else np.ascontiguousarray(weights if order is None else weights[order]),
    )
    return layout, dates


def row_weights(data: pd.DataFrame, weights: object) -> np.ndarray:
    """Row weights (WLS) as float64 in the caller's row order, from a column label, a Series on
    the frame's index (aligned by label) or an array with one value per row.

    A weight that is zero, negative or NaN makes its row a missing row (the kernels leave it
    out); an infinite weight is an error.
    """
    n = len(data)
    if isinstance(weights, pd.Series):
        if len(weights) != n:
            raise PanelError(
                f"weights has {len(weights)} values but the frame has {n} rows; pass a Series on "
                "the frame's index (one weight per row) or the name of a column."
            )
        if not weights.index.equals(data.index):
            try:
                weights = weights.reindex(data.index)
            except (ValueError, TypeError) as err:
                raise PanelError(
                    f"weights is not indexed like the frame ({err}); pass a Series on the frame's "
                    "index, e.g. weights.reindex(df.index)."
                ) from err
        values = pd.to_numeric(weights, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        label = "weights"
    elif isinstance(weights, Hashable) and not isinstance(weights, tuple | np.ndarray) and weights in data.columns:
        label = f"weights column {weights!r}"
        col = data[weights]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_complex_dtype(col.dtype):
            raise NonNumericError(f"{label} has non-numeric dtype {col.dtype}; convert it with pd.to_numeric.")
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(weights, np.ndarray | list):
        values = np.asarray(weights, dtype=np.float64)
        label = "weights"
        if values.shape != (n,):
            raise PanelError(
                f"weights has shape {values.shape} but the frame has {n} rows; pass one weight per row."
            )
    else:
        raise MissingColumnError(
            f"weights={weights!r} is not a column of the frame (columns: {list(data.columns)}), a "
            "Series on its index or an array with one value per row."
        )
    infinite = np.isinf(values)
    if infinite.any():
        raise PanelError(
            f"{label} holds {int(infinite.sum())} infinite value(s), first at "
            f"{data.index[int(np.argmax(infinite))]}; weights must be finite (a zero, negative or "
            "NaN weight makes its row missing)."
        )
    return np.ascontiguousarray(values)


def with_weights(layout: Layout, weights: np.ndarray | None) -> Layout:
    """The layout with row weights given in the caller's row order (moved to walk order)."""
    if weights is None:
        return layout
    walk = weights if layout.dest.shape[0] == 0 else weights[layout.dest]
    return dataclasses.replace(layout, weights=np.ascontiguousarray(walk, dtype=np.float64))


def _column_labels(data: pd.DataFrame, names: Sequence[object]) -> list[Hashable]:
    """Those of ``names`` that are column labels of ``data`` (a Series or an array is none)."""
    found = []
    for name in names:
        if isinstance(name, pd.Series | pd.Index | np.ndarray | list | tuple) or name is None:
            continue
        try:
            if name in data.columns:
                found.append(name)
        except TypeError:
            continue
    return found


def default_yx(data: object, y: Hashable | None, x: object, exclude: Sequence[object]) -> tuple[object, object]:
    """``y`` and ``x`` as given — or, when ``x`` is None and ``exclude`` names columns (a
    weights or groups column), defaults that leave them out: ``y`` the last other column,
    ``x`` every other one."""
    if x is not None or not isinstance(data, pd.DataFrame):
        return y, x
    names = _column_labels(data, exclude)
    if not names:
        return y, x
    others = [c for c in data.columns if c not in names]
    y_name = (others[-1] if others else None) if y is None else y
    return y_name, [c for c in others if c != y_name]


def segment_layout(
    data: pd.DataFrame,
    y: Hashable | None,
    x: Sequence[Hashable] | Hashable | None,
    *,
    by: Hashable,
) -> tuple[Layout, pd.Index]:
    """Lay out a frame by the values of ``by`` (an index level or a column): one segment per
    value, in the rows' order within it, per-row outputs at the caller's rows. Returns the
    layout and the value of each segment (sorted)."""
    check_frame(data)
    index = data.index
    level_names = list(index.names)
    if by in level_names and by is not None:
        pos = level_names.index(by)
        if isinstance(index, pd.MultiIndex):
            codes, labels = np.asarray(index.codes[pos]), index.levels[pos]
            if not labels.is_monotonic_increasing:
                rank = np.empty(len(labels), dtype=np.int64)
                rank[labels.argsort()] = np.arange(len(labels))
                codes, labels = rank[codes], labels.sort_values()
        else:
            codes, labels = pd.factorize(index, sort=True)
    elif by in data.columns:
        codes, labels = pd.factorize(data[by], sort=True)
    else:
        raise PanelError(
            f"by={by!r} is neither an index level ({level_names}) nor a column ({list(data.columns)}) "
            "of the frame; pass by= with the name of the date level or column."
        )
    codes = np.asarray(codes)
    if (codes < 0).any():
        raise PanelError(f"by={by!r} holds missing values (NaN/NaT); drop those rows.")
    labels = pd.Index(labels, name=by)
    y_name, x_names, y_values, x_columns = _frame_values(data, y, x, "drop")
    order, offsets, grid = group_rows(codes, len(labels))
    x_rows, y_rows = _gather(y_values, x_columns, order)
    layout = Layout(
        x=x_rows, y=y_rows, offsets=offsets, xrow=NO_ROWS, dest=NO_ROWS if order is None else order,
        pdest=NO_ROWS, times=NO_ROWS, unit=1, n_out=len(data), index=data.index, x_names=x_names, y_name=y_name,
        grid=grid,
    )
    return layout, labels

