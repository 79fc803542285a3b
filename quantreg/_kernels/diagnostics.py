"""The diagnostics finisher: numerical rank and condition number of every row's window (numba).

Windows the normal equations resolve (every pivot ``1 − R²_j`` of their factorisation at or
above :data:`~quantreg._kernels.linalg.REFINE_TOL`, no constant regressor) have full rank, and
their condition number is ``sqrt(λ_max / λ_min)`` of the regressors' correlation matrix (the
2-norm condition number of the window's column-scaled, centred regressors). The others are
decided as the status is (:mod:`quantreg._kernels.refine`), from the QR of their rows:

- **rank** of the window's design (the intercept column included): with an intercept,
  ``1 +`` the number of non-constant regressors whose QR pivot ``sqrt(1 − R²_j)`` is at least
  :data:`~quantreg._kernels.linalg.RANK_TOL`; without one the same on the raw rows;
- **condition**: ``σ_max / σ_min`` of the column-scaled ``R`` (one-sided Jacobi singular
  values, accurate far beyond what cross-products resolve); ``inf`` when the rank is short.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import OK, RANK_TOL, WARMUP, singular_values, window_condition
from quantreg._kernels.refine import constant_column, qr_pivots, window_qr
from quantreg._kernels.walk import CHUNK, INVALID_BEFORE, STARTS


@jit()
def diagnostics_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws, steps):
    """Per row of the segments ``first … last − 1``: ``rank[dest[row]]`` (-1 for an empty
    window) and ``condition[dest[row]]`` (NaN with fewer than 2 rows), ``outs = (rank,
    condition)``; windows and arguments as :func:`quantreg._kernels.ols.ols_kernel`."""
    rank, condition = outs
    seg, segf, front, work, cur, istate, rec, sol, state, need = ws
    k = x.shape[1]
    add_const = opts.add_const
    weighted = opts.lam != 1.0
    corr = np.empty((k, k))
    eig = np.empty(k)
    r = np.empty((k + 1, k + 1))
    scratch = np.empty((4, k + 1))
    skip = np.empty(k, dtype=np.bool_)
    full_rank = k + (1 if add_const else 0)
    for g in range(first, last):
        start, length = steps.begin_segment(x, xrow, y, offsets, g, times, opts.window, opts.span, opts.lam,
                                            opts.row_weights, seg, segf, istate)
        for t0 in range(0, length, CHUNK):
            t1 = min(t0 + CHUNK, length)
            for t in range(t0, t1):
                s = seg[STARTS, t]
                need[t - t0] = seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s] < t - s + 1
                state[t - t0] = OK if need[t - t0] else WARMUP
            steps.walk_chunk(x, xrow, y, start, seg, segf, t0, t1, need, weighted, front, work, cur, istate, rec, k)
            steps.factor_chunk(rec, t1 - t0, k, add_const, state, sol)
            for t in range(t0, t1):
                c = t - t0
                if not need[c]:
                    continue
                row = start + t
                d = dest[row] if dest.shape[0] > 0 else row
                s = seg[STARTS, t]
                count = t - s + 1 - (seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s])
                if state[c] == OK:
                    rank[d] = full_rank
                    condition[d] = window_condition(rec, c, k, corr, eig) if count >= 2 else np.nan
                    continue
                for j in range(k):
                    skip[j] = constant_column(rec, c, j, k, add_const)
                window_qr(x, xrow, y, start, seg, segf, t, k, add_const, weighted, skip, r, scratch[0], scratch[1],
                          scratch[3])
                qr_pivots(r, k, scratch[2])
                n_rank = full_rank - k
                for j in range(k):
                    if not skip[j] and scratch[2, j] >= RANK_TOL:
                        n_rank += 1
                rank[d] = n_rank
                if count < 2:
                    condition[d] = np.nan
                elif n_rank < full_rank:
                    condition[d] = np.inf  # collinear
                else:  # σ_max / σ_min of R with unit-norm columns
                    for j in range(k):
                        norm = 0.0
                        for i in range(j + 1):
                            norm += r[i, j] * r[i, j]
                        norm = np.sqrt(norm)
                        for i in range(k):
                            corr[i, j] = r[i, j] / norm if i <= j else 0.0
                    singular_values(corr, eig)
                    condition[d] = eig.max() / eig.min()
