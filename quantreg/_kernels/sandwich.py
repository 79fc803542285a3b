"""Heteroskedasticity (and autocorrelation) robust covariances of one window's OLS fit.

As statsmodels ``OLS(y_w, X_w).fit(cov_type=...)`` (``WLS`` with weights) on the window's valid
rows ``j`` in time order, with scores ``u_j = w_j z_j e_j``:

- ``HC0``: ``cov = H (Σ_j u_j u_jᵀ) H``; ``HC1``: ``HC0 · n / (n − k)``;
- ``HAC``: ``cov = H (Σ_{l=0}^{L} κ_l Σ_j (u_j u_{j−l}ᵀ + u_{j−l} u_jᵀ)/(1 + [l = 0])) H`` with
  kernel weights ``κ`` (Bartlett ``1 − l/(L + 1)`` or uniform) over lags among the window's rows
  only, times ``n / (n − k)`` when ``use_correction``;

where ``H = (XᵀWX)⁻¹``. With an intercept the sandwich is formed in centred coordinates
``z_j = [1, x_j − x̄]`` — where ``H = diag(1/W, S_xx⁻¹)`` — and mapped back to the intercept
``c = c̃ − x̄ᵀβ``, so level data lose no digits.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import MEAN, WEIGHT
from quantreg._kernels.windows import x_row

NONROBUST = 0
HC0 = 1
HC1 = 2
HAC = 3


@jit()
def _inverse_from_linv(fac, k, out):
    """``S⁻¹ = L⁻ᵀ D⁻¹ L⁻¹`` from the unit-lower ``L⁻¹`` at ``fac[k² + k:]`` and ``1/D`` at
    ``fac[k²:]`` (left by ``factor_gram(..., want_inverse=True)``)."""
    linv = k * k + k
    for i in range(k):
        for j in range(i, k):
            acc = 0.0
            for r in range(j, k):
                acc += fac[linv + r * k + i] * fac[linv + r * k + j] * fac[k * k + r]
            out[i, j] = acc
            out[j, i] = acc


@jit()
def robust_variances(
    x, xrow, y, start, lo, hi, valid, pos, lam, beta, rec, ri, k, add_const, cov_code,
    kernel_weights, use_correction, fac, scores, h_inv, meat, lagged, out,
):
    """Diagonal of the robust covariance of ``[c, β]`` (or ``β``) for the window ``lo … hi``
    whose moment record is ``rec[ri]``.

    ``lo``, ``hi`` are positions in the segment starting at row ``start`` (regressors at
    ``x[xrow[row]]``, or ``x[row]`` when ``xrow`` is empty), ``pos`` their positions for the
    weights ``lam ** (pos[hi] − pos[j])``. Scratch: ``scores`` ``(≥ hi − lo + 1, k + 1)``,
    ``h_inv`` ``(k, k)``, ``meat`` ``(k + 1, k + 1)``, ``lagged`` ``(k + 1)``; ``fac`` is the
    factorisation left by ``solve_window(..., want_inverse=True)``.
    """
    kp = k + 1 if add_const else k
    off = 1 if add_const else 0
    mean_y = rec[ri, MEAN + k]
    n = 0
    for j in range(lo, hi + 1):
        if not valid[j]:
            continue
        row = start + j
        xr = x_row(xrow, row)
        weight = lam ** (pos[hi] - pos[j]) if lam != 1.0 else 1.0
        if add_const:
            e = y[row] - mean_y
            for c in range(k):
                e -= beta[c] * (x[xr, c] - rec[ri, MEAN + c])
            scores[n, 0] = weight * e
            for c in range(k):
                scores[n, 1 + c] = weight * (x[xr, c] - rec[ri, MEAN + c]) * e
        else:
            e = y[row]
            for c in range(k):
                e -= beta[c] * x[xr, c]
            for c in range(k):
                scores[n, c] = weight * x[xr, c] * e
        n += 1
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
    _inverse_from_linv(fac, k, h_inv)
    factor = 1.0
    if cov_code == HC1 or (cov_code == HAC and use_correction):
        factor = n / (n - kp) if n > kp else np.nan
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
        w_total = rec[ri, WEIGHT]
        for c in range(k):
            acc = 0.0
            for a in range(k):
                acc += h_inv[c, a] * rec[ri, MEAN + a]
            lagged[c] = acc  # q
        var_c = meat[0, 0] / (w_total * w_total)
        for a in range(k):
            var_c -= 2.0 * lagged[a] * meat[1 + a, 0] / w_total
            for b in range(k):
                var_c += lagged[a] * meat[1 + a, 1 + b] * lagged[b]
        out[0] = var_c * factor
