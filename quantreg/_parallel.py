"""Running a GIL-free numba kernel over instrument segments on all cores.

The kernels take a range of segments ``first:last``; :func:`run_segments` cuts the segments
into contiguous chunks of about equal numbers of rows (so that one long instrument does not
leave a core idle) and runs them on a thread pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

#: Chunks per thread: more chunks balance uneven segments better, at a small cost per call.
CHUNKS_PER_THREAD = 4


def n_threads() -> int:
    """Threads used by the kernels: ``QUANTREG_NUM_THREADS`` or the number of usable cores."""
    env = os.environ.get("QUANTREG_NUM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quantreg")


def segment_chunks(offsets: np.ndarray, n_chunks: int) -> list[tuple[int, int]]:
    """Split segments ``0:len(offsets)-1`` into at most ``n_chunks`` ranges of similar row counts."""
    n_seg = len(offsets) - 1
    if n_seg <= 0:
        return []
    targets = np.linspace(0, offsets[-1], n_chunks + 1)[1:-1]
    cuts = np.unique(np.concatenate([[0], np.searchsorted(offsets, targets), [n_seg]]))
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def row_blocks(n: int, size: int) -> np.ndarray:
    """Bounds of blocks of ``size`` rows covering ``0 … n`` (the last one shorter), as offsets
    that :func:`run_segments` shares out between the cores like segments."""
    return np.minimum(np.arange(-(-n // size) + 1, dtype=np.int64) * size, n)


def run_segments(run: Callable[[int, int], None], offsets: np.ndarray) -> None:
    """Call ``run(first, last)`` over ranges covering all segments, in parallel where it pays."""
    workers = n_threads()
    chunks = segment_chunks(offsets, workers * CHUNKS_PER_THREAD)
    if workers == 1 or len(chunks) <= 1 or offsets[-1] < 50_000:
        for first, last in chunks:
            run(first, last)
        return
    futures = [_pool(workers).submit(run, first, last) for first, last in chunks]
    for future in futures:
        future.result()
