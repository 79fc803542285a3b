"""``quantreg resid`` out of core on data stored by date, beside the instrument-partitioned run.

Usage (from the repository root)::

    python benchmarks/bench_outofcore_layouts.py --size small    # 2 M rows (~1 min)
    python benchmarks/bench_outofcore_layouts.py --size large    # the issue's 20 M rows

The panel — ``assets`` instruments × 250 business days × 5 regressors, ``y = 0.1 + x'b_i + e``
with fixed per-instrument coefficients — is generated one day at a time (never whole in
memory) and stored twice, as vendors and other tools store market data:

- **per-day files**: ``DAYS/20200101.parquet`` … (250 files, no hive keys);
- **hive ``date=``**: ``HIVE/date=2020-01-01/part-0.parquet`` … (pyarrow/Spark style).

Each command below runs in a fresh process whose peak resident memory (``VmHWM``) is read at
its end; the time is the command's own (interpreter start excluded):

1. ``quantreg repartition DAYS -o BUCKETS`` — the bucketing step alone;
2. ``quantreg resid BUCKETS -o OUT_B --window W`` — **the instrument-partitioned run** (the same
   rows, already in instrument hash buckets);
3. ``quantreg resid DAYS -o OUT_D --window W`` — from per-day files, repartition included;
4. ``quantreg resid HIVE -o OUT_H --window W`` — from the hive ``date=`` dataset, likewise.

All with the default memory bound (``--memory 1G``). Targets (issue 16): peak RSS ≤ 2 GB, and
runs 3 and 4 at most 2.5× the time of run 2. The residuals of 5 sampled instruments of runs 3 and
4 are compared with ``quantreg.rolling_resid`` on those instruments' rows in memory (must be
equal; a mismatch exits with status 1). Results go to the ``bench_outofcore_layouts.py`` section
of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # (puts the repository root on sys.path)

SCRIPT = "bench_outofcore_layouts.py"
SIZES = {"small": 8_000, "large": 80_000}  # instruments; x 250 days = 2 M / 20 M rows
DAYS, K, WINDOW = 250, 5, 60
TARGET_RATIO = 2.5
TARGET_PEAK_GB = 2.0

GENERATE = r"""
import json, sys
from pathlib import Path
import numpy as np, pandas as pd, pyarrow as pa, pyarrow.parquet as pq
days_root, hive_root = Path(sys.argv[1]), Path(sys.argv[2])
assets, n_days, k = map(int, sys.argv[3:6])
rng = np.random.default_rng(16)
beta = rng.standard_normal((assets, k))
names = pa.array([f"I{i:06d}" for i in range(assets)])
days_root.mkdir(parents=True)
for day in pd.bdate_range("2020-01-01", periods=n_days):
    x = rng.standard_normal((assets, k))
    y = 0.1 + np.einsum("ij,ij->i", x, beta) + rng.standard_normal(assets)
    table = pa.table({"datetime": pa.array(np.full(assets, day.to_datetime64())),
                      "instrument": names, **{f"x{j + 1}": x[:, j] for j in range(k)}, "y": y})
    pq.write_table(table, days_root / f"{day:%Y%m%d}.parquet")
    folder = hive_root / f"date={day:%Y-%m-%d}"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-0.parquet")
print(json.dumps({"rows": assets * n_days}))
"""

RUN_CLI = r"""
import json, sys, time
def _peak():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
from quantreg.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - start, "peak": _peak()}))
"""

CHECK = r"""
import json, sys
import numpy as np
import quantreg
from quantreg.io import read_panel
source, window, sample, outs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4:]
panel = read_panel(source, instruments=sample)
expected = quantreg.rolling_resid(panel, window=window).sort_index()
equal = []
for out in outs:
    got = read_panel(out, instruments=sample)["residual"]
    equal.append(bool(got.index.equals(expected.index)) and bool(
        np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True)))
print(json.dumps({"rows": len(panel), "equal": equal, "finite": int(np.isfinite(expected).sum())}))
"""


def _python(code: str, *args: str) -> dict:
    wrapped = f"import sys\nsys.argv[1:] = {list(args)!r}\n" + code
    return C.run_python(wrapped, timeout=3600)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the datasets are generated (default: $TMPDIR)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    assets = SIZES[args.size]
    info = C.machine_info(("numpy", "pandas", "numba", "pyarrow", "quantreg"))
    print(f"# {SCRIPT} --size {args.size}\n\n{C.format_info(info)}\n", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="quantreg-ooc-layouts-", dir=args.workdir))
    started = time.perf_counter()
    try:
        days, hive = tmp / "days", tmp / "hive"
        rows = _python(GENERATE, str(days), str(hive), str(assets), str(DAYS), str(K))["rows"]
        disk = sum(f.stat().st_size for f in days.glob("*.parquet"))
        print(f"generated {rows:,} rows: {DAYS} per-day files ({disk / 2**20:,.0f} MiB) and a "
              f"hive date= dataset", flush=True)
        _python(RUN_CLI, "resid", str(days / "20200101.parquet"), "-o", str(tmp / "warm.parquet"),
                "--window", "1", "--no-constant", "--x", "x1")  # numba cache loaded
        window = ["--window", str(WINDOW)]
        runs = {
            "repartition": _python(RUN_CLI, "repartition", str(days), "-o", str(tmp / "buckets")),
            "by instrument": _python(RUN_CLI, "resid", str(tmp / "buckets"), "-o",
                                     str(tmp / "out_b"), *window),
            "per-day files": _python(RUN_CLI, "resid", str(days), "-o", str(tmp / "out_d"),
                                     *window),
            "hive date=": _python(RUN_CLI, "resid", str(hive), "-o", str(tmp / "out_h"),
                                  *window),
        }
        for name, run in runs.items():
            print(f"{name}: exit {run['code']}, {C.fmt_seconds(run['seconds'])}, peak "
                  f"{run['peak'] / 2**30:.2f} GiB", flush=True)
        sample = [f"I{i:06d}" for i in range(0, assets, assets // 5)][:5]
        check = _python(CHECK, str(days), str(WINDOW), json.dumps(sample),
                        str(tmp / "out_d"), str(tmp / "out_h"))
        n_buckets = len(list((tmp / "out_d" / "_quantreg_buckets").glob("bucket=*")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    base = runs["by instrument"]["seconds"]
    failures = [name for name, run in runs.items() if run["code"] != 0]
    failures += [name for name, ok in zip(("per-day files", "hive date="), check["equal"])
                 if not ok]
    table = []
    for name, label in (("by instrument", "`resid` on the instrument-partitioned dataset "
                                          "(reference)"),
                        ("repartition", "`repartition` per-day files → buckets (alone)"),
                        ("per-day files", "`resid` on 250 per-day files (repartition included)"),
                        ("hive date=", "`resid` on a hive `date=` dataset (repartition "
                                       "included)")):
        run = runs[name]
        table.append([label, C.fmt_seconds(run["seconds"]),
                      f"{rows / run['seconds'] / 1e6:.2f}", f"{run['seconds'] / base:.2f}×",
                      f"{run['peak'] / 2**30:.2f} GiB"])
    worst_ratio = max(runs[n]["seconds"] / base for n in ("per-day files", "hive date="))
    worst_peak = max(run["peak"] for run in runs.values()) / 2**30
    lines = [
        f"- by date vs by instrument: {worst_ratio:.2f}× at most (target ≤ {TARGET_RATIO}×): "
        f"{'met' if worst_ratio <= TARGET_RATIO else 'NOT met'}",
        f"- peak resident memory: {worst_peak:.2f} GiB at most (target ≤ {TARGET_PEAK_GB:.0f} "
        f"GB): {'met' if worst_peak <= TARGET_PEAK_GB else 'NOT met'}",
        f"- residuals of {len(sample)} sampled instruments ({check['rows']:,} rows) equal to "
        f"`quantreg.rolling_resid` in memory: per-day files {check['equal'][0]}, hive "
        f"{check['equal'][1]}",
        f"- {n_buckets} hash buckets chosen from the default `--memory 1G`; the machine's 2 "
        "cores were shared with other work during the run (load average above), so times "
        "move with the load; the ratios compare runs made one after the other.",
    ]
    table_md = C.markdown_table(["run", "time", "M rows/s", "vs by instrument", "peak RSS"], table)
    body = "\n".join([
        f"## Out of core from data stored by date (`{SCRIPT} --size {args.size}`)", "",
        C.format_info(info), "",
        f"{rows:,} rows: {assets:,} instruments × {DAYS} business days × {K} regressors, window "
        f"{WINDOW}; each command in a fresh process (`VmHWM` at its end), default `--memory "
        f"1G`; {time.perf_counter() - started:.0f} s in all.", "",
        table_md, "", *lines, "",
    ])
    print("\n" + table_md + "\n\n" + "\n".join(lines), flush=True)
    if failures:
        print(f"FAILED: {failures}", flush=True)
    if not args.no_write:
        C.update_results(SCRIPT, body)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
