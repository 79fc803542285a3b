"""The cross-section finisher: one least-squares fit per segment (a date's assets), for
cross-sectional regressions and Fama-MacBeth (numba, no pandas).

A cross-section needs one record (:mod:`quantreg._kernels.walk`: weight, means, centred
cross-products) — that of all its rows — not one per row, so it is not walked:
:func:`segment_record` transposes the segment once and takes the record by an exact two-pass
computation in shifted coordinates (the weighted mean of the rows, each column minus its first
non-NaN value, then the cross-products of the deviations from it), the second pass over the
rows innermost. The record is solved by the one solver
(:func:`quantreg._kernels.linalg.factor_chunk`, :func:`~quantreg._kernels.refine.refine_chunk`,
:func:`~quantreg._kernels.linalg.solve_chunk`: same tolerances, refinement and status as the
rolling fits), and the rows' residuals and fitted values are written from the deviations the
record left behind. Rows with a NaN in ``y`` or any regressor, or a row weight that is not
positive, are left out.
"""

from __future__ import annotations

import math

import numpy as np
from numba import uint64

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import ILL_CONDITIONED, MISSING, OK, REFINE, WARMUP, solution_rows
from quantreg._kernels.refine import refine_windows
from quantreg._kernels.walk import MEAN, RW, STARTS, VALID, WEIGHT, cov_at


@jit(python=False)
def segment_record(x, xrow, y, row_weights, start, length, k, seg, segf, cols, rec, frame):
    """The record of the complete rows of the segment at data row ``start`` (``length`` rows)
    into ``rec[:, 0]``; returns the number of complete rows. A row is complete when ``y`` and
    every regressor are non-NaN and its row weight (``row_weights[row]``; 1 when empty) is
    positive; it enters with that weight. Marks the rows in ``seg[VALID]``, their weights (0
    for the rows left out) in ``segf[RW]`` and the segment as one window
    (``seg[STARTS, length − 1] = 0``), as :func:`~quantreg._kernels.refine.refine_chunk` reads
    them.

    Exact on level data, in two passes over shifted coordinates (each column minus its first
    non-NaN value in the segment, the *shift*, so that no digit of the spread is lost to the
    level): the first transposes the segment into ``cols`` (``2k + 2`` rows of at least
    ``length`` values) and sums the shifted complete rows for their weighted mean; the second
    takes the centred cross-products, with the rows innermost (2 × 2 tiles of products in
    independent partial sums: each value loaded serves two products). ``cols`` is left holding
    in rows ``0 … k`` the deviations of ``[x, y]`` from the mean, 0 for the rows left out, and
    in rows ``k + 1 … 2k + 1`` (with row weights only) the weighted deviations; ``frame``
    (``2(k + 1)``) the shift, then the mean of the shifted rows (the record's means are their
    sum).
    """
    p = k + 1
    has_rw = row_weights.shape[0] > 0
    wdev0 = p if has_rw else 0  # unweighted: the weights are 1 (or 0, with zero deviations)
    identity = xrow.shape[0] == 0
    n = uint64(length)
    for e in range(1 + p + p * (p + 1) // 2):
        rec[e, 0] = 0.0
    if length == 0:
        return 0
    seg[STARTS, length - 1] = 0
    for a in range(p):  # the shift: each column's first non-NaN value (0 when there is none)
        frame[a] = 0.0
        frame[p + a] = 0.0
        for t in range(length):
            row = start + t
            value = y[row] if a == k else x[row if identity else xrow[row], a]
            if not math.isnan(value):
                frame[a] = value
                break
    count = 0
    total = 0.0
    for t in range(length):  # first pass: transposed, shifted; the weighted sums of the complete rows
        row = start + t
        xr = row if identity else xrow[row]
        w = row_weights[row] if has_rw else 1.0
        complete = w > 0.0 and not math.isnan(y[row])
        for c in range(k):
            complete = complete and not math.isnan(x[xr, c])
        seg[VALID, t] = 1 if complete else 0
        segf[RW, t] = w if complete else 0.0
        if complete:
            count += 1
            total += w
            for c in range(k):
                cols[c, t] = x[xr, c] - frame[c]
                frame[p + c] += w * cols[c, t]
            cols[k, t] = y[row] - frame[k]
            frame[p + k] += w * cols[k, t]
        else:
            for a in range(p):
                cols[a, t] = 0.0
    if count == 0:
        return 0
    rec[WEIGHT, 0] = total
    for a in range(p):  # the deviations from the mean (weighted: and their products with the weights)
        mean = frame[p + a] / total
        frame[p + a] = mean
        rec[MEAN + a, 0] = frame[a] + mean
        for i in range(uint64(0), n):
            cols[a, i] = cols[a, i] - mean if segf[RW, i] > 0.0 else 0.0
        if has_rw:
            for i in range(uint64(0), n):
                cols[wdev0 + a, i] = segf[RW, i] * cols[a, i]
    half = n - n % uint64(2)
    for a0 in range(0, p, 2):  # second pass: the centred cross-products, in 2 × 2 tiles
        a1 = min(a0 + 1, p - 1)
        for b0 in range(a0, p, 2):
            b1 = min(b0 + 1, p - 1)
            u0, u1, v0, v1 = cols[wdev0 + a0], cols[wdev0 + a1], cols[b0], cols[b1]
            s00 = s01 = s10 = s11 = t00 = t01 = t10 = t11 = 0.0
            for i in range(uint64(0), half, uint64(2)):
                j = i + uint64(1)
                s00 += u0[i] * v0[i]
                s01 += u0[i] * v1[i]
                s10 += u1[i] * v0[i]
                s11 += u1[i] * v1[i]
                t00 += u0[j] * v0[j]
                t01 += u0[j] * v1[j]
                t10 += u1[j] * v0[j]
                t11 += u1[j] * v1[j]
            for i in range(half, n):
                s00 += u0[i] * v0[i]
                s01 += u0[i] * v1[i]
                s10 += u1[i] * v0[i]
                s11 += u1[i] * v1[i]
            rec[cov_at(p, a0) + b0 - a0, 0] = s00 + t00
            if b1 > b0:
                rec[cov_at(p, a0) + b1 - a0, 0] = s01 + t01
            if a1 > a0 and b0 > a0:  # below the diagonal of a diagonal tile: the same sum as above it
                rec[cov_at(p, a1) + b0 - a1, 0] = s10 + t10
            if a1 > a0 and b1 > b0:
                rec[cov_at(p, a1) + b1 - a1, 0] = s11 + t11
    return count


@jit()
def cross_section_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws, steps):
    """Least squares of each segment ``g`` in ``first … last − 1`` on its complete rows
    (``opts``: ``add_const``, ``row_weights`` and ``full`` are read; ``pdest`` and ``times``
    are not used). ``ws``: :func:`quantreg.engine.workspace` for a window as long as any
    segment — its ``front`` (``record_size(k + 1) ≥ 2k + 2`` rows of the longest segment)
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

    ``steps``: :data:`quantreg._kernels.steps.SOLVE_STEPS` (the solver; the record is not
    walked). Returns the number of segments left for the QR refinement, as
    :func:`quantreg._kernels.ols.ols_kernel` does.
    """
    coef, stats, nobs, status, resid, fitted = outs
    write_rows = resid.shape[0] > 0
    identity_dest = dest.shape[0] == 0
    identity_x = xrow.shape[0] == 0
    k = x.shape[1]
    p = k + 1
    add_const = opts.add_const
    n_coef = k + (1 if add_const else 0)
    offset = 1 if add_const else 0
    seg, segf, cols, _, frame, _, rec, sol, state, _ = ws
    # the solver's arguments as run-time values, as every caller passes them (a literal would
    # make numba compile another specialisation of the solver)
    one_window = np.int64(1)
    weighted = opts.lam != 1.0
    _, b0, s0, _, _, _, _, _ = solution_rows(k)
    left = 0
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
            steps.factor_chunk(rec, one_window, k, add_const, state, sol)
            refined = refine_windows(opts.refine, x, xrow, y, start, seg, segf, length - 1, one_window, k, add_const,
                                     weighted, state, sol)
            steps.solve_chunk(rec, one_window, k, add_const, opts.full, refined, state, sol)
            if state[0] == ILL_CONDITIONED:  # solved all the same (a cross-section is one fit, as in linearmodels)
                state[0] = OK
            status[g] = state[0]
            left += state[0] == REFINE
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
        if not write_rows:
            continue
        # every row's y − ŷ and ŷ: with an intercept ŷ − ȳ = (x − x̄)ᵀβ and y − ȳ from the
        # deviations segment_record left in cols (shifted coordinates: level data stay exact)
        n = uint64(length)
        fit = p  # a row of cols: ŷ − shift − mean of the shifted rows
        if add_const:
            for t in range(length):  # the rows left out (zeros in cols): their deviations, NaN or not
                if segf[RW, t] == 0.0:
                    row = start + t
                    xr = row if identity_x else xrow[row]
                    for c in range(k):
                        cols[c, t] = (x[xr, c] - frame[c]) - frame[p + c]
                    cols[k, t] = (y[row] - frame[k]) - frame[p + k]
            for i in range(uint64(0), n):
                cols[fit, i] = 0.0
            for j in range(k):
                beta_j = sol[b0 + j, 0]
                for i in range(uint64(0), n):
                    cols[fit, i] += beta_j * cols[j, i]
            level = frame[k] + frame[p + k]
            if identity_dest:
                resid_rows = resid[start:start + length]
                fitted_rows = fitted[start:start + length]
                for i in range(uint64(0), n):
                    resid_rows[i] = cols[k, i] - cols[fit, i]
                    fitted_rows[i] = level + cols[fit, i]
            else:
                for t in range(length):
                    d = dest[start + t]
                    resid[d] = cols[k, t] - cols[fit, t]
                    fitted[d] = level + cols[fit, t]
            continue
        for t in range(length):  # without an intercept: ŷ = xᵀβ
            row = start + t
            xr = row if identity_x else xrow[row]
            value = 0.0
            for j in range(k):
                value += sol[b0 + j, 0] * x[xr, j]
            d = row if identity_dest else dest[row]
            fitted[d] = value
            resid[d] = y[row] - value
    return left
