"""Rolling least squares over contiguous per-instrument segments (numba, no pandas).

Inputs are float64 arrays sorted by (instrument, time): ``X`` (n × k), ``y`` (n) and
``offsets`` (n_segments + 1) so that rows ``offsets[g]:offsets[g+1]`` are instrument ``g``.
Each segment is processed by :func:`_roll_segment`; ranges of segments run on several threads
(see :mod:`quantreg._parallel`).

Each window's moment record comes from :func:`quantreg._kernels.windows.window_records`
(exact, subtraction-free), a chunk of rows at a time; each is solved by
:func:`quantreg._kernels.ols_solve.solve_window`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import COUNT, MEAN
from quantreg._kernels.ols_solve import ILL_CONDITIONED as ILL_CONDITIONED_SOLVE
from quantreg._kernels.ols_solve import RANK_DEFICIENT as RANK_DEFICIENT_SOLVE
from quantreg._kernels.ols_solve import solve_window
from quantreg._kernels.sandwich import NONROBUST, robust_variances
from quantreg._kernels.windows import (
    CHUNK,
    ILL_CONDITIONED,
    MISSING,
    MISSING_DROP,
    MISSING_SKIP,
    OK,
    RANK_DEFICIENT,
    WARMUP,
    new_walker,
    predict,
    window_records,
    window_state,
)


@jit(inline=True)
def _roll_segment(
    x, y, start, stop, window, min_nobs, expanding, missing_mode, add_const, lam,
    out_of_sample, full, cov_code, kernel_weights, use_correction,
    params, bse, resid, fitted, nobs, status, stats, k,
):
    p = k + 1
    kp = k + 1 if add_const else k
    length = stop - start
    log_lam = math.log(lam)
    valid, suffix, prefix, counters, records, n_invalid, age_sum, z = new_walker(x, y, start, stop, window, p)
    beta = np.empty(k)
    inv_diag = np.empty(k + 1)
    work = np.empty(2 * k * k + 2 * k + 1)
    sol = np.empty(3)
    prev_beta = np.empty(k)
    prev_mean = np.empty((1, p))
    prev_ok = False
    variances = np.empty(kp)
    robust = full and cov_code != NONROBUST
    scores = np.empty((min(window, length) if robust else 0, k + 1))
    h_inv = np.empty((k, k))
    meat = np.empty((k + 1, k + 1))
    lagged = np.empty(k + 1)
    for t0 in range(0, length, CHUNK):
        t1 = min(t0 + CHUNK, length)
        window_records(
            x, y, start, valid, window, lam, t0, t1, suffix, prefix, counters, z, records,
            n_invalid, age_sum, k,
        )
        for t in range(t0, t1):
            row = start + t
            ri = t - t0
            count = int(records[ri, COUNT])
            nobs[row] = count
            state = window_state(t, count, window, min_nobs, expanding, missing_mode, n_invalid[t - t0])
            if state == OK:
                solved = solve_window(records, ri, k, add_const, full, beta, inv_diag, work, sol)
                if solved == RANK_DEFICIENT_SOLVE:
                    state = RANK_DEFICIENT
                elif solved == ILL_CONDITIONED_SOLVE:
                    state = ILL_CONDITIONED
            estimated = state == OK
            if estimated and not valid[t]:
                state = MISSING  # the window is estimated, but this row's own y/x is missing
            status[row] = state
            fit = np.nan
            if out_of_sample:
                if prev_ok:
                    fit = predict(x, row, prev_beta, prev_mean, 0, 0, k, add_const)
                prev_ok = estimated
                if estimated:
                    for c in range(p):
                        prev_mean[0, c] = records[ri, MEAN + c]
                    for c in range(k):
                        prev_beta[c] = beta[c]
            elif estimated:
                fit = predict(x, row, beta, records, ri, MEAN, k, add_const)
            fitted[row] = fit
            resid[row] = y[row] - fit
            if not full:
                continue
            if estimated and robust:
                robust_variances(
                    x, y, start, max(0, t - window + 1), t, valid, lam, beta, records, ri, k, add_const,
                    cov_code, kernel_weights, use_correction, work, 2 * k + k * k, scores, h_inv,
                    meat, lagged, variances,
                )
            elif estimated:
                df_resid = count - kp
                s2 = sol[0] / df_resid if df_resid > 0 else np.nan
                if add_const:
                    variances[0] = s2 * inv_diag[k]
                for c in range(k):
                    variances[kp - k + c] = s2 * inv_diag[c]
            _store_full(
                row, estimated, records, ri, count, k, add_const, beta, variances, sol,
                age_sum[t - t0] * log_lam, params, bse, stats,
            )


@jit()
def _store_full(row, estimated, rec, ri, count, k, add_const, beta, variances, sol, log_weights, params, bse, stats):
    """Write params, standard errors (from ``variances``, in params order) and
    [SSR, centred TSS, uncentred TSS, Σ log w] of a row."""
    if not estimated:
        for c in range(params.shape[1]):
            params[row, c] = np.nan
            bse[row, c] = np.nan
        for c in range(stats.shape[1]):
            stats[row, c] = np.nan
        return
    df_resid = count - k - (1 if add_const else 0)
    offset = 0
    if add_const:
        intercept = rec[ri, MEAN + k]
        for c in range(k):
            intercept -= beta[c] * rec[ri, MEAN + c]
        params[row, 0] = intercept
        offset = 1
    for c in range(k):
        params[row, offset + c] = beta[c]
    for c in range(offset + k):
        bse[row, c] = math.sqrt(variances[c]) if variances[c] >= 0.0 else np.nan
    stats[row, 0] = sol[0] if df_resid > 0 else 0.0  # k rows, k parameters: an exact fit
    stats[row, 1] = sol[1]
    stats[row, 2] = sol[2]
    stats[row, 3] = log_weights


@functools.cache
def rolling_ols_kernel(k: int):
    """The rolling OLS kernel specialised for ``k`` regressors (without the intercept).

    ``k`` is a compile-time constant of the returned function, so the small per-row loops over
    regressors unroll; each ``k`` is compiled once per machine and cached on disk. The kernel
    releases the GIL: callers run disjoint ranges of segments on several threads.

    The returned ``kernel(x, y, offsets, first, last, window, min_nobs, expanding,
    missing_mode, add_const, lam, out_of_sample, full, cov_code, kernel_weights, use_correction,
    params, bse, resid, fitted, nobs, status, stats)`` processes segments ``first:last`` and
    writes its outputs in place (NaN where not estimated). ``cov_code`` (see
    :mod:`quantreg._kernels.sandwich`) selects the standard errors in ``bse``. ``stats``
    columns: SSR, centred TSS, uncentred TSS, Σ log(weight) of the window's rows.
    ``full=False`` skips ``params``, ``bse`` and ``stats`` (they may then have zero rows).
    """

    @jit()
    def kernel(
        x, y, offsets, first, last, window, min_nobs, expanding, missing_mode, add_const, lam,
        out_of_sample, full, cov_code, kernel_weights, use_correction,
        params, bse, resid, fitted, nobs, status, stats,
    ):
        for g in range(first, last):
            _roll_segment(
                x, y, offsets[g], offsets[g + 1], window, min_nobs, expanding, missing_mode,
                add_const, lam, out_of_sample, full, cov_code, kernel_weights, use_correction,
                params, bse, resid, fitted, nobs, status, stats, k,
            )

    return kernel


__all__ = ["rolling_ols_kernel", "MISSING_DROP", "MISSING_SKIP", "OK", "WARMUP", "MISSING", "RANK_DEFICIENT", "ILL_CONDITIONED"]
