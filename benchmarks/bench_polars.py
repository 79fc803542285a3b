"""polars frame in, polars frame out: quantreg against polars-ols on the same polars frame.

Usage (from the repository root)::

    python benchmarks/bench_polars.py                 # 500 assets x 2,520 dates x 3 regressors
    python benchmarks/bench_polars.py --size small    # a quick check

One polars ``DataFrame`` (columns ``datetime``, ``instrument``, ``x0 … x2``, ``y``; sorted by
datetime then instrument, no nulls) is given to both tools; each returns a polars frame with
the time and instrument columns and the rolling residuals (window 120, intercept, residuals of
the window ending at each row), rows in the input's order:

- quantreg: ``quantreg.rolling_resid(frame, window=120)`` — the Arrow conversion in, the
  engine, and the polars frame out are all inside the timing;
- polars-ols: ``frame.select("datetime", "instrument", pl.col("y").least_squares.rolling_ols(
  ..., window_size=120, min_periods=120, mode="residuals").over("instrument"))``;
- for reference, quantreg on the pandas MultiIndex frame of the same data (Series out).

Calls are interleaved, best of ``--repeat`` after one untimed call each. The residuals of the
two tools are compared where both are estimated (max |difference|). Target: quantreg at least
5x faster than polars-ols (the README's target for the pandas path). Results go to the
``bench_polars.py`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402  (puts the repository root on sys.path)
import numpy as np  # noqa: E402

SCRIPT = "bench_polars.py"
SIZES = {"small": (100, 1260, 3), "full": (500, 2520, 3)}
WINDOW = 120
TARGET = 5.0
AGREE = 1e-8


def bench(args, report: C.Report) -> None:
    import polars as pl
    import polars_ols  # noqa: F401  (registers the .least_squares namespace)

    import quantreg
    from quantreg.datasets import make_panel

    n_assets, n_dates, k = SIZES[args.size]
    panel = make_panel(n_assets, n_dates, k, nan_frac=0.0, unbalanced=False, seed=0)
    frame = pl.from_pandas(panel.reset_index())
    xs = [pl.col(c) for c in panel.columns[:-1]]
    expr = pl.col("y").least_squares.rolling_ols(
        *xs, window_size=WINDOW, min_periods=WINDOW, mode="residuals", add_intercept=True
    ).over("instrument").alias("residual")
    calls = {
        "quantreg": lambda: quantreg.rolling_resid(frame, window=WINDOW),
        "polars-ols": lambda: frame.select("datetime", "instrument", expr),
        "quantreg (pandas)": lambda: quantreg.rolling_resid(panel, window=WINDOW),
    }
    results = {name: call() for name, call in calls.items()}  # untimed: compile / cache load
    best = {name: np.inf for name in calls}
    times = {name: [] for name in calls}
    for _ in range(args.repeat):
        for name, call in calls.items():
            seconds, _, _ = C.best_of(call, 1)
            best[name] = min(best[name], seconds)
            times[name].append(seconds)
    ours, theirs = results["quantreg"], results["polars-ols"]
    same_keys = ours.select("datetime", "instrument").equals(frame.select("datetime", "instrument"))
    a = ours["residual"].fill_null(np.nan).to_numpy()
    b = theirs["residual"].fill_null(np.nan).to_numpy()
    both = ~np.isnan(a) & ~np.isnan(b)
    diff = float(np.max(np.abs(a[both] - b[both]))) if both.any() else np.nan
    ratio = best["polars-ols"] / best["quantreg"]
    overhead = best["quantreg"] / best["quantreg (pandas)"]
    ok = report.check(ratio >= TARGET, f"polars-ols / quantreg (polars frames) {ratio:.1f}× < {TARGET:g}×")
    agree = report.check(diff <= AGREE and same_keys, f"residuals differ from polars-ols by {diff:.1e} "
                         f"(or keys not in the input's order: {not same_keys})")
    rows = [
        ["quantreg `rolling_resid(frame, window=120)`: polars frame → polars frame",
         C.fmt_seconds(best["quantreg"]), C.fmt_seconds(float(np.median(times["quantreg"]))), "1",
         f"{ratio:.1f}× faster (≥ {TARGET:g}×: {ok})"],
        ["polars-ols `rolling_ols(mode='residuals').over('instrument')`, same frame",
         C.fmt_seconds(best["polars-ols"]), C.fmt_seconds(float(np.median(times["polars-ols"]))),
         f"{ratio:.1f}", ""],
        ["quantreg on the pandas MultiIndex frame (Series out), for reference",
         C.fmt_seconds(best["quantreg (pandas)"]), C.fmt_seconds(float(np.median(times["quantreg (pandas)"]))),
         f"{best['quantreg (pandas)'] / best['quantreg']:.2f}", ""],
    ]
    report.add(
        f"polars frame → polars frame, {n_assets} assets × {n_dates:,} dates × {k} regressors "
        f"({n_assets * n_dates:,} rows), window {WINDOW}",
        C.markdown_table(["call", "best", "median", "time / quantreg's", "quantreg is"], rows)
        + f"\n\nBest of {args.repeat} interleaved runs after one untimed call each. The polars "
        f"path costs {overhead:.2f}× the pandas one (Arrow in, polars frame out). Residuals agree "
        f"with polars-ols to {C.fmt_err(diff)} where both are estimated ({agree}); quantreg's key "
        f"columns are the input's, in its order ({'yes' if same_keys else '**NO**'}).\n",
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)
    try:
        import polars  # noqa: F401
        import polars_ols  # noqa: F401
    except ImportError:
        print("polars and polars-ols are needed: pip install '.[bench]'")
        return 1
    info = C.machine_info()
    print("Machine\n" + C.format_info(info), flush=True)
    report = C.Report()
    started = time.perf_counter()
    bench(args, report)
    command = "python benchmarks/bench_polars.py " + " ".join(sys.argv[1:] if argv is None else argv)
    C.finish(SCRIPT, "polars frames in and out, against polars-ols", info, time.perf_counter() - started,
             command, report, write=not args.no_write)
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
