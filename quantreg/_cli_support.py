"""Helpers of the ``quantreg resid`` command that speak its language: option types, the factor
table file, the run's totals (one rank-deficiency warning, NaN rows by status) and library
messages reworded with the command's flags.

Kept apart from :mod:`quantreg.cli` (parsing and the commands' flow) so that each stays short.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantreg.exceptions import FileFormatError, MissingColumnError, PanelError

__all__ = [
    "NO_PREVIOUS_FIT",
    "add_counts",
    "check_window_options",
    "cli_words",
    "constant_columns",
    "factor_columns",
    "halflife_arg",
    "nan_reasons",
    "nan_summary",
    "rank_warning",
    "read_factor_table",
    "status_counts",
    "window_arg",
]

#: How the summary line names NaN residuals of rows whose own window was estimated: with
#: ``--out-of-sample`` the residual of row t needs the window ending at the previous row.
NO_PREVIOUS_FIT = "no_previous_fit"
_STATUS_ORDER = ("warmup", "missing", "rank_deficient", "ill_conditioned", NO_PREVIOUS_FIT)
_FIXED_LENGTHS = "a fixed length of time such as 90D, 12h or 30min"
_NOT_FIXED = "months, years and business days have no fixed length: use e.g. 30D or 365D"

# Library messages name Python arguments (y=, missing='drop'); the command has flags. Applied in
# order to every error and warning the command prints.
_CLI_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bx/y\b", "--y/--x"),
    (r"\by= and x=", "--y and --x"),
    (r"\bx= columns", "--x columns"),
    (r"\bpass y= to choose it, or a Series", "pass --y to choose it"),
    (r"\bmissing='(drop|skip|raise)' or '(drop|skip|raise)'", r"--missing \1 or --missing \2"),
    (r"\bmissing=['\"](drop|skip|raise)['\"]", r"--missing \1"),
    (r"\badd_constant=False\b", "--no-constant"),
    (r"\bkeep add_constant=True\b", "leave out --no-constant"),
    (r"\bexpanding=True\b", "--expanding"),
    (r"\bhalflife='([^']+)' or pd\.Timedelta\([^)]*\)", r"--halflife \1"),
    (r"\bhalflife=['\"]([^'\"]+)['\"]", r"--halflife \1"),
    (r"\bwindow=['\"]([^'\"]+)['\"]", r"--window \1"),
    (r"\bmin_nobs\b", "--min-nobs"),
    (r"\bInspect result\.status to find them\.", ""),
)


def cli_words(message: str) -> str:
    """A library message with Python argument names replaced by the command's flags.

    Examples
    --------
    >>> cli_words("use missing='drop' or 'skip'; or leave it out of x/y.")
    'use --missing drop or --missing skip; or leave it out of --y/--x.'
    """
    for pattern, replacement in _CLI_WORDS:
        message = re.sub(pattern, replacement, message)
    return " ".join(message.split())


# --------------------------------------------------------------------------- option types
def window_arg(text: str) -> int | str:
    """``--window``: a positive number of rows, or a fixed length of time (a calendar window)."""
    from quantreg.calendar import parse_window

    try:
        rows = int(text)
    except ValueError:
        rows = None
    if rows is not None:
        if rows < 1:
            raise argparse.ArgumentTypeError(f"expected a positive number of rows, got {text!r}")
        return rows
    try:
        parse_window(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of rows or {_FIXED_LENGTHS} ({_NOT_FIXED}), got {text!r}"
        ) from None
    return text


def halflife_arg(text: str) -> float | str:
    """``--halflife``: a positive number of rows, or a fixed length of time (calendar windows)."""
    from quantreg.calendar import parse_window

    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not (value > 0 and np.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    try:
        parse_window(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of rows or {_FIXED_LENGTHS}, got {text!r}"
        ) from None
    return text


def check_window_options(args: argparse.Namespace) -> None:
    """How --window, --halflife, --expanding and --min-nobs relate, in the command's words."""
    if args.window is None and not args.expanding:
        raise ValueError("--window N is required (or --expanding for windows that only grow)")
    calendar = isinstance(args.window, str)
    if calendar and args.expanding:
        raise ValueError(f"--expanding does not combine with a calendar --window ({args.window}): "
                         "a calendar window is estimated as soon as it holds --min-nobs rows; "
                         "leave out --expanding")
    if calendar and isinstance(args.halflife, float):
        raise ValueError(f"--halflife {args.halflife:g} is a number of rows, but --window "
                         f"{args.window} is a length of time: give --halflife as a length of "
                         "time too, e.g. --halflife 30D")
    if not calendar and isinstance(args.halflife, str):
        raise ValueError(f"--halflife {args.halflife} is a length of time, which needs a calendar "
                         f"window such as --window 90D; with --window in rows give --halflife in "
                         "rows, e.g. --halflife 60")


# --------------------------------------------------------------------------- factor table
def read_factor_table(path: Path, read: Any, time_col: str,
                      date_format: str | None) -> pd.DataFrame:
    """The factor table of ``--factors FILE``: one row per date, indexed by datetime.

    ``read(path, role, text_columns)`` reads a Parquet or CSV file as the command reads its
    input (the time column as text in a CSV). The dates are the index of a Parquet file when it
    is datetime-typed, otherwise the column ``time_col`` (``--time-col``, default
    ``datetime``).
    """
    from quantreg.io import parse_times

    frame = read(path, "factor table (--factors)", (time_col,))
    where = f"the factor table '{path}'"
    if isinstance(frame.index, pd.MultiIndex):
        raise FileFormatError(f"{where} has a MultiIndex; it needs one row per date: a datetime "
                              f"index or a column {time_col!r} (--time-col), one column per factor")
    if not pd.api.types.is_datetime64_any_dtype(frame.index.dtype):
        if time_col not in frame.columns:
            raise FileFormatError(
                f"{where} has no column {time_col!r} (its columns are {list(frame.columns)}): "
                f"name its date column {time_col!r}, or give its name with --time-col"
            )
        times = parse_times(frame[time_col], date_format, where=f"'{path}'",
                            option="--date-format")
        frame = frame.drop(columns=time_col).set_axis(pd.DatetimeIndex(times, name=time_col))
    duplicated = frame.index.duplicated()
    if duplicated.any():
        first = [str(d) for d in frame.index[duplicated].unique()[:3]]
        raise PanelError(f"{where} has {int(duplicated.sum())} duplicated date(s), first {first}: "
                         "it needs one row per date")
    return frame


def factor_columns(factors: pd.DataFrame, x: Sequence[Hashable] | None, path: Path) -> list:
    """The factors named by --x (default: every column of the factor table)."""
    available = list(factors.columns)
    if x is None:
        return available
    unknown = [c for c in dict.fromkeys(x) if c not in available]
    if unknown:
        raise MissingColumnError(f"column(s) {unknown} given to --x not found in the factor table "
                                 f"'{path}'; its columns are {available}: pass --x with some of "
                                 "them, or leave out --x to use them all")
    return list(x)


# --------------------------------------------------------------------------- the run's totals
def nan_reasons(resid: np.ndarray, status: pd.Series | pd.Categorical) -> dict[str, int]:
    """Number of NaN residuals by the status of their row (``no_previous_fit``: the row's window
    was estimated, but not the previous row's, which an out-of-sample residual needs)."""
    codes = pd.Categorical(status)
    nan = np.isnan(resid)
    counts = pd.Series(codes[nan]).value_counts()
    return {NO_PREVIOUS_FIT if name == "ok" else str(name): int(n)
            for name, n in counts.items() if n}


def add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for name, n in more.items():
        total[name] = total.get(name, 0) + n


def nan_summary(reasons: dict[str, int]) -> str:
    """``"1,770 NaN: 1,740 warmup, 30 missing"`` (``"0 NaN"`` when there are none)."""
    n_nan = sum(reasons.values())
    parts = [f"{reasons[name]:,} {name}" for name in _STATUS_ORDER if reasons.get(name)]
    return f"{n_nan:,} NaN" + (f": {', '.join(parts)}" if parts else "")


def status_counts(status: pd.Series | pd.Categorical) -> dict[str, int]:
    """Rows per status (every row of a long panel is a window)."""
    counts = pd.Series(pd.Categorical(status)).value_counts()
    return {str(name): int(n) for name, n in counts.items()}


def rank_warning(counts: dict[str, int], constant: Sequence[Hashable] = ()) -> str | None:
    """The one rank-deficiency warning of a run, with the run's totals (None when every window
    had full rank)."""
    n_rank, n_ill = counts.get("rank_deficient", 0), counts.get("ill_conditioned", 0)
    if not (n_rank or n_ill):
        return None
    n_windows = sum(counts.values())
    message = (f"{n_rank:,} of {n_windows:,} windows are rank deficient (a regressor constant "
               "within the window, or collinear regressors)")
    if n_ill:
        message += f" and {n_ill:,} are ill conditioned (nearly collinear regressors)"
    message += "; their residuals are NaN."
    if constant:
        message += (f" Column(s) {list(constant)} are constant in every row and duplicate the "
                    "intercept: leave them out of --x, or pass --no-constant to use one as the "
                    "intercept.")
    return message


def constant_columns(frame: pd.DataFrame, columns: Sequence[Hashable]) -> list:
    """Columns holding one value in every non-missing row."""
    found = []
    for name in columns:
        values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if finite.size and finite.min() == finite.max():
            found.append(name)
    return found
