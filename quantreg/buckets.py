"""Repartition a dataset stored in any layout into instrument hash buckets, out of core.

Market data is mostly stored by date (one file or one hive folder per day); rolling windows
need every instrument's rows together. :func:`repartition` streams the rows of a dataset in
any layout (``date=D/``, ``year=Y/month=M/``, a folder of per-day files, with or without an
``instrument=X/`` level) into ``bucket=B/`` folders by :func:`quantreg.io.bucket_of`, holding
at most about ``memory`` bytes of rows at a time. The result is a dataset of
:mod:`quantreg.io` (read by :func:`~quantreg.io.read_panel`, processed partition by partition
by ``quantreg resid``), published as :func:`quantreg.io.repartition`.

**Chunks.** The input's Parquet row groups, in file order, are cut into chunks of at most
``rows_per_chunk`` rows. A chunk is read, its rows ordered by bucket, and written as one file
per bucket, ``bucket=B/part-<chunk id>.parquet`` (every bucket, empty ones included), each
atomically (:func:`quantreg.io.atomic_open`). The chunk id is a hash of the chunk's input files
(relative path, size, modification time in ns), row groups, columns and bucket count.

**Resumable, never duplicated, never stale.** The sidecar ``_quantreg.json`` lists every file
before it is written (so quantreg owns it) and records each chunk's row counts once all its
files are in place; it says *complete* after the last chunk. A rerun of the same job skips
recorded chunks whose files exist, rewrites the others under the same names (a file of an
interrupted chunk is replaced, never added to), and deletes the files of chunks that are no
longer in the plan because their input changed or vanished — only files its sidecar lists.
Input files changed while being read are detected (their size or time changed) and the run
stops with an error; a rerun picks up the change.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from quantreg import io as qio
from quantreg.exceptions import DatasetError, PanelError, UnsafeOutputError

__all__ = ["RepartitionReport", "parse_memory", "repartition"]

WRITER = "quantreg repartition"
DEFAULT_MEMORY = 1 << 30  # 1 GiB
_COPIES = 4  # a chunk is held about this many times (read table, bucket-ordered copy, writers)
_RESID_BYTES_PER_ROW = 400  # per row of a bucket in the resid step, beyond its stored bytes
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20,
          "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
          "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}


@dataclass
class RepartitionReport:
    """What a run did: the plan (buckets, chunks), the chunks already done and written now,
    the files of stale chunks removed, and the rows read."""

    path: Path
    buckets: int
    chunks: int = 0
    up_to_date: int = 0
    written: int = 0
    removed: int = 0
    rows: int = 0


def parse_memory(memory: int | str) -> int:
    """A memory size in bytes: an int, or text such as ``"512M"``, ``"2GB"``, ``"1.5G"``.

    Examples
    --------
    >>> parse_memory("512M"), parse_memory("2GB"), parse_memory(1 << 20)
    (536870912, 2147483648, 1048576)
    """
    if isinstance(memory, (int, np.integer)) and not isinstance(memory, bool):
        value = int(memory)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(memory))
        unit = match.group(2).upper() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(
                f"The 'memory' parameter must be a number of bytes or a size such as '512M' or "
                f"'2G' (units K, M, G, T). Got {memory!r} instead."
            )
        value = int(float(match.group(1)) * _UNITS[unit])
    if value < 1 << 20:
        raise ValueError(f"The 'memory' parameter must be at least 1M. Got {memory!r} instead.")
    return value


def repartition(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    buckets: int | None = None,
    *,
    memory: int | str = DEFAULT_MEMORY,
    time_col: str | None = None,
    instrument_col: str | None = None,
    progress: Callable[..., Any] | None = None,
) -> RepartitionReport:
    """Stream a dataset stored in any layout into instrument hash buckets on disk.

    Parameters
    ----------
    source : path-like
        A Parquet dataset: hive folders in any order (``date=D/``, ``year=Y/month=M/``,
        ``date=D/instrument=X/``...), a folder of per-day files, or a quantreg dataset, with
        columns (or hive keys) ``datetime`` and ``instrument``. Hive keys are read as text;
        keys other than these two are not carried.
    target : path-like
        Directory of the new dataset (``bucket=0/`` .. ``bucket=N-1/``). New or empty, or the
        target of an earlier run of the same job, which is resumed.
    buckets : int, optional
        Number of hash buckets. By default chosen so that one bucket's rows, processed by
        ``quantreg resid``, fit in ``memory`` (an earlier run's count is kept when resuming).
    memory : int or str, default "1G"
        Bound on the rows held in memory at once (bytes, or ``"512M"``, ``"2G"``): the input
        is read in chunks of about ``memory / 4`` bytes.
    time_col, instrument_col : str, optional
        Names of the time and instrument columns (or hive keys, e.g. ``time_col="date"`` for
        ``date=2024-01-02/`` folders) of a dataset written by another tool; by default
        ``datetime`` and ``instrument`` (a quantreg dataset's own names otherwise). They keep
        their names in ``target``.
    progress : callable, optional
        ``progress(total=, initial=)`` returning a bar with ``update(n)`` and ``close()``,
        counting chunks.

    Returns
    -------
    RepartitionReport

    Raises
    ------
    UnsafeOutputError
        ``target`` is or overlaps ``source``, or a file quantreg did not write is in the way.
    FileExistsError
        ``target`` is not empty and was not written by this function.
    ValueError
        ``target`` holds another repartition (another source, bucket count or columns).
    DatasetError
        The source is not a readable dataset, or changed while being read.

    Notes
    -----
    Instrument ``i`` goes to bucket ``hash_array(str(i)) mod N`` (:func:`quantreg.io.bucket_of`),
    so all its rows are in one folder, whatever the input's layout; rows are stored as read
    (nothing reinterpreted: text dates stay text). Interrupting a run and running it again
    gives every input row exactly once (see the module notes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pyarrow as pa, pyarrow.dataset as ds
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import read_panel, repartition
    >>> panel = make_panel(6, 30, 2, seed=0)
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> flat = panel.reset_index().assign(date=lambda f: f["datetime"].dt.strftime("%Y-%m-%d"))
    >>> ds.write_dataset(pa.Table.from_pandas(flat, preserve_index=False), root / "by_date",
    ...                  format="parquet", partitioning=["date"], partitioning_flavor="hive")
    >>> report = repartition(root / "by_date", root / "buckets", buckets=3)
    >>> report.buckets, report.rows == len(panel)
    (3, True)
    >>> read_panel(root / "buckets").equals(panel)
    True
    """
    src, dst = Path(source), Path(target)
    _check_overlap(src, dst)
    budget = parse_memory(memory)
    if buckets is not None and (isinstance(buckets, bool) or not isinstance(
            buckets, (int, np.integer)) or buckets < 1):
        raise ValueError(f"The 'buckets' parameter must be an int >= 1. Got {buckets!r} instead.")
    input_ = qio._Source.open(src)
    if not qio.is_quantreg(input_.meta) and (time_col or instrument_col):
        levels = {"time_level": time_col or input_.levels[0],
                  "instrument_level": instrument_col or input_.levels[1]}
        input_ = replace(input_, meta={**input_.meta, **levels})
    dataset = input_.dataset()  # checks the time and instrument columns exist
    t_name, i_name = input_.levels
    columns = [t_name, i_name, *input_.data_columns(dataset.schema)]
    schema = pa.schema([dataset.schema.field(c) for c in columns])
    units, bytes_per_row = _row_groups(input_)
    total = sum(rows for _, _, rows in units)
    previous = _claim(dst, src)
    if buckets is None:
        buckets = previous.get("partition", {}).get("buckets") if previous else None
        buckets = buckets or max(1, math.ceil(
            total * (bytes_per_row + _RESID_BYTES_PER_ROW) / budget))
    buckets = int(buckets)
    rows_per_chunk = max(1, int(budget / _COPIES / bytes_per_row))
    stamps = {}
    for relative in input_.files:
        stat = os.stat(input_.root / relative)
        stamps[relative] = (stat.st_size, stat.st_mtime_ns)
    chunks = _plan(units, rows_per_chunk, columns, buckets, stamps)

    meta = {
        "writer": WRITER,
        "source": str(src.resolve()),
        "time_level": t_name,
        "instrument_level": i_name,
        "partition": {"buckets": buckets},
        "columns": columns[2:],
        "key_type": "int64",
        "schema": base64.b64encode(
            schema.append(pa.field(qio.BUCKET, pa.int64())).serialize().to_pybytes()
        ).decode("ascii"),
    }
    if previous and (previous.get("source"), previous.get("partition"),
                     previous.get("columns")) != (meta["source"], meta["partition"],
                                                  meta["columns"]):
        raise ValueError(
            f"'{dst}' holds another repartition (of '{previous.get('source')}' into "
            f"{previous.get('partition', {}).get('buckets')} buckets, columns "
            f"{previous.get('columns')}); to resume it, run that one again; otherwise choose a "
            "new target directory or delete this one"
        )
    earlier = previous.get("files", {}) if previous else {}
    names = {chunk: [_file_name(chunk, b) for b in range(buckets)] for chunk in chunks}
    files: dict[str, Any] = {}
    todo = []
    report = RepartitionReport(path=dst, buckets=buckets, chunks=len(chunks))
    for chunk, parts in chunks.items():
        recorded = [earlier.get(n) for n in names[chunk]]
        if all(r is not None for r in recorded) and all(
                qio.safe_path(dst, n).is_file() for n in names[chunk]):
            files.update(zip(names[chunk], recorded))
            report.up_to_date += 1
        else:
            files.update(dict.fromkeys(names[chunk]))
            todo.append((chunk, parts))
    owned = qio.owned_files(previous) if previous else set()
    qio.check_targets(dst, files, owned)
    vanished = sorted(f for f in owned - set(files) if f != qio.SIDECAR)
    report.removed = sum(qio.safe_path(dst, f).exists() for f in vanished)
    qio.write_sidecar(dst, meta, files, obsolete=vanished)
    qio.remove_owned(dst, vanished + [n for chunk, _ in todo for n in names[chunk]])
    qio.write_sidecar(dst, meta, files)

    bar = progress(total=len(chunks), initial=report.up_to_date) if progress and todo else None
    try:
        for chunk, parts in todo:
            table = _read_chunk(input_, parts, schema)
            report.rows += table.num_rows
            for name, rows in zip(names[chunk], _write_buckets(dst, table, names[chunk],
                                                               buckets, i_name)):
                files[name] = {"rows": rows}
            del table
            _check_unchanged(input_.root, parts, stamps)
            qio.write_sidecar(dst, meta, files)
            report.written += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    qio.write_sidecar(dst, meta, files, complete=True)
    return report


# ----------------------------------------------------------------------------- internals
def _check_overlap(src: Path, dst: Path) -> None:
    a, b = src.resolve(), dst.resolve()
    if a == b or b.is_relative_to(a) or a.is_relative_to(b):
        raise UnsafeOutputError(
            f"the target '{dst}' overlaps the source '{src}' (one contains the other); "
            "repartition into a directory outside the source"
        )


def _claim(dst: Path, src: Path) -> dict[str, Any] | None:
    """The sidecar of an earlier repartition in ``dst`` (None: a new or empty directory)."""
    if dst.exists() and not dst.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the target of a repartition must be a "
                                 "directory, but it is a file", str(dst))
    if not dst.exists():
        dst.mkdir(parents=True)
        return None
    if not any(dst.iterdir()):
        return None
    sidecar = dst / qio.SIDECAR
    meta = qio.read_metadata(dst) if sidecar.is_file() else {}
    if meta.get("writer") != WRITER:
        raise FileExistsError(errno.EEXIST, "target directory exists, is not empty and was not "
                              "written by a repartition", str(dst))
    return meta


def _row_groups(source: Any) -> tuple[list[tuple[str, int, int]], float]:
    """Every row group of the input ``(relative path, index, rows)`` in file order, and the
    stored (uncompressed) bytes per row, at least 8 per column."""
    units, stored, rows, width = [], 0, 0, 1
    for relative in source.files:
        try:
            footer = pq.read_metadata(source.root / relative)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DatasetError(f"cannot read '{source.root / relative}' as Parquet: {exc}") \
                from exc
        width = max(width, footer.num_columns)
        for g in range(footer.num_row_groups):
            group = footer.row_group(g)
            units.append((relative, g, group.num_rows))
            stored += group.total_byte_size
            rows += group.num_rows
    return units, max(stored / max(rows, 1), 8.0 * (width + 2))


def _plan(units: list[tuple[str, int, int]], rows_per_chunk: int, columns: list[str],
          buckets: int, stamps: dict[str, tuple[int, int]]
          ) -> dict[str, list[tuple[str, list[int]]]]:
    """Consecutive row groups cut into chunks of at most ``rows_per_chunk`` rows (a larger
    group is a chunk alone); ``{chunk id: [(relative path, [row groups])...]}``."""
    groups: list[list[tuple[str, int, int]]] = [[]]
    held = 0
    for unit in units:
        if groups[-1] and held + unit[2] > rows_per_chunk:
            groups.append([])
            held = 0
        groups[-1].append(unit)
        held += unit[2]
    chunks = {}
    for group in groups:
        if not group:
            continue
        parts: dict[str, list[int]] = {}
        for relative, g, _ in group:
            parts.setdefault(relative, []).append(g)
        stamp = [[r, *stamps[r], gs] for r, gs in parts.items()]
        digest = hashlib.sha256(json.dumps([stamp, columns, buckets]).encode()).hexdigest()
        chunks[digest[:20]] = list(parts.items())
    return chunks


def _file_name(chunk: str, bucket: int) -> str:
    return f"{qio.BUCKET}={bucket}/part-{chunk}.parquet"


def _read_chunk(source: Any, parts: list[tuple[str, list[int]]], schema: pa.Schema) -> pa.Table:
    """The chunk's rows with the columns of ``schema`` (hive keys of the path as text)."""
    tables = []
    for relative, groups in parts:
        keys = {key: unquote(value) for key, value in (  # as pyarrow's hive partitioning
            part.split("=", 1) for part in PurePosixPath(relative).parts[:-1] if "=" in part)}
        stored = [c for c in schema.names if c not in keys]
        path = source.root / relative
        try:
            table = pq.ParquetFile(path).read_row_groups(groups, columns=stored)
        except (pa.ArrowInvalid, OSError, KeyError) as exc:
            raise DatasetError(f"cannot read '{path}': {exc}") from exc
        for name in schema.names:
            if name in keys:
                value = pa.array([keys[name]] * table.num_rows, type=pa.string())
                table = table.append_column(name, value)
        try:
            tables.append(table.select(schema.names).cast(schema))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError) as exc:
            raise DatasetError(f"'{path}' does not have the dataset's columns and types "
                               f"({schema}): {exc}") from exc
    return pa.concat_tables(tables).combine_chunks()


def _bucket_codes(column: pa.ChunkedArray | pa.Array, n_buckets: int, where: str) -> np.ndarray:
    """The bucket of every row's instrument, hashing each distinct instrument once."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if column.null_count:
        raise PanelError(f"the instrument column of {where} has {column.null_count} missing "
                         "values; every row needs an instrument")
    encoded = pc.dictionary_encode(column)
    return qio.bucket_of(encoded.dictionary.to_pylist(), n_buckets)[
        encoded.indices.to_numpy(zero_copy_only=False)]


def _write_buckets(dst: Path, table: pa.Table, names: list[str], n_buckets: int,
                   i_name: str) -> list[int]:
    """Write the chunk's rows of bucket ``b`` to ``names[b]`` (atomically, empty buckets
    too); the row count of each file."""
    codes = _bucket_codes(table.column(i_name), n_buckets, f"'{dst}'")
    keys = table.schema.names[:2]  # the time and instrument columns
    order = np.argsort(codes, kind="stable")
    ordered = table.take(pa.array(order))
    bounds = np.searchsorted(codes[order], np.arange(n_buckets + 1))
    rows = []
    for b, name in enumerate(names):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        target = qio.make_dirs(dst, PurePosixPath(name).parent) / PurePosixPath(name).name
        # dictionaries only for the keys (a float column's attempt costs 3x the write time)
        qio.write_atomic(ordered.slice(lo, hi - lo).replace_schema_metadata(None), target,
                         compression="lz4", use_dictionary=keys)
        rows.append(hi - lo)
    return rows


def _check_unchanged(root: Path, parts: list[tuple[str, list[int]]],
                     stamps: dict[str, tuple[int, int]]) -> None:
    """Refuse input files rewritten while they were being read (their size or time changed)."""
    for relative, _ in parts:
        try:
            stat = os.stat(root / relative)
            now = (stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            now = None
        if now != stamps[relative]:
            raise DatasetError(
                f"'{root / relative}' changed while it was being read; run the same "
                "repartition again to pick up the change"
            )
