"""Rolling least squares over contiguous per-instrument segments (numba, no pandas).

Inputs are float64 arrays sorted by (instrument, time): ``X`` (n × k), ``y`` (n) and
``offsets`` (n_segments + 1) so that rows ``offsets[g]:offsets[g+1]`` are instrument ``g``.
Each segment is processed by :func:`_roll_segment`; ranges of segments run on several threads
(see :mod:`quantreg._parallel`).

Each window's moment record comes from :func:`quantreg._kernels.windows.walk_chunk` (exact,
subtraction-free, row or calendar windows); each is solved by
:func:`quantreg._kernels.ols_solve.solve_window` — or, for factor regressions, from the
factorisation shared by all assets (:mod:`quantreg._kernels.factor_rolling`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN
from quantreg._kernels.ols_solve import ILL_CONDITIONED as ILL_CONDITIONED_SOLVE
from quantreg._kernels.ols_solve import RANK_DEFICIENT as RANK_DEFICIENT_SOLVE
from quantreg._kernels.ols_solve import SOLVED, solve_factored, solve_window
from quantreg._kernels.sandwich import NONROBUST, robust_variances
from quantreg._kernels.shared_factors import shared_records
from quantreg._kernels.windows import (
    CHUNK,
    ILL_CONDITIONED,
    MISSING,
    MISSING_DROP,
    MISSING_SKIP,
    OK,
    RANK_DEFICIENT,
    WARMUP,
    decay_steps,
    new_stacks,
    predict,
    row_validity,
    segment_windows,
    walk_chunk,
    window_state,
)


@jit(inline=True)
def _at(rows, start, t):
    """Output row of segment row ``t``: ``rows[t]``, or ``start + t`` when ``rows`` is empty."""
    return rows[t] if rows.shape[0] > 0 else start + t


@jit(inline=True)
def roll_segment(x, xrow, y, start, length, times, dest, prow, shared, opts, kernel_weights, outs, k):
    """Every row's rolling fit in one instrument segment (rows ``start … start + length − 1``).

    ``x[xrow[row]]`` (or ``x[row]`` when ``xrow`` is empty) holds the regressors of data row
    ``row``; ``times`` the segment's times (calendar windows only). Outputs ``resid``,
    ``fitted``, ``nobs`` and ``status`` go to rows ``dest[t]``, ``params``, ``bse`` and
    ``stats`` to rows ``prow[t]`` (empty: ``start + t``). ``shared``: empty
    tables, or those of :func:`quantreg._kernels.shared_factors.shared_tables_kernel` (see
    :mod:`quantreg._kernels.factor_rolling`); a row whose window is exactly the shared window
    ``f_starts[b] … b`` of its factor row ``b`` with no missing row is solved from its part of
    the shared walk and the shared factorisation; every other from its own full record.
    """
    window, span, min_nobs, need_full, missing_mode, add_const, lam, out_of_sample, full, cov_code, use_correction = opts
    params, bse, resid, fitted, nobs, status, stats = outs
    fac, fac_status, f_starts, kind, pre, suf, mrg, fwin = shared
    p = k + 1
    kp = k + 1 if add_const else k
    log_lam = math.log(lam)
    starts, pos = segment_windows(times, length, window, span)
    valid, invalid_before, pos_before, max_rows = row_validity(x, xrow, y, start, length, starts, pos)
    use_shared = fac.shape[0] > 0
    steps = decay_steps(pos, lam)
    suffix, prefix, walk, front, z = new_stacks(max_rows, p)
    y_front = np.empty((max_rows if use_shared else 0, k + 2))
    y_back = np.zeros(k + 2)
    y_state = np.zeros(3, dtype=np.int64)
    records = np.empty((CHUNK, MEAN + p + p * p))
    states = np.empty(CHUNK, dtype=np.int8)
    fac_rows = np.full(CHUNK, -1, dtype=np.int64)
    own = np.empty(CHUNK, dtype=np.bool_)
    fac_size = 2 * k * k + 2 * k + 1  # L | 1/D | L⁻¹ | diag(S⁻¹), see ols_solve.factor_gram
    own_fac = np.empty(fac_size)
    diag_at = 2 * k * k + k
    beta = np.empty(k)
    zk = np.empty(k)
    sol = np.empty(3)
    prev_beta = np.empty(k)
    prev_mean = np.empty((1, p))
    prev_ok = False
    variances = np.empty(kp)
    robust = full and cov_code != NONROBUST
    scores = np.empty((max_rows if robust else 0, k + 1))
    h_inv = np.empty((k, k))
    meat = np.empty((k + 1, k + 1))
    lagged = np.empty(k + 1)
    write_fitted = fitted.shape[0] > 0
    write_nobs = nobs.shape[0] > 0
    for t0 in range(0, length, CHUNK):
        t1 = min(t0 + CHUNK, length)
        for t in range(t0, t1):  # which windows are solved
            s = starts[t]
            n_invalid = invalid_before[t + 1] - invalid_before[s]
            states[t - t0] = window_state(t - s + 1, t - s + 1 - n_invalid, window, min_nobs, need_full, missing_mode, n_invalid)
        if use_shared:  # the asset's part of the shared walk, and the shareable windows' records
            shared_records(
                t0, t1, xrow, y, valid, f_starts, kind, pre, suf, mrg, fwin, fac_status, y_state,
                y_front, y_back, states, fac_rows, records, k,
            )
        for t in range(t0, t1):
            own[t - t0] = states[t - t0] == OK and fac_rows[t - t0] < 0
        walk_chunk(x, xrow, y, start, valid, starts, steps, t0, t1, own, suffix, prefix, walk, front, z, records, k)
        for t in range(t0, t1):
            ri = t - t0
            row = start + t
            d = _at(dest, start, t)
            s = starts[t]
            n_invalid = invalid_before[t + 1] - invalid_before[s]
            count = t - s + 1 - n_invalid
            if write_nobs:
                nobs[d] = count
            state = states[ri]
            fac_row = fac_rows[ri]
            if state == OK:
                if fac_row >= 0:
                    solved = fac_status[fac_row]
                    if solved == SOLVED:
                        solve_factored(fac, fac_row * fac_size, records, ri, k, add_const, zk, beta, sol)
                else:
                    solved = solve_window(records, ri, k, add_const, full, beta, own_fac, zk, sol)
                if solved == RANK_DEFICIENT_SOLVE:
                    state = RANK_DEFICIENT
                elif solved == ILL_CONDITIONED_SOLVE:
                    state = ILL_CONDITIONED
            estimated = state == OK
            if estimated and not valid[t]:
                state = MISSING  # the window is estimated, but this row's own y/x is missing
            status[d] = state
            fit = np.nan
            if out_of_sample:
                if prev_ok:
                    fit = predict(x, xrow, row, prev_beta, prev_mean, 0, 0, k, add_const)
                prev_ok = estimated
                if estimated:
                    for c in range(p):
                        prev_mean[0, c] = records[ri, MEAN + c]
                    for c in range(k):
                        prev_beta[c] = beta[c]
            elif estimated:
                fit = predict(x, xrow, row, beta, records, ri, MEAN, k, add_const)
            if write_fitted:
                fitted[d] = fit
            resid[d] = y[row] - fit
            if not full:
                continue
            if estimated and robust:
                robust_variances(
                    x, xrow, y, start, s, t, valid, pos, lam, beta, records, ri, k, add_const, cov_code,
                    kernel_weights, use_correction, own_fac, scores, h_inv, meat, lagged, variances,
                )
            elif estimated:
                df_resid = count - kp
                s2 = sol[0] / df_resid if df_resid > 0 else np.nan
                if fac_row >= 0:
                    inv_diag_src, at = fac, fac_row * fac_size + diag_at
                else:
                    inv_diag_src, at = own_fac, diag_at
                if add_const:
                    variances[0] = s2 * inv_diag_src[at + k]
                for c in range(k):
                    variances[kp - k + c] = s2 * inv_diag_src[at + c]
            if estimated and count <= kp:  # an exact fit: no residual variance to estimate
                for c in range(kp):
                    variances[c] = np.nan
            age_sum = count * pos[t] - (pos_before[t + 1] - pos_before[s])
            _store_full(
                _at(prow, start, t), estimated, records, ri, count, k, add_const, beta, variances, sol,
                age_sum * log_lam, params, bse, stats,
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

    The returned ``kernel(x, y, offsets, times, first, last, opts, kernel_weights, shared,
    outs)`` processes segments ``first:last`` of the sorted panel (``times``: sorted int64 time
    units, calendar windows only; ``shared``: empty tables, see :func:`roll_segment`) and writes
    ``outs = (params, bse, resid, fitted, nobs, status, stats)`` in place (NaN where not
    estimated). ``opts = (window, span, min_nobs, need_full, missing_mode, add_const, lam,
    out_of_sample, full, cov_code, use_correction)``: ``span > 0`` selects calendar windows of
    that many time units, ``need_full`` requires ``window`` rows (row windows, not expanding).
    ``cov_code`` (see :mod:`quantreg._kernels.sandwich`) selects the standard errors in
    ``bse``. ``stats`` columns: SSR, centred TSS, uncentred TSS, Σ log(weight) of the window's
    rows. ``full=False`` skips ``params``, ``bse`` and ``stats``; ``fitted`` and ``nobs`` may
    have zero rows (not written).
    """

    @jit()
    def kernel(x, y, offsets, times, first, last, opts, kernel_weights, shared, outs):
        no_rows = np.empty(0, dtype=np.int64)
        for g in range(first, last):
            start = offsets[g]
            length = offsets[g + 1] - start
            seg_times = times[start:start + length] if times.shape[0] > 0 else times
            roll_segment(
                x, no_rows, y, start, length, seg_times, no_rows, no_rows, shared, opts,
                kernel_weights, outs, k,
            )

    return kernel


__all__ = [
    "rolling_ols_kernel", "roll_segment", "MISSING_DROP", "MISSING_SKIP", "OK", "WARMUP",
    "MISSING", "RANK_DEFICIENT", "ILL_CONDITIONED",
]
