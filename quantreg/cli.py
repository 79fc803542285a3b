"""The ``quantreg`` command: rolling residuals of Parquet/CSV panels, a demo, the Fan-Li table.

Only argument parsing, file input/output and printing live here; every number comes from the
library (:func:`quantreg.rolling_ols`, :mod:`quantreg.datasets`, :mod:`quantreg.selection`).

``quantreg resid`` reads a panel (``--time-col``/``--instrument-col`` name its time and
instrument columns), and with ``--factors`` a factor table (:mod:`quantreg._cli_support`); it fits
with :func:`quantreg.rolling_ols` — in batches of whole instruments for a progress bar or a big
panel — so that the summary line can count NaN rows by status and the run reports one
rank-deficiency warning with its totals; library messages are reworded with the command's flags
(:func:`quantreg._cli_support.cli_words`).

User errors (a missing file, an unknown or non-numeric column, a window too small, an
unsupported file type, an output that would overwrite the input...) print one line on stderr and
return exit code 2, without a traceback. They reach :func:`main` as ``ValueError`` (quantreg's
named errors subclass it, and the library validates its parameters with it) or ``OSError``; both
are caught there and nowhere else. Ctrl-C prints one line and returns 130; every output is
written atomically, so the same command run again resumes (a directory job) or starts over.
Input is never reinterpreted: instrument labels of a CSV are text as written, text dates are
ISO 8601 unless ``--date-format`` gives their format.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn, Sequence

import numpy as np
import pandas as pd

from quantreg._cli_support import (
    check_window_options,
    cli_words,
    constant_columns,
    factor_columns,
    halflife_arg,
    nan_reasons,
    nan_summary,
    rank_warning,
    read_factor_table,
    status_counts,
    window_arg,
)
from quantreg.exceptions import (
    FileFormatError,
    MissingColumnError,
    NonNumericError,
    QuantregWarning,
    RankDeficientWindowWarning,
    UnsafeOutputError,
)

__all__ = ["main"]

TIME_LEVEL = "datetime"
INSTRUMENT_LEVEL = "instrument"
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
_PROGRESS_BATCHES = 50  # a progress bar advances once per batch of instruments
_PROGRESS_MIN_ROWS = 250_000  # smaller panels finish before a bar would be worth drawing
_BATCH_ROWS = 2_000_000  # bigger panels are fitted in batches of instruments (bounded memory)
_DEMO_PORTFOLIOS = ("NoDur", "BusEq", "S1V5", "S5V1")
_DEMO_CODES = {  # the caption of the demo figure
    "NoDur": "consumer non-durables industry",
    "BusEq": "business-equipment industry",
    "S1V5": "smallest size quintile, highest book-to-market (small value)",
    "S5V1": "largest size quintile, lowest book-to-market (big growth)",
}
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``quantreg`` command line and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on a user error (one line on stderr) or when ``fan-li`` is unavailable,
        130 when interrupted (Ctrl-C: one line on stderr).

    Examples
    --------
    >>> from quantreg.cli import main
    >>> main(["resid", "no-such-file.parquet", "-o", "out.parquet", "--window", "60"])
    2
    """
    try:
        parser = _build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help (0) or a usage error (2), already printed
            return int(exc.code or 0)
        return int(args.run(args))
    except KeyboardInterrupt:
        print("quantreg: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as exc:  # QuantregError is a ValueError; see module notes
        print(f"quantreg: error: {cli_words(_one_line(exc))}", file=sys.stderr)
        return EXIT_USAGE


# --------------------------------------------------------------------------------- parser
def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="quantreg",
        description="Exact, fast rolling regressions over (datetime, instrument) panels.",
    )
    parser.add_argument("--version", action="version", version=f"quantreg {_version()}",
                        help="print the version of quantreg and exit")
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     metavar="{resid,repartition,demo,fan-li}")

    resid = commands.add_parser(
        "resid",
        help="rolling-regression residuals of a Parquet or CSV panel",
        description=(
            "Regress y on x per instrument over rolling windows and write the residual of each "
            "row. INPUT is a Parquet file with a (datetime, instrument) MultiIndex (or columns "
            "'datetime' and 'instrument'), or a CSV file with columns 'datetime' and "
            "'instrument' (instrument labels are read as text, exactly as written); other names "
            "are given with --time-col and --instrument-col. With --factors, y is regressed on "
            "the columns of a factor table shared by every instrument. Text dates "
            "must be ISO 8601 (YYYY-MM-DD[ HH:MM:SS]) unless --date-format gives their format. "
            "OUTPUT (.parquet or .csv) gets one column 'residual' on the same index and row "
            "order; it may not be INPUT. Bigger-than-memory panels: when INPUT is a directory "
            "(a Parquet dataset partitioned by instrument or instrument bucket, as written by "
            "quantreg.io.write_panel, or a hive dataset whose top-level folders are "
            "instrument=...), it is processed one top-level partition at a time and OUTPUT is a "
            "directory with one file per input partition; re-running the same command skips "
            "the partitions whose input did not change, recomputes those that changed, and "
            "removes the output of partitions that disappeared. A dataset stored by date "
            "(date=.../, year=.../month=.../, per-day files) is first streamed into instrument "
            "hash buckets under OUTPUT/_quantreg_buckets/ with memory bounded by --memory (see "
            "'quantreg repartition'), resumable the same way."
        ),
    )
    resid.add_argument("input", type=Path, metavar="INPUT",
                       help="panel file (.parquet or .csv) or partitioned dataset directory")
    resid.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT",
                       help="where to write the residuals (.parquet or .csv; a directory when "
                            "INPUT is a directory)")
    resid.add_argument("--y", metavar="COL", help="label column (default: the last column)")
    resid.add_argument("--x", metavar="COL", nargs="+", action="extend",
                       help="regressor columns (default: every column but y; with --factors: "
                            "every column of the factor table)")
    resid.add_argument("--window", type=window_arg, metavar="N|SPAN",
                       help="rows of an instrument per window, or a calendar window: a fixed "
                            "length of time such as 90D, 12h or 30min (the instrument's rows "
                            "in (t - SPAN, t]); required unless --expanding: then windows grow "
                            "from each instrument's first row")
    resid.add_argument("--factors", type=Path, metavar="FILE",
                       help="a factor table (.parquet or .csv) shared by every instrument: one "
                            "row per date (a datetime index, or the --time-col column), one "
                            "column per factor; y is regressed on its columns (or on those "
                            "named by --x), matched by date")
    resid.add_argument("--time-col", metavar="COL",
                       help="name of the time column (or index level) of INPUT and of the "
                            "factor table (default: datetime)")
    resid.add_argument("--instrument-col", metavar="COL",
                       help="name of the instrument column (or index level) of INPUT "
                            "(default: instrument)")
    resid.add_argument("--min-nobs", type=_positive_int, metavar="N",
                       help="fewest valid rows for an estimate (default: number of parameters)")
    resid.add_argument("--expanding", action="store_true",
                       help="grow windows from min-nobs rows up to N rows before rolling")
    resid.add_argument("--missing", choices=("drop", "skip", "raise"),
                       help="rows with NaN: drop them from windows (default), give NaN "
                            "estimates for windows containing them, or stop with an error; "
                            "with --factors, 'drop' also treats rows whose date is not in the "
                            "factor table as missing (by default that is an error)")
    resid.add_argument("--out-of-sample", action="store_true",
                       help="residual of row t from the window ending at the previous row "
                            "(y_t - x_t'b_{t-1}, no look-ahead)")
    resid.add_argument("--halflife", type=halflife_arg, metavar="H",
                       help="exponential weights: a row H rows older weighs half as much (with "
                            "a calendar --window, H is a length of time such as 30D)")
    resid.add_argument("--no-constant", action="store_true", help="fit without an intercept")
    resid.add_argument("--date-format", metavar="FORMAT",
                       help="strftime format of text dates, e.g. '%%d/%%m/%%Y' (default: ISO 8601 "
                            "only; other text dates stop the run rather than be guessed)")
    _add_bucket_options(resid, "for a dataset not partitioned by instrument: ")
    resid.set_defaults(run=_run_resid)

    repartition = commands.add_parser(
        "repartition",
        help="stream a Parquet dataset stored by date into instrument hash buckets",
        description=(
            "Rewrite the Parquet dataset SRC, stored in any layout (hive folders date=.../, "
            "year=.../month=.../, with or without instrument=.../, or a folder of per-day "
            "files), as a dataset DST partitioned by instrument hash bucket (bucket=0/ .. "
            "bucket=N-1/, every instrument in one bucket), holding at most about --memory of "
            "rows at a time. DST is what 'quantreg resid DST -o OUT' and "
            "quantreg.distributed process one partition at a time. Files are written "
            "atomically; interrupted, the same command resumes without duplicating or losing "
            "rows. SRC is never changed."
        ),
    )
    repartition.add_argument("input", type=Path, metavar="SRC", help="dataset directory")
    repartition.add_argument("-o", "--output", type=Path, required=True, metavar="DST",
                             help="new (or empty) directory for the bucketed dataset")
    _add_bucket_options(repartition, "")
    repartition.set_defaults(run=_run_repartition)

    demo = commands.add_parser(
        "demo",
        help="60-month four-factor regressions on the bundled French portfolios",
        description=(
            "Rolling four-factor regressions (Mkt-RF, SMB, HML, Mom) of the 30 bundled Kenneth "
            "French portfolios' excess returns: prints mean |residual|, average R2 and the "
            "latest coefficients, and plots rolling betas and residual volatility (needs "
            "matplotlib: pip install 'quantreg[plot]')."
        ),
    )
    demo.add_argument("--output", type=Path, default=Path("quantreg_demo.png"), metavar="PNG",
                      help="where to write the figure (default: ./quantreg_demo.png)")
    demo.add_argument("--window", type=_positive_int, default=60, metavar="N",
                      help="months per window (default: 60)")
    demo.set_defaults(run=_run_demo)

    fan_li = commands.add_parser(
        "fan-li",
        help="variable-selection simulation table (Fan & Li, 2001)",
        description=(
            "Fan & Li's (2001) simulation: y = x'b + sigma*e with b = (3, 1.5, 0, 0, 2, 0, 0, 0); "
            "prints, per selector, the median relative model error (vs least squares, %%) and "
            "the average numbers of correct and incorrect zeros "
            "(quantreg.selection.simulate_fan_li)."
        ),
    )
    fan_li.add_argument("--n", type=_positive_int, default=40, metavar="N",
                        help="sample size of each replication (default: 40)")
    fan_li.add_argument("--sigma", type=_positive_float, default=3.0, metavar="S",
                        help="noise standard deviation (default: 3)")
    fan_li.add_argument("--n-reps", type=_positive_int, default=100, metavar="R",
                        help="number of replications (default: 100)")
    fan_li.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    fan_li.add_argument("--criterion", choices=("gcv", "bic"), default="gcv",
                        help="tuning of the penalised fits (default: gcv, as in the paper)")
    fan_li.set_defaults(run=_run_fan_li)
    return parser


def _add_bucket_options(parser: argparse.ArgumentParser, scope: str) -> None:
    parser.add_argument("--buckets", type=_positive_int, metavar="N",
                        help=f"{scope}number of instrument hash buckets (default: enough for "
                             "one bucket's rows to fit in --memory)")
    parser.add_argument("--memory", type=_memory, metavar="SIZE",
                        help=f"{scope}memory bound on the rows held at once, e.g. 512M or 2G "
                             "(default: 1G)")


def _memory(text: str) -> int:
    from quantreg.buckets import parse_memory

    try:
        return parse_memory(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 512M or 2G (at least 1M), got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# --------------------------------------------------------------------------------- resid
def _run_resid(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    check_window_options(args)
    _check_paths(args.input, args.output)
    if args.factors is not None:
        _check_paths(args.factors, args.output)
    if args.input.is_dir():
        return _run_resid_dataset(args, started)
    _file_kind(args.output, "output")  # fail before the work, not after it
    if not args.output.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "output directory not found",
                                str(args.output.parent))
    time_col, instrument_col = _index_columns(args)
    panel = _read_panel(args.input, args.date_format, time_col, instrument_col,
                        explicit=(args.time_col, args.instrument_col))
    where = f"'{args.input}'"
    if args.factors is None:
        factors = None
        y, x = _columns(list(panel.columns), args, where)
        _check_numeric(panel, [y, *x], where)
    else:
        factors = read_factor_table(args.factors, _read_file, time_col, args.date_format)
        y, _ = _columns(list(panel.columns), args, where, regressors=False)
        x = factor_columns(factors, args.x, args.factors)
        _check_counts(len(x), args)
        _check_numeric(panel, [y], where)
        _check_numeric(factors, x, f"the factor table '{args.factors}'")
        factors = factors[x]
    levels = [name if name in panel.index.names else None for name in (time_col, instrument_col)]
    fit = _fitter(y, x, factors, args.window, _engine_options(args), levels)
    instruments = panel.index.get_level_values(
        instrument_col if levels[1] is not None else _instrument_level(panel.index))
    progress = _progress_factory() if len(panel) >= _PROGRESS_MIN_ROWS else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", QuantregWarning)
        resid, status = _fit_rows(panel, instruments, fit, progress)
    constant = []
    if not args.no_constant:
        constant = constant_columns(panel if factors is None else factors, x)
    _print_warnings(caught, status_counts(status), constant)
    _write_output(pd.Series(resid, index=panel.index, name="residual").to_frame(), args.output)

    reasons = nan_reasons(resid, status)
    print(
        f"quantreg resid: {len(resid):,} rows, {instruments.nunique():,} instruments, "
        f"{len(resid) - sum(reasons.values()):,} residuals ({nan_summary(reasons)}) -> "
        f"{args.output} in {time.perf_counter() - started:.2f} s"
    )
    return 0


def _engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The engine's keyword arguments other than y, x, window and the factor table."""
    return dict(
        min_nobs=args.min_nobs,
        add_constant=not args.no_constant,
        expanding=args.expanding,
        missing=args.missing,
        residual="out_of_sample" if args.out_of_sample else "in_sample",
        halflife=args.halflife,
    )


def _index_columns(args: argparse.Namespace) -> tuple[str, str]:
    """The names of the time and instrument columns (--time-col, --instrument-col)."""
    time_col = args.time_col or TIME_LEVEL
    instrument_col = args.instrument_col or INSTRUMENT_LEVEL
    if time_col == instrument_col:
        raise ValueError(f"--time-col and --instrument-col name the same column {time_col!r}; "
                         "give the time and the instrument columns")
    return time_col, instrument_col


def _columns(available: list, args: argparse.Namespace, where: str, *,
             regressors: bool = True) -> tuple[Any, list]:
    """y and x from --y/--x (default: the last column, and the others), checked against the
    input's data columns, and --window/--min-nobs against their number, in the CLI's words.
    With ``regressors=False`` (--factors: x comes from the factor table) only y is resolved."""
    if not available:
        raise FileFormatError(
            f"{where} has no data columns besides the time and instrument columns; add the "
            "regressand (and regressor) columns"
        )
    y = available[-1] if args.y is None else args.y
    if not regressors:
        if y not in available:
            raise MissingColumnError(f"column {y!r} given to --y not found in {where}; its data "
                                     f"columns are {available}: pass --y with one of them")
        return y, []
    x = [c for c in available if c != y] if args.x is None else list(args.x)
    missing = [c for c in dict.fromkeys([y, *x]) if c not in available]
    if missing:
        raise MissingColumnError(
            f"column(s) {missing} given to --y/--x not found in {where}; its data columns are "
            f"{available}: pass --y/--x with some of them"
        )
    if y in x:
        raise ValueError(f"column {y!r} is both y (--y, default: the last column) and among --x; "
                         "pass another --y, or leave it out of --x")
    if not x and args.no_constant:
        raise ValueError(f"no regressors: {where} has only the column {y!r}; give --x columns "
                         "or leave out --no-constant")
    _check_counts(len(x), args)
    return y, x


def _check_counts(n_x: int, args: argparse.Namespace) -> None:
    """--window (in rows) and --min-nobs against the number of regressors."""
    k = n_x + (not args.no_constant)
    if k == 0:
        raise ValueError("no regressors: give --x columns or leave out --no-constant")
    with_constant = ", including the constant" if not args.no_constant else ""
    rows = args.window if isinstance(args.window, int) else None
    if rows is not None and rows < k:
        raise ValueError(f"--window {rows} is smaller than the number of regressors "
                         f"({k}{with_constant}); use --window {k} or more, or fewer --x columns")
    too_many = rows is not None and args.min_nobs is not None and args.min_nobs > rows
    if args.min_nobs is not None and (args.min_nobs < k or too_many):
        at_most = f" and at most --window ({rows})" if rows is not None else ""
        raise ValueError(f"--min-nobs {args.min_nobs} must be at least the number of regressors "
                         f"({k}{with_constant}){at_most}")


def _check_numeric(frame: pd.DataFrame, columns: Sequence[Any], where: str) -> None:
    """Every column used is numeric (a text column is named, with the way out)."""
    for name in columns:
        dtype = frame[name].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)) or (
            pd.api.types.is_complex_dtype(dtype)
        ):
            raise NonNumericError(
                f"column {name!r} of {where} is not numeric (dtype {dtype}); choose numeric "
                "columns with --y/--x (by default y is the last column and x every other one)"
            )


def _check_paths(source: Path, target: Path) -> None:
    """Refuse an OUTPUT that is INPUT (also through another path, a link or a hard link), lies
    inside an INPUT dataset, or contains INPUT."""
    src, dst = source.resolve(), target.resolve()
    if dst == src or (source.exists() and target.exists() and os.path.samefile(source, target)):
        raise UnsafeOutputError(f"OUTPUT '{target}' is the INPUT '{source}'; writing it would "
                                "destroy the input: choose another -o path")
    if source.is_dir() and dst.is_relative_to(src):
        raise UnsafeOutputError(f"OUTPUT '{target}' lies inside the INPUT dataset '{source}', "
                                "whose files it would change: choose a -o path outside it")
    if src.is_relative_to(dst):
        raise UnsafeOutputError(f"OUTPUT '{target}' contains the INPUT '{source}': choose a -o "
                                "path that does not contain the input")


def _run_resid_dataset(args: argparse.Namespace, started: float) -> int:
    """Residuals of a partitioned dataset, one partition in memory at a time, resumable
    (:mod:`quantreg.outofcore`)."""
    from quantreg import io as qio
    from quantreg.outofcore import run_resid_dataset

    if args.factors is not None:
        raise ValueError("--factors works with a file INPUT; for a dataset directory, write the "
                         "factors into the dataset as columns and name them with --x")
    levels = tuple(qio.read_metadata(args.input).get(k) for k in ("time_level", "instrument_level"))
    for flag, given, name in (("--time-col", args.time_col, levels[0]),
                              ("--instrument-col", args.instrument_col, levels[1])):
        if given is not None and given != name:
            raise ValueError(f"{flag} {given} does not match the dataset '{args.input}', whose "
                             f"time and instrument columns are {levels[0]!r} and {levels[1]!r} "
                             f"(recorded when it was written): leave out {flag}")
    y, x = _columns(qio.panel_columns(args.input), args, f"the dataset '{args.input}'")
    options = dict(y=args.y, x=args.x, window=args.window, **_engine_options(args),
                   date_format=args.date_format)
    options["missing"] = options["missing"] or "drop"  # as recorded by earlier runs
    report = run_resid_dataset(args.input, args.output, options, y, x,
                               date_format=args.date_format,
                               progress=_progress_factory(unit="partition"),
                               command=_command_line(args), memory=args.memory,
                               buckets=args.buckets)
    if report.repartition is not None:
        _print_repartition(report.repartition, args.input)
    for name, messages in report.warnings.items():
        if name == RankDeficientWindowWarning.__name__:
            continue  # reported below with the run's totals
        extra = f" (and {len(messages) - 1} more partition(s) with the same warning)" if len(
            messages) > 1 else ""
        print(f"quantreg: warning: {cli_words(_one_line(messages[0]))}{extra}", file=sys.stderr)
    message = rank_warning(report.status)
    if message is not None:
        print(f"quantreg: warning: {message}", file=sys.stderr)
    removed = f", output of {report.removed:,} vanished partition(s) removed" if (
        report.removed) else ""
    print(
        f"quantreg resid: {report.partitions:,} partitions ({report.up_to_date:,} up to date, "
        f"{report.recomputed:,} recomputed, {report.new:,} new){removed}, {report.rows:,} rows "
        f"computed, {report.valid:,} residuals ({nan_summary(report.nan_reasons)}) -> "
        f"{args.output} in {time.perf_counter() - started:.2f} s"
    )
    return 0


def _run_repartition(args: argparse.Namespace) -> int:
    """``quantreg repartition SRC -o DST``: :func:`quantreg.io.repartition`."""
    from quantreg.buckets import DEFAULT_MEMORY, repartition

    started = time.perf_counter()
    report = repartition(args.input, args.output, args.buckets,
                         memory=DEFAULT_MEMORY if args.memory is None else args.memory,
                         progress=_progress_factory(unit="chunk"))
    _print_repartition(report, args.input,
                       f" -> {args.output} in {time.perf_counter() - started:.2f} s")
    return 0


def _print_repartition(report: Any, source: Path, tail: str = "") -> None:
    removed = f", {report.removed:,} stale file(s) removed" if report.removed else ""
    print(
        f"quantreg repartition: {source} -> {report.buckets:,} buckets, {report.chunks:,} "
        f"chunks ({report.up_to_date:,} up to date, {report.written:,} written){removed}, "
        f"{report.rows:,} rows moved{tail}"
    )


def _command_line(args: argparse.Namespace) -> str:
    """The ``quantreg resid`` command with these options, spelled with its flags."""
    words = ["quantreg", "resid", str(args.input), "-o", str(args.output)]
    for flag, value in (("--y", args.y), ("--window", args.window),
                        ("--min-nobs", args.min_nobs), ("--halflife", args.halflife),
                        ("--date-format", args.date_format), ("--time-col", args.time_col),
                        ("--instrument-col", args.instrument_col), ("--buckets", args.buckets),
                        ("--memory", args.memory)):
        if value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.x is not None:
        words += ["--x", *map(str, args.x)]
    if args.missing not in (None, "drop"):
        words += ["--missing", args.missing]
    for flag, on in (("--expanding", args.expanding), ("--out-of-sample", args.out_of_sample),
                     ("--no-constant", args.no_constant)):
        if on:
            words.append(flag)
    return shlex.join(words)


def _fitter(y: Any, x: list, factors: pd.DataFrame | None, window: int | str | None,
            options: dict[str, Any], levels: Sequence[str | None]) -> Any:
    """``fit(part)``: :func:`quantreg.rolling_ols` on the rows ``part`` of the panel (its own
    columns, or its y on the factor table)."""
    from quantreg import rolling_ols

    names = dict(time_level=levels[0], instrument_level=levels[1])
    if factors is None:
        return lambda part: rolling_ols(part, y, x, window, **options, **names)
    return lambda part: rolling_ols(part[y], window=window, factors=factors, **options, **names)


def _fit_rows(panel: pd.DataFrame, instruments: pd.Index, fit: Any,
              progress: Any) -> tuple[np.ndarray, pd.Categorical]:
    """Residuals and status of every row, in the panel's order: in one call, or in batches of
    whole instruments (a progress bar; bounded memory for the statistics of big panels).

    Instruments are independent, so batches give the same numbers as one call.
    """
    codes, uniques = pd.factorize(instruments)
    n_batches = max(-(-len(panel) // _BATCH_ROWS), min(_PROGRESS_BATCHES, len(uniques))
                    if progress is not None else 1)
    if n_batches < 2 or len(uniques) < 2 or (codes < 0).any():  # or let the engine report it
        result = fit(panel)
        return result.resid.to_numpy(dtype=np.float64), pd.Categorical(result.status)
    bounds = np.linspace(0, len(uniques), min(n_batches, len(uniques)) + 1).astype(int)
    resid = np.full(len(panel), np.nan)
    status = np.zeros(len(panel), dtype=np.int8)
    categories = None
    bar = progress(total=len(uniques)) if progress is not None else contextlib.nullcontext()
    with bar:
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            rows = np.flatnonzero((codes >= lo) & (codes < hi))
            result = fit(panel.iloc[rows])
            resid[rows] = result.resid.to_numpy(dtype=np.float64)
            part = pd.Categorical(result.status)
            status[rows], categories = part.codes, part.categories
            if progress is not None:
                bar.update(hi - lo)
    return resid, pd.Categorical.from_codes(status, categories=categories)


def _print_warnings(caught: Sequence[warnings.WarningMessage], counts: dict[str, int],
                    constant: Sequence[Any]) -> None:
    """The library's warnings, once each and in the command's words; the rank-deficiency
    warnings (one per batch of instruments) as one line with the run's totals."""
    messages = [cli_words(_one_line(w.message)) for w in caught
                if not issubclass(w.category, RankDeficientWindowWarning)]
    total = rank_warning(counts, constant)
    for message in dict.fromkeys(messages + ([total] if total else [])):
        print(f"quantreg: warning: {message}", file=sys.stderr)


def _progress_factory(unit: str = "instrument") -> Any:
    """A tqdm constructor when stderr is a terminal and tqdm is installed, else None."""
    if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return lambda total, initial=0: tqdm(total=total, initial=initial, unit=unit,
                                         desc="quantreg resid", file=sys.stderr, leave=False)


def _instrument_level(index: pd.Index) -> int | str:
    if INSTRUMENT_LEVEL in index.names:
        return INSTRUMENT_LEVEL
    for position, level in enumerate(getattr(index, "levels", [])):
        if not isinstance(level, pd.DatetimeIndex):
            return position
    return -1


# --------------------------------------------------------------------------------- files
def _file_kind(path: Path, role: str) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise FileFormatError(
        f"cannot tell the format of {role} file '{path}': expected a name ending in "
        f"{', '.join(_PARQUET + _CSV)}"
    )


def _read_file(path: Path, role: str, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A Parquet or CSV file as a frame (CSV: ``text_columns`` read as text, as written)."""
    kind = _file_kind(path, role)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, f"{role} file not found", str(path))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{role} is a directory, expected a file", str(path))
    try:
        return pd.read_parquet(path) if kind == "parquet" else _read_csv(path, text_columns)
    except (ValueError, pd.errors.ParserError) as exc:  # pyarrow's errors are ValueErrors too
        label = "Parquet" if kind == "parquet" else "CSV"
        raise FileFormatError(f"cannot read '{path}' as {label}: {exc}") from exc


def _read_panel(path: Path, date_format: str | None, time_col: str = TIME_LEVEL,
                instrument_col: str = INSTRUMENT_LEVEL,
                explicit: tuple[str | None, str | None] = (None, None)) -> pd.DataFrame:
    """Read a (time, instrument) panel from a Parquet or CSV file, reinterpreting nothing:
    CSV instrument labels stay text as written, text dates follow :func:`quantreg.io.parse_times`
    (ISO 8601, or ``--date-format``), stored timestamps are used as they are. ``explicit``:
    the names given with --time-col/--instrument-col (None: not given)."""
    from quantreg.io import parse_times

    frame = _read_file(path, "input", text_columns=(time_col, instrument_col))
    parse = dict(where=f"'{path}'", option="--date-format")
    if isinstance(frame.index, pd.MultiIndex):
        names = list(frame.index.names)
        absent = [f"{n!r} ({flag})" for n, flag in zip(explicit, ("--time-col", "--instrument-col"))
                  if n is not None and n not in names]
        if absent:
            raise FileFormatError(f"'{path}' has no index level {' or '.join(absent)}; its index "
                                  f"levels are {names}")
        if time_col in names and not pd.api.types.is_datetime64_any_dtype(
            frame.index.get_level_values(time_col).dtype
        ):
            level = pd.Series(frame.index.get_level_values(time_col), name=time_col)
            times = parse_times(level, date_format, **parse)
            frame.index = pd.MultiIndex.from_arrays(
                [times if n == time_col else frame.index.get_level_values(n) for n in names],
                names=names,
            )
        return frame
    missing = [c for c in (time_col, instrument_col) if c not in frame.columns]
    if missing:
        raise FileFormatError(
            f"'{path}' has no column {' or '.join(map(repr, missing))}: the panel needs a "
            f"(time, instrument) MultiIndex or columns {time_col!r} and {instrument_col!r} "
            f"(found columns {list(frame.columns)}); name other columns with --time-col and "
            "--instrument-col"
        )
    frame[time_col] = parse_times(frame[time_col], date_format, **parse)
    return frame.set_index([time_col, instrument_col])


def _read_csv(path: Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A CSV file with ``text_columns`` (time and instrument) read as text, exactly as written
    (no type inference, no NA values); data columns are typed by pyarrow (numbers, NA as
    missing)."""
    import lzma

    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.ConvertOptions(column_types={c: pa.string() for c in text_columns},
                                   strings_can_be_null=False)
    # pyarrow decompresses .gz, .bz2, .zst itself, not .xz
    source = lzma.open(path) if path.name.lower().endswith(".xz") else str(path)
    try:
        return pacsv.read_csv(source, convert_options=options).to_pandas()
    finally:
        if not isinstance(source, str):
            source.close()


def _write_output(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame with its index to a Parquet or CSV file (chosen by the extension),
    atomically (:func:`quantreg.io.atomic_open`)."""
    from quantreg.io import atomic_open

    kind = _file_kind(path, "output")
    with atomic_open(path) as fh:
        if kind == "parquet":
            frame.to_parquet(fh, index=True)
        else:
            frame.to_csv(fh, index=True, compression=_COMPRESSION.get(path.suffix.lower()))


# --------------------------------------------------------------------------------- demo
def _run_demo(args: argparse.Namespace) -> int:
    from quantreg import rolling_ols
    from quantreg.datasets import FRENCH_PORTFOLIO_GROUPS, load_french_portfolios

    panel = load_french_portfolios()
    result = rolling_ols(panel, window=args.window)
    dates = panel.index.get_level_values(TIME_LEVEL)
    table = _demo_table(result, list(FRENCH_PORTFOLIO_GROUPS), FRENCH_PORTFOLIO_GROUPS)
    print(
        f"Rolling {args.window}-month four-factor regressions of the 30 Kenneth French portfolios"
        f" ({dates.min():%Y-%m} to {dates.max():%Y-%m}; excess returns in % per month)"
    )
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    try:
        from matplotlib.figure import Figure  # noqa: F401  (the figure needs matplotlib)
    except ImportError:
        print("matplotlib is not installed: no figure written (pip install 'quantreg[plot]')")
        return 0
    from quantreg.plotting import demo_figure

    figure = demo_figure(result, _DEMO_PORTFOLIOS, args.window, _DEMO_CODES)
    figure.savefig(args.output, dpi=110)
    print(f"wrote {args.output}: rolling betas and residual volatility of "
          f"{', '.join(_DEMO_PORTFOLIOS)}")
    return 0


def _demo_table(result: Any, order: list[str], groups: dict[str, str]) -> pd.DataFrame:
    """Per portfolio: mean |residual| (%), average R2, latest alpha (%) and betas."""
    by = dict(level=INSTRUMENT_LEVEL, sort=False)
    latest = result.params.groupby(**by).last()
    table = pd.DataFrame({
        "family": pd.Series(groups),
        "mean|resid| %": result.resid.abs().groupby(**by).mean() * 100.0,
        "avg R2": result.rsquared.groupby(**by).mean(),
        "alpha %": latest["const"] * 100.0,
    })
    table = table.join(latest.drop(columns="const").add_prefix("b_"))
    table.index.name = "portfolio"
    return table.loc[order]


# --------------------------------------------------------------------------------- fan-li
def _run_fan_li(args: argparse.Namespace) -> int:
    try:
        from quantreg.selection import simulate_fan_li
    except ImportError as exc:
        print(
            "quantreg fan-li: the variable-selection simulation "
            f"(quantreg.selection.simulate_fan_li) is not available: {_one_line(exc)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    table = simulate_fan_li(args.n, args.sigma, n_reps=args.n_reps, seed=args.seed,
                            criterion=args.criterion)
    print(
        f"Fan & Li (2001) simulation: n = {args.n}, sigma = {args.sigma:g}, "
        f"{args.n_reps} replications (seed {args.seed}), tuning by {args.criterion.upper()}"
    )
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    return 0


def _version() -> str:
    from quantreg import __version__

    return __version__


def _one_line(exc: BaseException | Warning | str) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: '{exc.filename}'"
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
