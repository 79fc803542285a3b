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
from quantreg._kernels.windows import CHUNK, new_walker, window_records


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
    """``kernel(x, y, offsets, first, last, window, lam, add_const, rank, condition)``: per row,
    the rank (-1 for an empty window) and condition number (NaN with fewer than 2 rows) of its
    window, for segments ``first:last``."""

    @jit()
    def kernel(x, y, offsets, first, last, window, lam, add_const, rank, condition):
        p = k + 1
        lower = np.empty((k, k))
        corr = np.empty((k, k))
        eig = np.empty(k)
        for g in range(first, last):
            start, stop = offsets[g], offsets[g + 1]
            valid, suffix, prefix, counters, records, n_invalid, age_sum, z = new_walker(
                x, y, start, stop, window, p
            )
            for t0 in range(0, stop - start, CHUNK):
                t1 = min(t0 + CHUNK, stop - start)
                window_records(
                    x, y, start, valid, window, lam, t0, t1, suffix, prefix, counters, z, records,
                    n_invalid, age_sum, k,
                )
                for t in range(t0, t1):
                    ri = t - t0
                    count = records[ri, COUNT]
                    r = window_rank(records, ri, k, add_const, lower) if count > 0 else -1
                    rank[start + t] = r
                    if count < 2:
                        condition[start + t] = np.nan
                    elif r < k + (1 if add_const else 0):
                        condition[start + t] = np.inf  # collinear: beyond what ~16 digits resolve
                    else:
                        condition[start + t] = window_condition(records, ri, k, corr, eig)

    return kernel
