"""Least squares from one window's moment record (see :mod:`quantreg._kernels.moments`).

With an intercept the slopes solve the centred normal equations ``S_xx β = S_xy`` and the
intercept is recovered from the means, ``c = ȳ − x̄ᵀβ``; without one the raw (weighted) Gram
matrix ``S_xx + W x̄x̄ᵀ`` is used. Both are solved after scaling every regressor to unit sum of
squares (a correlation-like matrix ``R``) by a Cholesky factorisation ``R = LLᵀ``:

``z = L⁻¹ r``, ``β̃ = L⁻ᵀ z``, ``β_j = β̃_j / D_j``, ``SSR = S_yy − zᵀz``.

A regressor whose spread in the window is below ``64·eps`` of its level (a constant column), or
a Cholesky pivot ``1 − R²_j`` (the share of regressor ``j`` not explained by the previous ones)
below :data:`RANK_TOL`, makes the window rank deficient: nothing is solved and NaN is reported.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN, WEIGHT

#: A pivot ``1 − R²_j`` below this (regressor ``j`` explained to within 1e-12 of its variance by
#: the others) counts as linear dependence.
RANK_TOL = 1e-12
#: Relative spread under which a regressor is constant within the window.
CONST_TOL = 64.0 * np.finfo(np.float64).eps

SOLVED = 0
RANK_DEFICIENT = 1


@jit()
def solve_window(
    rec: np.ndarray,
    k: int,
    add_const: bool,
    beta: np.ndarray,
    inv_diag: np.ndarray,
    work: np.ndarray,
    stats: np.ndarray,
) -> int:
    """Solve one window's least squares from its moment record.

    Parameters
    ----------
    rec : moment record over ``p = k + 1`` variables ``[x_1 … x_k, y]``.
    k : number of regressors (without the intercept).
    add_const : whether the model has an intercept.
    beta : out, length ``k`` — slopes.
    inv_diag : out, length ``k + 1`` — diagonal of ``(XᵀWX)⁻¹``; entry ``k`` is the intercept's.
    work : scratch, length ``≥ 2k² + 3k``.
    stats : out, length 3 — ``[SSR, centred TSS, uncentred TSS]``.

    Returns
    -------
    int
        :data:`SOLVED` or :data:`RANK_DEFICIENT`.
    """
    p = k + 1
    cov = MEAN + p
    w_total = rec[WEIGHT]
    y_idx = k
    mean_y = rec[MEAN + y_idx]
    syy_c = rec[cov + y_idx * p + y_idx]
    stats[1] = syy_c
    stats[2] = syy_c + w_total * mean_y * mean_y
    if add_const:
        syy = syy_c
    else:
        syy = stats[2]
    # work layout: R (k*k) | L^-1 (k*k) | D (k) | r (k) | v (k)
    r_mat = work[: k * k]
    l_inv = work[k * k : 2 * k * k]
    scl = work[2 * k * k : 2 * k * k + k]
    rhs = work[2 * k * k + k : 2 * k * k + 2 * k]
    vec = work[2 * k * k + 2 * k : 2 * k * k + 3 * k]
    for j in range(k):
        s_jj = rec[cov + j * p + j]
        m_j = rec[MEAN + j]
        if add_const:
            spread = CONST_TOL * m_j
            if s_jj <= 0.0 or s_jj <= spread * spread * w_total:
                return RANK_DEFICIENT
        else:
            s_jj += w_total * m_j * m_j
            if s_jj <= 0.0:
                return RANK_DEFICIENT
        scl[j] = math.sqrt(s_jj)
    for i in range(k):
        m_i = rec[MEAN + i]
        for j in range(i, k):
            s_ij = rec[cov + i * p + j]
            if not add_const:
                s_ij += w_total * m_i * rec[MEAN + j]
            v = s_ij / (scl[i] * scl[j])
            r_mat[i * k + j] = v
            r_mat[j * k + i] = v
        s_iy = rec[cov + i * p + y_idx]
        if not add_const:
            s_iy += w_total * m_i * mean_y
        rhs[i] = s_iy / scl[i]
    # Cholesky R = L L^T, L stored in the lower triangle of r_mat.
    for j in range(k):
        acc = r_mat[j * k + j]
        for l in range(j):
            acc -= r_mat[j * k + l] * r_mat[j * k + l]
        if acc < RANK_TOL:
            return RANK_DEFICIENT
        ljj = math.sqrt(acc)
        r_mat[j * k + j] = ljj
        for i in range(j + 1, k):
            acc = r_mat[i * k + j]
            for l in range(j):
                acc -= r_mat[i * k + l] * r_mat[j * k + l]
            r_mat[i * k + j] = acc / ljj
    # z = L^-1 r (in rhs), SSR = Syy - z'z
    ssr = syy
    for i in range(k):
        acc = rhs[i]
        for l in range(i):
            acc -= r_mat[i * k + l] * rhs[l]
        acc /= r_mat[i * k + i]
        rhs[i] = acc
        ssr -= acc * acc
    stats[0] = ssr if ssr > 0.0 else 0.0
    # beta~ = L^-T z
    for i in range(k - 1, -1, -1):
        acc = rhs[i]
        for l in range(i + 1, k):
            acc -= r_mat[l * k + i] * beta[l]
        beta[i] = acc / r_mat[i * k + i]
    # L^-1 (lower triangular), then diag((X'WX)^-1) of the slopes = sum_i Linv_ij^2 / D_j^2
    for j in range(k):
        for i in range(k):
            l_inv[i * k + j] = 0.0
        l_inv[j * k + j] = 1.0 / r_mat[j * k + j]
        for i in range(j + 1, k):
            acc = 0.0
            for l in range(j, i):
                acc -= r_mat[i * k + l] * l_inv[l * k + j]
            l_inv[i * k + j] = acc / r_mat[i * k + i]
    for j in range(k):
        acc = 0.0
        for i in range(j, k):
            acc += l_inv[i * k + j] * l_inv[i * k + j]
        inv_diag[j] = acc / (scl[j] * scl[j])
        beta[j] /= scl[j]
    if add_const:
        # Var(c)/s² = 1/W + x̄ᵀ S_xx⁻¹ x̄ = 1/W + ‖L⁻¹ (x̄/D)‖²
        acc_total = 1.0 / w_total
        for i in range(k):
            acc = 0.0
            for l in range(i + 1):
                acc += l_inv[i * k + l] * rec[MEAN + l] / scl[l]
            vec[i] = acc
            acc_total += acc * acc
        inv_diag[k] = acc_total
    return SOLVED
