"""Heteroskedasticity (and autocorrelation) robust covariances of one window's OLS fit (numba).

As statsmodels ``OLS(y_w, X_w).fit(cov_type=...)`` (``WLS`` with weights) on the window's valid
rows ``j`` in time order, with scores ``u_j = w_j z_j e_j``:

- ``HC0``: ``cov = H (Σ_j u_j u_jᵀ) H``; ``HC1``: ``HC0 · n / (n − k)``;
- ``HAC``: ``cov = H (Σ_{l=0}^{L} κ_l Σ_j (u_j u_{j−l}ᵀ + u_{j−l} u_jᵀ)/(1 + [l = 0])) H`` with
  kernel weights ``κ`` (Bartlett ``1 − l/(L + 1)`` or uniform) over lags among the window's rows
  only, times ``n / (n − k)`` when ``use_correction``;

where ``H = (XᵀWX)⁻¹``. :func:`sandwich_kernel` is the finisher: it walks and solves the windows
again (:func:`quantreg._kernels.ols.fit_chunk`) and forms each estimated window's sandwich from
its own rows, so that robust errors never broadcast a factor table. With an intercept the sandwich is formed in centred coordinates
``z_j = [1, x_j − x̄]`` — where ``H = diag(1/W, S_xx⁻¹)`` — and mapped back to the intercept
``c = c̃ − x̄ᵀβ``, so level data lose no digits.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.linalg import OK, REFINE, inverse_matrix, solution_rows
from quantreg._kernels.ols import fit_chunk
from quantreg._kernels.walk import CHUNK, MEAN, POS, RW, STARTS, VALID, WEIGHT

NONROBUST = 0
HC0 = 1
HC1 = 2
HAC = 3


@jit(python=False)
def robust_variances(
    x, xrow, y, start, lo, hi, valid, pos, lam, row_weight, beta, rec, col, k, add_const, cov_code,
    kernel_weights, use_correction, h_inv, scores, meat, lagged, out,
):
    """Diagonal of the robust covariance of ``[c, β]`` (or ``β``) for the window of segment
    rows ``lo … hi`` whose record is ``rec[:, col]`` and slopes ``beta[:, 0]``.

    Segment row ``j`` is data row ``start + j`` (regressors at ``x[xrow[row]]``, or ``x[row]``
    when ``xrow`` is empty); the weights are ``row_weight[j] · lam ** (pos[hi] − pos[j])``; ``h_inv``
    is ``S⁻¹`` (:func:`quantreg._kernels.linalg.inverse_matrix`). Scratch: ``scores``
    ``(≥ hi − lo + 1, k + 1)``, ``meat`` ``(k + 1, k + 1)``, ``lagged`` ``(k + 1)``.
    """
    kp = k + 1 if add_const else k
    off = 1 if add_const else 0
    mean_y = rec[MEAN + k, col]
    n = 0
    for j in range(lo, hi + 1):
        if valid[j] == 0:
            continue
        row = start + j
        xr = row if xrow.shape[0] == 0 else xrow[row]
        weight = (lam ** (pos[hi] - pos[j]) if lam != 1.0 else 1.0) * row_weight[j]
        if add_const:
            e = y[row] - mean_y
            for c in range(k):
                e -= beta[c, 0] * (x[xr, c] - rec[MEAN + c, col])
            scores[n, 0] = weight * e
            for c in range(k):
                scores[n, 1 + c] = weight * (x[xr, c] - rec[MEAN + c, col]) * e
        else:
            e = y[row]
            for c in range(k):
                e -= beta[c, 0] * x[xr, c]
            for c in range(k):
                scores[n, c] = weight * x[xr, c] * e
        n += 1
    if n <= kp:  # an exact fit: no residual variance to estimate
        for c in range(kp):
            out[c] = np.nan
        return
    # meat = Σ_j u_j u_jᵀ + u_j v_jᵀ + v_j u_jᵀ with v_j = Σ_{l=1}^{L} κ_l u_{j−l}
    n_lags = kernel_weights.shape[0] - 1 if cov_code == HAC else 0
    meat[:, :] = 0.0
    for j in range(n):
        lagged[:] = 0.0
        for lag in range(1, min(n_lags, j) + 1):
            kw = kernel_weights[lag]
            for a in range(kp):
                lagged[a] += kw * scores[j - lag, a]
        for a in range(kp):
            u_a = scores[j, a]
            v_a = lagged[a]
            for b in range(a, kp):
                meat[a, b] += u_a * (scores[j, b] + lagged[b]) + v_a * scores[j, b]
    for a in range(kp):
        for b in range(a + 1, kp):
            meat[b, a] = meat[a, b]
    factor = 1.0
    if cov_code == HC1 or (cov_code == HAC and use_correction):
        factor = n / (n - kp)
    # slopes: (S⁻¹ M_xx S⁻¹)_cc
    for c in range(k):
        acc = 0.0
        for a in range(k):
            for b in range(k):
                acc += h_inv[c, a] * meat[off + a, off + b] * h_inv[b, c]
        out[off + c] = acc * factor
    if add_const:
        # centred coordinates: H = diag(1/W, S⁻¹); c = c̃ − x̄ᵀβ, q = S⁻¹x̄:
        # Var(c) = M_00/W² − 2 qᵀM_x0/W + qᵀ M_xx q
        w_total = rec[WEIGHT, col]
        for c in range(k):
            acc = 0.0
            for a in range(k):
                acc += h_inv[c, a] * rec[MEAN + a, col]
            lagged[c] = acc  # q
        var_c = meat[0, 0] / (w_total * w_total)
        for a in range(k):
            var_c -= 2.0 * lagged[a] * meat[1 + a, 0] / w_total
            for b in range(k):
                var_c += lagged[a] * meat[1 + a, 1 + b] * lagged[b]
        out[0] = var_c * factor


@jit()
def sandwich_kernel(x, xrow, y, offsets, dest, pdest, times, first, last, opts, bse, ws, steps):
    """Robust standard errors (``opts.cov_code``) of every estimated window of the segments
    ``first … last − 1``, into the rows ``pdest[row]`` (or ``dest[row]``, or ``row``) of
    ``bse``; other rows are not written. Arguments as
    :func:`quantreg._kernels.ols.ols_kernel` (``opts.full`` True: the inverses are needed), and
    so is the return value (windows left for the QR refinement)."""
    seg, segf, front, work, cur, istate, rec, sol, state, need = ws
    k = x.shape[1]
    add_const = opts.add_const
    kp = k + 1 if add_const else k
    b0 = solution_rows(k)[1]
    h_inv = np.empty((k, k))
    scores = np.empty((front.shape[1], k + 1))
    meat = np.empty((k + 1, k + 1))
    lagged = np.empty(k + 1)
    variances = np.empty(kp)
    beta = np.empty((k, 1))
    left = 0
    for g in range(first, last):
        start = offsets[g]
        length = offsets[g + 1] - start
        for t0 in range(0, length, CHUNK):
            n = fit_chunk(x, xrow, y, offsets, times, g, t0, opts, opts.full, seg, segf, front, work, cur, istate, rec, sol,
                          state, need, steps)
            for c in range(n):
                if state[c] != OK:
                    left += state[c] == REFINE
                    continue
                t = t0 + c
                row = start + t
                for j in range(k):
                    beta[j, 0] = sol[b0 + j, c]
                inverse_matrix(sol, c, k, h_inv)
                robust_variances(
                    x, xrow, y, start, seg[STARTS, t], t, seg[VALID], seg[POS], opts.lam, segf[RW], beta, rec, c, k, add_const,
                    opts.cov_code, opts.kernel_weights, opts.use_correction, h_inv, scores, meat, lagged, variances,
                )
                q = pdest[row] if pdest.shape[0] > 0 else (dest[row] if dest.shape[0] > 0 else row)
                for j in range(kp):
                    bse[q, j] = math.sqrt(variances[j])
    return left
