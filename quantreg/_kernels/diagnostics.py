"""Per-window numerical rank and condition number, from the window records (numba, no pandas).

- **rank** of the window's design (the intercept column included): with an intercept,
  ``1 +`` the rank of the centred regressors, found by a Cholesky factorisation of ``S_xx`` that
  skips a column whose pivot ``s_j / S_jj`` falls below ``RANK_TOL`` or which is constant in the
  window (the tests :func:`quantreg._kernels.ols_solve.solve_window` applies); without one the
  same on the raw cross-products.
- **condition**: the 2-norm condition number of the window's column-scaled, centred regressors,
  ``sqrt(λ_max / λ_min)`` of their correlation matrix (cyclic Jacobi eigenvalues); ``inf`` when the
  window is rank deficient (its true value, ≳ 1e8, is beyond what cross-products with ~16 digits
  resolve), 1 with a single regressor.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import COUNT, MEAN, WEIGHT
from quantreg._kernels.ols_solve import CONST_TOL, RANK_TOL
from quantreg._kernels.windows import CHUNK, decay_steps, new_stacks, row_validity, segment_windows, walk_chunk


@jit()
def window_rank(rec, ri, k, add_const, lower):
    """Numerical rank of the window's design (see the module docstring)."""
    p = k + 1
    cov = MEAN + p
    w_total = rec[ri, WEIGHT]
    rank = 1 if add_const else 0
    lower[:, :] = 0.0
    for j in range(k):
        m_j = rec[ri, MEAN + j]
        diag = rec[ri, cov + j * p + j]
        if add_const:
            spread = CONST_TOL * m_j
            if diag <= spread * spread * w_total:
                continue
        else:
            diag += w_total * m_j * m_j
            if diag <= 0.0:
                continue
        for i in range(j, k):
            acc = rec[ri, cov + j * p + i]
            if not add_const:
                acc += w_total * m_j * rec[ri, MEAN + i]
            for l in range(j):
                acc -= lower[i, l] * lower[j, l]
            if i == j:
                if not acc > RANK_TOL * diag:
                    break
                lower[j, j] = math.sqrt(acc)
            else:
                lower[i, j] = acc / lower[j, j]
        if lower[j, j] > 0.0:
            rank += 1
    return rank


@jit()
def jacobi_eigenvalues(a, out):
    """Eigenvalues of the symmetric matrix ``a`` (overwritten) by cyclic Jacobi rotations."""
    n = a.shape[0]
    for _ in range(100):
        off = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                off += a[i, j] * a[i, j]
        if off <= 1e-30:
            break
        for pp in range(n):
            for q in range(pp + 1, n):
                if a[pp, q] == 0.0:
                    continue
                theta = (a[q, q] - a[pp, pp]) / (2.0 * a[pp, q])
                t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for r in range(n):
                    arp, arq = a[r, pp], a[r, q]
                    a[r, pp] = c * arp - s * arq
                    a[r, q] = s * arp + c * arq
                for r in range(n):
                    apr, aqr = a[pp, r], a[q, r]
                    a[pp, r] = c * apr - s * aqr
                    a[q, r] = s * apr + c * aqr
    for i in range(n):
        out[i] = a[i, i]


@jit()
def window_condition(rec, ri, k, corr, eig):
    """2-norm condition number of the window's column-scaled, centred regressors."""
    if k == 0:
        return np.nan
    p = k + 1
    cov = MEAN + p
    w_total = rec[ri, WEIGHT]
    for j in range(k):
        spread = CONST_TOL * rec[ri, MEAN + j]
        if rec[ri, cov + j * p + j] <= spread * spread * w_total:
            return np.inf
    for i in range(k):
        for j in range(i, k):
            v = rec[ri, cov + i * p + j] / math.sqrt(rec[ri, cov + i * p + i] * rec[ri, cov + j * p + j])
            corr[i, j] = v
            corr[j, i] = v
    jacobi_eigenvalues(corr, eig)
    lo, hi = np.inf, 0.0
    for i in range(k):
        lo = min(lo, eig[i])
        hi = max(hi, eig[i])
    if lo <= 0.0:
        return np.inf
    return math.sqrt(hi / lo)


@functools.cache
def diagnostics_kernel(k: int):
    """``kernel(x, y, offsets, times, first, last, window, span, lam, add_const, rank,
    condition)``: per row, the rank (-1 for an empty window) and condition number (NaN with
    fewer than 2 rows) of its window, for segments ``first:last`` (windows as in
    :func:`quantreg._kernels.rolling.rolling_ols_kernel`)."""

    @jit()
    def kernel(x, y, offsets, times, first, last, window, span, lam, add_const, rank, condition):
        p = k + 1
        lower = np.empty((k, k))
        corr = np.empty((k, k))
        eig = np.empty(k)
        rec = np.empty((CHUNK, MEAN + p + p * p))
        need = np.ones(CHUNK, dtype=np.bool_)
        no_rows = np.empty(0, dtype=np.int64)
        for g in range(first, last):
            start = offsets[g]
            length = offsets[g + 1] - start
            seg_times = times[start:start + length] if times.shape[0] > 0 else times
            starts, pos = segment_windows(seg_times, length, window, span)
            valid, _, _, max_rows = row_validity(x, no_rows, y, start, length, starts, pos)
            suffix, prefix, walk, front, z = new_stacks(max_rows, p)
            steps = decay_steps(pos, lam)
            for t0 in range(0, length, CHUNK):
                t1 = min(t0 + CHUNK, length)
                walk_chunk(x, no_rows, y, start, valid, starts, steps, t0, t1, need, suffix, prefix, walk, front, z, rec, k)
                for t in range(t0, t1):
                    count = rec[t - t0, COUNT]
                    r = window_rank(rec, t - t0, k, add_const, lower) if count > 0 else -1
                    rank[start + t] = r
                    if count < 2:
                        condition[start + t] = np.nan
                    elif r < k + (1 if add_const else 0):
                        condition[start + t] = np.inf  # collinear: beyond what ~16 digits resolve
                    else:
                        condition[start + t] = window_condition(rec, t - t0, k, corr, eig)

    return kernel
