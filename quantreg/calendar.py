"""Windows counted in rows or measured in time, and the time axis the kernels use.

A *row window* (``window=60``) is an instrument's last 60 rows. A *calendar window*
(``window="90D"``, any fixed-frequency pandas offset: ``"12h"``, ``"30min"``, a
:class:`pandas.Timedelta`…) is, for the row of an instrument at time ``t``, that instrument's rows
with time in ``(t − 90 days, t]`` — the rows ``Series.rolling("90D")`` selects. Kernels see
times as int64 multiples of a *unit* (the greatest common divisor of the time steps, e.g. one
day for daily data), which keeps every age and age sum an exact integer.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantreg.exceptions import PanelError

__all__ = ["WindowSpec", "parse_window"]

#: The largest number of rows a window can have (the kernels count rows in int64).
MAX_ROWS = int(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class WindowSpec:
    """What ``window=`` asked for.

    Attributes
    ----------
    rows : int or None
        Rows per window (row windows); None for calendar windows and for an unbounded
        expanding window.
    span : pandas.Timedelta or None
        Length of a calendar window.
    label : the ``window`` argument as given (for messages and ``result.window``).
    """

    rows: int | None
    span: pd.Timedelta | None
    label: object

    @property
    def calendar(self) -> bool:
        return self.span is not None


def parse_window(window: object) -> WindowSpec:
    """A :class:`WindowSpec` from an int (rows), None (expanding) or a fixed time offset.

    Raises
    ------
    ValueError
        For a non-positive number of rows, a non-fixed offset (``"1M"``, ``"BME"``: months and
        business days have no fixed length) or an unreadable string.
    """
    if window is None:
        return WindowSpec(None, None, None)
    if isinstance(window, (bool, np.bool_)):
        raise ValueError(f"The 'window' parameter must be an int or a time offset such as '90D'. Got {window!r} instead.")
    if isinstance(window, (pd.Timedelta, dt.timedelta, np.timedelta64)):  # np.timedelta64 is an Integral
        return WindowSpec(None, _fixed_span(window, "window"), window)
    if isinstance(window, numbers.Integral):
        if not 1 <= window <= MAX_ROWS:
            limit = "" if window < 1 else f" (at most {MAX_ROWS} rows)"
            raise ValueError(f"The 'window' parameter must be an int in the range [1, inf){limit}. Got {window!r} instead.")
        return WindowSpec(int(window), None, window)
    if isinstance(window, numbers.Real):
        raise ValueError(
            f"The 'window' parameter must be a whole number of rows or a time offset such as '90D'. Got {window!r} instead."
        )
    return WindowSpec(None, _fixed_span(window, "window"), window)


def _fixed_span(value: object, name: str) -> pd.Timedelta:
    """A positive fixed time length from a string offset, Timedelta, timedelta or DateOffset."""
    hint = (
        f"give {name} as a fixed length such as '90D', '12h' or '30min' (months, years and "
        "business days have no fixed length: use e.g. '30D' or '365D')"
    )
    try:
        if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
            span = pd.Timedelta(value)
        else:
            offset = pd.tseries.frequencies.to_offset(value)
            span = pd.Timedelta(offset.nanos, unit="ns")  # .nanos raises for non-fixed offsets
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}={value!r} is not a fixed time length: {err}. Please {hint}.") from err
    if pd.isna(span) or span <= pd.Timedelta(0):
        raise ValueError(f"{name}={value!r} must be a positive length of time; {hint}.")
    return span


def time_values(level: pd.Index, what: str) -> np.ndarray:
    """int64 nanoseconds of a datetime index level (error for any other dtype)."""
    if not pd.api.types.is_datetime64_any_dtype(level.dtype):
        raise PanelError(
            f"{what} needs a datetime time level, but the time level {level.name!r} has dtype "
            f"{level.dtype}; convert it with pd.to_datetime, or give window as a number of rows."
        )
    return datetime_ns(level)


def datetime_ns(index: pd.Index) -> np.ndarray:
    """int64 nanoseconds since the epoch of a datetime index, whatever its resolution."""
    return np.asarray(pd.DatetimeIndex(index).as_unit("ns").asi8, dtype=np.int64)


def time_axis(times_ns: np.ndarray) -> tuple[np.ndarray, int]:
    """Times as int64 multiples of the largest unit dividing their differences (one day for daily
    stamps at midnight, …), counted from the earliest; and that unit in ns."""
    if times_ns.size == 0:
        return times_ns, 1
    offsets = times_ns - times_ns.min()
    unit = int(np.gcd.reduce(offsets)) if times_ns.size > 1 else 0
    unit = unit if unit > 0 else 1
    return offsets // unit, unit


def span_units(span: pd.Timedelta, unit: int) -> int:
    """The span in time units, rounded up: ``Δ ≥ span ⇔ Δ/unit ≥ ceil(span/unit)`` for
    integer ``Δ/unit``."""
    return -(-span.value // unit)


def halflife_decay(halflife: object, spec: WindowSpec, unit: int) -> float:
    """``lam`` with weight ``lam ** age`` (age in rows, or in time units for calendar windows)."""
    if halflife is None:
        return 1.0
    if spec.calendar:
        if isinstance(halflife, numbers.Real) and not isinstance(halflife, bool):
            raise ValueError(
                f"with a calendar window the half-life is a length of time (ages are measured in "
                f"time): pass e.g. halflife='30D' or pd.Timedelta(days=30), not {halflife!r}."
            )
        return 0.5 ** (unit / _fixed_span(halflife, "halflife").value)
    if isinstance(halflife, bool) or not isinstance(halflife, numbers.Real) or not (0 < float(halflife) < math.inf):
        raise ValueError(
            f"The 'halflife' parameter must be a positive finite number of rows (a length of time "
            f"only with a calendar window such as window='90D'). Got {halflife!r} instead."
        )
    return 0.5 ** (1.0 / float(halflife))
