"""One least-squares fit per period (a cross-section of assets), for Fama-MacBeth (numba).

Rows are read through a grouping permutation (``perm[offsets[g]:offsets[g + 1]]`` are the rows
of period ``g``), so the panel is never reordered as a whole. Each period is solved from its
own centred Gram matrix:

1. pass one: copy the complete rows (no NaN in ``y`` or any regressor) of ``z = [x, y]`` into
   a small contiguous buffer and sum them;
2. pass two, over the buffer: centred cross-products ``S = Σ (z − z̄)(z − z̄)ᵀ`` with the
   corrected two-pass update (the sums of the deviations refine the means and ``S``);
3. Cholesky of ``S_xx`` (with an intercept) or of the raw Gram ``S_xx + n x̄x̄ᵀ`` (without),
   ``u = L⁻¹ S_xy``, ``β = L⁻ᵀ u``, ``SSR = S_yy − uᵀu``; the intercept is ``ȳ − x̄ᵀβ``.

A regressor whose spread in the period is below ``64·eps`` of its level (constant across the
assets of the period, hence collinear with the intercept), or a Cholesky pivot
``1 − R²_j`` below :data:`RANK_TOL`, makes the period rank deficient; it is not solved.
The thresholds are those of :mod:`quantreg._kernels.ols_solve` (the rolling engine).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit

#: A Cholesky pivot ``1 − R²_j`` below this counts as linear dependence (as in ``ols_solve``).
RANK_TOL = 1e-12
#: Relative spread under which a regressor is constant across the period's assets.
CONST_TOL = 64.0 * np.finfo(np.float64).eps

#: Status codes of a period.
OK = 0
EMPTY = 1  # no complete row
TOO_FEW = 2  # fewer complete rows than coefficients
RANK_DEFICIENT = 3


@jit(inline=True)
def _solve_period(
    z: np.ndarray,
    perm: np.ndarray,
    start: int,
    stop: int,
    add_const: bool,
    coef: np.ndarray,
    stats: np.ndarray,
    k: int,
) -> tuple[int, int]:
    """Least squares of ``z[k]`` on ``z[:k]`` over the complete rows ``perm[start:stop]``.

    Parameters
    ----------
    z : (k + 1, n) variables ``[x_1 … x_k, y]`` (one row each), columns in the caller's row
        order.
    perm : row numbers grouped by period; start, stop : the period's slice of ``perm``.
    add_const : whether the model has an intercept.
    coef : out, length ``k + add_const``: ``[intercept,] β_1 … β_k`` (NaN unless solved).
    stats : out, length 2: ``[SSR, TSS]`` (TSS centred with an intercept, raw without).
    k : number of regressors (a compile-time constant of the caller, so loops unroll).

    Returns
    -------
    (status, nobs) : a status code (:data:`OK`, :data:`EMPTY`, :data:`TOO_FEW`,
        :data:`RANK_DEFICIENT`) and the number of complete rows.
    """
    p = k + 1
    n_coef = k + (1 if add_const else 0)
    for j in range(n_coef):
        coef[j] = np.nan
    stats[0] = np.nan
    stats[1] = np.nan
    # pass one: copy the complete rows into a contiguous buffer (one read of the panel) and sum
    buf = np.empty((stop - start, p))
    mean = np.zeros(p)
    count = 0
    for r in range(start, stop):
        i = perm[r]
        complete = True
        for j in range(p):
            v = z[j, i]
            if math.isnan(v):
                complete = False
                break
            buf[count, j] = v
        if complete:
            for j in range(p):
                mean[j] += buf[count, j]
            count += 1
    if count == 0:
        return EMPTY, 0
    if count < n_coef:
        return TOO_FEW, count
    for j in range(p):
        mean[j] /= count
    # pass two (in cache): centred cross-products (upper triangle) and the deviation sums
    s = np.zeros((p, p))
    dev_sum = np.zeros(p)
    dev = np.empty(p)
    for r in range(count):
        for a in range(p):
            dev[a] = buf[r, a] - mean[a]
            dev_sum[a] += dev[a]
        for a in range(p):
            da = dev[a]
            for b in range(a, p):
                s[a, b] += da * dev[b]
    # corrected two-pass: S -= d dᵀ / n, mean += d / n
    for a in range(p):
        for b in range(a, p):
            s[a, b] -= dev_sum[a] * dev_sum[b] / count
    for a in range(p):
        mean[a] += dev_sum[a] / count
    syy_c = s[k, k]
    syy = syy_c if add_const else syy_c + count * mean[k] * mean[k]
    stats[1] = syy
    # Cholesky of the (centred or raw) Gram matrix of the regressors, lower L
    chol = np.zeros((p, p))
    inv_piv = np.empty(p)
    for j in range(k):
        m_j = mean[j]
        for i in range(j, k):
            acc = s[j, i]
            if not add_const:
                acc += count * m_j * mean[i]
            for l in range(j):
                acc -= chol[i, l] * chol[j, l]
            if i == j:
                diag = s[j, j]
                if add_const:
                    spread = CONST_TOL * m_j
                    if diag <= spread * spread * count:
                        return RANK_DEFICIENT, count
                else:
                    diag += count * m_j * m_j
                if not acc > RANK_TOL * diag:
                    return RANK_DEFICIENT, count
                pivot = math.sqrt(acc)
                chol[j, j] = pivot
                inv_piv[j] = 1.0 / pivot
            else:
                chol[i, j] = acc * inv_piv[j]
    # z = L⁻¹ S_xy, SSR = S_yy − zᵀz, β = L⁻ᵀ z, intercept = ȳ − x̄ᵀβ
    zz = np.empty(p)
    ssr = syy
    for i in range(k):
        acc = s[i, k]
        if not add_const:
            acc += count * mean[i] * mean[k]
        for l in range(i):
            acc -= chol[i, l] * zz[l]
        acc *= inv_piv[i]
        zz[i] = acc
        ssr -= acc * acc
    stats[0] = max(0.0, ssr)
    offset = 1 if add_const else 0
    intercept = mean[k]
    for i in range(k - 1, -1, -1):
        acc = zz[i]
        for l in range(i + 1, k):
            acc -= chol[l, i] * coef[offset + l]
        beta = acc * inv_piv[i]
        coef[offset + i] = beta
        intercept -= mean[i] * beta
    if add_const:
        coef[0] = intercept
    return OK, count


@functools.cache
def cross_section_kernel(k: int):
    """The per-period least-squares kernel specialised for ``k`` regressors (no intercept).

    ``k`` is a compile-time constant of the returned function, so the small per-row loops
    unroll; each ``k`` is compiled once per machine and cached on disk. The kernel releases
    the GIL: callers run disjoint ranges of periods on several threads
    (:func:`quantreg._parallel.run_segments`).

    The returned ``kernel(z, perm, offsets, first, last, add_const, coef, stats, nobs,
    status)`` solves periods ``first:last``; period ``g`` holds rows
    ``perm[offsets[g]:offsets[g + 1]]`` of ``z`` ((k + 1, n) float64, the variables
    ``[x_1 … x_k, y]`` one per row). Outputs, written in place: ``coef`` (n_periods,
    k + add_const), ``stats`` (n_periods, 2) ``[SSR, TSS]``, ``nobs`` (n_periods,) int64 and
    ``status`` (n_periods,) int8.
    """

    @jit()
    def kernel(z, perm, offsets, first, last, add_const, coef, stats, nobs, status):
        for g in range(first, last):
            code, count = _solve_period(
                z, perm, offsets[g], offsets[g + 1], add_const, coef[g], stats[g], k
            )
            status[g] = code
            nobs[g] = count

    return kernel
