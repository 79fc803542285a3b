"""Panels on disk: hive-partitioned Parquet datasets read and written with :mod:`pyarrow.dataset`.

:func:`write_panel` stores a (datetime, instrument) panel as a directory of Parquet files, one
directory per instrument (``instrument=A000/``) or per hash bucket of instruments
(``bucket=7/``), so that every instrument lives in exactly one partition. :func:`read_panel`
reads it back, or a subset of it: filters on instruments and dates are pushed down to pyarrow,
which opens only the partitions (files) that can hold the requested instruments.
:func:`list_partitions` and :func:`read_partition` serve the out-of-core command
(``quantreg resid DATASET_DIR -o OUT_DIR``), which processes one partition at a time.

A small sidecar file ``_quantreg.json`` (ignored by Parquet readers: its name starts with ``_``)
records the index level names, the partitioning and the column order. Datasets written by other
tools (Dask, Spark, pyarrow) are read too when they are hive-partitioned and hold columns
``datetime`` and ``instrument``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from quantreg.exceptions import DatasetError, MissingColumnError, PanelError
from quantreg.panel import INSTRUMENT_LEVEL, TIME_LEVEL, resolve_levels

__all__ = [
    "BUCKET",
    "Partition",
    "bucket_of",
    "list_partitions",
    "read_panel",
    "read_partition",
    "write_atomic",
    "write_panel",
]

#: Name of the partition key when instruments are hashed into buckets.
BUCKET = "bucket"
SIDECAR = "_quantreg.json"
_FORMAT = "quantreg-panel"


@dataclass(frozen=True)
class Partition:
    """One hive partition of a dataset: its directory (relative to the root) and its files."""

    key: str
    files: tuple[str, ...]


def bucket_of(instruments: Sequence[Hashable] | pd.Index, n_buckets: int) -> np.ndarray:
    """Stable hash bucket (``0 .. n_buckets - 1``) of each instrument.

    The hash is :func:`pandas.util.hash_array` of the instrument's text, which does not depend on
    the process (unlike Python's ``hash``), so writers and readers agree.

    Examples
    --------
    >>> bucket_of(["A000", "A001", "A000"], 4).tolist()
    [0, 2, 0]
    """
    text = np.asarray([str(v) for v in instruments], dtype=object)
    if text.size == 0:
        return np.empty(0, dtype=np.int64)
    return (pd.util.hash_array(text) % np.uint64(n_buckets)).astype(np.int64)


def write_panel(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    partition: str | int = "instrument",
    *,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a (datetime, instrument) panel as a hive-partitioned Parquet dataset.

    Parameters
    ----------
    df : DataFrame
        Panel on a two-level (datetime, instrument) MultiIndex, any row order, unique entries.
    path : path-like
        Directory to create. It must not exist (or be empty) unless ``overwrite=True``.
    partition : "instrument" or int
        ``"instrument"``: one directory per instrument (``instrument=A000/``). An int ``n``:
        instruments hashed into ``n`` buckets (``bucket=0/`` .. ``bucket=n-1/``), better when
        there are thousands of instruments. Either way an instrument lives in one partition.
    time_level, instrument_level : index level names, optional
        When the levels are not named ``datetime`` and ``instrument``.
    overwrite : bool, default False
        Delete the Parquet files of an existing dataset at ``path`` first.

    Returns
    -------
    pathlib.Path
        The dataset directory.

    Notes
    -----
    Rows are written sorted by (instrument, datetime), so each instrument's rows are contiguous
    and in time order inside its file; the bucket of instrument ``i`` is
    ``hash_array(str(i)) mod n`` (:func:`bucket_of`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, read_panel
    >>> panel = make_panel(3, 20, 2, seed=0)
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "panel"
    >>> sorted(p.name for p in write_panel(panel, root).iterdir())
    ['_quantreg.json', 'instrument=A000', 'instrument=A001', 'instrument=A002']
    >>> read_panel(root).equals(panel)
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise PanelError(
            f"write_panel expects a pandas DataFrame on a (datetime, instrument) MultiIndex; got "
            f"{type(df).__name__}."
        )
    t_pos, i_pos = resolve_levels(df.index, time_level, instrument_level)
    names = list(df.index.names)
    t_name, i_name = names[t_pos], names[i_pos]
    if not isinstance(t_name, str) or not isinstance(i_name, str):
        raise PanelError(
            f"index level names must be strings to be stored as columns; got {names}. "
            "Rename them with df.index.set_names(['datetime', 'instrument'])."
        )
    clash = [c for c in df.columns if c in (t_name, i_name, BUCKET)]
    if clash:
        raise PanelError(
            f"column(s) {clash} have the name of an index level or of the partition key "
            f"{BUCKET!r}; rename them before writing."
        )
    if df.index.duplicated().any():
        first = df.index[df.index.duplicated()][0]
        raise PanelError(
            f"the index has duplicated (datetime, instrument) entries, first {first}; "
            "drop them (df[~df.index.duplicated(keep='last')]) before writing."
        )
    n_buckets = _check_partition(partition)
    root = Path(path)
    _prepare_directory(root, overwrite)

    flat = df.reset_index()[[t_name, i_name, *df.columns]]
    flat = flat.sort_values([i_name, t_name], kind="stable", ignore_index=True)
    if n_buckets is None:
        key = i_name
    else:
        codes, uniques = pd.factorize(flat[i_name])
        flat[BUCKET] = bucket_of(uniques, n_buckets)[codes]
        key = BUCKET
    table = pa.Table.from_pandas(flat, preserve_index=False)
    table = table.replace_schema_metadata(None)  # the sidecar, not pandas metadata, rebuilds
    key_type = table.schema.field(key).type
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([pa.field(key, key_type)]), flavor="hive"),
        existing_data_behavior="overwrite_or_ignore",
        max_partitions=max(1024, flat[key].nunique() + 1),
        max_open_files=1024,
        basename_template="part-{i}.parquet",
    )
    meta = {
        "format": _FORMAT,
        "version": 1,
        "time_level": t_name,
        "instrument_level": i_name,
        "partition": "instrument" if n_buckets is None else {"buckets": n_buckets},
        "columns": [str(c) for c in df.columns],
        "key_type": str(key_type),
        # the full schema: opening the dataset then reads no file (no schema inference)
        "schema": base64.b64encode(table.schema.serialize().to_pybytes()).decode("ascii"),
    }
    write_text_atomic(root / SIDECAR, json.dumps(meta, indent=1))
    return root


def read_panel(
    path: str | os.PathLike[str],
    instruments: Sequence[Hashable] | Hashable | None = None,
    start: Any = None,
    end: Any = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a panel (or part of it) from a dataset written by :func:`write_panel`.

    Parameters
    ----------
    path : path-like
        Dataset directory.
    instruments : label or list of labels, optional
        Only these instruments; only their partitions are opened.
    start, end : date-like, optional
        Only rows with ``start <= datetime <= end`` (pushed down to the Parquet row groups).
    columns : list of str, optional
        Only these data columns (the index levels are always read).

    Returns
    -------
    DataFrame
        On a (datetime, instrument) MultiIndex (the stored level names), rows sorted by
        (datetime, instrument), columns in the stored order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, read_panel
    >>> panel = make_panel(6, 30, 2, seed=0)
    >>> root = write_panel(panel, pathlib.Path(tempfile.mkdtemp()) / "p", partition=3)
    >>> part = read_panel(root, instruments=["A001", "A004"], start="2000-01-10", columns=["y"])
    >>> part.equals(panel.loc[(slice("2000-01-10", None), ["A001", "A004"]), ["y"]])
    True
    """
    root = Path(path)
    meta = read_metadata(root)
    dataset = open_dataset(root, meta)
    t_name, i_name = meta["time_level"], meta["instrument_level"]
    data_columns = [c for c in dataset.schema.names if c not in (t_name, i_name, BUCKET)]
    order = [c for c in meta.get("columns", data_columns) if c in data_columns]
    order += [c for c in data_columns if c not in order]
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in columns if c not in order]
        if unknown:
            raise MissingColumnError(
                f"column(s) {unknown} not found in the dataset '{root}'; available columns: "
                f"{order}."
            )
        order = columns
    filter_ = panel_filter(dataset, meta, instruments, start, end)
    table = _scan(dataset, root, columns=[t_name, i_name, *order], filter=filter_)
    frame = table.to_pandas(ignore_metadata=True)
    return _as_panel(frame, t_name, i_name, str(root))


# ------------------------------------------------------------------------- partition by partition
def list_partitions(path: str | os.PathLike[str]) -> list[Partition]:
    """The hive partitions of a dataset, in directory order, each with its Parquet files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, list_partitions
    >>> root = write_panel(make_panel(5, 20, 1), pathlib.Path(tempfile.mkdtemp()) / "p", 2)
    >>> [p.key for p in list_partitions(root)]
    ['bucket=0', 'bucket=1']
    """
    root = Path(path)
    meta = read_metadata(root)
    dataset = open_dataset(root, meta)
    groups: dict[str, list[str]] = {}
    for file in sorted(dataset.files):
        relative = Path(file).resolve().relative_to(root.resolve()).parent.as_posix()
        groups.setdefault(relative, []).append(file)
    return [Partition(key, tuple(files)) for key, files in groups.items()]


def read_partition(path: str | os.PathLike[str], partition: Partition) -> pd.DataFrame:
    """Read one partition (all its files) of a dataset as a panel, without scanning the others."""
    root = Path(path)
    meta = read_metadata(root)
    dataset = ds.dataset(
        list(partition.files), format="parquet", partitioning=_partitioning(root, meta),
        partition_base_dir=str(root), schema=_schema(meta),
    )
    t_name, i_name = meta["time_level"], meta["instrument_level"]
    data_columns = [c for c in dataset.schema.names if c not in (t_name, i_name, BUCKET)]
    frame = _scan(dataset, root, columns=[t_name, i_name, *data_columns]).to_pandas(
        ignore_metadata=True
    )
    return _as_panel(frame, t_name, i_name, f"{root}/{partition.key}", sort=False)


def write_atomic(table: pa.Table | pd.DataFrame, target: str | os.PathLike[str]) -> Path:
    """Write a table (a DataFrame: with its index) to Parquet at ``target``, all or nothing.

    The data go to a hidden temporary name in the same directory (``.name.tmp-PID``, skipped by
    Parquet dataset readers), are flushed to disk, then renamed to ``target`` with
    :func:`os.replace` (atomic on POSIX): ``target`` either does not exist or is complete.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "sub" / "out.parquet"
    >>> write_atomic(pd.DataFrame({"a": [1.0, 2.0]}), target).name
    'out.parquet'
    >>> sorted(p.name for p in target.parent.iterdir())   # no temporary file left behind
    ['out.parquet']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=True)
    tmp = temp_name(target)
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def temp_name(target: Path) -> Path:
    """The hidden temporary name :func:`write_atomic` uses for ``target`` in this process."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}")


def write_text_atomic(target: Path, text: str) -> None:
    """Replace a small text file atomically (temporary file, then :func:`os.replace`)."""
    tmp = temp_name(target)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


# ------------------------------------------------------------------------- helpers
def read_metadata(root: Path) -> dict[str, Any]:
    """The sidecar of a dataset, or defaults for a hive dataset written by another tool."""
    if not root.exists():
        raise FileNotFoundError(2, "dataset directory not found", str(root))
    if not root.is_dir():
        raise NotADirectoryError(
            20, "expected a dataset directory (written by quantreg.io.write_panel)", str(root)
        )
    sidecar = root / SIDECAR
    if not sidecar.exists():
        return {"time_level": TIME_LEVEL, "instrument_level": INSTRUMENT_LEVEL, "partition": None}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DatasetError(f"cannot read '{sidecar}' as JSON: {exc}; rewrite the dataset "
                           "with quantreg.io.write_panel.") from exc
    if meta.get("format") != _FORMAT:
        raise DatasetError(f"'{sidecar}' is not a quantreg dataset description "
                           f"(format {meta.get('format')!r}, expected {_FORMAT!r}).")
    return meta


def open_dataset(root: Path, meta: dict[str, Any]) -> ds.Dataset:
    """The pyarrow dataset of ``root`` with its hive partitioning."""
    try:
        dataset = ds.dataset(root, format="parquet", partitioning=_partitioning(root, meta),
                             schema=_schema(meta))
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"cannot open '{root}' as a Parquet dataset: {exc}") from exc
    if not dataset.files:
        raise DatasetError(
            f"'{root}' holds no Parquet files; write one with quantreg.io.write_panel(df, path)."
        )
    missing = [c for c in (meta["time_level"], meta["instrument_level"])
               if c not in dataset.schema.names]
    if missing:
        raise MissingColumnError(
            f"the dataset '{root}' has no column {' or '.join(map(repr, missing))}; a panel "
            f"dataset needs columns (or hive keys) {meta['time_level']!r} and "
            f"{meta['instrument_level']!r} (found {dataset.schema.names})."
        )
    return dataset


def _scan(dataset: ds.Dataset, root: Path, **kwargs: Any) -> pa.Table:
    try:
        return dataset.to_table(**kwargs)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"cannot read the dataset '{root}': {exc}") from exc


def _schema(meta: dict[str, Any]) -> pa.Schema | None:
    """The stored schema of a dataset written by :func:`write_panel` (None: infer it)."""
    if "schema" not in meta:
        return None
    try:
        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(meta["schema"])))
    except (ValueError, pa.ArrowInvalid) as exc:
        raise DatasetError(f"the schema stored in {SIDECAR} cannot be read: {exc}; rewrite "
                           "the dataset with quantreg.io.write_panel.") from exc


def _partitioning(root: Path, meta: dict[str, Any]) -> Any:
    spec = meta.get("partition")
    if spec is None:
        return "hive"
    key = meta["instrument_level"] if spec == "instrument" else BUCKET
    key_type = pa.type_for_alias(meta.get("key_type", "int64")) if spec != "instrument" else (
        _type_from_string(meta.get("key_type", "large_string"))
    )
    return ds.partitioning(pa.schema([pa.field(key, key_type)]), flavor="hive")


def _type_from_string(text: str) -> pa.DataType:
    try:
        return pa.type_for_alias(text)
    except ValueError:
        return pa.large_string()


def panel_filter(
    dataset: ds.Dataset, meta: dict[str, Any], instruments: Any, start: Any, end: Any
) -> ds.Expression | None:
    """A pyarrow filter selecting instruments (and their buckets) and a date range."""
    t_name, i_name = meta["time_level"], meta["instrument_level"]
    parts = []
    if instruments is not None:
        if isinstance(instruments, (str, bytes)) or not isinstance(
            instruments, (Sequence, pd.Index, np.ndarray, set, frozenset)
        ):
            instruments = [instruments]
        wanted = list(instruments)
        field_type = dataset.schema.field(i_name).type
        try:
            values = pa.array(wanted, type=field_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise PanelError(
                f"instruments {wanted[:5]} do not match the dataset's instrument type "
                f"{field_type}: {exc}"
            ) from exc
        parts.append(ds.field(i_name).isin(values))
        spec = meta.get("partition")
        if isinstance(spec, dict) and "buckets" in spec:  # prune on the partition key as well
            buckets = np.unique(bucket_of(wanted, int(spec["buckets"])))
            parts.append(ds.field(BUCKET).isin(pa.array(buckets, type=pa.int64())))
    field_type = dataset.schema.field(t_name).type
    for bound, op in ((start, "ge"), (end, "le")):
        if bound is None:
            continue
        try:
            stamp = pd.Timestamp(bound)
        except (ValueError, TypeError) as exc:
            raise PanelError(f"cannot read {bound!r} as a date for start/end: {exc}") from exc
        tz = getattr(field_type, "tz", None)
        if tz is not None:
            stamp = stamp.tz_convert(tz) if stamp.tz is not None else stamp.tz_localize(tz)
        elif stamp.tz is not None:
            raise PanelError(
                f"start/end {bound!r} has a time zone but the dataset's {t_name!r} column has "
                "none; pass a naive date."
            )
        scalar = pa.scalar(stamp.to_pydatetime(warn=False)).cast(field_type) \
            if pa.types.is_timestamp(field_type) else pa.scalar(stamp.to_pydatetime())
        field = ds.field(t_name)
        parts.append(field >= scalar if op == "ge" else field <= scalar)
    if not parts:
        return None
    expression = parts[0]
    for part in parts[1:]:
        expression = expression & part
    return expression


def _as_panel(frame: pd.DataFrame, t_name: str, i_name: str, where: str,
              sort: bool = True) -> pd.DataFrame:
    """Rebuild and validate the (datetime, instrument) MultiIndex of a flat frame."""
    if isinstance(frame[i_name].dtype, pd.CategoricalDtype):  # hive keys read as dictionaries
        frame[i_name] = frame[i_name].astype(frame[i_name].cat.categories.dtype)
    if not pd.api.types.is_datetime64_any_dtype(frame[t_name].dtype):
        raise PanelError(
            f"column {t_name!r} of '{where}' has dtype {frame[t_name].dtype}, not a datetime; "
            "store timestamps (pd.to_datetime) in the time column."
        )
    panel = frame.set_index([t_name, i_name])
    if sort:
        panel = panel.sort_index()
    if panel.index.has_duplicates:
        first = panel.index[panel.index.duplicated()][0]
        raise PanelError(
            f"the dataset '{where}' has duplicated (datetime, instrument) entries, first "
            f"{first}; a panel needs one row per instrument and date."
        )
    resolve_levels(panel.index, t_name, i_name)
    return panel


def _check_partition(partition: object) -> int | None:
    if partition == "instrument":
        return None
    if isinstance(partition, (int, np.integer)) and not isinstance(partition, bool) and (
        partition >= 1
    ):
        return int(partition)
    raise ValueError(
        "The 'partition' parameter of write_panel must be 'instrument' or an int >= 1 (a number "
        f"of hash buckets). Got {partition!r} instead."
    )


def _prepare_directory(root: Path, overwrite: bool) -> None:
    if root.exists() and not root.is_dir():
        raise FileExistsError(17, "exists and is not a directory", str(root))
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(
                17, "dataset directory exists and is not empty (pass overwrite=True)", str(root)
            )
        for file in sorted(root.rglob("*"), reverse=True):
            if file.is_file() and (file.suffix == ".parquet" or file.name == SIDECAR):
                file.unlink()
            elif file.is_dir() and not any(file.iterdir()):
                file.rmdir()
    root.mkdir(parents=True, exist_ok=True)
