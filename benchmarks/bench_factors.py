"""Shared factor tables, wide return frames and calendar windows, timed in ONE run.

Usage (from the repository root)::

    python benchmarks/bench_factors.py                  # 5,000 assets x 2,520 dates x 5 factors
    python benchmarks/bench_factors.py --size small     # a quick check

Sections (targets from issue 9):

1. ``rolling_resid(returns, factors=F, window=252)`` on a long Series of returns (sorted by
   datetime then instrument) against the same call on the panel with ``F`` broadcast onto it
   (``returns.to_frame().join(F, on="datetime")``, built outside the timing) — >= 3x. The wide
   frame (dates x assets) is timed too. Answers are compared (max |difference| <= 1e-10, or
   the script exits with status 1).
2. Peak extra memory of the ``factors=`` call in a fresh process (tracemalloc: every numpy and
   numba-runtime allocation, the returned Series included) — <= 2x the size of the returns
   (the Series' values and index codes; also printed against the values alone).
3. Calendar windows: ``window="365D"`` (about 252 business days) against ``window=252`` on the
   same panel — <= 1.5x — with ``factors=`` and on the broadcast panel.

Every ratio compares calls timed in the same process, interleaved, best of ``--repeat``.
Results are printed and written to the ``bench_factors.py`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402  (puts the repository root on sys.path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SCRIPT = "bench_factors.py"
SIZES = {"small": (500, 1008, 5), "medium": (2000, 2520, 5), "full": (5000, 2520, 5)}
WINDOW, CALENDAR = 252, "365D"
TARGETS = {"speedup": 3.0, "memory": 2.0, "calendar": 1.5}
AGREE = 1e-10


def make_data(n_assets: int, n_dates: int, k: int, seed: int = 0):
    """Factors ``F`` (business days x k), wide returns ``Y`` and the long Series of ``Y``."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n_dates, name="datetime")
    F = pd.DataFrame(rng.normal(scale=0.01, size=(n_dates, k)), index=dates,
                     columns=["mkt", "smb", "hml", "rmw", "cma", *[f"f{j}" for j in range(5, k)]][:k])
    betas = rng.normal(1.0, 0.5, size=(k, n_assets))
    values = F.to_numpy() @ betas + rng.normal(scale=0.02, size=(n_dates, n_assets))
    Y = pd.DataFrame(values, index=dates, columns=pd.Index([f"A{j:05d}" for j in range(n_assets)], name="instrument"))
    returns = Y.stack().rename("ret")
    return F, Y, returns


def bench_speed(args, report: C.Report) -> None:
    import quantreg

    n_assets, n_dates, k = SIZES[args.size]
    F, Y, returns = make_data(n_assets, n_dates, k)
    broadcast = returns.to_frame().join(F, on="datetime")
    small = returns.iloc[: 20 * n_assets]
    for window in (WINDOW, CALENDAR):  # compile outside the timings
        quantreg.rolling_resid(small, factors=F, window=window)
        quantreg.rolling_resid(broadcast.iloc[: 20 * n_assets], y="ret", window=window)
        quantreg.rolling_resid(Y.iloc[:40], factors=F, window=window)
    calls = {
        "factors": lambda: quantreg.rolling_resid(returns, factors=F, window=WINDOW),
        "broadcast": lambda: quantreg.rolling_resid(broadcast, y="ret", window=WINDOW),
        "wide": lambda: quantreg.rolling_resid(Y, factors=F, window=WINDOW),
        "factors_calendar": lambda: quantreg.rolling_resid(returns, factors=F, window=CALENDAR),
        "broadcast_calendar": lambda: quantreg.rolling_resid(broadcast, y="ret", window=CALENDAR),
    }
    best = {name: float("inf") for name in calls}
    results = {}
    for _ in range(args.repeat):
        for name, call in calls.items():
            seconds, _, results[name] = C.best_of(call, 1)
            best[name] = min(best[name], seconds)
    err = float(np.nanmax(np.abs(results["factors"].to_numpy() - results["broadcast"].to_numpy())))
    wide_long = results["wide"].stack().reindex(returns.index).to_numpy()
    err_wide = float(np.nanmax(np.abs(wide_long - results["factors"].to_numpy())))
    err_cal = float(np.nanmax(np.abs(results["factors_calendar"].to_numpy() - results["broadcast_calendar"].to_numpy())))
    for label, value in (("factors vs broadcast", err), ("wide vs long", err_wide), ("calendar factors vs broadcast", err_cal)):
        report.check(value <= AGREE, f"answers differ: {label} max |diff| {value:.1e}")
    n = len(returns)
    speedup = best["broadcast"] / best["factors"]
    rows = [
        ["`rolling_resid(returns, factors=F, window=252)`", C.fmt_seconds(best["factors"]), f"{n / best['factors'] / 1e6:.1f} M", "1", ""],
        ["`rolling_resid(broadcast panel, window=252)`", C.fmt_seconds(best["broadcast"]), f"{n / best['broadcast'] / 1e6:.1f} M",
         C.fmt_ratio(speedup), f"≥ {TARGETS['speedup']:g}× " + report.check(speedup >= TARGETS["speedup"], f"factors= only {speedup:.2f}x faster than broadcast")],
        ["`rolling_resid(Y wide, factors=F, window=252)`", C.fmt_seconds(best["wide"]), f"{n / best['wide'] / 1e6:.1f} M",
         C.fmt_ratio(best["wide"] / best["factors"]), "(informational)"],
    ]
    table = C.markdown_table(["call", "best time", "rows/s", "time / factors=", "target"], rows)
    report.add(
        "1. Shared factor table against the broadcast panel",
        f"{n_assets:,} assets × {n_dates:,} dates ({n:,} rows), {k} factors + intercept, window "
        f"{WINDOW}; best of {args.repeat} interleaved runs. The broadcast panel "
        f"({broadcast.memory_usage(deep=True).sum() / 2**20:,.0f} MiB) is built outside the timing. "
        f"Max |difference| of the residuals: factors vs broadcast {C.fmt_err(err)}, wide vs long "
        f"{C.fmt_err(err_wide)}.\n\n{table}",
    )
    cal_factors = best["factors_calendar"] / best["factors"]
    cal_broadcast = best["broadcast_calendar"] / best["broadcast"]
    rows = [
        ["`factors=F`", C.fmt_seconds(best["factors"]), C.fmt_seconds(best["factors_calendar"]), C.fmt_ratio(cal_factors),
         f"≤ {TARGETS['calendar']:g}× " + report.check(cal_factors <= TARGETS["calendar"], f"calendar windows {cal_factors:.2f}x row windows (factors)")],
        ["broadcast panel", C.fmt_seconds(best["broadcast"]), C.fmt_seconds(best["broadcast_calendar"]), C.fmt_ratio(cal_broadcast),
         f"≤ {TARGETS['calendar']:g}× " + report.check(cal_broadcast <= TARGETS["calendar"], f"calendar windows {cal_broadcast:.2f}x row windows (broadcast)")],
    ]
    table = C.markdown_table(["panel", f"window={WINDOW}", f'window="{CALENDAR}"', "ratio", "target"], rows)
    report.add(
        "3. Calendar windows against row windows",
        f'`window="{CALENDAR}"` selects the rows of the last 365 days (about 252 business days), '
        f"the same panel and calls as section 1. Max |difference| of the calendar residuals, "
        f"factors vs broadcast: {C.fmt_err(err_cal)}.\n\n{table}",
    )


MEMORY_CODE = r"""
import gc, json, sys, tracemalloc
sys.path.insert(0, "benchmarks")
import numpy as np
import quantreg
from bench_factors import make_data

F, Y, returns = make_data({n_assets}, {n_dates}, {k})
quantreg.rolling_resid(returns.iloc[:1000], factors=F, window={window})
quantreg.rolling_resid(Y.iloc[:, :5], factors=F, window={window})
series_bytes = int(returns.memory_usage(deep=False, index=False)) + int(sum(np.asarray(c).nbytes for c in returns.index.codes))
out = {{"series_bytes": series_bytes, "values_bytes": int(returns.to_numpy().nbytes), "wide_bytes": int(Y.to_numpy().nbytes)}}
for name, call in (("long", lambda: quantreg.rolling_resid(returns, factors=F, window={window})),
                   ("wide", lambda: quantreg.rolling_resid(Y, factors=F, window={window}))):
    gc.collect()
    tracemalloc.start()
    result = call()
    out[name] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
print(json.dumps(out))
"""


def bench_memory(args, report: C.Report) -> None:
    n_assets, n_dates, k = SIZES[args.size]
    res = C.run_python(MEMORY_CODE.format(n_assets=n_assets, n_dates=n_dates, k=k, window=WINDOW))
    mb = 2**20
    ratio = res["long"] / res["series_bytes"]
    rows = [
        ["long Series, `factors=F`", f"{res['long'] / mb:,.0f} MiB", f"{res['series_bytes'] / mb:,.0f} MiB",
         f"{ratio:.2f}× ({res['long'] / res['values_bytes']:.2f}× the values alone)",
         f"≤ {TARGETS['memory']:g}× " + report.check(ratio <= TARGETS["memory"], f"peak memory {ratio:.2f}x the returns")],
        ["wide frame, `factors=F`", f"{res['wide'] / mb:,.0f} MiB", f"{res['wide_bytes'] / mb:,.0f} MiB",
         f"{res['wide'] / res['wide_bytes']:.2f}×", "(informational)"],
    ]
    table = C.markdown_table(["returns", "peak during the call", "size of the returns", "ratio", "target"], rows)
    report.add(
        "2. Peak extra memory (fresh process)",
        "tracemalloc peak during `rolling_resid(..., factors=F, window=252)`, the returned object "
        "included; the size of a long Series is its values plus its index codes. No broadcast "
        "copy of the factors is made: the kernels read the factor table and the returns where "
        f"they are.\n\n{table}",
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full", help="panel size (default: full)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N, interleaved (default 3)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    info = C.machine_info()
    print("Machine\n" + C.format_info(info), flush=True)
    report = C.Report()
    t_start = time.perf_counter()
    bench_speed(args, report)
    bench_memory(args, report)
    report.blocks.sort()  # sections in their numbered order
    elapsed = time.perf_counter() - t_start
    command = "python benchmarks/bench_factors.py " + " ".join(sys.argv[1:] if argv is None else argv)
    C.finish(SCRIPT, "shared factor tables, wide frames, calendar windows", info, elapsed, command, report,
             write=not args.no_write)
    return 1 if any("differ" in f for f in report.failures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
