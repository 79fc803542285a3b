"""The cross-section finisher: one least-squares fit per segment (a date's assets), for
cross-sectional regressions and Fama-MacBeth (numba, no pandas).

A cross-section needs one record (:mod:`quantreg._kernels.walk`: weight, means, centred
cross-products) — that of all its rows — not one per row, so it is not walked:
:func:`segment_record` transposes the segment once and takes the record by an exact two-pass
computation in shifted coordinates (the weighted means of the rows minus their first complete
row, then the cross-products of the deviations from them), every loop over the rows innermost.
The record is solved by the one solver (:func:`quantreg._kernels.linalg.factor_chunk`,
:func:`~quantreg._kernels.refine.refine_chunk`, :func:`~quantreg._kernels.linalg.solve_chunk`:
same tolerances, refinement and status as the rolling fits), and :func:`segment_rows` writes
the rows' residuals and fitted values from the deviations the record left behind. Rows with
a NaN in ``y`` or any regressor, or a row weight that is not positive, are left out.
"""

from __future__ import annotations

import math

import numpy as np
from numba import uint64

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import ILL_CONDITIONED, MISSING, OK, WARMUP, factor_chunk, solution_rows, solve_chunk
from quantreg._kernels.refine import refine_chunk
from quantreg._kernels.walk import MEAN, RW, STARTS, VALID, WEIGHT, cov_at


@jit(inline="always")
def lane_dot(u, a, v, b, n):
    """``Σ_{i < n} u[a, i]·v[b, i]`` (``n`` unsigned) in eight interleaved partial sums —
    independent additions that pipeline, in an order fixed by ``n`` alone — added pairwise."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    m = n - n % uint64(8)
    for i in range(uint64(0), m, uint64(8)):
        s0 += u[a, i] * v[b, i]
        s1 += u[a, i + uint64(1)] * v[b, i + uint64(1)]
        s2 += u[a, i + uint64(2)] * v[b, i + uint64(2)]
        s3 += u[a, i + uint64(3)] * v[b, i + uint64(3)]
        s4 += u[a, i + uint64(4)] * v[b, i + uint64(4)]
        s5 += u[a, i + uint64(5)] * v[b, i + uint64(5)]
        s6 += u[a, i + uint64(6)] * v[b, i + uint64(6)]
        s7 += u[a, i + uint64(7)] * v[b, i + uint64(7)]
    for i in range(m, n):
        s0 += u[a, i] * v[b, i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@jit(inline="always")
def tile_dots(u, a0, a1, v, b0, b1, n):
    """The four sums ``Σ_{i < n} u[a, i]·v[b, i]`` of ``a ∈ {a0, a1}``, ``b ∈ {b0, b1}``
    (``n`` unsigned), each in two interleaved partial sums: every value loaded serves two
    products."""
    s00 = s01 = s10 = s11 = t00 = t01 = t10 = t11 = 0.0
    m = n - n % uint64(2)
    for i in range(uint64(0), m, uint64(2)):
        j = i + uint64(1)
        u0, u1, v0, v1 = u[a0, i], u[a1, i], v[b0, i], v[b1, i]
        s00 += u0 * v0
        s01 += u0 * v1
        s10 += u1 * v0
        s11 += u1 * v1
        u0, u1, v0, v1 = u[a0, j], u[a1, j], v[b0, j], v[b1, j]
        t00 += u0 * v0
        t01 += u0 * v1
        t10 += u1 * v0
        t11 += u1 * v1
    for i in range(m, n):
        s00 += u[a0, i] * v[b0, i]
        s01 += u[a0, i] * v[b1, i]
        s10 += u[a1, i] * v[b0, i]
        s11 += u[a1, i] * v[b1, i]
    return s00 + t00, s01 + t01, s10 + t10, s11 + t11


@jit()
def drop_missing(values, weights, n):
    """``weights[i] = 0`` where ``values[i]`` is NaN, ``i < n`` (unsigned)."""
    for i in range(uint64(0), n):
        weights[i] = 0.0 if math.isnan(values[i]) else weights[i]


@jit()
def subtract_where_kept(values, weights, n, amount):
    """``values[i] − amount`` where ``weights[i] > 0``, else 0, for ``i < n`` (unsigned)."""
    for i in range(uint64(0), n):
        values[i] = values[i] - amount if weights[i] > 0.0 else 0.0


@jit()
def weigh(out, values, weights, n):
    """``out[i] = weights[i]·values[i]`` for ``i < n`` (unsigned)."""
    for i in range(uint64(0), n):
        out[i] = weights[i] * values[i]


@jit()
def segment_record(x, xrow, y, row_weights, start, length, k, seg, segf, cols, rec, frame):
    """The record of the complete rows of the segment at data row ``start`` (``length`` rows)
    into ``rec[:, 0]``; returns the number of complete rows. A row is complete when ``y`` and
    every regressor are non-NaN and its row weight (``row_weights[row]``; 1 when empty) is
    positive; it enters with that weight. Marks the rows in ``seg[VALID]``, their weights in
    ``segf[RW]`` and the segment as one window (``seg[STARTS, length − 1] = 0``), as
    :func:`~quantreg._kernels.refine.refine_chunk` reads them.

    The segment is transposed once into ``cols`` (``2k + 3`` rows of at least ``length``
    values), so that every later loop runs over its rows innermost with unsigned indices
    (vectorised, or in the independent partial sums of :func:`lane_dot`):

    - rows ``0 … k``: ``[x, y]`` of each row minus the *shift* (the segment's first complete
      row, so that level data lose no digit), then minus the weighted mean of the shifted rows
      (first pass); 0 for the rows left out;
    - row ``k + 1``: the weights, 0 for the rows left out;
    - rows ``k + 2 … 2k + 2`` (with row weights only): the weighted deviations.

    The second pass takes the centred cross-products from the deviations: an exact two-pass
    computation, as accurate as the walk's records. ``frame`` (``2(k + 1)``) is left holding
    the shift, then the mean of the shifted rows (the record's means are their sum).
    """
    p = k + 1
    w_row = p
    has_rw = row_weights.shape[0] > 0
    wdev0 = p + 1 if has_rw else 0  # unweighted: the weights are 1 (or 0 with zero deviations)
    identity = xrow.shape[0] == 0
    n = uint64(length)
    for e in range(1 + p + p * (p + 1) // 2):
        rec[e, 0] = 0.0
    if length == 0:
        return 0
    seg[STARTS, length - 1] = 0
    for t in range(length):  # transposed
        row = start + t
        xr = row if identity else xrow[row]
        for c in range(k):
            cols[c, t] = x[xr, c]
        cols[k, t] = y[row]
        cols[w_row, t] = row_weights[row] if has_rw else 1.0
    for i in range(uint64(0), n):  # rows left out get weight 0: a weight not positive, a NaN
        if not cols[w_row, i] > 0.0:
            cols[w_row, i] = 0.0
    for a in range(p):
        drop_missing(cols[a], cols[w_row], n)
    count = 0
    first_complete = -1
    total = 0.0
    for t in range(length):
        w = cols[w_row, t]
        seg[VALID, t] = 1 if w > 0.0 else 0
        segf[RW, t] = w
        if w > 0.0:
            count += 1
            total += w
            if first_complete < 0:
                first_complete = t
    if count == 0:
        return 0
    for a in range(p):  # first pass: the shift, the mean of the shifted rows, the deviations
        frame[a] = cols[a, first_complete]
        subtract_where_kept(cols[a], cols[w_row], n, frame[a])
        frame[p + a] = lane_dot(cols, w_row, cols, a, n) / total
        subtract_where_kept(cols[a], cols[w_row], n, frame[p + a])
        if has_rw:
            weigh(cols[wdev0 + a], cols[a], cols[w_row], n)
    rec[WEIGHT, 0] = total
    for a in range(p):
        rec[MEAN + a, 0] = frame[a] + frame[p + a]
    for a in range(0, p, 2):  # second pass: the centred cross-products, in 2 × 2 tiles
        a1 = min(a + 1, p - 1)
        for b in range(a, p, 2):
            b1 = min(b + 1, p - 1)
            c00, c01, c10, c11 = tile_dots(cols, wdev0 + a, wdev0 + a1, cols, b, b1, n)
            rec[cov_at(p, a) + b - a, 0] = c00
            if b1 > b:
                rec[cov_at(p, a) + b1 - a, 0] = c01
            if a1 > a and b > a:  # below the diagonal of a diagonal tile: the same sum as c01
                rec[cov_at(p, a1) + b - a1, 0] = c10
            if a1 > a and b1 > b:
                rec[cov_at(p, a1) + b1 - a1, 0] = c11
    return count


@jit()
def add_multiple(out, values, factor, n):
    """``out[i] += factor·values[i]`` for ``i < n`` (unsigned)."""
    for i in range(uint64(0), n):
        out[i] += factor * values[i]


@jit()
def split_rows(resid, fitted, deviation, fit, level, n):
    """``resid[i] = deviation[i] − fit[i]``, ``fitted[i] = level + fit[i]`` for ``i < n``
    (unsigned): a row's ``y − ŷ`` and ``ŷ`` from its ``y − ȳ`` and ``ŷ − ȳ`` in shifted
    coordinates, ``level`` the mean ``ȳ``."""
    for i in range(uint64(0), n):
        resid[i] = deviation[i] - fit[i]
        fitted[i] = level + fit[i]


@jit()
def segment_rows(x, xrow, y, start, length, k, add_const, beta, cols, frame, dest, resid, fitted):
    """Residuals ``y − ŷ`` and fitted values ``ŷ`` of the segment's rows at ``dest[row]`` (the
    row itself when ``dest`` is empty), from its slopes ``beta`` (``k``) and, with an
    intercept, the centred rows :func:`segment_record` left in ``cols`` and ``frame``:
    ``ŷ − ȳ = (x − x̄)ᵀβ`` and ``y − ȳ`` are taken in shifted coordinates, so that level data
    stay exact. Without one, ``ŷ = xᵀβ``. NaN where the row's ``y`` (residual) or ``x`` is NaN.
    """
    p = k + 1
    n = uint64(length)
    fit = p + 1  # a row of cols: ŷ − shift − mean of the shifted rows
    identity_x = xrow.shape[0] == 0
    if add_const:
        for t in range(length):  # the rows left out (zeros in cols): their deviations, NaN or not
            if cols[p, t] == 0.0:  # row k + 1 of cols: the weights
                row = start + t
                xr = row if identity_x else xrow[row]
                for c in range(k):
                    cols[c, t] = (x[xr, c] - frame[c]) - frame[p + c]
                cols[k, t] = (y[row] - frame[k]) - frame[p + k]
        cols[fit, :length] = 0.0
        for j in range(k):
            add_multiple(cols[fit], cols[j], beta[j], n)
        level = frame[k] + frame[p + k]
        if dest.shape[0] == 0:
            split_rows(resid[start:start + length], fitted[start:start + length], cols[k], cols[fit], level, n)
        else:
            for t in range(length):
                d = dest[start + t]
                resid[d] = cols[k, t] - cols[fit, t]
                fitted[d] = level + cols[fit, t]
        return
    for t in range(length):
        row = start + t
        xr = row if identity_x else xrow[row]
        value = 0.0
        for j in range(k):
            value += beta[j] * x[xr, j]
        d = row if dest.shape[0] == 0 else dest[row]
        fitted[d] = value
        resid[d] = y[row] - value


@jit()
def cross_section_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws):
    """Least squares of each segment ``g`` in ``first … last − 1`` on its complete rows
    (``opts``: ``add_const``, ``row_weights`` and ``full`` are read; ``pdest`` and ``times``
    are not used). ``ws``: :func:`quantreg.engine.workspace` for a window as long as any
    segment — its ``front`` (``record_size(k + 1) ≥ 2k + 3`` rows of the longest segment)
    holds the transposed segment (:func:`segment_record`).

    ``outs = (coef, stats, nobs, status, resid, fitted)``, row ``g``: ``coef`` ``[intercept,] β``
    (NaN unless solved), ``stats`` ``[SSR, TSS]`` (TSS centred with an intercept, raw without;
    weighted by ``opts.row_weights`` when given), ``nobs`` the complete rows, ``status``:
    :data:`~quantreg._kernels.linalg.OK`, ``MISSING`` (no complete row), ``WARMUP`` (fewer
    complete rows than coefficients) or ``RANK_DEFICIENT`` (an ill-conditioned cross-section is
    solved all the same: it is one fit, not a window). ``resid`` and ``fitted`` (empty: not
    written) get every row's residual ``y − ŷ`` and fitted value ``ŷ = ȳ + (x − x̄)ᵀβ`` (``xᵀβ``
    without an intercept; both in the shifted coordinates of :func:`segment_record`, so that
    level data stay exact) at ``dest[row]`` (the row itself when ``dest`` is empty): NaN in the
    segments not solved, and where the row's own ``y`` (residual) or ``x`` is NaN.
    """
    coef, stats, nobs, status, resid, fitted = outs
    write_rows = resid.shape[0] > 0
    identity_dest = dest.shape[0] == 0
    k = x.shape[1]
    p = k + 1
    add_const = opts.add_const
    n_coef = k + (1 if add_const else 0)
    offset = 1 if add_const else 0
    seg, segf, cols, _, frame, _, rec, sol, state, _ = ws
    _, b0, s0, _, _, _, _, _ = solution_rows(k)
    for g in range(first, last):
        start = offsets[g]
        length = offsets[g + 1] - start
        count = segment_record(x, xrow, y, opts.row_weights, start, length, k, seg, segf, cols, rec, frame)
        nobs[g] = count
        for j in range(n_coef):
            coef[g, j] = np.nan
        stats[g, 0] = np.nan
        stats[g, 1] = np.nan
        if count == 0:
            status[g] = MISSING
        elif count < n_coef:
            status[g] = WARMUP
        else:
            state[0] = OK
            factor_chunk(rec, 1, k, add_const, state, sol)
            refined = refine_chunk(x, xrow, y, start, seg, segf, length - 1, 1, k, add_const, False, state, sol)
            solve_chunk(rec, 1, k, add_const, opts.full, refined, state, sol)
            if state[0] == ILL_CONDITIONED:  # solved all the same (a cross-section is one fit, as in linearmodels)
                state[0] = OK
            status[g] = state[0]
            mean_y = rec[MEAN + k, 0]
            syy = rec[cov_at(p, k), 0]
            stats[g, 1] = syy if add_const else syy + rec[WEIGHT, 0] * mean_y * mean_y
            if status[g] == OK:
                stats[g, 0] = sol[s0, 0]
                intercept = mean_y
                for j in range(k):
                    coef[g, offset + j] = sol[b0 + j, 0]
                    intercept -= sol[b0 + j, 0] * rec[MEAN + j, 0]
                if add_const:
                    coef[g, 0] = intercept
        if status[g] != OK:
            if write_rows:
                for t in range(length):
                    d = start + t if identity_dest else dest[start + t]
                    resid[d] = np.nan
                    fitted[d] = np.nan
            continue
        if write_rows:
            segment_rows(x, xrow, y, start, length, k, add_const, sol[b0:b0 + k, 0], cols, frame, dest, resid, fitted)
