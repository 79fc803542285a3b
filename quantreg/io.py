"""Panels on disk: hive-partitioned Parquet datasets, written and read without surprises.

:func:`write_panel` stores a (datetime, instrument) panel as a directory of Parquet files, one
directory per instrument (``instrument=A000/``) or per hash bucket of instruments
(``bucket=7/``), so that every instrument lives in exactly one partition. :func:`read_panel`
reads it back, or a subset of it: filters on instruments and dates are pushed down to pyarrow,
which opens only the partitions (files) that can hold the requested instruments.
:func:`list_partitions` and :func:`read_partition` serve the out-of-core command
(``quantreg resid DATASET_DIR -o OUT_DIR``), which processes one partition at a time.

Rules this module keeps:

- **Nothing is overwritten or deleted that quantreg did not write.** Every file goes to a new,
  unpredictable hidden name created exclusively in its folder (never through an existing
  symbolic link), then is renamed into place (:func:`atomic_open`). A dataset's sidecar
  ``_quantreg.json`` (ignored by Parquet readers: its name starts with ``_``) lists the files
  quantreg wrote; ``write_panel(..., overwrite=True)`` deletes those and nothing else, and
  refuses a non-empty folder without a sidecar.
- **Complete or refused.** The sidecar is written first as *pending*, and again when the last
  file is in place as *complete*, with each file's row count: it is the completion
  marker. :func:`read_panel` reads only the files it lists, and refuses a pending dataset (an
  interrupted write) with :class:`IncompleteDatasetError` unless ``allow_partial=True``.
- **Nothing reinterpreted.** Datasets written by other tools (Dask, Spark, pyarrow) are read
  when they are hive-partitioned and hold columns ``datetime`` and ``instrument``; their
  partition keys are read as strings (``instrument=0700`` is ``"0700"``), and keys other than
  the instrument are not data columns unless asked for. Text dates must be ISO 8601 unless a
  format is given (:func:`parse_times`).
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import secrets
import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from quantreg.exceptions import (
    DatasetError,
    DatasetLayoutError,
    DateFormatError,
    IncompleteDatasetError,
    MissingColumnError,
    PanelError,
    PartialDatasetWarning,
    UnsafeOutputError,
)
from quantreg.panel import INSTRUMENT_LEVEL, TIME_LEVEL, resolve_levels

__all__ = [
    "BUCKET",
    "Partition",
    "atomic_open",
    "bucket_of",
    "file_partitions",
    "list_partitions",
    "parse_times",
    "read_panel",
    "read_partition",
    "repartition",
    "write_atomic",
    "write_panel",
]

#: Name of the partition key when instruments are hashed into buckets.
BUCKET = "bucket"
SIDECAR = "_quantreg.json"
_FORMAT = "quantreg-panel"
_VERSION = 2
_DATA_FILE = "part-0.parquet"
_HIDDEN = (".", "_")  # names dataset readers skip (pyarrow's default): temporary files, metadata


@dataclass(frozen=True)
class Partition:
    """One unit of a dataset processed at a time: a top-level directory (``instrument=A000`` or
    ``bucket=7``, relative to the root) and every Parquet file beneath it."""

    key: str
    files: tuple[str, ...]


def bucket_of(instruments: Sequence[Hashable] | pd.Index, n_buckets: int) -> np.ndarray:
    """Stable hash bucket (``0`` to ``n_buckets - 1``) of each instrument.

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


# ------------------------------------------------------------------------- writing
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
        Replace the quantreg dataset at ``path``: the files its ``_quantreg.json`` lists are
        deleted, any other file in the folder is left alone. A non-empty folder that is not a
        quantreg dataset is refused (:class:`UnsafeOutputError`), and nothing is deleted.

    Returns
    -------
    pathlib.Path
        The dataset directory.

    Raises
    ------
    FileExistsError
        ``path`` is a file, or a non-empty directory and ``overwrite`` is False.
    UnsafeOutputError
        ``overwrite=True`` on a folder that is not a quantreg dataset, a file quantreg did not
        write in the way of a new one, or a symbolic link among the dataset's folders. Nothing
        is deleted.

    Notes
    -----
    Rows are written sorted by (instrument, datetime), so each instrument's rows are contiguous
    and in time order inside its file; the bucket of instrument ``i`` is
    ``hash_array(str(i)) mod n`` (:func:`bucket_of`). Each file is written under a temporary
    name and renamed; ``_quantreg.json`` is written first as *pending* and last as *complete*
    (listing every file with its rows), so an interrupted write is never read as a
    complete dataset.

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
    owned = _prepare_directory(root, overwrite)

    flat = df.reset_index()[[t_name, i_name, *df.columns]]
    if n_buckets is None:
        key, order = i_name, [i_name, t_name]
    else:
        codes, uniques = pd.factorize(flat[i_name])
        flat[BUCKET] = bucket_of(uniques, n_buckets)[codes]
        key, order = BUCKET, [BUCKET, i_name, t_name]
    flat = flat.sort_values(order, kind="stable", ignore_index=True)
    table = pa.Table.from_pandas(flat, preserve_index=False)
    table = table.replace_schema_metadata(None)  # the sidecar, not pandas metadata, rebuilds
    key_type = table.schema.field(key).type
    partitioning = ds.partitioning(pa.schema([pa.field(key, key_type)]), flavor="hive")
    # one file per partition key: its rows are contiguous after the sort
    starts = np.flatnonzero(np.r_[True, flat[key].to_numpy()[1:] != flat[key].to_numpy()[:-1]])
    bounds = np.r_[starts, len(flat)]
    plan = {}
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        directory, _ = partitioning.format(ds.field(key) == table.column(key)[int(lo)])
        plan[f"{directory}/{_DATA_FILE}"] = (int(lo), int(hi))
    check_targets(root, plan, owned)

    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        "writer": "write_panel",
        "time_level": t_name,
        "instrument_level": i_name,
        "partition": "instrument" if n_buckets is None else {"buckets": n_buckets},
        "columns": [str(c) for c in df.columns],
        "key_type": str(key_type),
        # the full schema: opening the dataset then reads no file (no schema inference)
        "schema": base64.b64encode(table.schema.serialize().to_pybytes()).decode("ascii"),
    }
    write_sidecar(root, meta, dict.fromkeys(plan), obsolete=sorted(owned))
    remove_owned(root, owned)
    body = table.drop_columns([key])
    files = {}
    for relative, (lo, hi) in plan.items():
        target = make_dirs(root, PurePosixPath(relative).parent) / _DATA_FILE
        write_atomic(body.slice(lo, hi - lo), target)
        files[relative] = {"rows": hi - lo}
    write_sidecar(root, meta, files, complete=True)
    return root


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that appears at ``target`` complete, or not at all.

    The data go to a new hidden file in ``target``'s folder with an unpredictable name
    (``.NAME.<random>.tmp``), created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``: never an
    existing file, never through a symbolic link), flushed to disk and renamed to ``target``
    with :func:`os.replace` (atomic on POSIX; an existing ``target``, even a symbolic link, is
    replaced, never written through). On any error, interruption included, only that temporary
    file is removed. The folder must exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_open(target) as fh:
    ...     _ = fh.write(b"all or nothing")
    >>> target.read_bytes(), sorted(p.name for p in target.parent.iterdir())
    (b'all or nothing', ['notes.txt'])
    """
    target = Path(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(
        os, "O_BINARY", 0)
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "directory not found", str(target.parent)) \
                from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(table: pa.Table | pd.DataFrame, target: str | os.PathLike[str],
                 **parquet_options: Any) -> Path:
    """Write a table (a DataFrame: with its index) to Parquet at ``target``, all or nothing.

    Missing parent folders are created; the file is written with :func:`atomic_open`:
    ``target`` either does not exist or is complete. ``parquet_options`` go to
    :func:`pyarrow.parquet.write_table` (e.g. ``compression``, ``use_dictionary``).

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
    with atomic_open(target) as fh:
        pq.write_table(table, fh, **parquet_options)
    return target


def write_text_atomic(target: Path, text: str) -> None:
    """Replace a small text file atomically (:func:`atomic_open`)."""
    with atomic_open(target) as fh:
        fh.write(text.encode("utf-8"))


def write_sidecar(root: Path, meta: dict[str, Any], files: dict[str, Any], *,
                  complete: bool = False, obsolete: Sequence[str] = (),
                  aux_files: Sequence[str] = ()) -> None:
    """Write ``root/_quantreg.json``: the dataset description and the files quantreg wrote.

    ``files`` maps each data file (relative path) to ``{"rows": n}`` (``None`` while the
    dataset is pending); ``obsolete`` lists files of an earlier write still to be deleted and
    ``aux_files`` other files the writer owns (e.g. a job file). ``complete=True`` is the
    completion marker.
    """
    body = {**meta, "format": _FORMAT, "version": _VERSION, "complete": complete,
            "files": files, "obsolete": list(obsolete), "aux_files": list(aux_files)}
    write_text_atomic(root / SIDECAR, json.dumps(body, indent=1))


def owned_files(meta: dict[str, Any]) -> set[str]:
    """Relative paths of the files a dataset's sidecar says quantreg wrote (none if foreign)."""
    if not is_quantreg(meta):
        return set()
    return {*meta["files"], *meta.get("obsolete", ()), *meta.get("aux_files", ())}


def remove_owned(root: Path, relatives: Sequence[str] | set[str]) -> None:
    """Delete these files (quantreg's own, relative to ``root``) and the folders they leave
    empty; nothing else. A path reached through a symbolic link is refused."""
    for relative in sorted(relatives):
        target = safe_path(root, relative)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        for folder in PurePosixPath(relative).parents:
            if folder == PurePosixPath("."):
                break
            try:
                (root / folder).rmdir()
            except OSError:  # not empty (or gone): keep it and its parents
                break


def check_targets(root: Path, relatives: Sequence[str] | dict[str, Any],
                  owned: set[str]) -> None:
    """Refuse (:class:`UnsafeOutputError`) to write files at these paths under ``root`` when one
    exists and is not quantreg's own (``owned``), or when a folder on the way is a symbolic
    link or a file."""
    for relative in relatives:
        target = safe_path(root, relative)
        for folder in list(target.parents)[: len(PurePosixPath(relative).parts) - 1]:
            if folder.exists() and not folder.is_dir():
                raise UnsafeOutputError(
                    f"'{folder}' is a file where quantreg would create a folder; move it away, "
                    "or write to a new directory."
                )
        if relative not in owned and (target.exists() or target.is_symlink()):
            raise UnsafeOutputError(
                f"'{target}' exists and was not written by quantreg (it is not listed in "
                f"'{root / SIDECAR}'); quantreg never overwrites it: move it away, or write to "
                "a new directory."
            )


def make_dirs(root: Path, relative: PurePosixPath | str) -> Path:
    """Create the folders of ``relative`` under ``root`` (which exists), refusing symbolic
    links and files on the way; returns the innermost folder."""
    folder = root
    for part in PurePosixPath(relative).parts:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UnsafeOutputError(
                f"'{folder}' is a symbolic link or a file, not a folder quantreg created; "
                "quantreg does not write through it: remove it, or write to a new directory."
            )
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
    return folder


def safe_path(root: Path, relative: str) -> Path:
    """``root / relative`` for a plain relative path whose folders are not symbolic links."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in pure.parts) or not pure.parts:
        raise DatasetError(
            f"'{root / SIDECAR}' lists the path {relative!r}, which is not a plain path inside "
            "the dataset; the file was not written by quantreg: delete the directory yourself "
            "if it is yours."
        )
    folder = root
    for part in pure.parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            raise UnsafeOutputError(
                f"'{folder}' is a symbolic link; quantreg does not write or delete through it: "
                "remove it, or use a new directory."
            )
    return root / pure


def _prepare_directory(root: Path, overwrite: bool) -> set[str]:
    """Create ``root``, or check that it may be replaced; the files quantreg may delete there."""
    if root.exists() and not root.is_dir():
        raise FileExistsError(17, "exists and is not a directory", str(root))
    if not root.exists():
        root.mkdir(parents=True)
        return set()
    if not any(root.iterdir()):
        return set()
    if not overwrite:
        raise FileExistsError(
            17, "dataset directory exists and is not empty (pass overwrite=True)", str(root)
        )
    if not (root / SIDECAR).is_file():
        raise UnsafeOutputError(
            f"'{root}' is not empty and is not a quantreg dataset (it has no {SIDECAR}): "
            "overwrite=True only replaces datasets written by quantreg, deleting the files "
            "their sidecar lists. Write to a new or empty directory, or move these files away."
        )
    return owned_files(read_metadata(root))


# ------------------------------------------------------------------------- reading
def read_panel(
    path: str | os.PathLike[str],
    instruments: Sequence[Hashable] | Hashable | None = None,
    start: Any = None,
    end: Any = None,
    columns: Sequence[str] | None = None,
    *,
    date_format: str | None = None,
    allow_partial: bool = False,
) -> pd.DataFrame:
    """Read a panel (or part of it) from a dataset written by :func:`write_panel` (or by the
    ``quantreg resid`` command, or a hive-partitioned dataset of another tool).

    Parameters
    ----------
    path : path-like
        Dataset directory.
    instruments : label or list of labels, optional
        Only these instruments; only their partitions are opened.
    start, end : date-like, optional
        Only rows with ``start <= datetime <= end`` (pushed down to the Parquet row groups).
    columns : list of str, optional
        Only these data columns (the index levels are always read). Hive partition keys other
        than the instrument (``month=...``) are returned only when named here.
    date_format : str, optional
        strftime format of a time column stored as text, e.g. ``"%d/%m/%Y"``; by default
        text dates must be ISO 8601 (:func:`parse_times`). Timestamps are used as stored.
    allow_partial : bool, default False
        Read a dataset whose writing was interrupted (no completion marker): the files
        finished so far, with a :class:`PartialDatasetWarning` giving the count. By default
        such a dataset raises :class:`IncompleteDatasetError`.

    Returns
    -------
    DataFrame
        On a (datetime, instrument) MultiIndex (the stored level names), rows sorted by
        (datetime, instrument), columns in the stored order.

    Raises
    ------
    IncompleteDatasetError
        The dataset's writing was interrupted (and ``allow_partial`` is False).
    DatasetError
        The directory is not a readable dataset, or a file its sidecar lists is missing.
    DateFormatError
        Text dates that are not ISO 8601 (or do not match ``date_format``).

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
    source = _Source.open(Path(path), allow_partial=allow_partial)
    dataset = source.dataset()
    t_name, i_name = source.levels
    order = source.data_columns(dataset.schema)
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        known = order if is_quantreg(source.meta) else order + [
            k for k in source.keys if k not in (t_name, i_name, *order)]
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise MissingColumnError(
                f"column(s) {unknown} not found in the dataset '{source.root}'; available "
                f"columns: {known}."
            )
        order = columns
    filter_ = panel_filter(dataset, source.meta, instruments, start, end)
    table = _scan(dataset, source.root, columns=[t_name, i_name, *order], filter=filter_)
    panel = _as_panel(table.to_pandas(ignore_metadata=True), t_name, i_name, str(source.root),
                      date_format=date_format)
    if not pa.types.is_timestamp(dataset.schema.field(t_name).type):  # text dates, parsed here
        panel = _between(panel, t_name, start, end)
    if source.missing:
        warnings.warn(
            f"the dataset '{source.root}' is incomplete: read {len(source.files)} of "
            f"{len(source.files) + source.missing} partitions ({len(panel):,} rows); "
            f"{_finish_hint(source.meta)}.",
            PartialDatasetWarning,
            stacklevel=2,
        )
    return panel


def list_partitions(path: str | os.PathLike[str]) -> list[Partition]:
    """The units of a dataset processed one at a time, each with its Parquet files.

    A unit is a top-level directory that holds whole instruments: ``instrument=X/`` (with
    everything beneath it, e.g. ``instrument=X/month=M/``) or, in a dataset written by
    :func:`write_panel`, ``bucket=N/``. A complete dataset is required.

    Raises
    ------
    DatasetLayoutError
        When the top-level directories are not instruments (``month=M/instrument=X/``,
        ``date=D/``...) or files lie outside them: an instrument's rows could then be in
        several partitions.
    IncompleteDatasetError
        When the dataset's writing was not finished.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, list_partitions
    >>> root = write_panel(make_panel(5, 20, 1), pathlib.Path(tempfile.mkdtemp()) / "p", 2)
    >>> [p.key for p in list_partitions(root)]
    ['bucket=0', 'bucket=1']
    """
    source = _Source.open(Path(path))
    units = {BUCKET, source.levels[1]} if is_quantreg(source.meta) else {source.levels[1]}
    groups: dict[str, list[str]] = {}
    for relative in source.files:
        parts = PurePosixPath(relative).parts
        top = parts[0] if len(parts) > 1 else ""
        if top.split("=", 1)[0] not in units or "=" not in top:
            raise DatasetLayoutError(_layout_message(source, relative))
        groups.setdefault(top, []).append(str(source.root / relative))
    return [Partition(key, tuple(files)) for key, files in groups.items()]


def file_partitions(path: str | os.PathLike[str]) -> list[Partition]:
    """Every data file of a complete dataset as its own unit, in any layout (``date=D/``
    folders, per-day files, ``year=Y/month=M/``...): units that may split instruments, for
    readers that regroup rows by instrument afterwards (:func:`repartition`, the Dask path).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, file_partitions
    >>> root = write_panel(make_panel(5, 20, 1), pathlib.Path(tempfile.mkdtemp()) / "p", 2)
    >>> [p.key for p in file_partitions(root)]
    ['bucket=0/part-0.parquet', 'bucket=1/part-0.parquet']
    """
    source = _Source.open(Path(path))
    if not source.files:
        raise DatasetError(f"'{source.root}' holds no Parquet files; write one with "
                           "quantreg.io.write_panel(df, path).")
    return [Partition(relative, (str(source.root / relative),)) for relative in source.files]


def read_partition(
    path: str | os.PathLike[str],
    partition: Partition,
    *,
    columns: Sequence[str] | None = None,
    date_format: str | None = None,
    date_option: str = "date_format",
) -> pd.DataFrame:
    """Read one unit (all its files) of a dataset as a panel, without scanning the others.

    ``columns`` selects data columns (default: all, hive keys other than the instrument
    excluded); ``date_format`` as in :func:`read_panel`, and ``date_option`` how the caller
    names it in error messages (``"--date-format"`` for the command line). Rows come in file
    order.
    """
    root = Path(path)
    meta = read_metadata(root)
    relatives = [Path(f).relative_to(root).as_posix() for f in partition.files]
    source = _Source(root, meta, tuple(relatives), _hive_keys(relatives, meta), missing=0)
    dataset = source.dataset()
    t_name, i_name = source.levels
    data_columns = source.data_columns(dataset.schema) if columns is None else list(columns)
    unknown = [c for c in [t_name, i_name, *data_columns] if c not in dataset.schema.names]
    if unknown:
        raise MissingColumnError(
            f"column(s) {unknown} not found in partition '{partition.key}' of the dataset "
            f"'{root}'; it has columns {dataset.schema.names}."
        )
    frame = _scan(dataset, root, columns=[t_name, i_name, *data_columns]).to_pandas(
        ignore_metadata=True
    )
    return _as_panel(frame, t_name, i_name, f"{root}/{partition.key}", sort=False,
                     date_format=date_format, date_option=date_option)


def open_dataset(path: str | os.PathLike[str]) -> ds.Dataset:
    """The pyarrow dataset of a complete panel dataset: the files its sidecar lists (written by
    another tool: every data file), with its hive partitioning (another tool's keys as text)."""
    return _Source.open(Path(path)).dataset()


def panel_columns(path: str | os.PathLike[str]) -> list[str]:
    """The data columns :func:`read_panel` returns by default (index levels and partition keys
    excluded), in their stored order."""
    source = _Source.open(Path(path))
    return source.data_columns(source.dataset().schema)


def parse_times(
    values: pd.Series,
    date_format: str | None = None,
    *,
    where: str = "the data",
    option: str = "date_format",
) -> pd.Series:
    """Times as stored, or text dates parsed without guessing.

    Timestamps are returned unchanged. Text must be ISO 8601 (``2020-02-01``,
    ``2020-02-01 09:30:00``, ``2020-02-01T09:30Z``...) unless ``date_format`` gives its strftime
    format (then numbers such as ``20200201`` are read as text too): ``01/02/2020`` is never
    silently read as 2 January or 1 February.

    Parameters
    ----------
    values : Series
        The time column.
    date_format : str, optional
        strftime format, e.g. ``"%d/%m/%Y"``.
    where, option : str
        For the error message: where the column comes from, and how the caller gives a format
        (``"date_format"`` in Python, ``"--date-format"`` on the command line).

    Returns
    -------
    Series
        datetime64 values.

    Raises
    ------
    DateFormatError
        A value that is not ISO 8601 (or does not match ``date_format``), named with its row,
        and how to give the format.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_times(pd.Series(["2020-02-01", "2020-02-03"])).dt.day.tolist()
    [1, 3]
    >>> parse_times(pd.Series(["01/02/2020"]), "%d/%m/%Y").dt.month.tolist()
    [2]
    >>> parse_times(pd.Series(["01/02/2020"]))
    Traceback (most recent call last):
    ...
    quantreg.exceptions.DateFormatError: column 'datetime' of the data holds dates that are not ISO 8601 (YYYY-MM-DD, optionally with a time), e.g. '01/02/2020' (row 0); quantreg does not guess whether the day or the month comes first: give the format with date_format, e.g. date_format='%d/%m/%Y' (day first) or date_format='%m/%d/%Y' (month first).
    """
    name = values.name if values.name is not None else TIME_LEVEL
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    if pd.api.types.infer_dtype(values, skipna=False) in ("date", "datetime"):
        return pd.to_datetime(values)  # typed dates (e.g. Parquet date32): nothing to guess
    numeric = pd.api.types.is_integer_dtype(values.dtype)
    flag = f"{option} " if option.startswith("-") else f"{option}="
    if not (pd.api.types.is_string_dtype(values.dtype) or (numeric and date_format)):
        example = f"; e.g. {flag}'%Y%m%d' for 20200131" if numeric else ""
        raise DateFormatError(
            f"column {name!r} of {where} holds {values.dtype} values, not dates; store "
            f"timestamps (pd.to_datetime) or ISO 8601 text{example}."
        )
    text = values.astype(str) if numeric else values
    try:
        parsed = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce")
    except (ValueError, TypeError) as exc:  # e.g. mixed time-zone offsets
        raise DateFormatError(f"column {name!r} of {where} cannot be read as dates: {exc}") \
            from exc
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row, sample = int(bad[0]), text.iloc[int(bad[0])]
        if date_format:
            raise DateFormatError(
                f"column {name!r} of {where} holds {sample!r} (row {row}), which does not match "
                f"{flag}{date_format!r}; give the format of every date in the column."
            )
        raise DateFormatError(
            f"column {name!r} of {where} holds dates that are not ISO 8601 (YYYY-MM-DD, "
            f"optionally with a time), e.g. {sample!r} (row {row}); quantreg does not guess "
            f"whether the day or the month comes first: give the format with {option}, e.g. "
            f"{flag}'%d/%m/%Y' (day first) or {flag}'%m/%d/%Y' (month first)."
        )
    return parsed


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
        raise DatasetError(f"cannot read '{sidecar}' as JSON: {exc}; if the dataset is yours, "
                           "delete the directory and write it again.") from exc
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise DatasetError(f"'{sidecar}' is not a quantreg dataset description "
                           f"(format {got!r}, expected {_FORMAT!r}).")
    if meta.get("version") != _VERSION or not isinstance(meta.get("files"), dict):
        raise DatasetError(
            f"'{sidecar}' was written by another version of quantreg (format version "
            f"{meta.get('version')!r}, this one reads {_VERSION}); write the dataset again."
        )
    return meta


def is_quantreg(meta: dict[str, Any]) -> bool:
    """Whether ``meta`` (from :func:`read_metadata`) describes a dataset quantreg wrote."""
    return meta.get("format") == _FORMAT


# ------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _Source:
    """The files of a dataset to read, and how: relative paths, hive keys, level names."""

    root: Path
    meta: dict[str, Any]
    files: tuple[str, ...]  # relative posix paths
    keys: tuple[str, ...]  # hive partition keys in the paths
    missing: int  # files of a pending quantreg dataset not written yet

    @classmethod
    def open(cls, root: Path, allow_partial: bool = False) -> _Source:
        meta = read_metadata(root)
        if not is_quantreg(meta):
            files = _discover(root)
            return cls(root, meta, tuple(files), _hive_keys(files, meta), 0)
        planned = list(meta["files"])
        if meta.get("complete"):
            for relative in planned:
                target = safe_path(root, relative)
                if not target.is_file():
                    raise DatasetError(
                        f"'{target}', listed in '{root / SIDECAR}', is missing: the dataset was "
                        f"changed after quantreg wrote it; {_finish_hint(meta, again=True)}."
                    )
            return cls(root, meta, tuple(planned), _hive_keys(planned, meta), 0)
        present = [f for f in planned if safe_path(root, f).is_file()]
        if not allow_partial or not present:
            raise IncompleteDatasetError(
                f"the dataset '{root}' is incomplete: {len(present)} of {len(planned)} "
                f"partitions were written ({meta.get('writer', 'its writer')} was interrupted, or "
                f"is still running); {_finish_hint(meta)}"
                + (", or pass allow_partial=True to read the partitions written so far."
                   if present else ".")
            )
        return cls(root, meta, tuple(present), _hive_keys(present, meta), len(planned) - len(present))

    @property
    def levels(self) -> tuple[str, str]:
        return self.meta["time_level"], self.meta["instrument_level"]

    def dataset(self) -> ds.Dataset:
        if not self.files:
            raise DatasetError(f"'{self.root}' holds no Parquet files; write one with "
                               "quantreg.io.write_panel(df, path).")
        try:
            dataset = ds.dataset([str(self.root / f) for f in self.files], format="parquet",
                                 partitioning=self._partitioning(),
                                 partition_base_dir=str(self.root), schema=_schema(self.meta))
        except (pa.ArrowInvalid, OSError) as exc:
            raise DatasetError(f"cannot open '{self.root}' as a Parquet dataset: {exc}") from exc
        missing = [c for c in self.levels if c not in dataset.schema.names]
        if missing:
            raise MissingColumnError(
                f"the dataset '{self.root}' has no column {' or '.join(map(repr, missing))}; a "
                f"panel dataset needs columns (or hive keys) {self.levels[0]!r} and "
                f"{self.levels[1]!r} (found {dataset.schema.names})."
            )
        return dataset

    def data_columns(self, schema: pa.Schema) -> list[str]:
        skip = {*self.levels, *self.keys}
        found = [c for c in schema.names if c not in skip]
        order = [c for c in self.meta.get("columns", found) if c in found]
        return order + [c for c in found if c not in order]

    def _partitioning(self) -> ds.Partitioning | None:
        spec = self.meta.get("partition")
        if spec is None:  # another tool's dataset: every key is text, as written
            if not self.keys:
                return None
            return ds.partitioning(pa.schema([pa.field(k, pa.string()) for k in self.keys]),
                                   flavor="hive")
        key = self.levels[1] if spec == "instrument" else BUCKET
        default = "large_string" if spec == "instrument" else "int64"
        try:
            key_type = pa.type_for_alias(self.meta.get("key_type", default))
        except ValueError:
            key_type = pa.large_string()
        return ds.partitioning(pa.schema([pa.field(key, key_type)]), flavor="hive")


def _discover(root: Path) -> list[str]:
    """Relative paths of the data files of a dataset written by another tool (names starting
    with ``.`` or ``_`` skipped, as pyarrow does), sorted."""
    found = []
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(_HIDDEN))
        here = Path(folder).relative_to(root)
        found += [(here / n).as_posix() for n in sorted(names) if not n.startswith(_HIDDEN)]
    return found


def _hive_keys(relatives: Sequence[str], meta: dict[str, Any]) -> tuple[str, ...]:
    """The hive keys (``key=value`` folder names) in these paths, in order of appearance."""
    if is_quantreg(meta):
        return (meta["instrument_level"] if meta["partition"] == "instrument" else BUCKET,)
    keys: dict[str, None] = {}
    for relative in relatives:
        for part in PurePosixPath(relative).parts[:-1]:
            if "=" in part:
                keys[part.split("=", 1)[0]] = None
    return tuple(keys)


def _layout_message(source: _Source, relative: str) -> str:
    instrument = source.levels[1]
    top = PurePosixPath(relative).parts[0] if len(PurePosixPath(relative).parts) > 1 else None
    where = f"is partitioned by {top.split('=', 1)[0]!r} first (e.g. '{top}/')" if top and (
        "=" in top) else f"has files outside {instrument}=... folders (e.g. '{relative}')"
    return (
        f"the dataset '{source.root}' {where}: an instrument's rows may then lie in several "
        f"partitions, and rolling windows cannot be computed one partition at a time. quantreg "
        f"processes one top-level '{instrument}=...' folder at a time (with everything beneath "
        f"it, e.g. {instrument}=X/month=M/). Write the panel with quantreg.io.write_panel("
        f"quantreg.io.read_panel(path), new_path) (in memory), or bucket it out of core with "
        f"quantreg.io.repartition(path, new_path) ('quantreg repartition', which 'quantreg "
        f"resid' runs by itself)."
    )


def _finish_hint(meta: dict[str, Any], again: bool = False) -> str:
    if meta.get("writer") == "quantreg resid":
        return "run the same 'quantreg resid' command again to finish it" if not again else (
            "delete the output directory and run the 'quantreg resid' command again")
    return "write it again with quantreg.io.write_panel(df, path, overwrite=True)"


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


def panel_filter(
    dataset: ds.Dataset, meta: dict[str, Any], instruments: Any, start: Any, end: Any
) -> ds.Expression | None:
    """A pyarrow filter selecting instruments (and their buckets) and, on a timestamp time
    column, a date range (text dates are filtered after parsing)."""
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
        stamp = _stamp(bound)
        if not pa.types.is_timestamp(field_type):
            continue
        tz = getattr(field_type, "tz", None)
        if tz is not None:
            stamp = stamp.tz_convert(tz) if stamp.tz is not None else stamp.tz_localize(tz)
        elif stamp.tz is not None:
            raise PanelError(
                f"start/end {bound!r} has a time zone but the dataset's {t_name!r} column has "
                "none; pass a naive date."
            )
        scalar = pa.scalar(stamp.to_pydatetime(warn=False)).cast(field_type)
        field = ds.field(t_name)
        parts.append(field >= scalar if op == "ge" else field <= scalar)
    if not parts:
        return None
    expression = parts[0]
    for part in parts[1:]:
        expression = expression & part
    return expression


def _stamp(bound: Any) -> pd.Timestamp:
    try:
        return pd.Timestamp(bound)
    except (ValueError, TypeError) as exc:
        raise PanelError(f"cannot read {bound!r} as a date for start/end: {exc}") from exc


def _between(panel: pd.DataFrame, t_name: str, start: Any, end: Any) -> pd.DataFrame:
    """Rows with ``start <= time <= end`` (for times parsed from text, after reading)."""
    if start is None and end is None:
        return panel
    times = panel.index.get_level_values(t_name)
    keep = np.ones(len(panel), dtype=bool)
    if start is not None:
        keep &= times >= _stamp(start)
    if end is not None:
        keep &= times <= _stamp(end)
    return panel[keep]


def _as_panel(frame: pd.DataFrame, t_name: str, i_name: str, where: str, sort: bool = True,
              date_format: str | None = None, date_option: str = "date_format") -> pd.DataFrame:
    """Rebuild and validate the (datetime, instrument) MultiIndex of a flat frame."""
    if isinstance(frame[i_name].dtype, pd.CategoricalDtype):  # stored as a dictionary
        frame[i_name] = frame[i_name].astype(frame[i_name].cat.categories.dtype)
    frame[t_name] = parse_times(frame[t_name], date_format, where=f"'{where}'",
                                option=date_option)
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



def __getattr__(name: str) -> Any:
    """:func:`repartition` (out-of-core bucketing of a dataset in any layout) lives in
    :mod:`quantreg.buckets`, which uses this module's helpers; it is imported on first use."""
    if name == "repartition":
        from quantreg.buckets import repartition

        return repartition
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
