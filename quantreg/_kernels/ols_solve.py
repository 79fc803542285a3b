"""Least squares from one window's moment record (see :mod:`quantreg._kernels.moments`).

With an intercept the slopes solve the centred normal equations ``S_xx β = S_xy`` and the
intercept is recovered from the means, ``c = ȳ − x̄ᵀβ``; without one the raw (weighted) Gram
matrix ``S_xx + W x̄x̄ᵀ`` is used. Both are solved by a square-root-free Cholesky factorisation ``S = LDLᵀ``:

``u = L⁻¹ S_xy``, ``β = L⁻ᵀ D⁻¹ u``, ``SSR = S_yy − uᵀD⁻¹u``.

A regressor whose spread in the window is below ``64·eps`` of its level (a constant column), or
a Cholesky pivot ``s_j / S_jj = 1 − R²_j`` (the share of regressor ``j``'s variation not
explained by the previous ones) below :data:`RANK_TOL`, makes the window rank deficient; a pivot below :data:`ILL_TOL` makes
it ill conditioned. In both cases nothing is solved and NaN is reported.
"""

from __future__ import annotations


import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN, WEIGHT

#: A pivot ``1 − R²_j`` below this (regressor ``j`` explained to within 1e-12 of its variance by
#: the others) counts as linear dependence.
RANK_TOL = 1e-12
#: A pivot ``1 − R²_j`` below this (but above :data:`RANK_TOL`) makes the window ill
#: conditioned: the normal equations would leave fewer than ~6 correct digits.
ILL_TOL = 1e-10
#: Relative spread under which a regressor is constant within the window.
CONST_TOL = 64.0 * np.finfo(np.float64).eps

SOLVED = 0
RANK_DEFICIENT = 1
ILL_CONDITIONED = 2


@jit(inline=True)
def solve_window(
    rec: np.ndarray,
    ri: int,
    k: int,
    add_const: bool,
    want_inverse: bool,
    beta: np.ndarray,
    inv_diag: np.ndarray,
    work: np.ndarray,
    stats: np.ndarray,
) -> int:
    """Solve one window's least squares from its moment record.

    Parameters
    ----------
    rec, ri : the moment record ``rec[ri, ri]`` over ``p = k + 1`` variables ``[x_1 … x_k, y]``.
    k : number of regressors (without the intercept).
    add_const : whether the model has an intercept.
    want_inverse : whether to compute ``inv_diag`` (needed for standard errors only).
    beta : out, length ``k`` — slopes.
    inv_diag : out, length ``k + 1`` — diagonal of ``(XᵀWX)⁻¹``; entry ``k`` is the intercept's.
    work : scratch, length ``≥ 2k² + 2k``.
    stats : out, length 3 — ``[SSR, centred TSS, uncentred TSS]``.

    Returns
    -------
    int
        :data:`SOLVED`, :data:`RANK_DEFICIENT` or :data:`ILL_CONDITIONED` (nothing solved).

    Notes
    -----
    ``S = L D Lᵀ`` (Cholesky without square roots), unscaled; the pivot test
    ``D_j / S_jj < RANK_TOL`` is the scaled one (the factorisation commutes with diagonal
    scaling). ``work`` keeps ``1/D`` at ``k²`` and ``L⁻¹`` (unit lower) at ``k² + 2k`` for the
    sandwich covariances.
    """
    p = k + 1
    cov = MEAN + p
    w_total = rec[ri, WEIGHT]
    mean_y = rec[ri, MEAN + k]
    syy_c = rec[ri, cov + k * p + k]
    syy_u = syy_c + w_total * mean_y * mean_y
    stats[1] = syy_c
    stats[2] = syy_u
    syy = syy_c if add_const else syy_u
    # work layout: L (k*k, unit lower, row major) | 1/D_j (k) | z (k) | L^-1 (k*k)
    # S = L D Lᵀ (square-root free Cholesky): D_j is the pivot s_j.
    inv_piv = k * k
    zz = inv_piv + k
    linv = zz + k
    ill = False
    for j in range(k):
        m_j = rec[ri, MEAN + j]
        for i in range(j, k):
            acc = rec[ri, cov + j * p + i]
            if not add_const:
                acc += w_total * m_j * rec[ri, MEAN + i]
            for l in range(j):  # work[i*k+l] holds L_il·D_l until row i is final
                acc -= work[i * k + l] * work[j * k + l] * work[inv_piv + l]
            if i == j:
                diag = rec[ri, cov + j * p + j]
                if add_const:
                    spread = CONST_TOL * m_j
                    if diag <= spread * spread * w_total:
                        return RANK_DEFICIENT
                else:
                    diag += w_total * m_j * m_j
                if not acc > RANK_TOL * diag:
                    return RANK_DEFICIENT
                if acc < ILL_TOL * diag:
                    ill = True
                work[j * k + j] = acc
                work[inv_piv + j] = 1.0 / acc
            else:
                work[i * k + j] = acc  # L_ij·D_j
    if ill:
        return ILL_CONDITIONED
    # unit lower L: L_ij = (L_ij·D_j) / D_j
    for i in range(k):
        for j in range(i):
            work[i * k + j] *= work[inv_piv + j]
    # L u = S_xy; z = D^-1 u; SSR = S_yy - Σ u_i²/D_i
    ssr = syy
    for i in range(k):
        acc = rec[ri, cov + i * p + k]
        if not add_const:
            acc += w_total * rec[ri, MEAN + i] * mean_y
        for l in range(i):
            acc -= work[i * k + l] * work[zz + l]
        work[zz + i] = acc
        ssr -= acc * acc * work[inv_piv + i]
    stats[0] = ssr if ssr > 0.0 else 0.0
    # beta = L^-T D^-1 u
    for i in range(k - 1, -1, -1):
        acc = work[zz + i] * work[inv_piv + i]
        for l in range(i + 1, k):
            acc -= work[l * k + i] * beta[l]
        beta[i] = acc
    if not want_inverse:
        return SOLVED
    # L^-1 (unit lower); S^-1 = L^-T D^-1 L^-1, diag_j = Σ_i (L^-1)_ij² / D_i
    for j in range(k):
        work[linv + j * k + j] = 1.0
        for i in range(j + 1, k):
            acc = 0.0
            for l in range(j, i):
                acc -= work[i * k + l] * work[linv + l * k + j]
            work[linv + i * k + j] = acc
    for j in range(k):
        acc = 0.0
        for i in range(j, k):
            acc += work[linv + i * k + j] * work[linv + i * k + j] * work[inv_piv + i]
        inv_diag[j] = acc
    if add_const:
        # Var(c)/s² = 1/W + x̄ᵀ S⁻¹ x̄ = 1/W + Σ_i (L⁻¹ x̄)_i² / D_i
        acc_total = 1.0 / w_total
        for i in range(k):
            acc = 0.0
            for l in range(i + 1):
                acc += work[linv + i * k + l] * rec[ri, MEAN + l]
            acc_total += acc * acc * work[inv_piv + i]
        inv_diag[k] = acc_total
    return SOLVED
