"""QR of a window's own rows, for the windows the normal equations cannot be trusted with (numba).

The walk's records (:mod:`quantreg._kernels.walk`) are exact to a two-pass computation, but
solving from cross-products squares the condition number: a window whose normal-equation pivot
``1 − R²_j`` is below :data:`~quantreg._kernels.linalg.REFINE_TOL` (status
:data:`~quantreg._kernels.linalg.REFINE`) would lose digits that a QR fit of its rows keeps.
Those windows — and only those: ordinary windows never come here — are solved again from their
rows:

1. with an intercept, the rows are centred by a two-pass weighted mean taken in shifted
   coordinates (relative to the window's latest complete row, so level data lose nothing);
2. the centred rows ``sqrt(w_j) [x_j − x̄, y_j − ȳ]`` are rotated one by one into an upper
   triangular ``R`` (``p × p``, ``y`` the last column) by Givens rotations: no copy of the
   window is stored, and ``R`` is what a Householder QR of the stacked rows gives, up to signs;
3. ``β = R_xx⁻¹ R_xy`` and ``SSR = R_yy²`` (Golub & Van Loan, *Matrix Computations*, §5.3);
   ``|R_jj| / ‖x_j − x̄‖ = sqrt(1 − R²_j)`` decides the status, against
   :data:`~quantreg._kernels.linalg.RANK_TOL` and :data:`~quantreg._kernels.linalg.ILL_TOL`.

``L D Lᵀ = RᵀR`` (``D_j = R_jj²``, ``L_ij = R_ji / R_jj``) replaces the normal-equation factor,
so that standard errors and robust covariances use the accurate factorisation too.
"""

from __future__ import annotations

import math

import numpy as np

from numba import types
from numba.extending import overload

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import (
    CONST_TOL,
    ILL_CONDITIONED,
    ILL_TOL,
    OK,
    RANK_DEFICIENT,
    RANK_TOL,
    REFINE,
    solution_rows,
)
from quantreg._kernels.walk import MEAN, RW, STARTS, STEPS, VALID, WEIGHT, cov_at, read_shift


@jit(python=False)
def constant_column(rec, col, j, k, add_const):
    """Whether regressor ``j`` is constant in the window ``rec[:, col]`` (with an intercept: its
    spread below :data:`CONST_TOL` of its level; without one: all zero)."""
    diag = rec[cov_at(k + 1, j), col]
    m_j = rec[MEAN + j, col]
    w = rec[WEIGHT, col]
    if add_const:
        spread = CONST_TOL * m_j
        return diag <= spread * spread * w
    return not diag + w * m_j * m_j > 0.0


@jit(inline="always")
def window_qr(x, xrow, y, start, seg, segf, t, k, add_const, weighted, skip, r, row_buf, shift, centre):
    """``R`` (into ``r``, ``(k + 1) × (k + 1)``, upper triangular, ``y`` the last column) of the
    window of segment row ``t`` (rows ``seg[STARTS, t] … t`` that are complete, weighted by
    their row weight ``segf[RW, j]`` times ``lam ** age`` when ``weighted``), centred with an intercept; regressors with ``skip[j]``
    are left out (their column of ``R`` is zero). Scratch (``k + 1`` each): ``row_buf``,
    ``shift``, ``centre`` (the mean is ``shift + centre``, kept apart so that no digit of the
    spread is lost to the level)."""
    p = k + 1
    s = seg[STARTS, t]
    identity = xrow.shape[0] == 0
    r[:, :] = 0.0
    for a in range(p):
        shift[a] = 0.0
        centre[a] = 0.0
    if add_const:  # two-pass mean, in coordinates shifted by the latest complete row
        read_shift(x, xrow, y, start, seg, s, t, k, shift, 0)
        total = 0.0
        weight = 1.0
        for a in range(p):
            row_buf[a] = 0.0
        for j in range(t, s - 1, -1):
            if seg[VALID, j]:
                row = start + j
                xr = row if identity else xrow[row]
                w_row = weight * segf[RW, j]
                for c in range(k):
                    row_buf[c] += w_row * (x[xr, c] - shift[c])
                row_buf[k] += w_row * (y[row] - shift[k])
                total += w_row
            if weighted:
                weight *= segf[STEPS, j]
        for a in range(p):
            centre[a] = row_buf[a] / total
    weight = 1.0
    for j in range(t, s - 1, -1):
        if seg[VALID, j]:
            row = start + j
            xr = row if identity else xrow[row]
            root = math.sqrt(weight * segf[RW, j])
            for c in range(k):
                row_buf[c] = 0.0 if skip[c] else root * ((x[xr, c] - shift[c]) - centre[c])
            row_buf[k] = root * ((y[row] - shift[k]) - centre[k])
            for a in range(p):  # rotate the row into R
                v = row_buf[a]
                if v == 0.0:
                    continue
                d = r[a, a]
                h = math.hypot(d, v)
                cos, sin = d / h, v / h
                r[a, a] = h
                for b in range(a + 1, p):
                    rb = r[a, b]
                    r[a, b] = cos * rb + sin * row_buf[b]
                    row_buf[b] = cos * row_buf[b] - sin * rb
        if weighted:
            weight *= segf[STEPS, j]


@jit(inline="always")
def qr_pivots(r, k, out):
    """``|R_jj| / ‖column j‖`` (``= sqrt(1 − R²_j)``) of the regressors, into ``out``; 1 for a
    column left out (all zero)."""
    for j in range(k):
        norm2 = 0.0
        for i in range(j + 1):
            norm2 += r[i, j] * r[i, j]
        out[j] = abs(r[j, j]) / math.sqrt(norm2) if norm2 > 0.0 else 1.0


@jit(inline="always")
def correct_solution(x, xrow, y, start, seg, segf, t, k, weighted, skip, r, shift, centre, beta, g):
    """One step of the corrected semi-normal equations (Björck 1987): with the residuals
    ``e_j`` of ``beta`` on the window's (centred) rows, ``beta += R⁻¹ R⁻ᵀ Σ_j w_j x_j e_j``.
    With ``R`` from :func:`window_qr` (``shift`` and ``centre`` as it left them) this brings the
    slopes to what a backward-stable QR solve reaches. ``g``: scratch (``k + 1``)."""
    s = seg[STARTS, t]
    identity = xrow.shape[0] == 0
    for a in range(k):
        g[a] = 0.0
    weight = 1.0
    for j in range(t, s - 1, -1):
        if seg[VALID, j]:
            row = start + j
            xr = row if identity else xrow[row]
            w_row = weight * segf[RW, j]
            e = (y[row] - shift[k]) - centre[k]
            for a in range(k):
                if not skip[a]:
                    e -= beta[a] * ((x[xr, a] - shift[a]) - centre[a])
            for a in range(k):
                if not skip[a]:
                    g[a] += w_row * ((x[xr, a] - shift[a]) - centre[a]) * e
        if weighted:
            weight *= segf[STEPS, j]
    for i in range(k):  # Rᵀ v = g
        acc = g[i]
        for l in range(i):
            acc -= r[l, i] * g[l]
        g[i] = acc / r[i, i]
    for i in range(k - 1, -1, -1):  # R δ = v
        acc = g[i]
        for l in range(i + 1, k):
            acc -= r[i, l] * g[l]
        g[i] = acc / r[i, i]
        beta[i] += g[i]


@jit(inline="always")
def qr_status(pivots, k):
    """Status of a window from its QR pivots ``sqrt(1 − R²_j)`` (:func:`qr_pivots`)."""
    code = OK
    for j in range(k):
        if pivots[j] < RANK_TOL:
            return RANK_DEFICIENT
        if pivots[j] < ILL_TOL:
            code = ILL_CONDITIONED
    return code


@jit(python=False)
def refine_chunk(x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol):
    """Solve the chunk's :data:`REFINE` windows (columns ``c < n``, segment rows ``t0 + c``) by
    the QR of their rows: their ``status`` becomes :data:`OK`, :data:`ILL_CONDITIONED` or
    :data:`RANK_DEFICIENT`; for the others (an ill-conditioned window is solved all the same:
    a cross-section reports it) the factor rows of ``sol`` hold ``RᵀR`` as
    ``L D Lᵀ`` and the ``qr`` block their slopes, SSR and flag (:func:`solution_rows`).
    Returns the number of windows refined (scratch is allocated, and the flags cleared, only
    when there are some)."""
    refined = 0
    for c in range(n):
        if status[c] == REFINE:
            refined += 1
    if refined == 0:
        return 0
    inv_d = k * (k - 1) // 2
    q0 = solution_rows(k)[6]
    for c in range(n):
        sol[q0 + k + 1, c] = 0.0
    r = np.empty((k + 1, k + 1))
    scratch = np.empty((4, k + 1))
    skip = np.zeros(k, dtype=np.bool_)
    for c in range(n):
        if status[c] != REFINE:
            continue
        window_qr(x, xrow, y, start, seg, segf, t0 + c, k, add_const, weighted, skip, r, scratch[0], scratch[1],
                  scratch[3])
        qr_pivots(r, k, scratch[2])
        code = qr_status(scratch[2], k)
        status[c] = code
        if code == RANK_DEFICIENT:
            continue
        for j in range(k):  # RᵀR = L D Lᵀ
            d = r[j, j]
            sol[inv_d + j, c] = 1.0 / (d * d)
            for i in range(j + 1, k):
                sol[(i * (i - 1)) // 2 + j, c] = r[j, i] / d
        for i in range(k - 1, -1, -1):  # β = R_xx⁻¹ R_xy
            acc = r[i, k]
            for l in range(i + 1, k):
                acc -= r[i, l] * sol[q0 + l, c]
            sol[q0 + i, c] = acc / r[i, i]
        correct_solution(x, xrow, y, start, seg, segf, t0 + c, k, weighted, skip, r, scratch[1],
                         scratch[3], sol[q0:q0 + k, c], scratch[0])
        sol[q0 + k, c] = r[k, k] * r[k, k]
        sol[q0 + k + 1, c] = 1.0
    return refined


def refine_windows(refine, x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol):
    """:func:`refine_chunk` in a kernel compiled with ``refine`` True; in one compiled with
    ``refine`` None (``Options.refine``), nothing: the :data:`REFINE` windows keep that status
    and the kernel reports them, so that the engine runs their segments again with the
    refinement compiled in. Data that never need it never compile the QR. Returns the number of
    windows refined."""
    raise TypeError("refine_windows is for numba kernels only")


@overload(refine_windows, jit_options={"nogil": True})
def _refine_windows(refine, x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol):
    if isinstance(refine, types.NoneType):
        return lambda refine, x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol: 0
    return lambda refine, x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol: refine_chunk(
        x, xrow, y, start, seg, segf, t0, n, k, add_const, weighted, status, sol)
