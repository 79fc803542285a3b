"""The selection finisher: penalised least squares of every row's window (numba, no pandas).

For each row's window the Gram problem of :mod:`quantreg.selection` is formed from its record
— ``G = C_xx / W``, ``b = C_xy / W`` with an intercept (raw cross-products without) — and
solved by :func:`~quantreg._kernels.coordinate_descent.cd_gram` — from zero, as the estimators
do, or (``warm_start``) from the previous window's solution (convex penalties) — or by the
reproducible continuation of :func:`~quantreg._kernels.coordinate_descent.cd_continuation_gram`
(non-convex penalties, so that every window finds the same local minimum as the estimator
fitted on its rows alone). The garrote first solves least squares on the window and scales the
columns by it.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import MISSING, OK, RANK_DEFICIENT
from quantreg._kernels.walk import CHUNK, INVALID_BEFORE, MEAN, STARTS, VALID, WEIGHT, cov_at

#: Points of the continuation grid for non-convex penalties (as the estimators).
N_CONTINUATION = 100


@jit()
def select_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, outs, ws, steps, settings, solvers):
    """Rolling selection over the segments ``first … last − 1`` (windows and arguments as
    :func:`quantreg._kernels.ols.ols_kernel`; ``opts.add_const`` is the estimator's
    ``fit_intercept``). ``outs = (params, resid, fitted, nobs, status, n_iter)`` at
    ``dest[row]``: ``params`` has the intercept (0 without one) in column 0 and the
    coefficients after it. ``settings = (kind, penalty, convex, garrote, eps, max_iter, tol,
    warm_start)``: the penalty as an integer kind and its parameters (see
    :mod:`quantreg._kernels.coordinate_descent`), ``tol`` relative to ``max|b|`` as in the
    estimators; ``steps`` and ``solvers``: :data:`quantreg._kernels.steps.STEPS` and
    :data:`~quantreg._kernels.steps.SOLVERS`."""
    params, resid, fitted, nobs, status, n_iter = outs
    kind, penalty, convex, garrote, eps, max_iter, tol, warm_start = settings
    k = x.shape[1]
    p = k + 1
    fit_intercept = opts.add_const
    seg, segf, front, work, cur, istate, rec, _, state, need = ws
    G = np.empty((k, k))
    b = np.empty(k)
    scale = np.ones(k)
    w = np.zeros(k)
    coef = np.empty(k)
    prev_coef = np.empty(k)
    prev_mean = np.empty(p)
    for g in range(first, last):
        start, length = steps.begin_segment(x, xrow, y, offsets, g, times, opts.window, opts.span, opts.lam,
                                            opts.row_weights, seg, segf, istate)
        prev_ok = False
        for t0 in range(0, length, CHUNK):
            t1 = min(t0 + CHUNK, length)
            steps.window_states(seg, t0, t1, opts.window, opts.min_nobs, opts.need_full, opts.skip_missing, state, need)
            steps.walk_chunk(x, xrow, y, start, seg, segf, t0, t1, need, opts.lam != 1.0, front, work, cur, istate, rec, k)
            for t in range(t0, t1):
                c = t - t0
                row = start + t
                d = dest[row] if dest.shape[0] > 0 else row
                s = seg[STARTS, t]
                nobs[d] = t - s + 1 - (seg[INVALID_BEFORE, t + 1] - seg[INVALID_BEFORE, s])
                code = state[c]
                iters = 0
                if code == OK:
                    w_total = rec[WEIGHT, c]
                    for i in range(k):  # G = S_xx / W, b = S_xy / W
                        m_i = rec[MEAN + i, c]
                        for j in range(i, k):
                            v = rec[cov_at(p, i) + j - i, c]
                            if not fit_intercept:
                                v += w_total * m_i * rec[MEAN + j, c]
                            G[i, j] = v / w_total
                            G[j, i] = v / w_total
                        v = rec[cov_at(p, i) + k - i, c]
                        if not fit_intercept:
                            v += w_total * m_i * rec[MEAN + k, c]
                        b[i] = v / w_total
                    if garrote:
                        if solvers.cholesky_solve(G, b, scale) != 0:  # least squares on the window
                            code = RANK_DEFICIENT
                        else:
                            for i in range(k):
                                b[i] *= scale[i]
                                for j in range(k):
                                    G[i, j] *= scale[i] * scale[j]
                if code == OK:
                    b_max = 0.0
                    for i in range(k):
                        b_max = max(b_max, abs(b[i]))
                    tol_abs = tol * (b_max if b_max > 0.0 else 1.0)
                    if convex:
                        if not warm_start:
                            w[:] = 0.0
                        iters, _ = solvers.cd_gram(G, b, w, kind, penalty, max_iter, tol_abs)
                    else:
                        iters, _ = solvers.cd_continuation_gram(G, b, w, kind, penalty, N_CONTINUATION, eps, max_iter,
                                                                tol_abs)
                    if iters < 0:
                        code = RANK_DEFICIENT
                        w[:] = 0.0
                estimated = code == OK
                if estimated and not seg[VALID, t]:
                    code = MISSING
                status[d] = code
                n_iter[d] = iters
                if estimated:
                    for i in range(k):
                        coef[i] = w[i] * scale[i]
                xr = row if xrow.shape[0] == 0 else xrow[row]
                value = np.nan
                if opts.out_of_sample:
                    if prev_ok:
                        value = prev_mean[k] if fit_intercept else 0.0
                        for i in range(k):
                            value += prev_coef[i] * (x[xr, i] - (prev_mean[i] if fit_intercept else 0.0))
                    prev_ok = estimated
                    if estimated:
                        for i in range(p):
                            prev_mean[i] = rec[MEAN + i, c]
                        for i in range(k):  # a loop, not a slice copy: numba compiles ~5 s of
                            prev_coef[i] = coef[i]  # error formatting for an array-to-array copy
                elif estimated:
                    value = rec[MEAN + k, c] if fit_intercept else 0.0
                    for i in range(k):
                        value += coef[i] * (x[xr, i] - (rec[MEAN + i, c] if fit_intercept else 0.0))
                fitted[d] = value
                resid[d] = y[row] - value
                if not estimated:
                    for i in range(k + 1):
                        params[d, i] = np.nan
                    continue
                intercept = 0.0
                if fit_intercept:
                    intercept = rec[MEAN + k, c]
                    for i in range(k):
                        intercept -= coef[i] * rec[MEAN + i, c]
                params[d, 0] = intercept
                for i in range(k):
                    params[d, 1 + i] = coef[i]
