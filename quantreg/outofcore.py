"""The out-of-core job of ``quantreg resid DATASET_DIR -o OUT_DIR``: one partition in memory at a
time, resumable, never stale, never silently partial.

**Unit.** A partition is a top-level folder of the input that holds whole instruments
(:func:`quantreg.io.list_partitions`): ``instrument=X/`` with everything beneath it (e.g.
``instrument=X/month=M/``) or, in a dataset written by :func:`quantreg.io.write_panel`,
``bucket=N/``. A dataset in another layout (``date=D/``, ``year=Y/month=M/``,
``date=D/instrument=X/``, a folder of per-day files) is first streamed into instrument hash
buckets under ``OUT/_quantreg_buckets/`` (:func:`quantreg.io.repartition`, memory bounded by
``memory``; resumable the same way), whose ``bucket=N/`` folders are then the units.

**Output.** ``OUT/KEY/residual.parquet`` per input partition ``KEY`` (columns datetime,
instrument unless it is the key, residual; in the partition's row order), written atomically;
``OUT/_quantreg_job.json`` (the input and the options); ``OUT/_quantreg.json``, the sidecar of
:mod:`quantreg.io`: *pending* from the start of a run, *complete* (listing every file with its
rows) when the last partition is written, so ``read_panel(OUT)`` refuses an unfinished output.

**Reruns.** Each output file carries, in its Parquet metadata, the fingerprint of the input
partition it was computed from (relative paths, sizes and modification times in ns of its
files). A rerun skips partitions whose output carries the current fingerprint, recomputes those
whose input changed (deleting the stale output first), computes new ones, and deletes the output
of input partitions that vanished (only files listed in OUT's sidecar). A run with other options
or another input on the same OUT is refused once that OUT holds results: repeat the original
command, or use a new OUT (a run that failed before writing any partition is simply replaced).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from quantreg import io as qio
from quantreg._cli_support import add_counts, nan_reasons, status_counts
from quantreg.buckets import DEFAULT_MEMORY, RepartitionReport, repartition
from quantreg.distributed import run_engine
from quantreg.exceptions import DatasetError, DatasetLayoutError, QuantregWarning

__all__ = ["JOB_FILE", "RESULT_FILE", "STAGING", "JobReport", "fingerprint", "run_resid_dataset"]

RESULT_FILE = "residual.parquet"
JOB_FILE = "_quantreg_job.json"
#: Folder of OUT holding the input repartitioned into instrument buckets (hidden from readers).
STAGING = "_quantreg_buckets"
_JOB_FORMAT = "quantreg-resid-job"
_FINGERPRINT = b"quantreg.input_fingerprint"


@dataclass
class JobReport:
    """What a run did: partition counts, rows computed, the rows computed by status and the NaN
    residuals by reason (:func:`quantreg._cli_support.nan_reasons`), and the warnings raised
    (by class)."""

    partitions: int = 0
    up_to_date: int = 0
    recomputed: int = 0
    new: int = 0
    removed: int = 0
    rows: int = 0
    valid: int = 0
    status: dict[str, int] = field(default_factory=dict)
    nan_reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    repartition: RepartitionReport | None = None  # the bucketing step of a date layout


def fingerprint(root: Path, partition: qio.Partition) -> str:
    """SHA-256 of the relative path, size and modification time (ns) of each file of an input
    partition: any rewrite of the partition changes it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quantreg.datasets import make_panel
    >>> from quantreg.io import write_panel, list_partitions
    >>> root = write_panel(make_panel(2, 20, 1), pathlib.Path(tempfile.mkdtemp()) / "p")
    >>> first = list_partitions(root)[0]
    >>> len(fingerprint(root, first)), fingerprint(root, first) == fingerprint(root, first)
    (64, True)
    """
    digest = hashlib.sha256()
    for file in sorted(partition.files):
        stat = os.stat(file)
        relative = Path(file).relative_to(root).as_posix()
        digest.update(json.dumps([relative, stat.st_size, stat.st_mtime_ns]).encode())
    return digest.hexdigest()


def run_resid_dataset(
    source: Path,
    out_dir: Path,
    options: dict[str, Any],
    y: Hashable,
    x: Sequence[Hashable],
    *,
    date_format: str | None = None,
    progress: Callable[..., Any] | None = None,
    command: str = "",
    memory: int | str | None = None,
    buckets: int | None = None,
) -> JobReport:
    """Residuals of every partition of ``source`` into ``out_dir``, resuming an earlier run.

    Parameters
    ----------
    source, out_dir : Path
        Input dataset and output directory (checked by the caller not to overlap).
    options : dict
        The options of the command as given (recorded in the job file; a rerun must repeat
        them), including ``window`` and the engine's keyword arguments.
    y, x : column labels
        The regressand and regressors, resolved from the dataset's columns.
    date_format : str, optional
        Format of text dates (:func:`quantreg.io.parse_times`).
    progress : callable, optional
        ``progress(total=, initial=)`` returning a bar with ``update(n)`` and ``close()``.
    command : str
        The command line, for the job file and for the message refusing another run's OUT.
    memory, buckets : optional
        For an input not partitioned by instrument: the memory bound (default 1 GiB) and the
        bucket count (default: from ``memory``) of :func:`quantreg.io.repartition`.

    Returns
    -------
    JobReport
    """
    try:
        partitions, staged = qio.list_partitions(source), False
    except DatasetLayoutError:  # by date (or another layout): bucket it first
        partitions, staged = qio.file_partitions(source), True
    read = dict(date_format=date_format, date_option="--date-format")
    if partitions:  # dates that need a format fail here, before anything is written
        qio.read_partition(source, partitions[0], columns=[], **read)
    job = {"format": _JOB_FORMAT, "input": str(source.resolve()), "options": options,
           "command": command}
    if staged:
        job["repartition"] = {"memory": memory, "buckets": buckets}
    previous = _claim(out_dir, job)
    bucketed = None
    if staged:
        bucketed = repartition(source, out_dir / STAGING, buckets,
                               memory=DEFAULT_MEMORY if memory is None else memory,
                               progress=progress)
        source = out_dir / STAGING
        partitions = qio.list_partitions(source)
    meta = qio.read_metadata(source)
    plan = {f"{p.key}/{RESULT_FILE}": p for p in partitions}
    qio.check_targets(out_dir, plan, qio.owned_files(previous))

    report = JobReport(partitions=len(plan), repartition=bucketed)
    rows: dict[str, int] = {}
    todo = []
    for relative, part in plan.items():
        stamp = fingerprint(source, part)
        done = _done(out_dir / relative)
        if done is not None and done[0] == stamp:
            rows[relative] = done[1]
            report.up_to_date += 1
        else:
            todo.append((relative, part, stamp))
            report.recomputed += done is not None
            report.new += done is None
    earlier = set(previous.get("files", {})) | set(previous.get("obsolete", ()))
    vanished = sorted(f for f in earlier - set(plan) if qio.safe_path(out_dir, f).exists())
    report.removed = len(vanished)

    out_meta = {
        "writer": "quantreg resid",
        "time_level": meta["time_level"],
        "instrument_level": meta["instrument_level"],
        "partition": meta.get("partition") or "instrument",
        "key_type": meta.get("key_type", "string"),
        "columns": ["residual"],
    }
    qio.write_sidecar(out_dir, out_meta, dict.fromkeys(plan), obsolete=vanished,
                      aux_files=[JOB_FILE])
    qio.remove_owned(out_dir, vanished + [relative for relative, _, _ in todo])
    engine = {k: v for k, v in options.items() if k not in ("y", "x", "window", "date_format")}
    bar = progress(total=len(plan), initial=report.up_to_date) if progress and todo else None
    try:
        for relative, part, stamp in todo:
            panel = qio.read_partition(source, part, columns=[*x, y], **read)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", QuantregWarning)
                fit = run_engine(panel, y, list(x), options["window"], full=True, **engine)
            resid = fit.resid.rename("residual")
            add_counts(report.status, status_counts(fit.status))
            add_counts(report.nan_reasons, nan_reasons(resid.to_numpy(), fit.status))
            for w in caught:
                report.warnings.setdefault(type(w.message).__name__, []).append(str(w.message))
            frame = resid.to_frame().reset_index()
            key = part.key.split("=", 1)[0]
            table = pa.Table.from_pandas(frame.drop(columns=[c for c in (key,) if c in frame]),
                                         preserve_index=False)
            target = qio.make_dirs(out_dir, part.key) / RESULT_FILE
            qio.write_atomic(table.replace_schema_metadata({_FINGERPRINT: stamp}), target)
            rows[relative] = len(resid)
            report.rows += len(resid)
            report.valid += int(resid.notna().sum())
            del panel, fit, resid, frame, table
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    files = {relative: {"rows": rows[relative]} for relative in plan}
    qio.write_sidecar(out_dir, out_meta, files, complete=True, aux_files=[JOB_FILE])
    return report


def _claim(out_dir: Path, job: dict[str, Any]) -> dict[str, Any]:
    """Check that ``out_dir`` is new, empty, this job's, or another job's that wrote no
    partition yet; write the job file; return the sidecar of the earlier run (empty when there
    is none)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "INPUT is a dataset directory, so OUTPUT must "
                                 "be a directory, but it is a file", str(out_dir))
    job_file = out_dir / JOB_FILE
    if job_file.is_file():
        try:
            previous = json.loads(job_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DatasetError(f"cannot read '{job_file}' as JSON: {exc}; choose a new -o "
                               "directory, or delete this one") from exc
        same = ("format", "input", "options", "repartition")  # not the command's spelling
        earlier = qio.read_metadata(out_dir)
        if all(previous.get(k) == json.loads(json.dumps(job.get(k))) for k in same):
            return earlier
        if any(qio.safe_path(out_dir, f).exists() for f in earlier.get("files", {})):
            raise ValueError(
                f"'{out_dir}' holds the results of another run ({previous.get('command')}); to "
                "resume, repeat that command; otherwise choose a new -o directory or delete this "
                "one"
            )
        qio.write_text_atomic(job_file, json.dumps(job, indent=1))  # it computed nothing
        return earlier
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(errno.EEXIST, "output directory exists, is not empty and was not "
                              "written by 'quantreg resid'", str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    qio.write_text_atomic(job_file, json.dumps(job, indent=1))
    return {}


def _done(target: Path) -> tuple[str, int] | None:
    """The input fingerprint and row count an existing output file was written with (an
    unreadable file counts as written from another input); None when there is no file."""
    if not target.exists():
        return None
    try:
        footer = pq.read_metadata(target)
    except (pa.ArrowInvalid, OSError):
        return "", 0
    stamp = (footer.metadata or {}).get(_FINGERPRINT, b"")
    return stamp.decode(), footer.num_rows
