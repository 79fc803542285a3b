"""quantreg on Dask (2 local worker processes) against the in-memory engine, same panel.

Usage (from the repository root)::

    python benchmarks/bench_dask.py --size small     # 500 assets x 1,000 dates x 3 (~1 min)
    python benchmarks/bench_dask.py --size large     # the issue's 5,000 x 2,520 x 5, window 252

What is timed (best of ``--repeat``, in one run so the ratios share the machine's load):

- **in memory**: ``quantreg.rolling_resid(panel, window=W)`` on the pandas panel (kernel
  threads: all cores);
- **Dask, persisted**: the same rows as a Dask DataFrame indexed by instrument
  (whole instruments per partition, known divisions), already scattered to the workers of a ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` whose
  workers run the kernel on one thread each (``QUANTREG_NUM_THREADS=1``);
  ``quantreg.distributed.rolling_resid(ddf, window=W).persist()`` until done — results stay
  on the workers, as in a Dask pipeline;
- **Dask, gathered**: the same, then ``.compute()`` to bring the residuals to the client;
- **Dask, partitioned by date**: the same rows cut into blocks of dates (every instrument in
  every partition, as data stored by day arrive), scattered the same way:
  ``quantreg.distributed.rolling_resid`` reads the instrument column to find split
  instruments, shuffles the rows by instrument (Dask's shuffle) and runs; all of it timed,
  persisted (target of issue 16: ≥ 40 % of the in-memory throughput);
- **from Parquet**: a dataset written by ``quantreg.io.write_panel(..., partition=8)``:
  ``read_panel`` + ``rolling_resid`` in memory vs ``quantreg.distributed.rolling_resid(path)``
  (``read_parquet`` on the workers, partition check included).

The issue's target: Dask on 2 local workers reaches ≥ 60 % of the in-memory throughput on the
5,000 × 2,520 × 5 panel. The Dask residuals are compared with the in-memory ones (must be
equal); a mismatch makes the script exit with status 1. Results go to the ``bench_dask.py``
section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # (puts the repository root on sys.path)
import numpy as np

SCRIPT = "bench_dask.py"
SIZES = {  # assets, dates, regressors, window
    "small": (500, 1000, 3, 60),
    "medium": (2000, 2520, 5, 252),
    "large": (5000, 2520, 5, 252),
}
N_WORKERS = 2
PARTITIONS_PER_WORKER = 4
PARQUET_BUCKETS = 8
TARGET_RATIO = 0.60
TARGET_RATIO_BY_DATE = 0.40


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--skip-parquet", action="store_true", help="skip the Parquet section")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    return parser.parse_args(argv)


def scattered(client, flat, n_parts: int):
    """A Dask DataFrame indexed by instrument, whole instruments per partition, whose
    partitions are already in the workers' memory (scattered, not embedded in the graph)."""
    import dask.dataframe as dd

    frame = flat.set_index("instrument")
    names = frame.index.unique()
    cuts = np.linspace(0, len(names), n_parts + 1).astype(int)
    parts = [frame.loc[names[a]:names[b - 1]] for a, b in zip(cuts[:-1], cuts[1:])]
    divisions = [names[a] for a in cuts[:-1]] + [names[-1]]
    futures = client.scatter(parts, broadcast=False)
    return dd.from_delayed(futures, meta=frame.iloc[:0], divisions=divisions)


def scattered_by_date(client, flat, n_parts: int):
    """A Dask DataFrame of blocks of whole dates (time and instrument as columns), already in
    the workers' memory: every instrument spans every partition."""
    import dask.dataframe as dd

    frame = flat.sort_values(["datetime", "instrument"], ignore_index=True)
    starts = np.flatnonzero(np.r_[True, frame["datetime"].to_numpy()[1:]
                                  != frame["datetime"].to_numpy()[:-1]])
    cuts = [int(starts[int(i)]) for i in np.linspace(0, len(starts), n_parts + 1)[:-1]]
    cuts.append(len(frame))
    parts = [frame.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    futures = client.scatter(parts, broadcast=False)
    return dd.from_delayed(futures, meta=frame.iloc[:0])


def by_key(frame) -> "pd.Series":
    """A computed result on (datetime, instrument), sorted (instrument labels as text)."""
    flat = frame.reset_index() if frame.index.name == "instrument" else frame
    flat = flat.assign(instrument=flat["instrument"].astype(str))
    return flat.set_index(["datetime", "instrument"])["residual"].sort_index()


def timed_persist(client, build, repeat: int, gather: bool = False):
    """Best time of building and running a Dask computation (``persist`` + wait, or
    ``compute`` when ``gather``), after one untimed warm-up run; returns (seconds, result).

    Between runs the results are released and the script waits until the scheduler has
    forgotten them: a rerun of the same graph would otherwise find them in memory and take
    no time at all.
    """
    import distributed

    best, result = float("inf"), None
    for run in range(max(1, repeat) + 1):
        start = time.perf_counter()
        out = client.persist(build())
        distributed.wait(out)
        if gather:
            result = out.compute()
        seconds = time.perf_counter() - start
        if run:
            best = min(best, seconds)
        if not gather:
            result = out.compute()
        keys = {f.key for f in distributed.futures_of(out)}
        del out  # released: the scheduler forgets the keys once no client holds them
        deadline = time.monotonic() + 30
        while keys & set(client.who_has()) and time.monotonic() < deadline:
            time.sleep(0.01)
    return best, result


def main(argv=None) -> int:
    args = parse_args(argv)
    import distributed

    import quantreg
    import quantreg.distributed as qd
    from quantreg.datasets import make_panel
    from quantreg.io import read_panel, write_panel

    assets, dates, k, window = SIZES[args.size]
    info = C.machine_info(("numpy", "pandas", "numba", "dask", "distributed", "quantreg"))
    print(f"# bench_dask.py --size {args.size}\n\n{C.format_info(info)}\n", flush=True)

    panel = make_panel(assets, dates, k, nan_frac=0.0, unbalanced=False, seed=1)
    rows = len(panel)
    flat = panel.reset_index().sort_values(["instrument", "datetime"], ignore_index=True)
    quantreg.rolling_resid(panel.iloc[:1000], window=10)  # numba cache loaded
    t_mem, _, expected = C.best_of(lambda: quantreg.rolling_resid(panel, window=window),
                                   args.repeat)
    expected_flat = quantreg.rolling_resid(flat.set_index(["datetime", "instrument"]),
                                           window=window).to_numpy()
    print(f"in memory: {C.fmt_seconds(t_mem)} ({rows / t_mem / 1e6:.1f} M rows/s)", flush=True)

    failed = False
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="quantreg-bench-dask-"))
    cluster = distributed.LocalCluster(
        n_workers=N_WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.CRITICAL, env={"QUANTREG_NUM_THREADS": "1"},
    )
    client = distributed.Client(cluster)
    try:
        loaded = qd.load_kernels(client, k)
        print(f"kernels on the workers: {loaded}", flush=True)
        ddf = scattered(client, flat, N_WORKERS * PARTITIONS_PER_WORKER)

        t_persist, got = timed_persist(client, lambda: qd.rolling_resid(ddf, window=window),
                                       args.repeat)
        got = got["residual"].to_numpy()  # instrument-indexed, not shuffled: the input's order
        t_gather, got2 = timed_persist(client, lambda: qd.rolling_resid(ddf, window=window),
                                       args.repeat, gather=True)
        equal = np.array_equal(got, expected_flat, equal_nan=True) and np.array_equal(
            got2["residual"].to_numpy(), expected_flat, equal_nan=True)
        failed |= not equal
        results += [("in memory, pandas panel", t_mem, 1.0, "reference"),
                    ("Dask, persisted on 2 workers", t_persist, t_mem / t_persist, equal),
                    ("Dask, gathered to the client", t_gather, t_mem / t_gather, equal)]
        print(f"Dask persisted: {C.fmt_seconds(t_persist)}, gathered: "
              f"{C.fmt_seconds(t_gather)}; equal to in-memory: {equal}", flush=True)

        by_date = scattered_by_date(client, flat, N_WORKERS * PARTITIONS_PER_WORKER)
        t_date, got3 = timed_persist(client, lambda: qd.rolling_resid(by_date, window=window),
                                     args.repeat)
        expected_sorted = expected.sort_index()
        equal_date = np.array_equal(by_key(got3).to_numpy(), expected_sorted.to_numpy(),
                                    equal_nan=True) and len(got3) == rows
        failed |= not equal_date
        results.append(("Dask, partitioned by date: check + shuffle + run, persisted", t_date,
                        t_mem / t_date, equal_date))
        print(f"Dask by date (shuffled): {C.fmt_seconds(t_date)}; equal: {equal_date}",
              flush=True)
        del by_date, got3

        if not args.skip_parquet:
            root = write_panel(panel, tmp / "panel", partition=PARQUET_BUCKETS)
            t_pq_mem, _, _ = C.best_of(
                lambda: quantreg.rolling_resid(read_panel(root), window=window), args.repeat)

            t_pq_dask, _ = timed_persist(client, lambda: qd.rolling_resid(root, window=window),
                                         args.repeat)
            got_pq = by_key(client.compute(qd.rolling_resid(root, window=window)).result())
            equal_pq = np.array_equal(got_pq.to_numpy(), expected.sort_index().to_numpy(),
                                      equal_nan=True)
            failed |= not equal_pq
            results += [("Parquet → in memory (read_panel + rolling_resid)", t_pq_mem, 1.0,
                         "reference"),
                        ("Parquet → Dask (read_parquet on the workers)", t_pq_dask,
                         t_pq_mem / t_pq_dask, equal_pq)]
            print(f"from Parquet: in memory {C.fmt_seconds(t_pq_mem)}, Dask "
                  f"{C.fmt_seconds(t_pq_dask)}; equal: {equal_pq}", flush=True)
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)

    ratio, ratio_date = results[1][2], results[3][2]
    large = ' on the large size' if args.size != 'large' else ''
    verdict = (f"Dask (persisted) throughput = {ratio:.0%} of in-memory (target ≥ "
               f"{TARGET_RATIO:.0%}{large}): {'met' if ratio >= TARGET_RATIO else 'NOT met'}\n"
               f"- Dask on partitions by date, shuffle included = {ratio_date:.0%} of in-memory "
               f"(target ≥ {TARGET_RATIO_BY_DATE:.0%}{large}): "
               f"{'met' if ratio_date >= TARGET_RATIO_BY_DATE else 'NOT met'}")
    table = C.markdown_table(
        ["path", "time", "M rows/s", "throughput vs in-memory", "equal to in-memory"],
        [[name, C.fmt_seconds(t), f"{rows / t / 1e6:.1f}", f"{r:.0%}", str(eq)]
         for name, t, r, eq in results],
    )
    body = "\n".join([
        f"## Dask vs in-memory (`bench_dask.py --size {args.size}`)", "",
        C.format_info(info), "",
        f"{assets:,} assets × {dates:,} dates × {k} regressors ({rows:,} rows), window {window}; "
        f"LocalCluster({N_WORKERS} worker processes × 1 thread, QUANTREG_NUM_THREADS=1), "
        f"{N_WORKERS * PARTITIONS_PER_WORKER} partitions; best of {args.repeat} after a warm-up run.", "",
        table, "", f"- {verdict}", "",
    ])
    print("\n" + table + "\n\n" + verdict, flush=True)
    if not args.no_write:
        C.update_results(SCRIPT, body)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
