"""The diagnostics finisher: numerical rank and condition number of every row's window (numba).

- **rank** of the window's design (the intercept column included): with an intercept,
  ``1 +`` the rank of the centred regressors, found by a Cholesky factorisation that skips a
  column constant in the window or whose pivot ``1 − R²_j`` is below the rank tolerance (the
  tests of :func:`quantreg._kernels.linalg.solve_chunk`); without one the same on the raw
  cross-products.
- **condition**: the 2-norm condition number of the window's column-scaled, centred
  regressors, ``sqrt(λ_max / λ_min)`` of their correlation matrix; ``inf`` when the window is
  rank deficient (its true value, ≳ 1e8, is beyond what cross-products with ~16 digits
  resolve), 1 with a single regressor.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import window_condition, window_rank
from quantreg._kernels.walk import CHUNK, INVALID_BEFORE, STARTS, begin_segment, walk_chunk


@jit()
def diagnostics_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws):
    """Per row of the segments ``first … last − 1``: ``rank[dest[row]]`` (-1 for an empty
    window) and ``condition[dest[row]]`` (NaN with fewer than 2 rows), ``outs = (rank,
    condition)``; windows and arguments as :func:`quantreg._kernels.ols.ols_kernel`."""
    rank, condition = outs
    seg, segf, front, work, cur, istate, rec, _, _, need = ws
    k = x.shape[1]
    lower = np.empty((k, k))
    corr = np.empty((k, k))
    eig = np.empty(k)
    full_rank = k + (1 if opts.add_const else 0)
    for g in range(first, last):
        start, length = begin_segment(x, xrow, y, offsets, g, times, opts.window, opts.span, opts.lam, seg, segf,
                                      istate)
        for t0 in range(0, length, CHUNK):
            t1 = min(t0 + CHUNK, length)
            for t in range(t0, t1):
                s = seg[STARTS, t]
                need[t - t0] = seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s] < t - s + 1
            walk_chunk(x, xrow, y, start, seg, segf, t0, t1, need, opts.lam != 1.0, front, work, cur, istate, rec, k)
            for t in range(t0, t1):
                c = t - t0
                if not need[c]:
                    continue
                row = start + t
                d = dest[row] if dest.shape[0] > 0 else row
                s = seg[STARTS, t]
                count = t - s + 1 - (seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s])
                r = window_rank(rec, c, k, opts.add_const, lower)
                rank[d] = r
                if count < 2:
                    condition[d] = np.nan
                elif r < full_rank:
                    condition[d] = np.inf  # collinear: beyond what ~16 digits resolve
                else:
                    condition[d] = window_condition(rec, c, k, corr, eig)
