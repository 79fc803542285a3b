"""The least-squares finisher: residuals, fitted values, coefficients and statistics of every
row's window (numba, no pandas).

:func:`ols_kernel` runs over segments ``first … last − 1`` of a layout (see
:class:`quantreg.panel.Layout`): per chunk of rows, :func:`fit_chunk` — the windows' states,
their records from the walk (:mod:`quantreg._kernels.walk`), their coefficients and status from
the solver (:mod:`quantreg._kernels.linalg`) — and then what each row reports. Outputs are
written at the layout's output positions: per-row values (``resid``, ``fitted``, ``nobs``,
``status``) at ``dest[row]``, the coefficient rows (``params``, ``bse``, ``stats``) at
``pdest[row]`` (each: the walk row itself when empty). Every finisher kernel takes the same
arguments and a workspace ``ws`` allocated by the engine
(:func:`quantreg.engine.workspace`): ``(seg, segf, front, work, cur, istate, rec, sol, state,
need)``.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import MISSING, OK, REFINE, WARMUP, solution_rows
from quantreg._kernels.refine import refine_windows
from quantreg._kernels.walk import (
    CHUNK,
    INVALID_BEFORE,
    LOGW_BEFORE,
    MEAN,
    POS,
    POS_BEFORE,
    STARTS,
    VALID,
    WEIGHT,
    cov_at,
)

__all__ = ["fit_chunk", "ols_kernel", "window_states"]


@jit(python=False, address=True)
def window_states(seg, t0, t1, window, min_nobs, need_full, skip_missing, state, need):
    """Per chunk row ``t − t0``: whether its window is to be solved (``state`` :data:`OK`,
    ``need`` True) or why not — ``WARMUP``: fewer than ``window`` rows when full windows are
    required (``need_full``), or fewer than ``min_nobs`` rows of history; ``MISSING``:
    ``skip_missing`` met a missing row, or missing rows leave fewer than ``min_nobs`` valid ones."""
    for t in range(t0, t1):
        s = seg[STARTS, t]
        rows = t - s + 1
        n_invalid = seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s]
        count = rows - n_invalid
        if need_full and rows < window:
            code = WARMUP
        elif skip_missing and n_invalid > 0:
            code = MISSING
        elif count < min_nobs:
            code = WARMUP if rows < min_nobs else MISSING
        else:
            code = OK
        state[t - t0] = code
        need[t - t0] = code == OK


@jit(inline="always")
def fit_chunk(x, xrow, y, offsets, times, g, t0, opts, want_inverse, seg, segf, front, work, cur, istate, rec, sol,
              state, need, steps):
    """Fit the windows of rows ``t0 … t0 + CHUNK − 1`` of segment ``g`` (chunks in order;
    ``t0 == 0`` starts the segment) and return the number of rows. Afterwards, per chunk row,
    ``state`` holds :func:`window_states` then the solver's status, ``rec`` the window record,
    ``sol`` the slopes and SSR (and with ``want_inverse`` the inverse's diagonal). ``steps``:
    :data:`quantreg._kernels.steps.STEPS`. Compiled
    with ``opts.refine`` None, windows that need the QR refinement keep the status
    :data:`~quantreg._kernels.linalg.REFINE` (see :func:`quantreg._kernels.refine.refine_windows`)."""
    start = offsets[g]
    length = offsets[g + 1] - start
    if t0 == 0:
        steps.begin_segment(x, xrow, y, offsets, g, times, opts.window, opts.span, opts.lam, opts.row_weights, seg, segf,
                            istate)
    t1 = min(t0 + CHUNK, length)
    steps.window_states(seg, t0, t1, opts.window, opts.min_nobs, opts.need_full, opts.skip_missing, state, need)
    k = x.shape[1]
    weighted = opts.lam != 1.0
    steps.walk_chunk(x, xrow, y, start, seg, segf, t0, t1, need, weighted, front, work, cur, istate, rec, k)
    steps.factor_chunk(rec, t1 - t0, k, opts.add_const, state, sol)
    refined = refine_windows(opts.refine, x, xrow, y, start, seg, segf, t0, t1 - t0, k, opts.add_const, weighted, state,
                             sol)
    steps.solve_chunk(rec, t1 - t0, k, opts.add_const, want_inverse, refined, state, sol)
    return t1 - t0


@jit()
def ols_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws, steps):
    """Rolling least squares of the segments ``first … last − 1``.

    ``x`` (m × k) holds regressor rows, ``x[xrow[row]]`` (or ``x[row]`` when ``xrow`` is empty)
    those of walk row ``row``; ``y`` the regressand; segment ``g`` is the rows
    ``offsets[g] … offsets[g + 1] − 1`` in time order; ``times``: their int64 time units
    (calendar windows only, else empty); ``opts``: :class:`quantreg._kernels.options.Options`.
    ``outs = (resid, fitted, nobs, status, params, bse, stats)`` are written in place: NaN where
    not estimated; ``fitted`` and ``nobs`` may be empty (not written), and so are ``params``,
    ``bse`` and ``stats`` (columns: SSR, centred TSS, uncentred TSS, Σ log w — of the product
    of the exponential and the row weights) unless
    ``opts.full``. Standard errors are the nonrobust ones (:mod:`.sandwich` overwrites them).

    Returns the number of windows left for the QR refinement (their status ``REFINE``, outputs
    NaN): 0 unless compiled with ``opts.refine`` None; the engine then runs the segments again
    with ``opts.refine`` True.
    """
    resid, fitted, nobs, status, params, bse, stats = outs
    seg, segf, front, work, cur, istate, rec, sol, state, need = ws
    k = x.shape[1]
    p = k + 1
    add_const = opts.add_const
    kp = k + 1 if add_const else k
    full = opts.full
    log_lam = math.log(opts.lam)
    has_rw = opts.row_weights.shape[0] > 0
    _, b0, s0, _, i0, fit, _, _ = solution_rows(k)
    prev_beta = np.empty(k)
    prev_mean = np.empty(p)
    write_fitted = fitted.shape[0] > 0
    write_nobs = nobs.shape[0] > 0
    identity_dest = dest.shape[0] == 0
    identity_pdest = pdest.shape[0] == 0
    identity_x = xrow.shape[0] == 0
    cy = cov_at(p, k)
    left = 0
    for g in range(first, last):
        start = offsets[g]
        length = offsets[g + 1] - start
        prev_ok = False
        for t0 in range(0, length, CHUNK):
            n = fit_chunk(x, xrow, y, offsets, times, g, t0, opts, full, seg, segf, front, work, cur, istate, rec,
                          sol, state, need, steps)
            if not opts.out_of_sample:  # x_t'β, as ȳ + (x_t − x̄)'β so that level data stay exact
                for c in range(n):  # row by row: x_t is one contiguous row
                    row = start + t0 + c
                    xr = row if identity_x else xrow[row]
                    value = rec[MEAN + k, c] if add_const else 0.0
                    for j in range(k):
                        centre = rec[MEAN + j, c] if add_const else 0.0
                        value += sol[b0 + j, c] * (x[xr, j] - centre)
                    sol[fit, c] = value
            for c in range(n):
                t = t0 + c
                row = start + t
                d = row if identity_dest else dest[row]
                s = seg[STARTS, t]
                count = t - s + 1 - (seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s])
                if write_nobs:
                    nobs[d] = count
                code = state[c]
                if code == REFINE:
                    left += 1
                estimated = code == OK
                if estimated and not seg[VALID, t]:
                    code = MISSING  # the window is estimated, but this row's own y/x is missing
                status[d] = code
                value = np.nan
                if opts.out_of_sample:
                    if prev_ok:
                        xr = row if identity_x else xrow[row]
                        value = prev_mean[k] if add_const else 0.0
                        for j in range(k):
                            centre = prev_mean[j] if add_const else 0.0
                            value += prev_beta[j] * (x[xr, j] - centre)
                    prev_ok = estimated
                    if estimated:
                        for j in range(p):
                            prev_mean[j] = rec[MEAN + j, c]
                        for j in range(k):
                            prev_beta[j] = sol[b0 + j, c]
                elif estimated:
                    value = sol[fit, c]
                if write_fitted:
                    fitted[d] = value
                resid[d] = y[row] - value
                if not full:
                    continue
                q = d if identity_pdest else pdest[row]
                if not estimated:
                    for j in range(kp):
                        params[q, j] = np.nan
                        bse[q, j] = np.nan
                    for j in range(4):
                        stats[q, j] = np.nan
                    continue
                df_resid = count - kp
                ssr = sol[s0, c]
                s2 = ssr / df_resid if df_resid > 0 else np.nan  # nobs == k: an exact fit
                if add_const:
                    intercept = rec[MEAN + k, c]
                    for j in range(k):
                        intercept -= sol[b0 + j, c] * rec[MEAN + j, c]
                    params[q, 0] = intercept
                    bse[q, 0] = math.sqrt(s2 * sol[i0 + k, c])
                for j in range(k):
                    params[q, kp - k + j] = sol[b0 + j, c]
                    bse[q, kp - k + j] = math.sqrt(s2 * sol[i0 + j, c])
                mean_y = rec[MEAN + k, c]
                stats[q, 0] = ssr if df_resid > 0 else 0.0
                stats[q, 1] = rec[cy, c]
                stats[q, 2] = rec[cy, c] + rec[WEIGHT, c] * mean_y * mean_y
                stats[q, 3] = (count * seg[POS, t] - (segf[POS_BEFORE, t + 1] - segf[POS_BEFORE, s])) * log_lam
                if has_rw:  # Σ log of the row weights of the window's valid rows
                    stats[q, 3] += segf[LOGW_BEFORE, t + 1] - segf[LOGW_BEFORE, s]
    return left
