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
spread in the window is below ``CONST_TOL`` of its level (a constant column), or a pivot
``D_j / S_jj = 1 − R²_j`` (the share of regressor ``j``'s variation not explained by the ones
before it) below :data:`RANK_TOL`, makes the window ``RANK_DEFICIENT``; a pivot below
:data:`ILL_TOL` makes it ``ILL_CONDITIONED`` (the normal equations would keep fewer than about
6 digits). Such windows are reported, not solved.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.walk import MEAN, WEIGHT, cov_at

# --- status of a window (codes of quantreg.results.STATUS_CATEGORIES) ----------------------------
OK = 0
WARMUP = 1
MISSING = 2
RANK_DEFICIENT = 3
ILL_CONDITIONED = 4

# --- tolerances ----------------------------------------------------------------------------------
#: A pivot ``1 − R²_j`` below this (regressor ``j`` explained to within 1e-12 of its variance by
#: the others) counts as linear dependence.
RANK_TOL = 1e-12
#: A pivot ``1 − R²_j`` below this (but above :data:`RANK_TOL`) makes the window ill conditioned.
ILL_TOL = 1e-10
#: Relative spread under which a regressor is constant within the window.
CONST_TOL = 64.0 * np.finfo(np.float64).eps


@jit()
def factor_size(k: int) -> int:
    """Rows of a factorisation buffer: ``L`` (strictly lower, packed: ``L_ij`` at
    ``i(i−1)/2 + j``), then ``1/D`` (``k``)."""
    return k * (k - 1) // 2 + k


@jit()
def solve_chunk(rec, c0, c1, k, add_const, want_inverse, status, fac, u, beta, ssr, linv, inv_diag):
    """Least squares of the windows ``rec[:, c]``, chunk columns ``c0 … c1 − 1``.

    For the columns whose ``status[c]`` is :data:`OK`: ``S = L D Lᵀ`` into ``fac[:, c]``
    (:func:`factor_size`), then the slopes ``beta[:, c]`` and ``ssr[c]``; ``status[c]`` becomes
    :data:`RANK_DEFICIENT` or :data:`ILL_CONDITIONED` when a pivot says so (module docstring).
    With ``want_inverse``: the strictly lower part of the unit lower ``L⁻¹`` into ``linv``
    (k(k−1)/2 rows) and the diagonal of ``S⁻¹`` into ``inv_diag[:k, c]`` — with an intercept,
    ``inv_diag[k, c] = 1/W + x̄ᵀ S⁻¹ x̄``, its variance factor. ``u`` (k rows) is scratch.
    Other columns receive unspecified values. ``L_ij`` (``i > j``) sits at row ``i(i−1)/2 + j``
    of ``fac`` and ``linv``; ``1/D_j`` at row ``k(k−1)/2 + j`` of ``fac``.

    Every loop runs over 1-D views of the chunk's columns, innermost, so that it vectorises.
    """
    p = k + 1
    n = c1 - c0
    inv_d = k * (k - 1) // 2
    w = rec[WEIGHT, c0:c1]
    st = status[c0:c1]
    # S = L D Lᵀ; fac[L_ij] holds L_ij·D_j until row i is final, the pivot slot D_j until 1/D_j
    for j in range(k):
        cj = cov_at(p, j)
        m_j = rec[MEAN + j, c0:c1]
        for i in range(j, k):
            acc = fac[(i * (i - 1)) // 2 + j if i > j else inv_d + j, c0:c1]
            s_ij = rec[cj + i - j, c0:c1]
            if add_const:
                for c in range(n):
                    acc[c] = s_ij[c]
            else:
                m_i = rec[MEAN + i, c0:c1]
                for c in range(n):
                    acc[c] = s_ij[c] + w[c] * m_i[c] * m_j[c]
            for l in range(j):
                l_i = fac[(i * (i - 1)) // 2 + l, c0:c1]
                l_j = fac[(j * (j - 1)) // 2 + l, c0:c1]
                d_l = fac[inv_d + l, c0:c1]
                for c in range(n):
                    acc[c] -= l_i[c] * l_j[c] * d_l[c]
        pivot = fac[inv_d + j, c0:c1]
        diag = rec[cj, c0:c1]
        for c in range(n):
            if add_const:
                spread = CONST_TOL * m_j[c]
                constant = diag[c] <= spread * spread * w[c]
                scale = diag[c]
            else:
                constant = False
                scale = diag[c] + w[c] * m_j[c] * m_j[c]
            if st[c] == OK or st[c] == ILL_CONDITIONED:
                if constant or not pivot[c] > RANK_TOL * scale:
                    st[c] = RANK_DEFICIENT
                elif pivot[c] < ILL_TOL * scale:
                    st[c] = ILL_CONDITIONED
            pivot[c] = 1.0 / pivot[c]
    for i in range(1, k):  # unit lower L: L_ij = (L_ij·D_j) / D_j
        for j in range(i):
            l_ij = fac[(i * (i - 1)) // 2 + j, c0:c1]
            d_j = fac[inv_d + j, c0:c1]
            for c in range(n):
                l_ij[c] *= d_j[c]
    # u = L⁻¹ s_xy, SSR = s_yy − uᵀD⁻¹u, β = L⁻ᵀ D⁻¹ u
    out_ssr = ssr[c0:c1]
    m_y = rec[MEAN + k, c0:c1]
    s_yy = rec[cov_at(p, k), c0:c1]
    for c in range(n):
        out_ssr[c] = s_yy[c] if add_const else s_yy[c] + w[c] * m_y[c] * m_y[c]
    for i in range(k):
        u_i = u[i, c0:c1]
        s_iy = rec[cov_at(p, i) + k - i, c0:c1]
        if add_const:
            for c in range(n):
                u_i[c] = s_iy[c]
        else:
            m_i = rec[MEAN + i, c0:c1]
            for c in range(n):
                u_i[c] = s_iy[c] + w[c] * m_i[c] * m_y[c]
        for l in range(i):
            l_il = fac[(i * (i - 1)) // 2 + l, c0:c1]
            u_l = u[l, c0:c1]
            for c in range(n):
                u_i[c] -= l_il[c] * u_l[c]
        d_i = fac[inv_d + i, c0:c1]
        for c in range(n):
            out_ssr[c] -= u_i[c] * u_i[c] * d_i[c]
    for c in range(n):
        if not out_ssr[c] > 0.0:
            out_ssr[c] = 0.0
    for i in range(k - 1, -1, -1):
        b_i = beta[i, c0:c1]
        u_i = u[i, c0:c1]
        d_i = fac[inv_d + i, c0:c1]
        for c in range(n):
            b_i[c] = u_i[c] * d_i[c]
        for l in range(i + 1, k):
            l_li = fac[(l * (l - 1)) // 2 + i, c0:c1]
            b_l = beta[l, c0:c1]
            for c in range(n):
                b_i[c] -= l_li[c] * b_l[c]
    if not want_inverse:
        return
    # (L⁻¹)_ij = −L_ij − Σ_{l=j+1}^{i−1} L_il (L⁻¹)_lj; diag(S⁻¹)_j = Σ_{i≥j} (L⁻¹)_ij² / D_i
    for i in range(1, k):
        for j in range(i):
            at = (i * (i - 1)) // 2 + j
            v_ij = linv[at, c0:c1]
            l_ij = fac[at, c0:c1]
            for c in range(n):
                v_ij[c] = -l_ij[c]
            for l in range(j + 1, i):
                l_il = fac[(i * (i - 1)) // 2 + l, c0:c1]
                v_lj = linv[(l * (l - 1)) // 2 + j, c0:c1]
                for c in range(n):
                    v_ij[c] -= l_il[c] * v_lj[c]
    for j in range(k):
        out_j = inv_diag[j, c0:c1]
        d_j = fac[inv_d + j, c0:c1]
        for c in range(n):
            out_j[c] = d_j[c]
        for i in range(j + 1, k):
            v_ij = linv[(i * (i - 1)) // 2 + j, c0:c1]
            d_i = fac[inv_d + i, c0:c1]
            for c in range(n):
                out_j[c] += v_ij[c] * v_ij[c] * d_i[c]
    if add_const:  # 1/W + Σ_i (L⁻¹ x̄)_i² / D_i, with u as scratch for L⁻¹ x̄
        out_c = inv_diag[k, c0:c1]
        for c in range(n):
            out_c[c] = 1.0 / w[c]
        for i in range(k):
            q_i = u[i, c0:c1]
            m_i = rec[MEAN + i, c0:c1]
            for c in range(n):
                q_i[c] = m_i[c]
            for l in range(i):
                v_il = linv[(i * (i - 1)) // 2 + l, c0:c1]
                m_l = rec[MEAN + l, c0:c1]
                for c in range(n):
                    q_i[c] += v_il[c] * m_l[c]
            d_i = fac[inv_d + i, c0:c1]
            for c in range(n):
                out_c[c] += q_i[c] * q_i[c] * d_i[c]


@jit()
def inverse_matrix(fac, linv, col, k, out):
    """``S⁻¹ = L⁻ᵀ D⁻¹ L⁻¹`` of window ``col`` (after :func:`solve_chunk` with
    ``want_inverse``) into ``out`` (k × k)."""
    inv_d = k * (k - 1) // 2
    for i in range(k):
        for j in range(i, k):
            acc = 0.0
            for r in range(j, k):
                l_ri = 1.0 if r == i else linv[(r * (r - 1)) // 2 + i, col]
                l_rj = 1.0 if r == j else linv[(r * (r - 1)) // 2 + j, col]
                acc += l_ri * l_rj * fac[inv_d + r, col]
            out[i, j] = acc
            out[j, i] = acc


# --- diagnostics ---------------------------------------------------------------------------------
@jit()
def window_rank(rec, col, k, add_const, lower):
    """Numerical rank of the window's design (the intercept column included): a Cholesky
    factorisation of ``S`` that skips a regressor constant in the window or whose pivot ``1 − R²_j``
    is below :data:`RANK_TOL` (the tests of :func:`factor_chunk`)."""
    p = k + 1
    w_total = rec[WEIGHT, col]
    rank = 1 if add_const else 0
    lower[:, :] = 0.0
    for j in range(k):
        m_j = rec[MEAN + j, col]
        diag = rec[cov_at(p, j), col]
        if add_const:
            spread = CONST_TOL * m_j
            if diag <= spread * spread * w_total:
                continue
        else:
            diag += w_total * m_j * m_j
            if diag <= 0.0:
                continue
        for i in range(j, k):
            acc = rec[cov_at(p, j) + i - j, col]
            if not add_const:
                acc += w_total * m_j * rec[MEAN + i, col]
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


@jit()
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
