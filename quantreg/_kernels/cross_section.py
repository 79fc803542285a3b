"""The cross-section finisher: one least-squares fit per segment (a date's assets), for
Fama-MacBeth (numba, no pandas).

Each segment's statistics are its whole-segment window of the one walk
(:mod:`quantreg._kernels.walk`: a single backward pass, exact on any level of data) and are
solved by the one solver (:func:`quantreg._kernels.linalg.solve_chunk`, same tolerances and
status as the rolling fits). Rows with a NaN in ``y`` or any regressor are left out.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import ILL_CONDITIONED, MISSING, OK, WARMUP, solve_chunk
from quantreg._kernels.ols import new_workspace
from quantreg._kernels.walk import CHUNK, MEAN, WEIGHT, begin_segment, cov_at, walk_chunk


@jit()
def cross_section_kernel(x, xrow, y, offsets, first, last, add_const, outs):
    """Least squares of each segment ``g`` in ``first … last − 1`` on its complete rows.

    ``outs = (coef, stats, nobs, status)``, row ``g``: ``coef`` ``[intercept,] β`` (NaN unless
    solved), ``stats`` ``[SSR, TSS]`` (TSS centred with an intercept, raw without), ``nobs``
    the complete rows, ``status``: :data:`~quantreg._kernels.linalg.OK`, ``MISSING`` (no
    complete row), ``WARMUP`` (fewer complete rows than coefficients) or ``RANK_DEFICIENT``
    (an ill-conditioned cross-section is solved all the same: it is one fit, not a window).
    """
    coef, stats, nobs, status = outs
    k = x.shape[1]
    p = k + 1
    n_coef = k + (1 if add_const else 0)
    longest = 1
    for g in range(first, last):
        longest = max(longest, offsets[g + 1] - offsets[g])
    ws = new_workspace(k, longest, longest)
    seg, walk, rec, fac, u, beta, ssr, linv, inv_diag, state, need = ws
    _, _, _, invalid_before, _, _ = seg
    no_times = np.empty(0, dtype=np.int64)
    for g in range(first, last):
        start, length = begin_segment(x, xrow, y, offsets, g, no_times, longest, 0, 1.0, seg, walk)
        count = length - invalid_before[length]
        nobs[g] = count
        for j in range(n_coef):
            coef[g, j] = np.nan
        stats[g, 0] = np.nan
        stats[g, 1] = np.nan
        if count == 0:
            status[g] = MISSING
            continue
        if count < n_coef:
            status[g] = WARMUP
            continue
        t0 = ((length - 1) // CHUNK) * CHUNK  # the last chunk: only the segment's last row
        for t in range(t0, length):
            need[t - t0] = t == length - 1
        walk_chunk(x, xrow, y, start, seg, t0, length, need, False, walk, rec, k)
        c = length - 1 - t0
        state[c] = OK
        solve_chunk(rec, c, c + 1, k, add_const, False, state, fac, u, beta, ssr, linv, inv_diag)
        if state[c] == ILL_CONDITIONED:  # solved all the same (a cross-section is one fit, as in linearmodels)
            state[c] = OK
        status[g] = state[c]
        mean_y = rec[MEAN + k, c]
        syy = rec[cov_at(p, k), c]
        stats[g, 1] = syy if add_const else syy + rec[WEIGHT, c] * mean_y * mean_y
        if state[c] != OK:
            continue
        stats[g, 0] = ssr[c]
        offset = 1 if add_const else 0
        intercept = mean_y
        for j in range(k):
            coef[g, offset + j] = beta[j, c]
            intercept -= beta[j, c] * rec[MEAN + j, c]
        if add_const:
            coef[g, 0] = intercept
