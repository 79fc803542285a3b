"""Rolling penalised least squares: the window records of the engine, solved by coordinate descent.

For each row's window the Gram problem of :mod:`quantreg.selection` is formed from the moment
record — ``G = S_xx / W``, ``b = S_xy / W`` with an intercept (raw cross-products without) —
and solved by :func:`~quantreg._kernels.coordinate_descent.cd_gram` — from zero, as the
estimators do, or (``warm_start``) from the previous window's solution (convex penalties) — or by the reproducible continuation of
:func:`~quantreg._kernels.coordinate_descent.cd_continuation_gram` (non-convex penalties, so
that every window finds the same local minimum as the estimator fitted on its rows alone).
The garrote first solves least squares on the window and scales the columns by it.
"""

from __future__ import annotations

import functools

import numpy as np

from quantreg._kernels import coordinate_descent as cd
from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN, WEIGHT
from quantreg._kernels.windows import (
    MISSING,
    OK,
    RANK_DEFICIENT,
    decay_steps,
    new_stacks,
    predict,
    row_validity,
    segment_windows,
    walk_chunk,
    window_state,
)

#: Points of the continuation grid for non-convex penalties (as the estimators).
N_CONTINUATION = 100


@jit()
def _gram_problem(rec, ri, k, fit_intercept, G, b):
    """``G``, ``b`` of the window (divided by the weight sum, as the estimators' ``(1/2n)``)."""
    p = k + 1
    cov = MEAN + p
    w_total = rec[ri, WEIGHT]
    for i in range(k):
        m_i = rec[ri, MEAN + i]
        for j in range(i, k):
            v = rec[ri, cov + i * p + j]
            if not fit_intercept:
                v += w_total * m_i * rec[ri, MEAN + j]
            G[i, j] = v / w_total
            G[j, i] = v / w_total
        v = rec[ri, cov + i * p + k]
        if not fit_intercept:
            v += w_total * m_i * rec[ri, MEAN + k]
        b[i] = v / w_total


@jit(inline=True)
def _select_segment(
    x, y, start, stop, window, min_nobs, need_full, missing_mode, lam, out_of_sample,
    kind, penalty, convex, garrote, eps, max_iter, tol, fit_intercept, warm_start,
    params, resid, fitted, nobs, status, n_iter, k,
):
    p = k + 1
    length = stop - start
    no_rows = np.empty(0, dtype=np.int64)
    starts, pos = segment_windows(no_rows, length, window, 0)
    valid, invalid_before, _, max_rows = row_validity(x, no_rows, y, start, length, starts, pos)
    suffix, prefix, walk, front, z = new_stacks(max_rows, p)
    steps = decay_steps(pos, lam)
    records = np.empty((1, MEAN + p + p * p))
    one = np.ones(1, dtype=np.bool_)  # windows one at a time: the solver dominates here
    G = np.empty((k, k))
    b = np.empty(k)
    scale = np.ones(k)
    w = np.zeros(k)
    coef = np.empty(k)
    prev_coef = np.empty(k)
    prev_mean = np.empty((1, p))
    prev_ok = False
    for t in range(length):
        row = start + t
        ri = 0
        s = starts[t]
        n_invalid = invalid_before[t + 1] - invalid_before[s]
        count = t - s + 1 - n_invalid
        nobs[row] = count
        state = window_state(t - s + 1, count, window, min_nobs, need_full, missing_mode, n_invalid)
        if state == OK:
            walk_chunk(x, no_rows, y, start, valid, starts, steps, t, t + 1, one, suffix, prefix, walk, front, z, records, k)
        iters = 0
        if state == OK:
            _gram_problem(records, ri, k, fit_intercept, G, b)
            if garrote:
                if cd.ridge_gram(G, b, 0.0, scale) != 0:
                    state = RANK_DEFICIENT
                else:
                    for i in range(k):
                        b[i] *= scale[i]
                        for j in range(k):
                            G[i, j] *= scale[i] * scale[j]
        if state == OK:
            b_max = 0.0
            for i in range(k):
                b_max = max(b_max, abs(b[i]))
            tol_abs = tol * (b_max if b_max > 0.0 else 1.0)
            if convex:
                if not warm_start:
                    w[:] = 0.0
                iters, _ = cd.cd_gram(G, b, w, kind, penalty, max_iter, tol_abs)
            else:
                iters, _ = cd.cd_continuation_gram(G, b, w, kind, penalty, N_CONTINUATION, eps, max_iter, tol_abs)
            if iters < 0:
                state = RANK_DEFICIENT
                w[:] = 0.0
        estimated = state == OK
        if estimated and not valid[t]:
            state = MISSING
        status[row] = state
        n_iter[row] = iters
        if estimated:
            for i in range(k):
                coef[i] = w[i] * scale[i]
        fit = np.nan
        if out_of_sample:
            if prev_ok:
                fit = predict(x, no_rows, row, prev_coef, prev_mean, 0, 0, k, fit_intercept)
            prev_ok = estimated
            if estimated:
                for i in range(p):
                    prev_mean[0, i] = records[ri, MEAN + i]
                prev_coef[:] = coef
        elif estimated:
            fit = predict(x, no_rows, row, coef, records, ri, MEAN, k, fit_intercept)
        fitted[row] = fit
        resid[row] = y[row] - fit
        if not estimated:
            for i in range(k + 1):
                params[row, i] = np.nan
            continue
        intercept = 0.0
        if fit_intercept:
            intercept = records[ri, MEAN + k]
            for i in range(k):
                intercept -= coef[i] * records[ri, MEAN + i]
        params[row, 0] = intercept
        for i in range(k):
            params[row, 1 + i] = coef[i]


@functools.cache
def rolling_select_kernel(k: int):
    """The rolling selection kernel specialised for ``k`` regressors.

    ``kernel(x, y, offsets, first, last, window, min_nobs, need_full, missing_mode, lam,
    out_of_sample, kind, penalty, convex, garrote, eps, max_iter, tol, fit_intercept, warm_start,
    params, resid, fitted, nobs, status, n_iter)`` processes segments ``first:last``; ``params`` has
    the intercept (0 without one) in column 0 and the coefficients after it; ``tol`` is relative
    to ``max|b|`` as in the estimators.
    """

    @jit()
    def kernel(
        x, y, offsets, first, last, window, min_nobs, need_full, missing_mode, lam, out_of_sample,
        kind, penalty, convex, garrote, eps, max_iter, tol, fit_intercept, warm_start,
        params, resid, fitted, nobs, status, n_iter,
    ):
        for g in range(first, last):
            _select_segment(
                x, y, offsets[g], offsets[g + 1], window, min_nobs, need_full, missing_mode, lam,
                out_of_sample, kind, penalty, convex, garrote, eps, max_iter, tol, fit_intercept,
                warm_start, params, resid, fitted, nobs, status, n_iter, k,
            )

    return kernel
