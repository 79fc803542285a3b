"""The cross-section finisher: one least-squares fit per segment (a date's assets), for
cross-sectional regressions and Fama-MacBeth (numba, no pandas).

Each segment's statistics are its whole-segment window of the one walk
(:mod:`quantreg._kernels.walk`: a single backward pass, exact on any level of data) and are
solved by the one solver (:func:`quantreg._kernels.linalg.solve_chunk`, same tolerances and
status as the rolling fits). Rows with a NaN in ``y`` or any regressor, or a row weight that
is not positive, are left out.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import ILL_CONDITIONED, MISSING, OK, REFINE, WARMUP, factor_chunk, solution_rows, solve_chunk
from quantreg._kernels.refine import refine_windows
from quantreg._kernels.walk import CHUNK, INVALID_BEFORE, MEAN, WEIGHT, begin_segment, cov_at, walk_chunk


@jit()
def cross_section_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws):
    """Least squares of each segment ``g`` in ``first … last − 1`` on its complete rows
    (``opts``: a window as long as any segment, no exponential weights; ``opts.add_const``;
    ``pdest`` and ``times`` are not used).

    ``outs = (coef, stats, nobs, status, resid, fitted)``, row ``g``: ``coef`` ``[intercept,] β``
    (NaN unless solved), ``stats`` ``[SSR, TSS]`` (TSS centred with an intercept, raw without;
    weighted by ``opts.row_weights`` when given), ``nobs`` the complete rows, ``status``:
    :data:`~quantreg._kernels.linalg.OK`, ``MISSING`` (no complete row), ``WARMUP`` (fewer
    complete rows than coefficients) or ``RANK_DEFICIENT`` (an ill-conditioned cross-section is
    solved all the same: it is one fit, not a window). ``resid`` and ``fitted`` (empty: not
    written) get every row's residual ``y − ŷ`` and fitted value ``ŷ = ȳ + (x − x̄)ᵀβ`` (``xᵀβ``
    without an intercept) at ``dest[row]`` (the row itself when ``dest`` is empty): NaN in the
    segments not solved, and where the row's own ``y`` (residual) or ``x`` is NaN.

    Returns the number of segments left for the QR refinement, as
    :func:`quantreg._kernels.ols.ols_kernel` does.
    """
    coef, stats, nobs, status, resid, fitted = outs
    write_rows = resid.shape[0] > 0
    identity_dest = dest.shape[0] == 0
    identity_x = xrow.shape[0] == 0
    k = x.shape[1]
    p = k + 1
    add_const = opts.add_const
    n_coef = k + (1 if add_const else 0)
    seg, segf, front, work, cur, istate, rec, sol, state, need = ws
    _, b0, s0, _, _, _, _, _ = solution_rows(k)
    left = 0
    for g in range(first, last):
        start, length = begin_segment(x, xrow, y, offsets, g, times, opts.window, opts.span, opts.lam, opts.row_weights, seg, segf,
                                      istate)
        count = length - seg[INVALID_BEFORE, length]
        nobs[g] = count
        for j in range(n_coef):
            coef[g, j] = np.nan
        stats[g, 0] = np.nan
        stats[g, 1] = np.nan
        if write_rows:
            for t in range(length):
                d = start + t if identity_dest else dest[start + t]
                resid[d] = np.nan
                fitted[d] = np.nan
        if count == 0:
            status[g] = MISSING
            continue
        if count < n_coef:
            status[g] = WARMUP
            continue
        t0 = ((length - 1) // CHUNK) * CHUNK  # the last chunk: only the segment's last row
        for t in range(t0, length):
            need[t - t0] = t == length - 1
        walk_chunk(x, xrow, y, start, seg, segf, t0, length, need, opts.lam != 1.0, front, work, cur, istate, rec, k)
        c = length - 1 - t0
        for j in range(c + 1):
            state[j] = OK if j == c else WARMUP
        factor_chunk(rec, c + 1, k, add_const, state, sol)
        refined = refine_windows(opts.refine, x, xrow, y, start, seg, segf, t0, c + 1, k, add_const, opts.lam != 1.0,
                                 state, sol)
        solve_chunk(rec, c + 1, k, add_const, opts.full, refined, state, sol)
        if state[c] == ILL_CONDITIONED:  # solved all the same (a cross-section is one fit, as in linearmodels)
            state[c] = OK
        status[g] = state[c]
        left += state[c] == REFINE
        mean_y = rec[MEAN + k, c]
        syy = rec[cov_at(p, k), c]
        stats[g, 1] = syy if add_const else syy + rec[WEIGHT, c] * mean_y * mean_y
        if state[c] != OK:
            continue
        stats[g, 0] = sol[s0, c]
        offset = 1 if add_const else 0
        intercept = mean_y
        for j in range(k):
            coef[g, offset + j] = sol[b0 + j, c]
            intercept -= sol[b0 + j, c] * rec[MEAN + j, c]
        if add_const:
            coef[g, 0] = intercept
        if write_rows:  # ŷ as ȳ + (x − x̄)ᵀβ, so that level data stay exact
            for t in range(length):
                row = start + t
                xr = row if identity_x else xrow[row]
                value = mean_y if add_const else 0.0
                for j in range(k):
                    centre = rec[MEAN + j, c] if add_const else 0.0
                    value += sol[b0 + j, c] * (x[xr, j] - centre)
                d = row if identity_dest else dest[row]
                fitted[d] = value
                resid[d] = y[row] - value
    return left
