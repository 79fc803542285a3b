"""One least-squares fit per period (a cross-section of assets), for Fama-MacBeth (numba).

Rows are read through a grouping permutation (``perm[offsets[g]:offsets[g + 1]]`` are the rows
of period ``g``), so the regressors are never copied into period order. Each period is solved
from its own centred Gram matrix:

1. pass one: count the complete rows (no NaN in ``y`` or any regressor) and their means;
2. pass two: centred cross-products ``S = Σ (z − z̄)(z − z̄)ᵀ`` of ``z = [x, y]``, with the
   corrected two-pass update (the sums of the deviations refine the means and ``S``);
3. Cholesky of ``S_xx`` (with an intercept) or of the raw Gram ``S_xx + n x̄x̄ᵀ`` (without),
   ``z = L⁻¹ S_xy``, ``β = L⁻ᵀ z``, ``SSR = S_yy − zᵀz``; the intercept is ``ȳ − x̄ᵀβ``.

A regressor whose spread in the period is below ``64·eps`` of its level (constant across the
assets of the period, hence collinear with the intercept), or a Cholesky pivot
``1 − R²_j`` below :data:`RANK_TOL`, makes the period rank deficient; it is not solved.
The thresholds are those of :mod:`quantreg._kernels.ols_solve` (the rolling engine).
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit, prange

#: A Cholesky pivot ``1 − R²_j`` below this counts as linear dependence (as in ``ols_solve``).
RANK_TOL = 1e-12
#: Relative spread under which a regressor is constant across the period's assets.
CONST_TOL = 64.0 * np.finfo(np.float64).eps

#: Status codes of a period.
OK = 0
EMPTY = 1  # no complete row
TOO_FEW = 2  # fewer complete rows than coefficients
RANK_DEFICIENT = 3


@jit()
def _row_is_complete(xt: np.ndarray, y: np.ndarray, i: int) -> bool:
    if math.isnan(y[i]):
        return False
    for j in range(xt.shape[0]):
        if math.isnan(xt[j, i]):
            return False
    return True


@jit()
def solve_period(
    xt: np.ndarray,
    y: np.ndarray,
    perm: np.ndarray,
    start: int,
    stop: int,
    add_const: bool,
    coef: np.ndarray,
    stats: np.ndarray,
) -> tuple[int, int]:
    """Least squares of ``y`` on ``x`` over the complete rows ``perm[start:stop]``.

    Parameters
    ----------
    xt : (k, n) regressors, one row per regressor (the caller's row order).
    y : (n,) regressand.
    perm : row numbers grouped by period.
    start, stop : the period's slice of ``perm``.
    add_const : whether the model has an intercept.
    coef : out, length ``k + add_const``: ``[intercept,] β_1 … β_k`` (NaN unless solved).
    stats : out, length 2: ``[SSR, TSS]`` (TSS centred with an intercept, raw without).

    Returns
    -------
    (status, nobs) : a status code (:data:`OK`, :data:`EMPTY`, :data:`TOO_FEW`,
        :data:`RANK_DEFICIENT`) and the number of complete rows.
    """
    k = xt.shape[0]
    p = k + 1  # columns of z = [x, y]
    n_coef = k + (1 if add_const else 0)
    for j in range(n_coef):
        coef[j] = np.nan
    stats[0] = np.nan
    stats[1] = np.nan
    # pass one: count and means
    mean = np.zeros(p)
    count = 0
    for r in range(start, stop):
        i = perm[r]
        if not _row_is_complete(xt, y, i):
            continue
        count += 1
        for j in range(k):
            mean[j] += xt[j, i]
        mean[k] += y[i]
    if count == 0:
        return EMPTY, 0
    if count < n_coef:
        return TOO_FEW, count
    for j in range(p):
        mean[j] /= count
    # pass two: centred cross-products, upper triangle of s (p x p), and deviation sums
    s = np.zeros((p, p))
    dev_sum = np.zeros(p)
    dev = np.empty(p)
    for r in range(start, stop):
        i = perm[r]
        if not _row_is_complete(xt, y, i):
            continue
        for j in range(k):
            dev[j] = xt[j, i] - mean[j]
        dev[k] = y[i] - mean[k]
        for a in range(p):
            da = dev[a]
            dev_sum[a] += da
            for b in range(a, p):
                s[a, b] += da * dev[b]
    # corrected two-pass: S -= d dᵀ / n, mean += d / n
    for a in range(p):
        for b in range(a, p):
            s[a, b] -= dev_sum[a] * dev_sum[b] / count
        mean[a] += dev_sum[a] / count
    syy_c = s[k, k]
    syy = syy_c if add_const else syy_c + count * mean[k] * mean[k]
    stats[1] = syy
    # Cholesky of the (centred or raw) Gram matrix of the regressors, row-major lower L
    chol = np.zeros((k, k))
    inv_piv = np.empty(k)
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
    z = np.empty(k)
    ssr = syy
    for i in range(k):
        acc = s[i, k]
        if not add_const:
            acc += count * mean[i] * mean[k]
        for l in range(i):
            acc -= chol[i, l] * z[l]
        acc *= inv_piv[i]
        z[i] = acc
        ssr -= acc * acc
    stats[0] = ssr if ssr > 0.0 else 0.0
    offset = 1 if add_const else 0
    intercept = mean[k]
    for i in range(k - 1, -1, -1):
        acc = z[i]
        for l in range(i + 1, k):
            acc -= chol[l, i] * coef[offset + l]
        beta = acc * inv_piv[i]
        coef[offset + i] = beta
        intercept -= mean[i] * beta
    if add_const:
        coef[0] = intercept
    return OK, count


@jit(parallel=True)
def cross_section_ols(
    xt: np.ndarray,
    y: np.ndarray,
    perm: np.ndarray,
    offsets: np.ndarray,
    add_const: bool,
    coef: np.ndarray,
    stats: np.ndarray,
    nobs: np.ndarray,
    status: np.ndarray,
) -> None:
    """:func:`solve_period` for every period, in parallel over periods.

    Parameters
    ----------
    xt : (k, n) float64 regressors (one row per regressor), y : (n,) float64.
    perm, offsets : period ``g`` holds rows ``perm[offsets[g]:offsets[g + 1]]``.
    add_const : whether each cross-section has an intercept.
    coef : out (n_periods, k + add_const); stats : out (n_periods, 2) ``[SSR, TSS]``;
    nobs : out (n_periods,) int64; status : out (n_periods,) int8.
    """
    n_periods = offsets.shape[0] - 1
    for g in prange(n_periods):
        code, count = solve_period(
            xt, y, perm, offsets[g], offsets[g + 1], add_const, coef[g], stats[g]
        )
        status[g] = code
        nobs[g] = count
