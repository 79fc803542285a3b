"""The one place that understands pandas panels.

:func:`prepare_panel` validates a (datetime, instrument) MultiIndex frame once, at the boundary,
and turns it into what the kernels need: float64 arrays sorted by (instrument, time), the
offsets of each instrument's contiguous segment, and the permutation that puts results back in
the caller's order. The caller's frame is never modified.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantreg._kernels.grouping import first_disorder, group_by_code, is_identity
from quantreg.exceptions import MissingColumnError, MissingValueError, NonNumericError, PanelError

TIME_LEVEL = "datetime"
INSTRUMENT_LEVEL = "instrument"


@dataclass(frozen=True)
class Panel:
    """A validated panel in kernel layout.

    Attributes
    ----------
    x : (n, k) float64, C-contiguous, rows sorted by (instrument, time).
    y : (n,) float64, same order.
    offsets : (n_instruments + 1,) int64; instrument ``g`` occupies rows ``offsets[g]:offsets[g+1]``.
    perm : (n,) int64 or None; sorted row ``i`` is the caller's row ``perm[i]`` (None: same order).
    index : the caller's index, in the caller's order.
    x_names, y_name : column labels of the regressors and of the regressand.
    time_pos : position of the time level in ``index``.
    """

    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray
    perm: np.ndarray | None
    index: pd.MultiIndex
    x_names: list[Hashable]
    y_name: Hashable
    time_pos: int = 0

    @property
    def n_rows(self) -> int:
        return self.y.shape[0]

    def sorted_times(self) -> tuple[np.ndarray, int]:
        """Times of the sorted rows as int64 multiples of a unit, and the unit in ns (see
        :mod:`quantreg.calendar`); the time level must be datetime."""
        from quantreg.calendar import time_axis, time_values

        units, unit = time_axis(time_values(self.index.levels[self.time_pos], "a calendar window"))
        codes = self.index.codes[self.time_pos]
        times = units[codes] if self.perm is None else units[codes[self.perm]]
        return np.ascontiguousarray(times, dtype=np.int64), unit

    def to_caller_order(self, values: np.ndarray) -> np.ndarray:
        """Reorder a sorted-order array (first axis) into the caller's row order."""
        if self.perm is None:
            return values
        out = np.empty_like(values)
        out[self.perm] = values
        return out


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


def sort_order(
    index: pd.MultiIndex, time_pos: int, inst_pos: int, compact: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permutation grouping rows by instrument in time order, the segments' offsets and the
    time keys. ``compact``: an int32 permutation when the rows allow (half the memory)."""
    for pos in (time_pos, inst_pos):
        if (index.codes[pos] < 0).any():
            raise PanelError(
                f"index level {index.names[pos]!r} holds missing values (NaN/NaT); drop those rows."
            )
    inst_codes = np.asarray(index.codes[inst_pos])
    keys = _time_keys(index, time_pos)
    perm = np.empty(len(index), dtype=np.int32 if compact and len(index) < 2**31 else np.int64)
    offsets, position, kind = group_by_code(inst_codes, len(index.levels[inst_pos]), perm, keys)
    if kind == 1:  # some instrument is not in time order: full sort
        perm = np.lexsort((keys, inst_codes)).astype(perm.dtype)
        position, kind = first_disorder(keys, perm, offsets)
    if kind == 2:
        label = index[perm[position]]
        raise PanelError(
            f"the index has duplicated (datetime, instrument) entries, first {label}; "
            "aggregate or drop them, e.g. df[~df.index.duplicated(keep='last')]."
        )
    return perm, offsets, keys


def check_frame(data: object) -> None:
    """Errors for what is not a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise PanelError(
            f"expected a pandas DataFrame on a (datetime, instrument) MultiIndex; got "
            f"{type(data).__name__}. Use series.to_frame() to turn a Series into one."
        )
    if data.shape[0] == 0:
        raise PanelError("the frame is empty: there are no rows to regress.")


def prepare_panel(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    missing: str = "drop",
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
) -> Panel:
    """Validate a panel and lay it out for the kernels.

    Parameters
    ----------
    data : DataFrame on a (datetime, instrument) MultiIndex, in any row order.
    y, x : regressand label and regressor labels (defaults: last column; all other columns).
    missing : ``"raise"`` makes any NaN in the used columns an error.
    time_level, instrument_level : index level names when they are not ``datetime`` and
        ``instrument`` (a single datetime-typed level is recognised as time automatically).

    Returns
    -------
    Panel
    """
    check_frame(data)
    time_pos, inst_pos = resolve_levels(data.index, time_level, instrument_level)
    check_time_level(data.index, time_pos)
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
    perm, offsets, _ = sort_order(data.index, time_pos, inst_pos)
    identity = is_identity(perm)
    n, k = data.shape[0], len(x_names)
    x_sorted = np.empty((n, k), dtype=np.float64)
    for j, values in enumerate(x_columns):
        x_sorted[:, j] = values if identity else values[perm]
    y_sorted = y_values[perm] if not identity else (
        y_values if y_values.flags.writeable else y_values.copy()  # one kernel signature
    )
    return Panel(
        x=x_sorted,
        y=np.ascontiguousarray(y_sorted),
        offsets=offsets,
        perm=None if identity else perm,
        index=data.index,
        x_names=x_names,
        y_name=y_name,
        time_pos=time_pos,
    )
