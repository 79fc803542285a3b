"""The one least-squares solver: factor, solve, rank and condition of window records (numba).

Every finisher solves windows from their records (:mod:`quantreg._kernels.walk`). With an
intercept the slopes solve the centred normal equations ``S β = s_xy`` with ``S = C_xx`` and
the intercept is recovered from the means, ``c = ȳ − x̄ᵀβ``; without one ``S`` is the raw
(weighted) Gram matrix ``C_xx + W x̄x̄ᵀ``. ``S`` is factorised without square roots,
``S = L D Lᵀ`` (:func:`factor_chunk`), then

``u = L⁻¹ s_xy``,  ``β = L⁻ᵀ D⁻¹ u``,  ``SSR = s_yy − uᵀ D⁻¹ u`` (:func:`solve_chunk`).

Both work on a chunk of records at once (one column per window), with the window as the
innermost loop index, so that they vectorise whatever the number of regressors ``k`` is.

**Status** (one enum for every path, :data:`OK` … :data:`ILL_CONDITIONED`): a regressor whose
spread in the window is below ``CONST_TOL`` of its level (a constant column) makes the window
``RANK_DEFICIENT``. A pivot ``D_j / S_jj = 1 − R²_j`` (the share of regressor ``j``'s variation
not explained by the ones before it) below :data:`REFINE_TOL` marks it :data:`REFINE`: the
normal equations would lose digits that a QR fit keeps, so the window is solved again from the
QR of its own rows (:mod:`quantreg._kernels.refine`), whose pivots ``sqrt(1 − R²_j)`` — exact
where the cross-products' are not — decide: below :data:`RANK_TOL` ``RANK_DEFICIENT``, below
:data:`ILL_TOL` ``ILL_CONDITIONED`` (a QR fit would keep fewer than about 6 digits), else ``OK``.
Rank-deficient and ill-conditioned windows are reported, not solved.
"""

from __future__ import annotations

import math

import numpy as np
from numba import uint64

from quantreg._kernels._jit import jit
from quantreg._kernels.walk import MEAN, WEIGHT, cov_at

# --- status of a window (codes of quantreg.results.STATUS_CATEGORIES) ----------------------------
OK = 0
WARMUP = 1
MISSING = 2
RANK_DEFICIENT = 3
ILL_CONDITIONED = 4
#: Internal, never reported: the window's normal equations are too poorly conditioned to be
#: trusted; its rows are refactorised by QR (:mod:`quantreg._kernels.refine`), which decides.
REFINE = 5

# --- tolerances ----------------------------------------------------------------------------------
#: A pivot ``1 − R²_j`` of the normal equations below this (a regressor 90 % explained by the
#: ones before it) sends the window to the QR of its own rows: the normal equations' error
#: grows with the square of the condition number, a QR fit's with the condition number.
REFINE_TOL = 0.1
#: QR of the window's rows: ``|R_jj| / ‖x_j‖ = sqrt(1 − R²_j)`` below this counts as linear
#: dependence (about the rank tolerance of ``numpy.linalg.matrix_rank`` on unit-norm columns).
RANK_TOL = 1e-13
#: QR of the window's rows: ``sqrt(1 − R²_j)`` below this (condition number above about 1e10:
#: a QR fit keeps fewer than about 6 digits) makes the window ill conditioned.
ILL_TOL = 1e-10
#: Relative spread under which a regressor is constant within the window.
CONST_TOL = 64.0 * np.finfo(np.float64).eps


@jit(python=False)
def solution_rows(k: int):
    """Rows of the ``sol`` buffer of :func:`solve_chunk` for ``k`` regressors:
    ``(u, beta, ssr, linv, inv_diag, fit, qr, total)`` — the first row of each block. Rows
    ``0 …`` hold the factorisation: ``L_ij`` (``i > j``) at ``i(i−1)/2 + j``, ``1/D_j`` at
    ``k(k−1)/2 + j``. The first two rows of ``inv_diag`` count, during :func:`factor_chunk`,
    each window's constant regressors and small pivots. The ``qr`` block (``k + 2`` rows):
    slopes and SSR of a window solved by QR (:mod:`quantreg._kernels.refine`), then 1.0 where
    it was."""
    u = k * (k - 1) // 2 + k
    beta = u + k
    ssr = beta + k
    linv = ssr + 1
    inv_diag = linv + k * (k - 1) // 2
    fit = inv_diag + k + 1
    qr = fit + 1
    return u, beta, ssr, linv, inv_diag, fit, qr, qr + k + 2


@jit(python=False, address=True)
def factor_chunk(rec, n, k, add_const, status, sol):
    """``S = L D Lᵀ`` of the windows ``rec[:, c]``, chunk columns ``0 … n − 1``, into the
    factor rows of ``sol`` (:func:`solution_rows`). A window whose ``status[c]`` is :data:`OK`
    becomes :data:`RANK_DEFICIENT` when a regressor is constant in it (spread below
    :data:`CONST_TOL` of its level), or :data:`REFINE` when a pivot ``1 − R²_j`` is below
    :data:`REFINE_TOL`.

    Every loop runs over the chunk's columns innermost, with an unsigned index (no negative-
    index wrap-around to check), so that it vectorises. (Callers pass run-time values only: a
    literal argument would make numba compile another specialisation.)
    """
    p = k + 1
    inv_d = k * (k - 1) // 2
    lo, hi = uint64(0), uint64(n)
    # constant regressors and small pivots are counted per window (in the rows of the inverse's
    # diagonal, free until solve_chunk), so that the loops over the columns stay branch-free
    n_constant = solution_rows(k)[4]
    n_small = n_constant + 1
    for c in range(lo, hi):
        sol[n_constant, c] = 0.0
        sol[n_small, c] = 0.0
    # sol[L_ij] holds L_ij·D_j until row i is final (column i: L_ij), the pivot slot D_j until 1/D_j
    for j in range(k):
        cj = cov_at(p, j)
        mj = MEAN + j
        dj = inv_d + j
        for c in range(lo, hi):  # the pivot D_j = S_jj − Σ_l (L_jl·D_l)² / D_l
            sol[dj, c] = rec[cj, c] if add_const else rec[cj, c] + rec[WEIGHT, c] * rec[mj, c] * rec[mj, c]
        for l in range(j):  # ... and row j is final: L_jl = (L_jl·D_l) / D_l
            jl = (j * (j - 1)) // 2 + l
            dl = inv_d + l
            for c in range(lo, hi):
                ld = sol[jl, c]
                sol[dj, c] -= ld * ld * sol[dl, c]
                sol[jl, c] = ld * sol[dl, c]
        for i in range(j + 1, k):  # L_ij·D_j = S_ij − Σ_l (L_il·D_l)·L_jl
            at = (i * (i - 1)) // 2 + j
            ci = cj + i - j
            mi = MEAN + i
            for c in range(lo, hi):
                sol[at, c] = rec[ci, c] if add_const else rec[ci, c] + rec[WEIGHT, c] * rec[mi, c] * rec[mj, c]
            for l in range(j):
                il = (i * (i - 1)) // 2 + l
                jl = (j * (j - 1)) // 2 + l
                for c in range(lo, hi):
                    sol[at, c] -= sol[il, c] * sol[jl, c]
        for c in range(lo, hi):
            pivot = sol[dj, c]
            diag = rec[cj, c]
            m_j = rec[mj, c]
            w = rec[WEIGHT, c]
            if add_const:
                spread = CONST_TOL * m_j
                constant = diag <= spread * spread * w
                scale = diag
            else:
                constant = not diag + w * m_j * m_j > 0.0
                scale = diag + w * m_j * m_j
            sol[n_constant, c] += 1.0 if constant else 0.0
            sol[n_small, c] += 0.0 if pivot > REFINE_TOL * scale else 1.0
            sol[dj, c] = 1.0 / pivot
    for c in range(n):  # the status, once all pivots are known
        if status[c] == OK or status[c] == REFINE:
            if sol[n_constant, c] > 0.0:
                status[c] = RANK_DEFICIENT
            elif sol[n_small, c] > 0.0:
                status[c] = REFINE


@jit(python=False, address=True)
def solve_chunk(rec, n, k, add_const, want_inverse, refined, status, sol):
    """Least squares of the windows ``rec[:, c]``, chunk columns ``0 … n − 1``, from their
    factorisation (:func:`factor_chunk`, or :func:`quantreg._kernels.refine.refine_chunk`).

    Into the column ``c`` of ``sol`` (blocks of rows: :func:`solution_rows`): the slopes
    (``beta`` block) and ``SSR`` (``ssr`` row) — those of the QR for a window it solved (its
    flag set, when ``refined``: the number of such windows, is not 0); with ``want_inverse``: the strictly lower part of the unit lower ``L⁻¹``
    (``linv`` block) and the diagonal of ``S⁻¹`` (``inv_diag`` block, ``k`` rows) — with an
    intercept, one more row ``1/W + x̄ᵀ S⁻¹ x̄``, its variance factor. The ``u`` block is
    scratch. Columns whose ``status`` is not :data:`OK` receive unspecified values.
    Loops as in :func:`factor_chunk`.
    """
    p = k + 1
    inv_d = k * (k - 1) // 2
    u0, b0, s0, l0, i0, _, q0, _ = solution_rows(k)
    flag = q0 + k + 1
    lo, hi = uint64(0), uint64(n)
    # u = L⁻¹ s_xy, SSR = s_yy − uᵀD⁻¹u, β = L⁻ᵀ D⁻¹ u
    cy = cov_at(p, k)
    my = MEAN + k
    for c in range(lo, hi):
        sol[s0, c] = rec[cy, c] if add_const else rec[cy, c] + rec[WEIGHT, c] * rec[my, c] * rec[my, c]
    for i in range(k):
        ci = cov_at(p, i) + k - i
        mi = MEAN + i
        di = inv_d + i
        for c in range(lo, hi):
            sol[u0 + i, c] = rec[ci, c] if add_const else rec[ci, c] + rec[WEIGHT, c] * rec[mi, c] * rec[my, c]
        for l in range(i):
            il = (i * (i - 1)) // 2 + l
            for c in range(lo, hi):
                sol[u0 + i, c] -= sol[il, c] * sol[u0 + l, c]
        for c in range(lo, hi):
            sol[s0, c] -= sol[u0 + i, c] * sol[u0 + i, c] * sol[di, c]
    for c in range(lo, hi):
        if not sol[s0, c] > 0.0:
            sol[s0, c] = 0.0
    for i in range(k - 1, -1, -1):
        di = inv_d + i
        for c in range(lo, hi):
            sol[b0 + i, c] = sol[u0 + i, c] * sol[di, c]
        for l in range(i + 1, k):
            li = (l * (l - 1)) // 2 + i
            for c in range(lo, hi):
                sol[b0 + i, c] -= sol[li, c] * sol[b0 + l, c]
    if refined > 0:  # the QR's slopes and SSR where it solved the window
        for c in range(n):
            if sol[flag, c] != 0.0:
                for i in range(k):
                    sol[b0 + i, c] = sol[q0 + i, c]
                sol[s0, c] = sol[q0 + k, c]
    if not want_inverse:
        return
    # (L⁻¹)_ij = −L_ij − Σ_{l=j+1}^{i−1} L_il (L⁻¹)_lj; diag(S⁻¹)_j = Σ_{i≥j} (L⁻¹)_ij² / D_i
    for i in range(1, k):
        for j in range(i):
            at = (i * (i - 1)) // 2 + j
            for c in range(lo, hi):
                sol[l0 + at, c] = -sol[at, c]
            for l in range(j + 1, i):
                il = (i * (i - 1)) // 2 + l
                lj = (l * (l - 1)) // 2 + j
                for c in range(lo, hi):
                    sol[l0 + at, c] -= sol[il, c] * sol[l0 + lj, c]
    for j in range(k):
        for c in range(lo, hi):
            sol[i0 + j, c] = sol[inv_d + j, c]
        for i in range(j + 1, k):
            ij = (i * (i - 1)) // 2 + j
            di = inv_d + i
            for c in range(lo, hi):
                sol[i0 + j, c] += sol[l0 + ij, c] * sol[l0 + ij, c] * sol[di, c]
    if add_const:  # 1/W + Σ_i (L⁻¹ x̄)_i² / D_i, with u as scratch for L⁻¹ x̄
        for c in range(lo, hi):
            sol[i0 + k, c] = 1.0 / rec[WEIGHT, c]
        for i in range(k):
            mi = MEAN + i
            di = inv_d + i
            for c in range(lo, hi):
                sol[u0 + i, c] = rec[mi, c]
            for l in range(i):
                il = (i * (i - 1)) // 2 + l
                ml = MEAN + l
                for c in range(lo, hi):
                    sol[u0 + i, c] += sol[l0 + il, c] * rec[ml, c]
            for c in range(lo, hi):
                sol[i0 + k, c] += sol[u0 + i, c] * sol[u0 + i, c] * sol[di, c]


@jit(python=False)
def inverse_matrix(sol, col, k, out):
    """``S⁻¹ = L⁻ᵀ D⁻¹ L⁻¹`` of window ``col`` (after :func:`solve_chunk` with
    ``want_inverse``) into ``out`` (k × k)."""
    inv_d = k * (k - 1) // 2
    l0 = solution_rows(k)[3]
    for i in range(k):
        for j in range(i, k):
            acc = 0.0
            for r in range(j, k):
                l_ri = 1.0 if r == i else sol[l0 + (r * (r - 1)) // 2 + i, col]
                l_rj = 1.0 if r == j else sol[l0 + (r * (r - 1)) // 2 + j, col]
                acc += l_ri * l_rj * sol[inv_d + r, col]
            out[i, j] = acc
            out[j, i] = acc


# --- diagnostics ---------------------------------------------------------------------------------
@jit(python=False)
def singular_values(b, out):
    """Singular values of the square matrix ``b`` (overwritten) by one-sided Jacobi rotations
    (Hestenes): columns are rotated pairwise until orthogonal; their norms are the singular
    values, each to high relative accuracy (Demmel & Veselić 1992) — unlike the eigenvalues of
    ``bᵀb``, which lose the small ones."""
    n = b.shape[0]
    for _ in range(60):
        rotated = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                alpha = 0.0
                beta = 0.0
                gamma = 0.0
                for r in range(n):
                    alpha += b[r, i] * b[r, i]
                    beta += b[r, j] * b[r, j]
                    gamma += b[r, i] * b[r, j]
                if abs(gamma) <= 1e-15 * math.sqrt(alpha * beta):
                    continue
                rotated = True
                zeta = (beta - alpha) / (2.0 * gamma)
                t = math.copysign(1.0, zeta) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
                cos = 1.0 / math.sqrt(1.0 + t * t)
                sin = cos * t
                for r in range(n):
                    bi, bj = b[r, i], b[r, j]
                    b[r, i] = cos * bi - sin * bj
                    b[r, j] = sin * bi + cos * bj
        if not rotated:
            break
    for i in range(n):
        acc = 0.0
        for r in range(n):
            acc += b[r, i] * b[r, i]
        out[i] = math.sqrt(acc)


@jit(python=False)
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
                cos = 1.0 / math.sqrt(t * t + 1.0)
                sin = t * cos
                for r in range(n):
                    arp, arq = a[r, pp], a[r, q]
                    a[r, pp] = cos * arp - sin * arq
                    a[r, q] = sin * arp + cos * arq
                for r in range(n):
                    apr, aqr = a[pp, r], a[q, r]
                    a[pp, r] = cos * apr - sin * aqr
                    a[q, r] = sin * apr + cos * aqr
    for i in range(n):
        out[i] = a[i, i]


@jit(python=False)
def window_condition(rec, col, k, corr, eig):
    """2-norm condition number of the window's column-scaled, centred regressors
    (``sqrt(λ_max / λ_min)`` of their correlation matrix; ``inf`` for a constant regressor)."""
    if k == 0:
        return np.nan
    p = k + 1
    w_total = rec[WEIGHT, col]
    for j in range(k):
        spread = CONST_TOL * rec[MEAN + j, col]
        if rec[cov_at(p, j), col] <= spread * spread * w_total:
            return np.inf
    for i in range(k):
        for j in range(i, k):
            v = rec[cov_at(p, i) + j - i, col] / math.sqrt(rec[cov_at(p, i), col] * rec[cov_at(p, j), col])
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
