"""How quantreg's rolling OLS scales: time vs assets, dates, regressors and window length.

Usage (from the repository root)::

    python benchmarks/bench_scaling.py --size small          # a quick check (~1 min)
    python benchmarks/bench_scaling.py --size large          # the issue's 5,000 x 2,520 x 5
    python benchmarks/bench_scaling.py --size small --only outofcore
    python benchmarks/bench_scaling.py --size large --only outofcore   # >= 20 M rows on disk

Sections:

1. **sweeps**: ``quantreg.rolling_resid(panel, window=W)`` end to end from a pandas DataFrame,
   best of ``--repeat``, varying one of assets, dates, regressors (k) and window around a base
   panel. Time should be linear in rows (assets × dates) and flat in the window length (the
   sliding statistics cost O(1) per row whatever the window). A PNG with the four curves is
   written to ``benchmarks/scaling.png``.
2. **target** (``large`` only, or ``--only target``): the issue's panel, 5,000 assets × 2,520
   dates × 5 regressors (12.6 M rows), window 252, end to end (target ≤ 5 s on 2 cores).
3. **outofcore**: a panel generated chunk by chunk into a temporary dataset partitioned into
   instrument hash buckets (never whole in memory), then ``quantreg resid DATASET -o OUT`` run
   in a fresh process whose peak resident memory (``VmHWM``) is measured (target for
   ≥ 20 M rows: ≤ 2 GB); the residuals of a sample of instruments are compared with the
   in-memory path (must be equal).

Data: ``quantreg.datasets.make_panel(..., nan_frac=0, unbalanced=False)``. Results are printed
and written to the ``bench_scaling.py`` section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # (puts the repository root on sys.path)
import numpy as np

SCRIPT = "bench_scaling.py"
PNG = C.BENCH_DIR / "scaling.png"

# base panel (assets, dates, k, window) and the values swept around it
SIZES = {
    "small": dict(base=(200, 1000, 3, 60), assets=[50, 100, 200, 400, 800],
                  dates=[250, 500, 1000, 2000, 4000], k=[1, 2, 3, 5, 8],
                  window=[10, 30, 60, 120, 250],
                  outofcore=(400, 2520, 3, 16)),
    "medium": dict(base=(1000, 2520, 3, 120), assets=[250, 500, 1000, 2000],
                   dates=[630, 1260, 2520, 5040], k=[1, 3, 5, 8],
                   window=[21, 63, 126, 252, 504],
                   outofcore=(2000, 2520, 5, 32)),
    "large": dict(base=(5000, 2520, 5, 252), assets=[625, 1250, 2500, 5000],
                  dates=[315, 630, 1260, 2520], k=[1, 3, 5, 8],
                  window=[21, 63, 126, 252, 504],
                  outofcore=(9200, 2520, 5, 128)),  # ≈ 20.1 M rows after NaN and late starts
}
TARGET_SECONDS = 5.0
TARGET_PEAK_GB = 2.0


# ------------------------------------------------------------------------------- sweeps
def _panel(assets: int, dates: int, k: int):
    from quantreg.datasets import make_panel

    return make_panel(assets, dates, k, nan_frac=0.0, unbalanced=False, seed=1)


def time_resid(assets: int, dates: int, k: int, window: int, repeat: int) -> float:
    import quantreg

    panel = _panel(assets, dates, k)
    quantreg.rolling_resid(panel.iloc[: 50 * k], window=min(window, 10))  # numba cache loaded
    best, _, resid = C.best_of(lambda: quantreg.rolling_resid(panel, window=window), repeat)
    assert resid.shape[0] == panel.shape[0]
    return best


CACHE_BYTES = 1.5 * 2**30  # keep every panel of a sweep in memory below this


def sweeps(size: dict, repeat: int) -> dict[str, list[tuple[int, int, float]]]:
    """For each swept parameter: (value, rows, seconds).

    Each configuration is timed once per round and the rounds are interleaved (best of
    ``repeat`` rounds), so a burst of load on the shared machine hits one point of each curve
    rather than a whole curve. Panels are kept between rounds when they fit in memory.
    """
    import quantreg

    assets0, dates0, k0, window0 = size["base"]
    plan: dict[str, list[tuple[int, tuple[int, int, int, int]]]] = {}
    for name in ("assets", "dates", "k", "window"):
        plan[name] = []
        for value in size[name]:
            a, d, k, w = (value if name == "assets" else assets0,
                          value if name == "dates" else dates0,
                          value if name == "k" else k0,
                          value if name == "window" else window0)
            plan[name].append((value, (a, d, k, min(w, d))))
    configs = list(dict.fromkeys(cfg for pts in plan.values() for _, cfg in pts))
    total = sum(a * d * (k + 1) * 8 for a, d, k, _ in configs)
    cache = {} if total < CACHE_BYTES else None
    best: dict[tuple, float] = {}
    for round_ in range(max(1, repeat)):
        for cfg in configs:
            a, d, k, w = cfg
            if cache is None:
                seconds = time_resid(a, d, k, w, 1)
            else:
                if (a, d, k) not in cache:
                    cache[(a, d, k)] = _panel(a, d, k)
                    quantreg.rolling_resid(cache[(a, d, k)].iloc[: 50 * k], window=10)
                panel = cache[(a, d, k)]
                seconds, _, _ = C.best_of(
                    lambda panel=panel, w=w: quantreg.rolling_resid(panel, window=w), 1)
            best[cfg] = min(seconds, best.get(cfg, float("inf")))
        print(f"  round {round_ + 1}/{repeat} done", flush=True)
    out: dict[str, list[tuple[int, int, float]]] = {}
    for name, pts in plan.items():
        out[name] = []
        for value, cfg in pts:
            a, d, k, w = cfg
            out[name].append((value, a * d, best[cfg]))
            print(f"  {name:>7} = {value:>6,}: {a:,} x {d:,} x {k}, window {w}: "
                  f"{C.fmt_seconds(best[cfg])} ({a * d / best[cfg] / 1e6:.1f} M rows/s)",
                  flush=True)
    return out


def linearity(points: list[tuple[int, int, float]]) -> tuple[float, float]:
    """Least-squares fit seconds = a + b·rows: (R², ns per row)."""
    rows = np.array([p[1] for p in points], dtype=float)
    secs = np.array([p[2] for p in points])
    design = np.column_stack([np.ones_like(rows), rows])
    coef, *_ = np.linalg.lstsq(design, secs, rcond=None)
    fitted = design @ coef
    r2 = 1.0 - np.sum((secs - fitted) ** 2) / np.sum((secs - secs.mean()) ** 2)
    return float(r2), float(coef[1] * 1e9)


def plot(results: dict, base: tuple, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assets0, dates0, k0, window0 = base
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
    ax = axes[0, 0]
    for name, marker in (("assets", "o"), ("dates", "s")):
        pts = results[name]
        ax.plot([p[1] / 1e6 for p in pts], [p[2] for p in pts], marker=marker,
                label=f"varying {name}")
    ax.set_xlabel("rows (million)")
    ax.set_ylabel("time (s)")
    ax.set_title("Time vs rows (expected: linear)")
    ax.legend(title=f"base {assets0:,} assets x {dates0:,} dates")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    for ax, name, xlabel, title in (
        (axes[0, 1], "k", "regressors k (plus the intercept)", "Time vs number of regressors"),
        (axes[1, 0], "window", "window length (rows)", "Time vs window length (expected: flat)"),
    ):
        pts = results[name]
        ax.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label="rolling_resid")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("time (s)")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.legend(title=f"{assets0:,} x {dates0:,}, k={k0}, window {window0}")
    ax = axes[1, 1]
    for name, marker in (("assets", "o"), ("dates", "s"), ("k", "^"), ("window", "v")):
        pts = results[name]
        ax.plot(range(len(pts)), [p[1] / p[2] / 1e6 for p in pts], marker=marker,
                label=f"varying {name}")
    ax.set_xlabel("point of the sweep (increasing value)")
    ax.set_ylabel("throughput (M rows/s)")
    ax.set_title("Throughput along each sweep")
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.suptitle("quantreg.rolling_resid end to end from a pandas DataFrame")
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------- out of core
GENERATE = r"""
import json, os, shutil, sys
from pathlib import Path
import pandas as pd
from quantreg.datasets import make_panel
from quantreg.io import write_panel

root, assets, dates, k, buckets, chunk = (Path(sys.argv[1]), *map(int, sys.argv[2:7]))
work = root.parent / (root.name + ".chunks")
n_chunks = (assets + chunk - 1) // chunk
for c in range(n_chunks):
    n = min(chunk, assets - c * chunk)
    part = make_panel(n, dates, k, nan_frac=0.001, unbalanced=True, seed=100 + c)
    names = [f"A{c * chunk + i:06d}" for i in range(n)]
    part.index = part.index.set_levels(pd.Index(names, dtype="str"), level="instrument")
    chunk_dir = write_panel(part, work / f"c{c}", partition=buckets)
    del part
    for file in chunk_dir.glob("bucket=*/part-0.parquet"):
        target = root / file.parent.name / f"part-{c}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(file, target)
    if c == 0:
        shutil.copy(chunk_dir / "_quantreg.json", root / "_quantreg.json")
    shutil.rmtree(chunk_dir)
shutil.rmtree(work)
print(json.dumps({"chunks": n_chunks}))
"""

PEAK_RSS = r"""
import resource
def _peak_rss():
    # VmHWM is this process image's high-water mark; ru_maxrss would also count the parent's
    # memory inherited through fork (Linux folds it in at exec).
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""

RUN_CLI = PEAK_RSS + r"""
import json, sys, time
from quantreg.cli import main
start = time.perf_counter()
code = main(["resid", sys.argv[1], "-o", sys.argv[2], "--window", sys.argv[3]])
seconds = time.perf_counter() - start
print(json.dumps({"code": code, "seconds": seconds, "peak_bytes": _peak_rss()}))
"""

CHECK = r"""
import json, sys
import numpy as np
import quantreg
from quantreg.io import read_panel
root, out, window = sys.argv[1], sys.argv[2], int(sys.argv[3])
sample = json.loads(sys.argv[4])
panel = read_panel(root, instruments=sample)
expected = quantreg.rolling_resid(panel, window=window).sort_index()
got = read_panel(out, instruments=sample)["residual"]
same_index = bool(got.index.equals(expected.index))
equal = same_index and bool(np.array_equal(got.to_numpy(), expected.to_numpy(), equal_nan=True))
print(json.dumps({"rows": len(panel), "equal": equal, "finite": int(np.isfinite(got).sum())}))
"""

BASELINE = PEAK_RSS + r"""
import json
import numpy, pandas, pyarrow, quantreg.cli, quantreg.io, quantreg.distributed
print(json.dumps({"peak_bytes": _peak_rss()}))
"""


def _python(code: str, *args: str) -> dict:
    """Run code in a fresh interpreter with arguments (C.run_python takes none)."""
    wrapped = f"import sys\nsys.argv[1:] = {list(args)!r}\n" + code
    return C.run_python(wrapped, timeout=3600)


def outofcore(assets: int, dates: int, k: int, buckets: int, window: int,
              workdir: Path | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="quantreg-ooc-", dir=workdir))
    try:
        root, out = tmp / "panel", tmp / "resid"
        root.mkdir()
        chunk = max(1, min(assets, 1000))
        C.best_of(lambda: _python(GENERATE, str(root), str(assets), str(dates), str(k),
                                  str(buckets), str(chunk)), 1)
        disk = sum(f.stat().st_size for f in root.rglob("*.parquet"))
        time_resid(3, 60, k, 10, 1)  # numba's disk cache holds the kernel for k: no compile
        run = _python(RUN_CLI, str(root), str(out), str(window))
        baseline = _python(BASELINE)
        from quantreg.io import list_partitions

        parts = list_partitions(root)
        import pyarrow.parquet as pq

        part_rows = [sum(pq.ParquetFile(f).metadata.num_rows for f in p.files) for p in parts]
        rows = int(sum(part_rows))
        sample = [f"A{i:06d}" for i in np.linspace(0, assets - 1, 5).astype(int)]
        check = _python(CHECK, str(root), str(out), str(window), json.dumps(sample))
        return dict(rows=rows, partitions=len(parts), largest_partition=max(part_rows),
                    disk_bytes=disk, seconds=run["seconds"], code=run["code"],
                    peak_bytes=run["peak_bytes"], baseline_bytes=baseline["peak_bytes"],
                    sample_rows=check["rows"], equal=check["equal"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--repeat", type=int, default=5,
                        help="best of N interleaved rounds (default 5)")
    parser.add_argument("--only", nargs="*", choices=["sweeps", "target", "outofcore"],
                        help="sections to run (default: sweeps and outofcore; target with large)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the out-of-core dataset is generated (default: $TMPDIR)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--no-plot", action="store_true", help=f"do not write {PNG.name}")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    size = SIZES[args.size]
    sections = args.only or ["sweeps", "outofcore"] + (["target"] if args.size == "large" else [])
    info = C.machine_info(("numpy", "pandas", "numba", "pyarrow", "quantreg"))
    print(f"# bench_scaling.py --size {args.size}\n\n{C.format_info(info)}\n", flush=True)
    body = [f"## Scaling (`bench_scaling.py --size {args.size}`)", "", C.format_info(info), ""]
    failed = False

    if "sweeps" in sections:
        print("## sweeps", flush=True)
        results = sweeps(size, args.repeat)
        a0, d0, k0, w0 = size["base"]
        body += [f"Base panel {a0:,} assets × {d0:,} dates × {k0} regressors, window {w0}; "
                 f"`rolling_resid` end to end, best of {args.repeat} interleaved rounds.", ""]
        table = []
        for name, pts in results.items():
            for value, rows, secs in pts:
                table.append([name, f"{value:,}", f"{rows:,}", C.fmt_seconds(secs),
                              f"{rows / secs / 1e6:.1f}"])
        body += [C.markdown_table(["swept", "value", "rows", "time", "M rows/s"], table), ""]
        r2_assets, ns_assets = linearity(results["assets"])
        r2_dates, ns_dates = linearity(results["dates"])
        win = [p[2] for p in results["window"]]
        summary = [
            f"- time vs rows (varying assets): R² of a straight line = {r2_assets:.4f}, "
            f"{ns_assets:.0f} ns per row",
            f"- time vs rows (varying dates): R² = {r2_dates:.4f}, {ns_dates:.0f} ns per row",
            f"- window {results['window'][0][0]} → {results['window'][-1][0]}: slowest / "
            f"fastest = {max(win) / min(win):.2f}× (flat = 1; the first window − 1 rows of "
            "each asset are warm-up rows without a solve, so long windows on short series "
            "look slightly faster)",
        ]
        print("\n".join(summary), flush=True)
        body += summary + [""]
        if not args.no_plot:
            plot(results, size["base"], PNG)
            print(f"wrote {PNG}", flush=True)
            body += [f"Plot: [`{PNG.name}`]({PNG.name}).", ""]

    if "target" in sections:
        print("## target: 5,000 x 2,520 x 5, window 252", flush=True)
        secs = time_resid(5000, 2520, 5, 252, args.repeat)
        ok = secs <= TARGET_SECONDS
        line = (f"- 5,000 × 2,520 × 5 (12.6 M rows), window 252, end to end: "
                f"{C.fmt_seconds(secs)} (target ≤ {TARGET_SECONDS:.0f} s: "
                f"{'met' if ok else 'NOT met'})")
        print(line, flush=True)
        body += [line, ""]

    if "outofcore" in sections:
        assets, dates, k, buckets = size["outofcore"]
        window = size["base"][3]
        print(f"## out of core: {assets:,} assets x {dates:,} dates x {k}, {buckets} buckets, "
              f"window {window}", flush=True)
        res = outofcore(assets, dates, k, buckets, window, args.workdir)
        gb = res["peak_bytes"] / 2**30
        ok = res["code"] == 0 and res["equal"] and (res["rows"] < 20e6 or gb <= TARGET_PEAK_GB)
        failed |= not (res["code"] == 0 and res["equal"])
        lines = [
            f"- dataset: {res['rows']:,} rows in {res['partitions']} partitions (largest "
            f"{res['largest_partition']:,} rows), {res['disk_bytes'] / 2**20:,.0f} MiB on disk",
            f"- `quantreg resid DATASET -o OUT --window {window}` in a fresh process: "
            f"{C.fmt_seconds(res['seconds'])} ({res['rows'] / res['seconds'] / 1e6:.1f} M rows/s)",
            f"- peak resident memory of that process: {gb:.2f} GiB (the interpreter with numpy, "
            f"pandas, pyarrow and quantreg imported: {res['baseline_bytes'] / 2**30:.2f} GiB)"
            + (f"; target ≤ {TARGET_PEAK_GB:.0f} GB for ≥ 20 M rows: "
               f"{'met' if ok else 'NOT met'}" if res["rows"] >= 20e6 else ""),
            f"- residuals of 5 sampled instruments ({res['sample_rows']:,} rows) equal to the "
            f"in-memory path: {res['equal']}",
        ]
        print("\n".join(lines), flush=True)
        body += [f"Out of core: {assets:,} assets × {dates:,} dates × {k} regressors, "
                 f"{buckets} hash buckets, window {window}.", ""] + lines + [""]

    if not args.no_write:
        C.update_results(SCRIPT, "\n".join(body))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
