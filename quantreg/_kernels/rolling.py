"""Rolling least squares over contiguous per-instrument segments (numba, no pandas).

Inputs are float64 arrays sorted by (instrument, time): ``X`` (n × k), ``y`` (n) and
``offsets`` (n_segments + 1) so that rows ``offsets[g]:offsets[g+1]`` are instrument ``g``.
Each segment is processed by :func:`_roll_segment`; ranges of segments run on several threads
(see :mod:`quantreg._parallel`).

Window moments without cancellation
-----------------------------------
The rows of a segment are cut into blocks of ``window`` rows. The window ending at row ``t``
of block ``b`` is the *suffix* of block ``b − 1`` from row ``t − window + 1`` plus the *prefix*
of block ``b`` up to ``t``. Prefixes are accumulated forwards, suffixes backwards once per
block, and the two are merged with the subtraction-free pairwise update of
:mod:`quantreg._kernels.moments`: every window's statistics are as exact as a two-pass
computation on that window, on any level of data, at O(k²) per row. Exponential weights
(``lam = 0.5 ** (1 / halflife)``, weight ``lam ** age`` with age in rows) are carried by
scaling records.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import COUNT, MEAN, add_point, clear, merge, record_size, scale
from quantreg._kernels.ols_solve import SOLVED, solve_window

# status codes (see quantreg.results.STATUS_CATEGORIES)
OK = 0
WARMUP = 1
MISSING = 2
RANK_DEFICIENT = 3

MISSING_DROP = 0
MISSING_SKIP = 1


@jit()
def _row_is_valid(x: np.ndarray, y: np.ndarray, row: int, k: int) -> bool:
    if math.isnan(y[row]):
        return False
    for j in range(k):
        if math.isnan(x[row, j]):
            return False
    return True


@jit()
def _predict(x, row, beta, mean, first, k, add_const):
    """``x_t'β`` (plus the intercept), written ``ȳ + (x_t − x̄)'β`` so level data stay exact."""
    if add_const:
        fit = mean[first + k]
        for c in range(k):
            fit += beta[c] * (x[row, c] - mean[first + c])
        return fit
    fit = 0.0
    for c in range(k):
        fit += beta[c] * x[row, c]
    return fit


@jit(inline=True)
def _roll_segment(
    x, y, start, stop, window, min_nobs, expanding, missing_mode, add_const, lam,
    out_of_sample, full, params, bse, resid, fitted, nobs, status, stats, k,
):
    p = k + 1
    rsize = MEAN + p + p * p
    length = stop - start
    weighted = lam != 1.0
    log_lam = math.log(lam)
    n_buf = window if length > window else 1  # suffixes are needed from the second block on
    suffix = np.zeros((n_buf, rsize))
    prefix = np.zeros(rsize)
    current = np.zeros(rsize)
    z = np.empty(p)
    beta = np.empty(k)
    inv_diag = np.empty(k + 1)
    work = np.empty(2 * k * k + 2 * k + 1)
    sol = np.empty(3)
    prev_beta = np.empty(k)
    prev_mean = np.empty(p)
    prev_ok = False
    valid_rows = np.empty(length, dtype=np.bool_)
    for t in range(length):
        valid_rows[t] = _row_is_valid(x, y, start + t, k)
    n_invalid = 0
    sum_pos = 0
    for t in range(length):
        row = start + t
        block = t // window
        r = t - block * window
        if r == 0:
            if block >= 1:
                # suffix records of the previous block, weights relative to its last row
                clear(current)
                first = start + (block - 1) * window
                weight = 1.0
                for j in range(window - 1, -1, -1):
                    src = first + j
                    if valid_rows[src - start]:
                        for c in range(k):
                            z[c] = x[src, c]
                        z[k] = y[src]
                        add_point(current, z, weight, p)
                    suffix[j, :] = current
                    weight *= lam
            clear(prefix)
        valid = valid_rows[t]
        if weighted:
            scale(prefix, lam, p)
        if valid:
            for c in range(k):
                z[c] = x[row, c]
            z[k] = y[row]
            add_point(prefix, z, 1.0, p)
            sum_pos += t
        else:
            n_invalid += 1
        leaving = t - window
        if leaving >= 0:
            if valid_rows[leaving]:
                sum_pos -= leaving
            else:
                n_invalid -= 1
        if block >= 1 and r < window - 1:
            factor = lam ** (r + 1) if weighted else 1.0
            merge(current, suffix[r + 1], factor, prefix, p)
            rec = current
        else:
            rec = prefix
        count = int(rec[COUNT])
        nobs[row] = count
        positions = min(t + 1, window)
        state = OK
        if not expanding and t < window - 1:
            state = WARMUP
        elif missing_mode == MISSING_SKIP and n_invalid > 0:
            state = MISSING
        elif count < min_nobs:
            state = WARMUP if positions < min_nobs else MISSING
        elif solve_window(rec, k, add_const, full, beta, inv_diag, work, sol) != SOLVED:
            state = RANK_DEFICIENT
        estimated = state == OK
        if estimated and not valid:
            state = MISSING  # the window is estimated, but this row's own observation is missing
        status[row] = state
        fit = np.nan
        if out_of_sample:
            if prev_ok:
                fit = _predict(x, row, prev_beta, prev_mean, 0, k, add_const)
            prev_ok = estimated
            if estimated:
                for c in range(p):
                    prev_mean[c] = rec[MEAN + c]
                for c in range(k):
                    prev_beta[c] = beta[c]
        elif estimated:
            fit = _predict(x, row, beta, rec, MEAN, k, add_const)
        fitted[row] = fit
        resid[row] = y[row] - fit
        if not full:
            continue
        if not estimated:
            for c in range(params.shape[1]):
                params[row, c] = np.nan
                bse[row, c] = np.nan
            for c in range(stats.shape[1]):
                stats[row, c] = np.nan
            continue
        df_resid = count - k - (1 if add_const else 0)
        s2 = sol[0] / df_resid if df_resid > 0 else np.nan
        offset = 0
        if add_const:
            intercept = rec[MEAN + k]
            for c in range(k):
                intercept -= beta[c] * rec[MEAN + c]
            params[row, 0] = intercept
            bse[row, 0] = math.sqrt(s2 * inv_diag[k])
            offset = 1
        for c in range(k):
            params[row, offset + c] = beta[c]
            bse[row, offset + c] = math.sqrt(s2 * inv_diag[c])
        stats[row, 0] = sol[0] if df_resid > 0 else 0.0  # k rows, k parameters: an exact fit
        stats[row, 1] = sol[1]
        stats[row, 2] = sol[2]
        stats[row, 3] = (count * t - sum_pos) * log_lam if weighted else 0.0


@functools.cache
def rolling_ols_kernel(k: int):
    """The rolling OLS kernel specialised for ``k`` regressors (without the intercept).

    ``k`` is a compile-time constant of the returned function, so the small per-row loops over
    regressors unroll; each ``k`` is compiled once per machine and cached on disk. The kernel
    releases the GIL: callers run disjoint ranges of segments on several threads.

    The returned ``kernel(x, y, offsets, first, last, window, min_nobs, expanding,
    missing_mode, add_const, lam, out_of_sample, full, params, bse, resid, fitted, nobs, status,
    stats)`` processes segments ``first:last`` and writes its outputs in place (NaN where not
    estimated). ``stats`` columns: SSR, centred TSS, uncentred TSS, Σ log(weight) of the
    window's rows. ``full=False`` skips ``params``, ``bse`` and ``stats`` (they may then have
    zero rows).
    """

    @jit()
    def kernel(
        x, y, offsets, first, last, window, min_nobs, expanding, missing_mode, add_const, lam,
        out_of_sample, full, params, bse, resid, fitted, nobs, status, stats,
    ):
        for g in range(first, last):
            _roll_segment(
                x, y, offsets[g], offsets[g + 1], window, min_nobs, expanding, missing_mode,
                add_const, lam, out_of_sample, full, params, bse, resid, fitted, nobs, status,
                stats, k,
            )

    return kernel


__all__ = ["rolling_ols_kernel", "record_size", "OK", "WARMUP", "MISSING", "RANK_DEFICIENT"]
