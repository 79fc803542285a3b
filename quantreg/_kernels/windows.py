"""Moment records of every row's window within one instrument segment (numba, no pandas).

The window of row ``t`` is the rows ``starts[t] … t`` of the segment: the last ``window`` rows
(row windows), or the rows whose time lies in ``(time_t − span, time_t]`` (calendar windows,
see :func:`segment_windows`). Window starts never move backwards, so each window is read off a
*two-stack queue*: a back stack, the *prefix* record of the rows ``flip … t`` accumulated
forwards, and a front stack, the *suffix* records of rows ``j … flip − 1`` built backwards in one
pass when the window start passes ``flip`` (the "flip"). The window is the merge of one suffix
and the prefix, with the subtraction-free pairwise update of :mod:`quantreg._kernels.moments`:
every window's statistics are as exact as a two-pass computation on its rows, on any level of
data, at amortised O(p²) per row — for fixed windows as for windows that vary in length.

Exponential weights (``lam ** age``, with the age ``pos[t] − pos[j]`` counted in rows or in time
units) are carried by scaling records: suffixes are weighted relative to their last row
``flip − 1``, the prefix relative to its last row.

:func:`walk_chunk` may skip rows (those it is not asked for): it catches up (or rebuilds the
front) at the next one, so a solver can ask for only the windows it needs.
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

#: Rows whose window records are produced before they are solved (one call per chunk).
CHUNK = 256

# walker state: the flip row, the row of suffix record 0, the last row added to the prefix
FLIP = 0
BASE = 1
LAST = 2


@jit(inline=True)
def x_row(xrow: np.ndarray, row: int) -> int:
    """Row of ``x`` holding the regressors of data row ``row`` (``xrow`` empty: the same row)."""
    return xrow[row] if xrow.shape[0] > 0 else row


@jit()
def segment_windows(times: np.ndarray, length: int, window: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """First row of each row's window, and each row's position for exponential weights.

    ``span == 0``: row windows — ``starts[t] = max(0, t − window + 1)``, ``pos[t] = t``.
    ``span > 0``: calendar windows over the segment's ``times`` (int64, increasing) — the rows
    with ``times[t] − span < times[j] ≤ times[t]``, ``pos[t] = times[t] − times[0]``.
    """
    starts = np.empty(length, dtype=np.int64)
    pos = np.empty(length, dtype=np.int64)
    first = 0
    for t in range(length):
        if span > 0:
            while times[t] - times[first] >= span:
                first += 1
            pos[t] = times[t] - times[0]
        else:
            first = max(0, t - window + 1)
            pos[t] = t
        starts[t] = first
    return starts, pos


@jit()
def row_validity(x, xrow, y, start, length, starts, pos):
    """``(valid, invalid_before, pos_before, max_rows)`` of the segment at ``start``.

    ``valid[t]``: y and every regressor of row ``t`` are non-NaN; ``invalid_before[t]`` and
    ``pos_before[t]``: count of invalid rows and Σ ``pos`` of valid rows before ``t`` (for the
    missing count and the age sum of any window); ``max_rows``: the longest window.
    """
    k = x.shape[1]
    valid = np.empty(length, dtype=np.bool_)
    invalid_before = np.zeros(length + 1, dtype=np.int64)
    pos_before = np.zeros(length + 1)
    max_rows = 1
    for t in range(length):
        ok = not math.isnan(y[start + t])
        xr = x_row(xrow, start + t)
        for c in range(k):
            if math.isnan(x[xr, c]):
                ok = False
        valid[t] = ok
        invalid_before[t + 1] = invalid_before[t] + (0 if ok else 1)
        pos_before[t + 1] = pos_before[t] + (pos[t] if ok else 0)
        max_rows = max(max_rows, t - starts[t] + 1)
    return valid, invalid_before, pos_before, max_rows


@jit()
def decay_steps(pos: np.ndarray, lam: float) -> np.ndarray:
    """``steps[t] = lam ** (pos[t] − pos[t − 1])``, the factor that ages weights by one row
    (empty without exponential weights). Walks multiply these instead of raising ``lam`` to a
    power per row: a power in the row loop is hoisted by LLVM and paid even when unweighted."""
    if lam == 1.0:
        return np.empty(0)
    steps = np.ones(pos.shape[0])
    for t in range(1, pos.shape[0]):
        steps[t] = lam ** (pos[t] - pos[t - 1])
    return steps


@jit()
def new_stacks(max_rows: int, p: int):
    """The state of one walk: ``(suffix, prefix, state, front, z)`` for windows of at most
    ``max_rows`` rows over ``p`` variables (``front[0]``: the factor that ages the suffixes'
    weights to the current row)."""
    rsize = MEAN + p + p * p
    state = np.zeros(3, dtype=np.int64)
    state[LAST] = -1
    return np.zeros((max_rows, rsize)), np.zeros((1, rsize)), state, np.ones(1), np.empty(p)


@jit(inline=True)
def _load(x, xrow, y, row, z, k):
    xr = x_row(xrow, row)
    for c in range(k):
        z[c] = x[xr, c]
    z[k] = y[row]


@jit(inline=True)
def walk_chunk(x, xrow, y, start, valid, starts, steps, t0, t1, need, suffix, prefix, state, front, z, out, k):
    """Write into ``out[t − t0]`` the record of ``[x, y]`` over the valid rows of row ``t``'s
    window, for the rows ``t0 ≤ t < t1`` with ``need[t − t0]``.

    Rows are those of the segment starting at data row ``start``; chunks must come in order.
    ``steps``: :func:`decay_steps` (empty: unweighted). Rows not needed are skipped: the walk
    catches up (or rebuilds its front) at the next one. One call per chunk, not per row: a call
    with this many arrays costs reference counting comparable to a row's arithmetic.
    """
    p = k + 1
    weighted = steps.shape[0] > 0
    for t in range(t0, t1):
        if not need[t - t0]:
            continue
        s = starts[t]
        flip = state[FLIP]
        if s >= flip:  # the front is used up: rebuild it over the window, weights relative to t
            clear(suffix, t - s)
            weight = 1.0
            for j in range(t, s - 1, -1):
                if j < t:
                    copy_record(suffix, j - s, suffix, j - s + 1, p)
                    if weighted:
                        weight *= steps[j + 1]
                if valid[j]:
                    _load(x, xrow, y, start + j, z, k)
                    add_point(suffix, j - s, z, weight, p)
            state[FLIP] = t + 1
            state[BASE] = s
            state[LAST] = t
            front[0] = 1.0
            clear(prefix, 0)
            copy_record(out, t - t0, suffix, 0, p)
            continue
        for u in range(state[LAST] + 1, t + 1):
            if weighted:
                front[0] *= steps[u]
                if u > flip:
                    scale(prefix, 0, steps[u], p)
            if valid[u]:
                _load(x, xrow, y, start + u, z, k)
                add_point(prefix, 0, z, 1.0, p)
        state[LAST] = t
        merge(out, t - t0, suffix, s - state[BASE], front[0], prefix, 0, p)


@jit(inline=True)
def window_state(rows, count, window, min_nobs, need_full, missing_mode, n_invalid):
    """Whether a window of ``rows`` rows (``count`` valid, ``n_invalid`` missing) is to be
    solved (``OK``), or why not.

    ``WARMUP``: fewer than ``window`` rows when full windows are required (row windows, not
    expanding), or fewer than ``min_nobs`` rows of history; ``MISSING``: ``skip`` met a missing
    row, or missing rows leave fewer than ``min_nobs`` valid ones.
    """
    if need_full and rows < window:
        return WARMUP
    if missing_mode == MISSING_SKIP and n_invalid > 0:
        return MISSING
    if count < min_nobs:
        return WARMUP if rows < min_nobs else MISSING
    return OK


@jit(inline=True)
def predict(x, xrow, row, beta, means, mi, first, k, add_const):
    """``x_t'β`` (plus the intercept), written ``ȳ + (x_t − x̄)'β`` so level data stay exact;
    the means are ``means[mi, first:first + k + 1]``."""
    xr = x_row(xrow, row)
    if add_const:
        fit = means[mi, first + k]
        for c in range(k):
            fit += beta[c] * (x[xr, c] - means[mi, first + c])
        return fit
    fit = 0.0
    for c in range(k):
        fit += beta[c] * x[xr, c]
    return fit
