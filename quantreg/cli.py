"""The ``quantreg`` command: rolling residuals of Parquet/CSV panels, a demo, the Fan-Li table.

Only argument parsing, file input/output and printing live here; every number comes from the
library (:func:`quantreg.rolling_ols`, :mod:`quantreg.datasets`, :mod:`quantreg.selection`).

User errors (a missing file, an unknown or non-numeric column, a window too small, an
unsupported file type...) print one line on stderr and return exit code 2, without a traceback.
They reach :func:`main` as ``ValueError`` (quantreg's named errors subclass it, and the
library validates its parameters with it) or ``OSError``; both are caught there and nowhere
else.
"""

from __future__ import annotations

import argparse
import errno
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn, Sequence

import numpy as np
import pandas as pd

from quantreg.exceptions import FileFormatError, QuantregWarning

__all__ = ["main"]

TIME_LEVEL = "datetime"
INSTRUMENT_LEVEL = "instrument"
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst")
_PROGRESS_BATCHES = 50  # a progress bar advances once per batch of instruments
_PROGRESS_MIN_ROWS = 250_000  # smaller panels finish before a bar would be worth drawing
_DEMO_PORTFOLIOS = ("NoDur", "BusEq", "S1V5", "S5V1")
EXIT_USAGE = 2


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
        0 on success, 2 on a user error (one line on stderr) or when ``fan-li`` is unavailable.

    Examples
    --------
    >>> from quantreg.cli import main
    >>> main(["resid", "no-such-file.parquet", "-o", "out.parquet", "--window", "60"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except (ValueError, OSError) as exc:  # QuantregError is a ValueError; see module notes
        print(f"quantreg: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


# --------------------------------------------------------------------------------- parser
def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="quantreg",
        description="Exact, fast rolling regressions over (datetime, instrument) panels.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", required=True,
                                     metavar="{resid,demo,fan-li}")

    resid = commands.add_parser(
        "resid",
        help="rolling-regression residuals of a Parquet or CSV panel",
        description=(
            "Regress y on x per instrument over rolling windows and write the residual of each "
            "row. INPUT is a Parquet file with a (datetime, instrument) MultiIndex (or columns "
            "'datetime' and 'instrument'), or a CSV file with columns 'datetime' and "
            "'instrument'. OUTPUT (.parquet or .csv) gets one column 'residual' on the same "
            "index and row order. Bigger-than-memory panels: when INPUT is a directory (a "
            "Parquet dataset partitioned by instrument or instrument bucket, as written by "
            "quantreg.io.write_panel), it is processed one partition at a time and OUTPUT is a "
            "directory with one file per input partition; re-running the same command skips "
            "the partitions already done."
        ),
    )
    resid.add_argument("input", type=Path, metavar="INPUT",
                       help="panel file (.parquet or .csv) or partitioned dataset directory")
    resid.add_argument("-o", "--output", type=Path, required=True, metavar="OUTPUT",
                       help="where to write the residuals (.parquet or .csv; a directory when "
                            "INPUT is a directory)")
    resid.add_argument("--y", metavar="COL", help="label column (default: the last column)")
    resid.add_argument("--x", metavar="COL", nargs="+", action="extend",
                       help="regressor columns (default: every column but y)")
    resid.add_argument("--window", type=_positive_int, metavar="N",
                       help="rows of an instrument per window (required unless --expanding: "
                            "then windows grow from each instrument's first row)")
    resid.add_argument("--min-nobs", type=_positive_int, metavar="N",
                       help="fewest valid rows for an estimate (default: number of parameters)")
    resid.add_argument("--expanding", action="store_true",
                       help="grow windows from min-nobs rows up to N rows before rolling")
    resid.add_argument("--missing", choices=("drop", "skip", "raise"), default="drop",
                       help="rows with NaN: drop them from windows (default), give NaN "
                            "estimates for windows containing them, or stop with an error")
    resid.add_argument("--out-of-sample", action="store_true",
                       help="residual of row t from the window ending at the previous row "
                            "(y_t - x_t'b_{t-1}, no look-ahead)")
    resid.add_argument("--halflife", type=_positive_float, metavar="H",
                       help="exponential weights: a row H rows older weighs half as much")
    resid.add_argument("--no-constant", action="store_true", help="fit without an intercept")
    resid.set_defaults(run=_run_resid)

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
    if args.window is None and not args.expanding:
        raise ValueError("--window N is required (or --expanding for windows that only grow)")
    if args.input.is_dir():
        return _run_resid_dataset(args, started)
    _file_kind(args.output, "output")  # fail before the work, not after it
    panel = _read_panel(args.input)
    options = _resid_options(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", QuantregWarning)
        progress = _progress_factory() if len(panel) >= _PROGRESS_MIN_ROWS else None
        resid = _rolling_resid(panel, options, progress=progress)
    for message in dict.fromkeys(_one_line(w.message) for w in caught):
        print(f"quantreg: warning: {message}", file=sys.stderr)
    _write_panel(resid.to_frame(), args.output)

    n_valid = int(resid.notna().sum())
    n_instruments = panel.index.get_level_values(_instrument_level(panel.index)).nunique()
    print(
        f"quantreg resid: {len(resid):,} rows, {n_instruments:,} instruments, "
        f"{n_valid:,} residuals ({len(resid) - n_valid:,} NaN) -> {args.output} "
        f"in {time.perf_counter() - started:.2f} s"
    )
    return 0


def _resid_options(args: argparse.Namespace) -> dict[str, Any]:
    return dict(
        y=args.y,
        x=args.x,
        window=args.window,
        min_nobs=args.min_nobs,
        add_constant=not args.no_constant,
        expanding=args.expanding,
        missing=args.missing,
        residual="out_of_sample" if args.out_of_sample else "in_sample",
        halflife=args.halflife,
    )


# ------------------------------------------------------------------- resid, out of core
_RESULT_FILE = "residual.parquet"
_JOB_FILE = "_quantreg_job.json"


def _run_resid_dataset(args: argparse.Namespace, started: float) -> int:
    """Residuals of a partitioned dataset, one partition in memory at a time, resumable.

    Each input partition ``KEY`` (e.g. ``instrument=A000`` or ``bucket=7``) gives
    ``OUTPUT/KEY/residual.parquet`` (columns datetime, instrument, residual, in the partition's
    row order), written under a hidden temporary name and renamed when complete. Partitions
    whose output exists are skipped, so an interrupted run is finished by running the same
    command again; ``OUTPUT/_quantreg_job.json`` records the options, and a run with other
    options on the same OUTPUT is refused.
    """
    import json

    from quantreg import io as qio
    from quantreg.distributed import run_engine

    options = _resid_options(args)
    out_dir = args.output
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "INPUT is a dataset directory, so OUTPUT must "
                                 "be a directory, but it is a file", str(out_dir))
    meta = qio.read_metadata(args.input)
    partitions = qio.list_partitions(args.input)
    allowed = {meta["instrument_level"], qio.BUCKET}
    if not all(p.key.split("=", 1)[0] in allowed for p in partitions):
        raise qio.DatasetError(
            f"'{args.input}' is not partitioned by instrument: every instrument must lie in one "
            "hive partition (instrument=.../ or bucket=.../). Write the panel with "
            "quantreg.io.write_panel(df, path) or quantreg.io.write_panel(df, path, n_buckets)."
        )
    job = {"input": str(args.input.resolve()), "options": options}
    job_file = out_dir / _JOB_FILE
    if job_file.exists():
        previous = json.loads(job_file.read_text(encoding="utf-8"))
        if previous != json.loads(json.dumps(job)):
            raise ValueError(
                f"'{out_dir}' holds the results of another run (input {previous.get('input')!r}, "
                f"options {previous.get('options')}); to resume, repeat that command; otherwise "
                "choose a new -o directory or delete this one"
            )
    elif out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(errno.EEXIST, "output directory exists, is not empty and was not "
                              "written by 'quantreg resid'", str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    qio.write_text_atomic(job_file, json.dumps(job, indent=1))
    out_meta = {**meta, "format": "quantreg-panel", "version": 1, "columns": ["residual"]}
    out_meta.pop("schema", None)  # the input's; the output's is read from its files
    out_meta.setdefault("partition", None)
    if out_meta["partition"] is not None:
        qio.write_text_atomic(out_dir / qio.SIDECAR, json.dumps(out_meta, indent=1))

    todo = [p for p in partitions if not (out_dir / p.key / _RESULT_FILE).exists()]
    n_rows = n_valid = 0
    caught_all: dict[str, list[str]] = {}
    progress = _progress_factory(unit="partition")
    bar = progress(total=len(partitions), initial=len(partitions) - len(todo)) if (
        progress and todo
    ) else None
    try:
        for part in todo:
            target = out_dir / part.key / _RESULT_FILE
            for stale in target.parent.glob(f".{_RESULT_FILE}.tmp-*"):  # an interrupted write
                stale.unlink()
            panel = qio.read_partition(args.input, part)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", QuantregWarning)
                resid = run_engine(panel, options["y"], options["x"], options["window"],
                                   full=False, **{k: v for k, v in options.items()
                                                  if k not in ("y", "x", "window")})
            for w in caught:
                caught_all.setdefault(type(w.message).__name__, []).append(_one_line(w.message))
            frame = resid.to_frame().reset_index()
            keys = [kv.split("=", 1)[0] for kv in part.key.split("/") if "=" in kv]
            frame = frame.drop(columns=[c for c in keys if c in frame.columns])
            qio.write_atomic(_arrow_table(frame), target)
            n_rows += len(resid)
            n_valid += int(resid.notna().sum())
            del panel, resid, frame
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    for name, messages in caught_all.items():
        extra = f" (and {len(messages) - 1} more partition(s) with {name})" if len(
            messages) > 1 else ""
        print(f"quantreg: warning: {messages[0]}{extra}", file=sys.stderr)
    print(
        f"quantreg resid: {len(partitions):,} partitions ({len(partitions) - len(todo):,} already "
        f"done, skipped), {n_rows:,} rows computed, {n_valid:,} residuals "
        f"({n_rows - n_valid:,} NaN) -> {out_dir} in {time.perf_counter() - started:.2f} s"
    )
    return 0


def _arrow_table(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _rolling_resid(panel: pd.DataFrame, options: dict[str, Any], progress: Any) -> pd.Series:
    """Residuals of every row; in batches of instruments when a progress bar is shown.

    Instruments are independent, so batches give the same numbers as one call.
    """
    from quantreg import rolling_resid

    if progress is None or not isinstance(panel.index, pd.MultiIndex):
        return rolling_resid(panel, **options)
    codes, uniques = pd.factorize(panel.index.get_level_values(_instrument_level(panel.index)))
    if len(uniques) < 2 or (codes < 0).any():  # nothing to split, or let the engine report it
        return rolling_resid(panel, **options)
    bounds = np.linspace(0, len(uniques), min(_PROGRESS_BATCHES, len(uniques)) + 1).astype(int)
    out = np.full(len(panel), np.nan)
    name = "residual"
    with progress(total=len(uniques)) as bar:
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            rows = np.flatnonzero((codes >= lo) & (codes < hi))
            part = rolling_resid(panel.iloc[rows], **options)
            out[rows] = part.to_numpy(dtype=np.float64)
            name = part.name
            bar.update(hi - lo)
    return pd.Series(out, index=panel.index, name=name)


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


def _read_panel(path: Path) -> pd.DataFrame:
    """Read a (datetime, instrument) panel from a Parquet or CSV file."""
    kind = _file_kind(path, "input")
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "input file not found", str(path))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "input is a directory, expected a file", str(path))
    try:
        frame = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as exc:
        label = "Parquet" if kind == "parquet" else "CSV"
        raise FileFormatError(f"cannot read '{path}' as {label}: {exc}") from exc
    if isinstance(frame.index, pd.MultiIndex):
        return frame
    missing = [c for c in (TIME_LEVEL, INSTRUMENT_LEVEL) if c not in frame.columns]
    if missing:
        raise FileFormatError(
            f"'{path}' has no column {' or '.join(map(repr, missing))}: the panel needs a "
            f"(datetime, instrument) MultiIndex or columns 'datetime' and 'instrument' "
            f"(found columns {list(frame.columns)})"
        )
    if kind == "csv" or not pd.api.types.is_datetime64_any_dtype(frame[TIME_LEVEL]):
        try:
            times = pd.to_datetime(frame[TIME_LEVEL])
        except (ValueError, TypeError) as exc:
            raise FileFormatError(
                f"column 'datetime' of '{path}' does not hold dates: {exc}"
            ) from exc
        frame = frame.assign(**{TIME_LEVEL: times})
    return frame.set_index([TIME_LEVEL, INSTRUMENT_LEVEL])


def _write_panel(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame with its index to a Parquet or CSV file (chosen by the extension)."""
    if _file_kind(path, "output") == "parquet":
        frame.to_parquet(path, index=True)
    else:
        frame.to_csv(path, index=True)


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
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed: no figure written (pip install 'quantreg[plot]')")
        return 0
    figure = _demo_figure(Figure, result, _DEMO_PORTFOLIOS, args.window)
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


def _demo_figure(figure_class: Any, result: Any, portfolios: Sequence[str], window: int) -> Any:
    """Rolling betas (one panel per factor) and residual volatility of a few portfolios."""
    params = result.params.drop(columns="const")
    resid_vol = np.sqrt(result.ssr / result.df_resid * 12.0) * 100.0  # annualised, %
    figure = figure_class(figsize=(11, 9), layout="constrained")
    grid = figure.add_gridspec(3, 2)
    axes = [figure.add_subplot(grid[i // 2, i % 2]) for i in range(len(params.columns))]
    vol_axis = figure.add_subplot(grid[2, :])
    for name in portfolios:
        rows = result.params.index.get_level_values(INSTRUMENT_LEVEL) == name
        when = result.params.index.get_level_values(TIME_LEVEL)[rows]
        for axis, factor in zip(axes, params.columns):
            axis.plot(when, params[factor].to_numpy()[rows], label=name, linewidth=1.1)
        vol_axis.plot(when, resid_vol.to_numpy()[rows], label=name, linewidth=1.1)
    for axis, factor in zip(axes, params.columns):
        axis.set_title(f"Rolling {factor} beta")
        axis.set_xlabel("window end (month)")
        axis.set_ylabel(f"beta on {factor}")
        axis.axhline(1.0 if factor == "Mkt-RF" else 0.0, color="grey", linewidth=0.6)
        axis.legend(title="portfolio", fontsize="small", title_fontsize="small", ncols=2)
    vol_axis.set_title("Residual volatility of the rolling regressions")
    vol_axis.set_xlabel("window end (month)")
    vol_axis.set_ylabel("residual s.d., % per year")
    vol_axis.legend(title="portfolio", fontsize="small", title_fontsize="small",
                    ncols=len(portfolios))
    figure.suptitle(
        f"quantreg demo: {window}-month rolling four-factor regressions, Kenneth French portfolios"
    )
    return figure


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


def _one_line(exc: BaseException | Warning | str) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: '{exc.filename}'"
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
