"""Moment records of every row's window within one instrument segment (numba, no pandas).

The rows of a segment are cut into blocks of ``window`` rows. The window ending at row ``t``
of block ``b`` is the *suffix* of block ``b − 1`` from row ``t − window + 1`` plus the *prefix*
of block ``b`` up to ``t``. Prefixes are accumulated forwards, suffixes backwards once per
block, and the two are merged with the subtraction-free pairwise update of
:mod:`quantreg._kernels.moments`: every window's statistics are as exact as a two-pass
computation on that window, on any level of data, at O(k²) per row. Exponential weights
(``lam = 0.5 ** (1 / halflife)``, weight ``lam ** age`` with age in rows) are carried by
scaling records. In the first block the window is the prefix: the expanding window.

:func:`window_records` walks a segment a chunk of rows at a time, keeping its state (the
previous block's suffixes, the current prefix and two counters) in arrays owned by the caller,
so that any solver (OLS, penalised regressions…) can consume the records of a chunk before
the next one is produced.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN, add_point, clear, copy_record, merge, scale

# per-row status codes (see quantreg.results.STATUS_CATEGORIES)
OK = 0
WARMUP = 1
MISSING = 2
RANK_DEFICIENT = 3
ILL_CONDITIONED = 4

MISSING_DROP = 0
MISSING_SKIP = 1

#: Rows per chunk of records handed to a solver.
CHUNK = 512
#: counters[N_INVALID]: missing rows in the current window; counters[SUM_POS]: sum of the
#: positions of its valid rows.
N_INVALID = 0
SUM_POS = 1


@jit()
def row_validity(x: np.ndarray, y: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Whether each row of ``start:stop`` has y and every regressor non-NaN."""
    k = x.shape[1]
    valid = np.empty(stop - start, dtype=np.bool_)
    for t in range(stop - start):
        ok = not math.isnan(y[start + t])
        for c in range(k):
            if math.isnan(x[start + t, c]):
                ok = False
        valid[t] = ok
    return valid


@jit()
def new_walker(x: np.ndarray, y: np.ndarray, start: int, stop: int, window: int, p: int):
    """Everything a walk over the segment ``start:stop`` needs: ``(valid, suffix, prefix,
    counters, records, n_invalid, age_sum, z)`` — row validity, the previous block's suffix
    records, the prefix record (a one-row buffer), the two counters, and the chunk buffers that
    :func:`window_records` fills."""
    length = stop - start
    n_buf = window if length > window else 1  # suffixes are needed from the second block on
    rsize = MEAN + p + p * p
    return (
        row_validity(x, y, start, stop),
        np.zeros((n_buf, rsize)),
        np.zeros((1, rsize)),
        np.zeros(2, dtype=np.int64),
        np.empty((CHUNK, rsize)),
        np.empty(CHUNK, dtype=np.int64),
        np.empty(CHUNK, dtype=np.int64),
        np.empty(p),
    )


@jit(inline=True)
def _load(x: np.ndarray, y: np.ndarray, row: int, z: np.ndarray, k: int) -> None:
    for c in range(k):
        z[c] = x[row, c]
    z[k] = y[row]


@jit(inline=True)
def window_records(
    x, y, start, valid, window, lam, t0, t1, suffix, prefix, counters, z, records, n_invalid, age_sum, k,
):
    """Records of the windows ending at rows ``t0 … t1 − 1`` of the segment starting at ``start``.

    Writes ``records[t − t0]`` (the moment record of ``[x, y]`` over the window's valid rows),
    ``n_invalid[t − t0]`` (missing rows in the window) and ``age_sum[t − t0]`` (Σ of the valid
    rows' ages). Chunks must be consecutive: ``t0`` of a call is ``t1`` of the previous one.
    ``k`` (the number of regressors) is passed by the per-``k`` kernels as a compile-time
    constant, so that the loops over regressors unroll.
    """
    p = k + 1
    weighted = lam != 1.0
    for t in range(t0, t1):
        out = t - t0
        block = t // window
        r = t - block * window
        if r == 0:
            if block >= 1:  # suffixes of the previous block, weights relative to its last row
                first = (block - 1) * window
                weight = 1.0
                clear(suffix, window - 1)
                for j in range(window - 1, -1, -1):
                    if j < window - 1:
                        copy_record(suffix, j, suffix, j + 1, p)
                    if valid[first + j]:
                        _load(x, y, start + first + j, z, k)
                        add_point(suffix, j, z, weight, p)
                    weight *= lam
            clear(prefix, 0)
        if weighted:
            scale(prefix, 0, lam, p)
        if valid[t]:
            _load(x, y, start + t, z, k)
            add_point(prefix, 0, z, 1.0, p)
            counters[SUM_POS] += t
        else:
            counters[N_INVALID] += 1
        leaving = t - window
        if leaving >= 0:
            if valid[leaving]:
                counters[SUM_POS] -= leaving
            else:
                counters[N_INVALID] -= 1
        if block >= 1 and r < window - 1:
            factor = lam ** (r + 1) if weighted else 1.0
            merge(records, out, suffix, r + 1, factor, prefix, 0, p)
        else:
            copy_record(records, out, prefix, 0, p)
        n_invalid[out] = counters[N_INVALID]
        age_sum[out] = int(records[out, 0]) * t - counters[SUM_POS]


@jit(inline=True)
def window_state(t, count, window, min_nobs, expanding, missing_mode, n_invalid):
    """Whether the window ending at row ``t`` is to be solved (``OK``), or why not.

    ``WARMUP``: before the first full window (not expanding), or fewer than ``min_nobs`` rows
    of history; ``MISSING``: ``skip`` met a missing row, or missing rows leave fewer than
    ``min_nobs`` valid ones.
    """
    if not expanding and t < window - 1:
        return WARMUP
    if missing_mode == MISSING_SKIP and n_invalid > 0:
        return MISSING
    if count < min_nobs:
        return WARMUP if min(t + 1, window) < min_nobs else MISSING
    return OK


@jit(inline=True)
def predict(x, row, beta, means, mi, first, k, add_const):
    """``x_t'β`` (plus the intercept), written ``ȳ + (x_t − x̄)'β`` so level data stay exact;
    the means are ``means[mi, first:first + k + 1]``."""
    if add_const:
        fit = means[mi, first + k]
        for c in range(k):
            fit += beta[c] * (x[row, c] - means[mi, first + c])
        return fit
    fit = 0.0
    for c in range(k):
        fit += beta[c] * x[row, c]
    return fit
