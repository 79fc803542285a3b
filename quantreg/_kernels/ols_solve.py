"""Least squares from one window's moment record (see :mod:`quantreg._kernels.moments`).

With an intercept the slopes solve the centred normal equations ``S_xx β = S_xy`` and the
intercept is recovered from the means, ``c = ȳ − x̄ᵀβ``; without one the raw (weighted) Gram
matrix ``S_xx + W x̄x̄ᵀ`` is used. Both are solved by a square-root-free Cholesky factorisation ``S = LDLᵀ`` (:func:`factor_gram`), then
solved (:func:`solve_factored`) — the two steps are separate so that the factorisation of a
window shared by many assets (factor regressions) is computed once:

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
def factor_gram(rec, ri, k, add_const, want_inverse, fac, fi):
    """Factorise the normal matrix of record ``rec[ri]`` into ``fac[fi:fi + 2k² + 2k + 1]``:
    ``S = L D Lᵀ``.

    ``S`` is ``S_xx`` (with an intercept) or the raw Gram ``S_xx + W x̄x̄ᵀ``. The flat slice
    (1-D indexing with an offset is the cheapest in the solver's inner loops) receives the unit
    lower ``L`` (row major) at 0 and ``1/D`` at ``k²``; with
    ``want_inverse`` also ``L⁻¹`` at ``k² + k`` and the diagonal of ``(XᵀWX)⁻¹`` at
    ``2k² + k`` (entry ``k``: the intercept's, ``1/W + x̄ᵀS_xx⁻¹x̄``). Only the regressors' part
    of the record is read: a factor-only record (placeholder regressand) is enough.

    Returns :data:`SOLVED`, :data:`RANK_DEFICIENT` or :data:`ILL_CONDITIONED`.
    """
    p = k + 1
    cov = MEAN + p
    w_total = rec[ri, WEIGHT]
    inv_piv = k * k
    ill = False
    for j in range(k):
        m_j = rec[ri, MEAN + j]
        for i in range(j, k):
            acc = rec[ri, cov + j * p + i]
            if not add_const:
                acc += w_total * m_j * rec[ri, MEAN + i]
            for l in range(j):  # fac[i*k+l] holds L_il·D_l until row i is final
                acc -= fac[fi + i * k + l] * fac[fi + j * k + l] * fac[fi + inv_piv + l]
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
                fac[fi + j * k + j] = acc
                fac[fi + inv_piv + j] = 1.0 / acc
            else:
                fac[fi + i * k + j] = acc  # L_ij·D_j
    if ill:
        return ILL_CONDITIONED
    for i in range(k):  # unit lower L: L_ij = (L_ij·D_j) / D_j
        for j in range(i):
            fac[fi + i * k + j] *= fac[fi + inv_piv + j]
    if not want_inverse:
        return SOLVED
    # L^-1 (unit lower); S^-1 = L^-T D^-1 L^-1, diag_j = Σ_i (L^-1)_ij² / D_i
    linv = inv_piv + k
    diag_at = linv + k * k
    for j in range(k):
        fac[fi + linv + j * k + j] = 1.0
        for i in range(j + 1, k):
            acc = 0.0
            for l in range(j, i):
                acc -= fac[fi + i * k + l] * fac[fi + linv + l * k + j]
            fac[fi + linv + i * k + j] = acc
    for j in range(k):
        acc = 0.0
        for i in range(j, k):
            acc += fac[fi + linv + i * k + j] * fac[fi + linv + i * k + j] * fac[fi + inv_piv + i]
        fac[fi + diag_at + j] = acc
    if add_const:
        # Var(c)/s² = 1/W + x̄ᵀ S⁻¹ x̄ = 1/W + Σ_i (L⁻¹ x̄)_i² / D_i
        acc_total = 1.0 / w_total
        for i in range(k):
            acc = 0.0
            for l in range(i + 1):
                acc += fac[fi + linv + i * k + l] * rec[ri, MEAN + l]
            acc_total += acc * acc * fac[fi + inv_piv + i]
        fac[fi + diag_at + k] = acc_total
    return SOLVED


@jit(inline=True)
def solve_factored(fac, fi, rec, ri, k, add_const, z, beta, stats):
    """Slopes of record ``rec[ri]`` with the factorisation at ``fac[fi:]`` of its regressors'
    normal matrix: ``u = L⁻¹ S_xy``, ``β = L⁻ᵀ D⁻¹ u``, ``SSR = S_yy − uᵀD⁻¹u``. Only the
    weight, the means and the regressand's cross-products of the record are read.

    ``z`` is scratch of length ``k``; ``stats`` receives ``[SSR, centred TSS, uncentred TSS]``.
    """
    p = k + 1
    cov = MEAN + p
    inv_piv = k * k
    w_total = rec[ri, WEIGHT]
    mean_y = rec[ri, MEAN + k]
    syy_c = rec[ri, cov + k * p + k]
    syy_u = syy_c + w_total * mean_y * mean_y
    stats[1] = syy_c
    stats[2] = syy_u
    ssr = syy_c if add_const else syy_u
    for i in range(k):
        acc = rec[ri, cov + i * p + k]
        if not add_const:
            acc += w_total * rec[ri, MEAN + i] * mean_y
        for l in range(i):
            acc -= fac[fi + i * k + l] * z[l]
        z[i] = acc
        ssr -= acc * acc * fac[fi + inv_piv + i]
    stats[0] = ssr if ssr > 0.0 else 0.0
    for i in range(k - 1, -1, -1):
        acc = z[i] * fac[fi + inv_piv + i]
        for l in range(i + 1, k):
            acc -= fac[fi + l * k + i] * beta[l]
        beta[i] = acc


@jit(inline=True)
def solve_window(rec, ri, k, add_const, want_inverse, beta, fac, z, stats):
    """Solve one window's least squares from its (full) moment record ``rec[ri]``.

    Factorises into the buffer ``fac`` (:func:`factor_gram`; ``fac[2k² + k:]`` is
    then the diagonal of ``(XᵀWX)⁻¹`` when ``want_inverse``) and solves
    (:func:`solve_factored`): ``beta`` (length ``k``) receives the slopes and ``stats`` the
    ``[SSR, centred TSS, uncentred TSS]``. Returns :data:`SOLVED`, :data:`RANK_DEFICIENT` or
    :data:`ILL_CONDITIONED` (nothing solved).
    """
    status = factor_gram(rec, ri, k, add_const, want_inverse, fac, 0)
    if status == SOLVED:
        solve_factored(fac, 0, rec, ri, k, add_const, z, beta, stats)
    return status

