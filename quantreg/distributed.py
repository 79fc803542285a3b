"""Rolling OLS on Dask: the same numba kernel, one task per partition of whole instruments.

Needs the optional extra ``pip install 'quantreg[dask]'`` (``dask[dataframe]`` and
``distributed``); Dask is imported only when a function here is called. Everything runs on the
Dask scheduler in use: the threads of one process, or a ``distributed.Client`` connected to any
deployment (``LocalCluster``, ``dask-jobqueue``, Kubernetes, Coiled).

**Any partitioning.** Windows never straddle partitions, so every partition must hold whole
instruments. That is known without looking at the data for a frame indexed by instrument with
known divisions (``ddf.set_index("instrument")``), for a single partition, and for a Parquet
dataset partitioned by instrument (or hash bucket) given by its path. Otherwise quantreg reads
the instrument column once; if an instrument lies in two partitions (row blocks, partitions by
date...), it shuffles the rows by instrument with Dask's own shuffle (``DataFrame.shuffle``),
else it runs on the partitions as they are. ``shuffle=True`` shuffles without looking,
``shuffle=False`` never shuffles (and raises :class:`PartitionLayoutError` for a split
instrument).

**Results say which row they belong to.** The result is a Dask DataFrame whose rows carry the
input's index and its time and instrument columns (a key that is the input's index is carried
as the index). Without a shuffle its partitions are the input's, row for row; after one, rows
are grouped by instrument and keep their index labels. Attach results to the input by key, which
is right whatever either side's row order::

    out = ddf.merge(resid, on=["datetime", "instrument"], how="left")
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quantreg.exceptions import MissingColumnError, PanelError, PartitionLayoutError
from quantreg.panel import INSTRUMENT_LEVEL, TIME_LEVEL

__all__ = ["cross_sectional_resid", "load_kernels", "rolling_ols", "rolling_resid", "run_engine"]

_OPTIONS = ("min_nobs", "add_constant", "expanding", "missing", "residual", "halflife")
_TASK_SHUFFLE_MAX = 128  # partitions; beyond, Dask's default (peer-to-peer) shuffle


def _dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - the test environment has dask
        raise ImportError(
            "quantreg.distributed needs Dask: install it with pip install 'quantreg[dask]' "
            f"(dask[dataframe] and distributed). Import failed with: {exc}"
        ) from exc
    return dd


def rolling_resid(
    data: Any,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    window: int | str | None = None,
    *,
    time_col: str = TIME_LEVEL,
    instrument_col: str = INSTRUMENT_LEVEL,
    shuffle: bool | str = "auto",
    check_partitions: bool = True,
    **options: Any,
) -> Any:
    """Rolling-regression residuals of a Dask DataFrame partitioned any way.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or path-like
        Rows of a panel with the time and instrument as columns (or one of them as the index),
        partitioned in any way: row blocks, by date, by instrument. A path is the directory
        of a Parquet dataset read with the rules of :mod:`quantreg.io`: one Dask partition per
        instrument or bucket folder of a dataset partitioned so (:func:`quantreg.io.write_panel`,
        hive ``instrument=X/``), else one per file (``date=D/`` folders, per-day files), then
        shuffled.
    y, x, window : as :func:`quantreg.rolling_resid`
        ``y`` defaults to the last data column and ``x`` to the other data columns (the time
        and instrument columns excluded).
    time_col, instrument_col : str
        Names of the time and instrument columns (or of the index).
    shuffle : {"auto", True, False}, default "auto"
        ``"auto"``: shuffle the rows by instrument (Dask's ``DataFrame.shuffle``: the method
        set in ``dask.config`` ``dataframe.shuffle.method``, else ``"tasks"`` up to 128
        partitions and Dask's default beyond; the partition count is kept) when an
        instrument lies in more than one partition, found by reading the instrument column once;
        skipped without reading anything when the layout guarantees whole instruments (index
        on the instrument with known divisions, one partition, an instrument-partitioned
        dataset path). ``True``: always shuffle. ``False``: never; a split instrument raises
        :class:`PartitionLayoutError`.
    check_partitions : bool, default True
        With ``shuffle="auto"`` or ``False``, ``False`` trusts the layout: no pass over the
        instrument column, no shuffle (the caller guarantees whole instruments per partition).
    **options
        ``min_nobs``, ``add_constant``, ``expanding``, ``missing``, ``residual``, ``halflife``
        of :func:`quantreg.rolling_resid`.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``time_col`` and ``instrument_col`` (those that are columns of ``data``; an
        index key stays the index) and ``residual`` (float64), on the index of ``data``. Not
        shuffled: the partitions and divisions of ``data``, row for row. Shuffled: rows grouped
        by instrument, unknown divisions. Attach it to the input with
        ``ddf.merge(result, on=[time_col, instrument_col])``.

    Notes
    -----
    Each partition runs :func:`quantreg.rolling_resid` on its rows; since a window only uses
    rows of one instrument, and the engine orders each instrument's rows by time itself, the
    values equal the in-memory computation on the whole panel exactly (same kernel, same
    arithmetic, same order within each instrument), whatever the partitioning and row order.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import quantreg, quantreg.distributed as qd
    >>> from quantreg.datasets import make_panel
    >>> panel = make_panel(4, 60, 2, seed=0)
    >>> ddf = dd.from_pandas(panel.reset_index(), npartitions=3)   # row blocks: split instruments
    >>> resid = qd.rolling_resid(ddf, window=20)                  # shuffled by instrument
    >>> list(resid.columns)
    ['datetime', 'instrument', 'residual']
    >>> got = resid.compute(scheduler="sync").set_index(["datetime", "instrument"])["residual"]
    >>> expected = quantreg.rolling_resid(panel, window=20)
    >>> got.reindex(expected.index).equals(expected)
    True
    """
    return _run(data, y, x, window, time_col, instrument_col, shuffle, check_partitions,
                options, full=False)


def rolling_ols(
    data: Any,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    window: int | str | None = None,
    *,
    time_col: str = TIME_LEVEL,
    instrument_col: str = INSTRUMENT_LEVEL,
    shuffle: bool | str = "auto",
    check_partitions: bool = True,
    **options: Any,
) -> Any:
    """Rolling OLS of a Dask DataFrame partitioned any way: :meth:`RollingOLSResult.to_frame`
    per row.

    Same arguments as :func:`rolling_resid`. The columns are ``time_col`` and
    ``instrument_col`` (those that are columns of ``data``), then ``residual``, ``fitted``,
    ``nobs``, ``rsquared``, ``status`` and the coefficients (``const`` and the regressors'
    names), on the index of ``data`` (and its partitions when not shuffled).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import quantreg.distributed as qd
    >>> from quantreg.datasets import make_panel
    >>> ddf = dd.from_pandas(make_panel(3, 40, 1, seed=0).reset_index(), npartitions=1)
    >>> out = qd.rolling_ols(ddf, window=10)
    >>> list(out.columns)
    ['datetime', 'instrument', 'residual', 'fitted', 'nobs', 'rsquared', 'status', 'const', 'x1']
    >>> len(out.compute(scheduler="sync")) == len(ddf)
    True
    """
    return _run(data, y, x, window, time_col, instrument_col, shuffle, check_partitions,
                options, full=True)


def load_kernels(client: Any, k: Sequence[int] | int) -> dict[str, dict[int, dict[str, int]]]:
    """Load (or compile) the rolling kernels for ``k`` regressors on every worker, once.

    Kernels are numba functions compiled once (for any number of regressors) and cached on disk
    (``cache=True``): a worker process loads the machine code from the cache on first use and
    keeps it for the rest of its life. Calling this before a computation moves that one-off
    cost out of the first tasks, and reports what happened on each worker.

    Returns
    -------
    dict
        ``{worker address: {k: {"cache_hits": int, "cache_misses": int}}}`` from numba's
        dispatcher statistics (a miss means that worker compiled the kernel).
    """
    ks = [int(k)] if isinstance(k, (int, np.integer)) else [int(v) for v in k]
    return client.run(_load_kernels_here, ks)


def _load_kernels_here(ks: list[int]) -> dict[int, dict[str, int]]:
    from quantreg.engine import cache_stats
    from quantreg.rolling import rolling_resid as _resid

    out = {}
    for k in ks:
        _resid(_tiny_panel(k), window=k + 2)  # compiles the engine's kernel, or loads it from the cache
        out[k] = {**cache_stats(), "pid": os.getpid()}
    return out


def _tiny_panel(k: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = k + 4
    index = pd.MultiIndex.from_arrays(
        [pd.date_range("2000-01-03", periods=n), ["a"] * n], names=[TIME_LEVEL, INSTRUMENT_LEVEL]
    )
    return pd.DataFrame(rng.standard_normal((n, k + 1)),
                        columns=[f"x{j}" for j in range(k)] + ["y"], index=index)


# ----------------------------------------------------------------------------- internals
def _run(data, y, x, window, time_col, instrument_col, shuffle, check_partitions, options, *,
         full):
    dd = _dask()
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; accepted: {list(_OPTIONS)}.")
    if shuffle not in ("auto", True, False):
        raise ValueError(
            "The 'shuffle' parameter of quantreg.distributed must be 'auto', True or False. "
            f"Got {shuffle!r} instead."
        )
    whole = False  # True: each partition is known to hold whole instruments
    if isinstance(data, (str, os.PathLike)):
        data, whole = _read_dataset(dd, Path(data))
    if not isinstance(data, dd.DataFrame):
        raise PanelError(
            f"expected a dask.dataframe.DataFrame or the path of a Parquet dataset; got "
            f"{type(data).__name__}. Use dask.dataframe.from_pandas(df.reset_index(), ...) for "
            "an in-memory panel, or quantreg.rolling_ols for pandas."
        )
    meta_frame = data._meta
    located = {name: _locate(meta_frame, name) for name in (time_col, instrument_col)}
    missing = [name for name, where in located.items() if where is None]
    if missing:
        raise MissingColumnError(
            f"the Dask DataFrame has no column or index named {missing}; it has columns "
            f"{list(meta_frame.columns)} and index {meta_frame.index.name!r}. Pass time_col= "
            "and instrument_col=, or keep the levels as columns (df.reset_index())."
        )
    data_columns = [c for c in meta_frame.columns if c not in (time_col, instrument_col)]
    y_name = data_columns[-1] if y is None and data_columns else y
    if x is None:
        x_names = [c for c in data_columns if c != y_name]
    elif isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        x_names = [x]
    else:
        x_names = list(x)
    settings = dict(y=y_name, x=x_names, window=window, time_col=time_col,
                    instrument_col=instrument_col, full=full, **options)
    # Run once on a small fake partition: validates every option now (not inside the workers)
    # with the library's own errors, and gives the exact output layout for ``meta``.
    meta = _partition(_fake_partition(meta_frame, time_col, x_names, y_name), **settings).iloc[:0]
    if _needs_shuffle(data, instrument_col, located[instrument_col], whole, shuffle,
                      check_partitions):
        # Dask's own hash shuffle: all rows of an instrument land in one partition. The rows
        # keep their index labels; the time and instrument travel with them either way.
        used = list(dict.fromkeys(c for c in (time_col, instrument_col, *x_names, y_name)
                                  if c in meta_frame.columns))
        data = data[used]  # only the columns the regression and the result need travel
        method = _shuffle_method(data.npartitions)
        if located[instrument_col] == "index":
            data = data.shuffle(on_index=True, shuffle_method=method)
        else:
            data = data.shuffle(on=instrument_col, shuffle_method=method)
    return data.map_partitions(_partition, meta=meta, empty=meta, **settings)


def _needs_shuffle(data: Any, instrument_col: str, where: str, whole: bool,
                   shuffle: bool | str, check_partitions: bool) -> bool:
    """Whether instruments must be brought together first (see :func:`rolling_resid`)."""
    if shuffle is True:
        return True
    if whole or data.npartitions == 1 or _instrument_divisions(data, instrument_col):
        return False  # whole instruments per partition by construction
    if not check_partitions:
        return False
    split = _split_instrument(data, instrument_col, where)
    if split is None:
        return False
    if shuffle is False:
        first, parts, others = split
        raise PartitionLayoutError(
            f"instrument {first!r} spans partitions {parts} (and {others} other "
            "instrument(s) are split too), and shuffle=False; rolling windows cannot straddle "
            "partitions. Pass shuffle='auto' (the default) to let quantreg shuffle the rows "
            f"by instrument, or put each instrument in one partition (ddf.set_index("
            f"{instrument_col!r}), or a dataset written by quantreg.io.write_panel)."
        )
    return True


def _shuffle_method(npartitions: int) -> str | None:
    """Dask's shuffle method: the one configured (``dataframe.shuffle.method``), else the
    task-based shuffle up to ``_TASK_SHUFFLE_MAX`` partitions (about twice as fast as the
    peer-to-peer one there, measured in ``benchmarks/bench_dask.py``), else Dask's default."""
    import dask

    configured = dask.config.get("dataframe.shuffle.method", None)
    if configured is not None:
        return configured
    return "tasks" if npartitions <= _TASK_SHUFFLE_MAX else None


def _read_dataset(dd: Any, root: Path) -> tuple[Any, bool]:
    """A dataset as a Dask DataFrame (flat columns), read with the rules of :mod:`quantreg.io`,
    and whether its partitions hold whole instruments: one partition per unit of
    :func:`quantreg.io.list_partitions` when the dataset is partitioned by instrument (or
    bucket), else one partition per file (e.g. one per day), to be shuffled."""
    from quantreg.exceptions import DatasetLayoutError
    from quantreg.io import file_partitions, list_partitions

    try:
        parts, whole = list_partitions(root), True
    except DatasetLayoutError:
        parts, whole = file_partitions(root), False
    meta = _read_flat(parts[0], root).iloc[:0]
    frame = dd.from_map(_read_flat, parts, root=root, meta=meta, label="quantreg-read-partition")
    return frame, whole


def _read_flat(partition: Any, root: Path) -> pd.DataFrame:
    from quantreg.io import read_partition

    return read_partition(root, partition).reset_index()


def _locate(frame: pd.DataFrame, name: str) -> str | None:
    if name in frame.columns:
        return "column"
    if frame.index.name == name:
        return "index"
    return None


def _instrument_divisions(data: Any, instrument_col: str) -> bool:
    """True when the index is the instrument with known divisions (one partition each)."""
    return data._meta.index.name == instrument_col and data.known_divisions


def cross_sectional_resid(
    data: Any,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    by: str = TIME_LEVEL,
    check_partitions: bool = True,
    **options: Any,
) -> Any:
    """:func:`quantreg.cross_sectional_resid` of a Dask DataFrame, as a Dask Series named
    ``residual`` on its index: one task per partition, no shuffle.

    Each date (value of ``by``, a column or the index) must lie in a single partition — true
    for a frame indexed by ``by`` with known divisions (``ddf.set_index("datetime")``);
    otherwise the ``by`` column is checked (one pass) and :class:`PartitionLayoutError` raised.
    ``options``: ``groups``, ``weights`` (column names), ``add_constant``, ``min_nobs``.

    Examples
    --------
    >>> import pandas as pd, dask.dataframe as dd, quantreg.distributed as qd
    >>> flat = pd.DataFrame({"datetime": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"] * 3),
    ...                      "size": [1.0, 2, 3, 1, 2, 4], "signal": [1.0, 3, 5, 1, 2, 7]})
    >>> ddf = dd.from_pandas(flat.set_index("datetime"), npartitions=2)
    >>> qd.cross_sectional_resid(ddf, "signal", ["size"]).compute().round(6).tolist()
    [0.0, 0.0, 0.0, 0.428571, -0.642857, 0.214286]
    """
    dd = _dask()
    allowed = ("groups", "weights", "add_constant", "min_nobs")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; accepted: {list(allowed)}.")
    if not isinstance(data, dd.DataFrame):
        raise PanelError(
            f"expected a dask.dataframe.DataFrame; got {type(data).__name__}. Use "
            "quantreg.cross_sectional_resid for pandas."
        )
    meta_frame = data._meta
    where = _locate(meta_frame, by)
    if where is None:
        raise MissingColumnError(
            f"by={by!r} is neither a column ({list(meta_frame.columns)}) nor the index "
            f"({meta_frame.index.name!r}) of the Dask DataFrame; pass by= with the date column."
        )
    from quantreg.panel import default_yx

    y, x = default_yx(meta_frame, y, x, [by, options.get("groups"), options.get("weights")])
    settings = dict(y=y, x=x, by=by, **options)
    meta = pd.Series(np.empty(0), index=meta_frame.index, name="residual")
    if check_partitions and not (meta_frame.index.name == by and data.known_divisions):
        split = _split_instrument(data, by, where)
        if split is not None:
            date, parts, others = split
            raise PartitionLayoutError(
                f"date {date!r} spans partitions {parts} (and {others} other date(s) are split "
                f"too); a cross-section cannot straddle partitions. Put each date in one "
                f"partition: ddf.set_index({by!r})."
            )
    return data.map_partitions(_cross_partition, meta=meta, **settings)


def _cross_partition(pdf: pd.DataFrame, *, y, x, by, **options) -> pd.Series:
    """One partition of whole dates: the in-memory cross-sectional residuals."""
    from quantreg.cross_section import cross_sectional_resid as _resid

    if len(pdf) == 0:
        return pd.Series(np.empty(0), index=pdf.index, name="residual")
    flat = pdf.reset_index() if pdf.index.name == by else pdf.reset_index(drop=True)
    result = _resid(flat, y, x, by=by, **options)
    return pd.Series(result.to_numpy(), index=pdf.index, name="residual")


def _split_instrument(data: Any, instrument_col: str, where: str) -> tuple | None:
    """``(instrument, its partitions, number of other split instruments)`` for an instrument
    found in two partitions, else None (one pass over the instrument column only)."""
    keys = data[instrument_col] if where == "column" else data.index.to_series()
    per_partition = keys.map_partitions(_unique_keys, meta=("instrument", object)).compute()
    parts = per_partition.to_numpy()
    seen = pd.Series(np.concatenate(parts) if len(parts) else np.empty(0, dtype=object))
    dup = seen[seen.duplicated()]
    if not len(dup):
        return None
    first = dup.iloc[0]
    return first, [i for i, p in enumerate(parts) if first in set(p)], dup.nunique() - 1


def _unique_keys(keys: pd.Series) -> pd.Series:
    """The distinct instruments of a partition (``Series.unique`` works on Arrow strings and
    categoricals without converting every row to a Python object first)."""
    return pd.Series([np.asarray(keys.unique(), dtype=object)], dtype=object)


def _partition(
    pdf: pd.DataFrame, *, y, x, window, time_col, instrument_col, full, empty=None, **options
) -> pd.DataFrame:
    """One partition: build the (time, instrument) panel, run the engine; the result keeps the
    partition's index and carries the time and instrument columns (those not the index)."""
    if len(pdf) == 0:  # an empty partition: the layout of ``meta``, on its (empty) index
        return empty.set_axis(pdf.index, axis=0)
    flat = pdf.reset_index() if pdf.index.name in (time_col, instrument_col) else pdf
    panel = pd.DataFrame(
        {name: flat[name].to_numpy() for name in [*x, y]},
        index=_panel_index(flat[time_col].to_numpy(), _plain(flat[instrument_col]),
                           [time_col, instrument_col]),
    )
    result = run_engine(panel, y, x, window, full=full, time_level=time_col,
                        instrument_level=instrument_col, **options)
    keys = {name: pdf[name].array for name in (time_col, instrument_col) if name in pdf.columns}
    if full:
        values = {name: column.array for name, column in result.to_frame().items()}
    else:
        values = {"residual": result.to_numpy()}
    out = pd.DataFrame({**keys, **values}, index=pdf.index)
    return out


def run_engine(panel: pd.DataFrame, y: Hashable | None, x: Any, window: int | str | None, *,
               full: bool, **options: Any) -> Any:
    """:func:`quantreg.rolling_resid` (``full=False``) or :func:`quantreg.rolling_ols` on a part
    of a panel holding whole instruments: the in-memory engine's numbers on those rows."""
    from quantreg.rolling import rolling_ols as _ols, rolling_resid as _resid

    if full:
        return _ols(panel, y, x, window, **options)
    return _resid(panel, y, x, window, **options)


def _panel_index(times: np.ndarray, instruments: np.ndarray, names: list) -> pd.MultiIndex:
    """The (time, instrument) MultiIndex from factorised levels, left unsorted: a third of the
    cost of ``MultiIndex.from_arrays``, which sorts them (the engine does not need it)."""
    time_codes, time_levels = pd.factorize(times)
    inst_codes, inst_levels = pd.factorize(instruments)
    return pd.MultiIndex(levels=[time_levels, inst_levels], codes=[time_codes, inst_codes],
                         names=names, verify_integrity=False)


def _plain(values: pd.Series) -> np.ndarray | pd.Index:
    """Instrument labels without a categorical dtype (Parquet hive keys are categoricals)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(values.cat.categories.dtype).to_numpy()
    return values.to_numpy()


def _fake_partition(meta: pd.DataFrame, time_col: str, x: list, y: Hashable) -> pd.DataFrame:
    """A small partition with the dtypes of ``meta``: one instrument, distinct dates."""
    from dask.dataframe.utils import meta_nonempty

    n = len(x) + 4
    sample = meta_nonempty(meta).iloc[[0] * n]
    rng = np.random.default_rng(0)
    columns = {}
    for name in sample.columns:
        if name == time_col:
            columns[name] = pd.date_range("2000-01-03", periods=n).astype(sample[name].dtype)
        elif name in x or name == y:
            if not pd.api.types.is_numeric_dtype(sample[name].dtype):
                columns[name] = sample[name].to_numpy()  # the engine reports non-numeric data
            else:
                columns[name] = rng.standard_normal(n)
        else:  # keys and other columns keep their dtypes (the result carries the keys)
            columns[name] = sample[name].array
    index = sample.index
    if index.name == time_col:
        index = pd.date_range("2000-01-03", periods=n, name=time_col).astype(index.dtype)
    return pd.DataFrame(columns, index=index)
