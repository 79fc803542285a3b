"""Absorbing group dummies: weighted within-group centring of each segment's rows (numba).

For one regression per segment (a date) with one dummy per group (an industry), the
Frisch–Waugh–Lovell theorem gives the slopes and residuals of the full regression from the
regression, without intercept, of ``ỹ = y − ȳ_g`` on ``x̃ = x − x̄_g`` — the rows minus the
weighted means of their (segment, group) cell. :func:`centre_within` produces ``x̃``, ``ỹ``,
the cell means and weights, and each segment's centred total sum of squares of ``y`` (for R²),
in one kernel call over a range of segments. The means are two-pass (a mean, then the mean of
the deviations from it added back), so level data lose no digits.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit


@jit()
def centre_within(x, y, weights, codes, offsets, first, last, n_groups, xc, yc, means, cell_w, tss):
    """Centre the rows of segments ``first … last − 1`` within their groups.

    ``x`` (n × k), ``y`` (n): the walk rows; ``weights`` (n, or empty: all 1); ``codes`` (n):
    group of each row (−1: missing). A row is used when its group is known, ``y`` and every
    ``x`` are non-NaN and its weight is positive; the others get NaN in ``xc``/``yc``.
    Outputs: ``xc`` (n × k), ``yc`` (n); ``means`` (segments · n_groups × (k + 1)): the cell
    means of ``[x, y]``; ``cell_w``: the cells' weight sums (0: empty cell); ``tss``: per
    segment ``Σ w (y − ȳ)²`` over its used rows.
    """
    k = x.shape[1]
    p = k + 1
    has_w = weights.shape[0] > 0
    corr = np.empty((n_groups, p))
    for g in range(first, last):
        lo, hi = offsets[g], offsets[g + 1]
        base = g * n_groups
        for c in range(n_groups):
            cell_w[base + c] = 0.0
            for a in range(p):
                means[base + c, a] = 0.0
        # pass 1: weighted sums per cell
        for i in range(lo, hi):
            c = codes[i]
            w = weights[i] if has_w else 1.0
            ok = c >= 0 and w > 0.0 and not math.isnan(y[i])
            for a in range(k):
                if math.isnan(x[i, a]):
                    ok = False
            if not ok:
                yc[i] = np.nan
                for a in range(k):
                    xc[i, a] = np.nan
                continue
            yc[i] = 0.0  # marks the row as used
            cell_w[base + c] += w
            for a in range(k):
                means[base + c, a] += w * x[i, a]
            means[base + c, k] += w * y[i]
        for c in range(n_groups):
            if cell_w[base + c] > 0.0:
                for a in range(p):
                    means[base + c, a] /= cell_w[base + c]
        # pass 2: the mean deviation, added back (two-pass means)
        corr[:, :] = 0.0
        for i in range(lo, hi):
            if math.isnan(yc[i]):
                continue
            c = codes[i]
            w = weights[i] if has_w else 1.0
            for a in range(k):
                corr[c, a] += w * (x[i, a] - means[base + c, a])
            corr[c, k] += w * (y[i] - means[base + c, k])
        total_w = 0.0
        total_y = 0.0
        for c in range(n_groups):
            if cell_w[base + c] > 0.0:
                for a in range(p):
                    means[base + c, a] += corr[c, a] / cell_w[base + c]
                total_w += cell_w[base + c]
                total_y += cell_w[base + c] * means[base + c, k]
        mean_y = total_y / total_w if total_w > 0.0 else 0.0
        # pass 3: centred rows and the total sum of squares
        ss = 0.0
        for i in range(lo, hi):
            if math.isnan(yc[i]):
                continue
            c = codes[i]
            w = weights[i] if has_w else 1.0
            for a in range(k):
                xc[i, a] = x[i, a] - means[base + c, a]
            yc[i] = y[i] - means[base + c, k]
            d = y[i] - mean_y
            ss += w * d * d
        tss[g] = ss
