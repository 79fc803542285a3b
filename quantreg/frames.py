"""Frames in and out: polars and flat pandas frames as panels, and tables back in the caller's kind.

Every public entry point (:func:`quantreg.rolling_ols`, :func:`quantreg.rolling_resid`,
:func:`quantreg.rolling_select`, :func:`quantreg.fama_macbeth`, :func:`quantreg.two_pass`)
passes its ``data`` through :func:`panel_input`, which accepts

- a pandas frame (or Series) on a (datetime, instrument) MultiIndex — used as it is;
- a *flat* pandas frame: time and instrument as columns (``time_col``, ``instrument_col``);
- a polars ``DataFrame`` or ``LazyFrame`` (collected) with those columns,

and gives back the MultiIndex panel the rest of the library works on, plus an :class:`Origin`
that turns any table on the panel's rows back into the caller's kind: polars in → polars out,
flat pandas in → flat pandas out (on the caller's index), rows in the caller's order, the time
and instrument columns first. polars is imported only when a polars frame is given.

polars frames cross through Arrow: numeric columns without nulls become numpy arrays that
share the polars buffers (no copy); the time and instrument columns are dictionary-encoded by
Arrow (codes and unique values), which is what the panel index is made of.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantreg.exceptions import PanelError

__all__ = ["Origin", "PANDAS", "TIME_COL", "INSTRUMENT_COL", "is_polars", "panel_input", "factor_input"]

TIME_COL = "datetime"
INSTRUMENT_COL = "instrument"


def is_polars(data: object) -> bool:
    """Whether ``data`` is a polars DataFrame or LazyFrame (without importing polars)."""
    return type(data).__module__.split(".")[0] == "polars" and type(data).__name__ in ("DataFrame", "LazyFrame")


@dataclass(frozen=True)
class Origin:
    """What the caller gave, and how to give tables back in that kind.

    Attributes
    ----------
    kind : {"pandas", "flat", "polars"}
        ``pandas``: a MultiIndex frame (or Series, or a wide frame of returns) — tables are
        returned as they are; ``flat``: a pandas frame with time and instrument columns;
        ``polars``: a polars frame.
    time_col, instrument_col : the names of the key columns (flat and polars).
    keys : the caller's two key columns (a pandas frame on the caller's index, or a polars
        frame), in the caller's row order; None for ``pandas``.
    """

    kind: str = "pandas"
    time_col: Hashable = TIME_COL
    instrument_col: Hashable = INSTRUMENT_COL
    keys: Any = None

    def panel(self, table: pd.Series | pd.DataFrame) -> Any:
        """A table on the panel's rows (in the caller's order) in the caller's kind.

        Flat: the caller's two key columns and the table's columns, on the caller's index.
        polars: a polars frame with the key columns and the table's columns (column names as
        strings, NaN as null, categoricals as ``pl.Enum``).
        """
        if self.kind == "pandas":
            return table
        frame = table.to_frame() if isinstance(table, pd.Series) else table
        if isinstance(frame.columns, pd.MultiIndex):  # conf_int: (name, "lower") -> "name_lower"
            frame = frame.set_axis(["_".join(map(str, c)) for c in frame.columns], axis=1)
        if self.kind == "flat":
            values = frame.set_axis(self.keys.index, axis=0)
            return pd.concat([self.keys, values], axis=1)
        return self.keys.hstack(_polars_columns(frame))

    def table(self, table: pd.DataFrame) -> Any:
        """A table that is not on the panel's rows (e.g. one row per instrument), with its index
        as columns for flat and polars callers."""
        if self.kind == "pandas":
            return table
        flat = table.reset_index()
        if self.kind == "flat":
            return flat
        import polars as pl

        return pl.DataFrame(_polars_columns(flat))


PANDAS = Origin()


def _polars_columns(frame: pd.DataFrame) -> list:
    """polars Series of a pandas frame's columns (float64 NaN → null; categoricals → Enum)."""
    import polars as pl

    out = []
    for name, column in frame.items():
        name = str(name)
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            categories = [str(c) for c in dtype.categories]
            strings = pl.Series(name, np.asarray(categories + [None], dtype=object)[column.cat.codes.to_numpy()])
            out.append(strings.cast(pl.Enum(categories)))
        elif dtype == np.float64:
            out.append(pl.Series(name, column.to_numpy(), nan_to_null=True))
        else:
            out.append(pl.from_pandas(column.rename(name)))
    return out


# ----------------------------------------------------------------------------- input
def panel_input(
    data: Any,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    *,
    returns: bool = False,
) -> tuple[Any, Origin, Hashable | None, Hashable | None]:
    """The panel of ``data`` on a (time, instrument) MultiIndex, where it came from, and the
    time and instrument level names to resolve it with.

    Parameters
    ----------
    data : pandas frame/Series on a MultiIndex, flat pandas frame, polars DataFrame/LazyFrame.
    time_col, instrument_col : the key columns of a flat or polars frame. With a MultiIndex
        frame, a value other than the default names the index level (as ``time_level=``).
    time_level, instrument_level : index level names of a MultiIndex frame.
    returns : ``factors=`` calls: a pandas frame without the key columns (a wide frame of
        returns indexed by datetime) is passed on unchanged.

    Returns
    -------
    (panel, origin, time_level, instrument_level)
        ``panel`` is ``data`` itself for a MultiIndex frame (or anything this module does not
        convert: the layout builders give the errors for those).

    Examples
    --------
    >>> import pandas as pd
    >>> flat = pd.DataFrame({"datetime": pd.to_datetime(["2024-01-02", "2024-01-01"]),
    ...                      "instrument": ["A", "A"], "y": [1.0, 2.0]})
    >>> panel, origin, t, i = panel_input(flat)
    >>> list(panel.index.names), origin.kind, (t, i)
    (['datetime', 'instrument'], 'flat', ('datetime', 'instrument'))
    >>> origin.panel(panel["y"] * 10)
        datetime instrument     y
    0 2024-01-02          A  10.0
    1 2024-01-01          A  20.0
    """
    for name, value in (("time_col", time_col), ("instrument_col", instrument_col)):
        if not isinstance(value, Hashable) or value is None:
            raise PanelError(f"{name} must be a column name; got {value!r}.")
    if is_polars(data):
        panel, origin = _from_polars(data, time_col, instrument_col)
        return panel, origin, time_col, instrument_col
    if isinstance(data, pd.DataFrame) and not isinstance(data.index, pd.MultiIndex):
        absent = [c for c in (time_col, instrument_col) if c not in data.columns]
        if not absent:
            panel, origin = _from_flat(data, time_col, instrument_col)
            return panel, origin, time_col, instrument_col
        if returns and len(absent) == 2:
            return data, PANDAS, time_level, instrument_level
        raise PanelError(
            f"the panel needs a two-level MultiIndex (datetime, instrument); got a "
            f"{type(data.index).__name__}, and the frame has no column(s) "
            f"{', '.join(map(repr, absent))} to build one from (columns: {list(data.columns)}). "
            "Pass a flat frame with time and instrument columns (name them with time_col= and "
            "instrument_col=), or build the index with df.set_index(['datetime', 'instrument'])."
        )
    # a MultiIndex frame or Series: non-default column names name its levels
    time_level = _level(time_level, time_col, TIME_COL, "time")
    instrument_level = _level(instrument_level, instrument_col, INSTRUMENT_COL, "instrument")
    return data, PANDAS, time_level, instrument_level


def _level(level: Hashable | None, col: Hashable, default: Hashable, role: str) -> Hashable | None:
    if col == default:
        return level
    if level is not None and level != col:
        raise PanelError(
            f"{role}_col={col!r} and {role}_level={level!r} disagree; on a MultiIndex frame pass "
            f"only {role}_level=."
        )
    return col


def factor_input(factors: Any, time_col: Hashable = TIME_COL) -> Any:
    """A factor table as a pandas frame indexed by datetime: a polars frame or a flat pandas
    frame with a ``time_col`` column is indexed by it; anything else is passed on."""
    if is_polars(factors):
        if type(factors).__name__ == "LazyFrame":
            factors = factors.collect()
        if time_col not in factors.columns:
            raise PanelError(
                f"the polars factor table has no time column {time_col!r} (columns: "
                f"{factors.columns}); pass time_col= with the name of its date column."
            )
        return factors.to_pandas().set_index(time_col)
    if isinstance(factors, pd.DataFrame) and time_col in factors.columns:
        return factors.set_index(time_col)
    return factors


def _from_flat(data: pd.DataFrame, time_col: Hashable, instrument_col: Hashable) -> tuple[pd.DataFrame, Origin]:
    if time_col == instrument_col:
        raise PanelError(f"time_col and instrument_col name the same column {time_col!r}.")
    index = _index(
        [_factorize_pandas(data[time_col]), _factorize_pandas(data[instrument_col])], [time_col, instrument_col]
    )
    columns = {name: data[name].array for name in data.columns if name not in (time_col, instrument_col)}
    panel = pd.DataFrame(columns, index=index, copy=False)
    return panel, Origin("flat", time_col, instrument_col, data[[time_col, instrument_col]])


def _factorize_pandas(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(column.cat.categories.dtype)
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def _from_polars(data: Any, time_col: Hashable, instrument_col: Hashable) -> tuple[pd.DataFrame, Origin]:
    from quantreg.polars_namespace import register

    register()
    if type(data).__name__ == "LazyFrame":
        data = data.collect()
    columns = data.columns
    absent = [c for c in (time_col, instrument_col) if c not in columns]
    if absent:
        raise PanelError(
            f"the polars frame has no column(s) {', '.join(map(repr, absent))} (columns: "
            f"{columns}); pass time_col= and instrument_col= with the names of its time and "
            "instrument columns."
        )
    if time_col == instrument_col:
        raise PanelError(f"time_col and instrument_col name the same column {time_col!r}.")
    if data.height == 0:
        raise PanelError("the frame is empty: there are no rows to regress.")
    table = data.to_arrow()  # shares the polars buffers
    index = _index(
        [_factorize_arrow(table.column(time_col)), _factorize_arrow(table.column(instrument_col))],
        [time_col, instrument_col],
    )
    values = {
        name: _arrow_values(table.column(name)) for name in columns if name not in (time_col, instrument_col)
    }
    panel = pd.DataFrame(values, index=index, copy=False)
    return panel, Origin("polars", time_col, instrument_col, data.select(time_col, instrument_col))


def _factorize_arrow(column: Any) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for null) and unique values of an Arrow column, by Arrow's dictionary encoding."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):  # polars Categorical/Enum
        array = array.cast(array.type.value_type)
    if pa.types.is_string_view(array.type):
        array = array.cast(pa.large_string())
    encoded = pc.dictionary_encode(array)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    uniques = pd.Index(encoded.dictionary.to_pandas(date_as_object=False))
    return codes, uniques


def _arrow_values(column: Any) -> Any:
    """A numeric Arrow column as numpy (shared buffers when there are no nulls; NaN for nulls);
    any other column as pandas (the layout then says it is not numeric)."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        if column.null_count and not pa.types.is_floating(kind):
            column = column.cast(pa.float64())
        return column.to_numpy()
    return column.to_pandas().array


def _index(parts: list[tuple[np.ndarray, pd.Index]], names: list[Hashable]) -> pd.MultiIndex:
    """A MultiIndex from codes and unique values, left in the rows' order (no sort)."""
    return pd.MultiIndex(
        levels=[uniques for _, uniques in parts], codes=[codes for codes, _ in parts], names=names,
        verify_integrity=False,
    )
