"""Weighted window moments stored in one flat float64 array, merged without subtraction.

A *moment record* (a row of a 2-D buffer) describes a set of rows ``z_i`` (here ``z = [x_1, …, x_k, y]``, ``p = k + 1``)
with weights ``w_i`` by

``[count, W, mean_0 … mean_{p-1}, C_00 … C_{p-1,p-1}]``

where ``W = Σ w_i``, ``mean = Σ w_i z_i / W`` and ``C = Σ w_i (z_i − mean)(z_i − mean)ᵀ`` (row
major, only the upper triangle ``i ≤ j`` is maintained). Records are combined with the pairwise
update of Chan, Golub & LeVeque (1979):

``W = W_a + W_b``, ``δ = mean_b − mean_a``, ``mean = mean_a + δ·W_b/W``,
``C = C_a + C_b + (W_a W_b / W)·δδᵀ``

which only adds non-negative terms on the diagonal: no digits are lost to cancellation however
large the level of the data, which is what the raw add/subtract updates of other rolling tools
get wrong. Scaling a record's weights by ``s`` multiplies ``W`` and ``C`` and keeps the mean.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit

COUNT = 0
WEIGHT = 1
MEAN = 2


def record_size(p: int) -> int:
    """Length of the flat record for ``p`` variables."""
    return MEAN + p + p * p


@jit(inline=True)
def clear(buf: np.ndarray, i: int) -> None:
    """Make record ``buf[i]`` the record of the empty set."""
    for c in range(buf.shape[1]):
        buf[i, c] = 0.0


@jit(inline=True)
def copy_record(out: np.ndarray, oi: int, src: np.ndarray, si: int, p: int) -> None:
    """``out[oi] = src[si]`` (the count, weight, means and the maintained cross-products)."""
    for c in range(MEAN + p):
        out[oi, c] = src[si, c]
    cov = MEAN + p
    for a in range(p):
        row = cov + a * p
        for b in range(a, p):
            out[oi, row + b] = src[si, row + b]


@jit(inline=True)
def add_point(buf: np.ndarray, i: int, z: np.ndarray, weight: float, p: int) -> None:
    """Add one row ``z`` with weight ``weight`` to record ``buf[i]`` (weighted Welford update)."""
    w_old = buf[i, WEIGHT]
    w_new = w_old + weight
    buf[i, COUNT] += 1.0
    buf[i, WEIGHT] = w_new
    if w_new <= 0.0:
        return
    inv_w = 1.0 / w_new  # one division per update: they dominate the cost of a row
    factor = weight * w_old * inv_w
    cov = MEAN + p
    if factor != 0.0:
        for a in range(p):
            d_a = factor * (z[a] - buf[i, MEAN + a])
            row = cov + a * p
            for b in range(a, p):
                buf[i, row + b] += d_a * (z[b] - buf[i, MEAN + b])
    ratio = weight * inv_w
    for a in range(p):
        buf[i, MEAN + a] += (z[a] - buf[i, MEAN + a]) * ratio


@jit(inline=True)
def scale(buf: np.ndarray, i: int, factor: float, p: int) -> None:
    """Multiply every weight of record ``buf[i]`` by ``factor`` (the means do not change)."""
    buf[i, WEIGHT] *= factor
    cov = MEAN + p
    for a in range(p):
        row = cov + a * p
        for b in range(a, p):
            buf[i, row + b] *= factor


@jit(inline=True)
def merge(
    out: np.ndarray, oi: int, a: np.ndarray, ai: int, a_factor: float, b: np.ndarray, bi: int, p: int
) -> None:
    """``out[oi]`` = record ``a[ai]`` (weights scaled by ``a_factor``) united with ``b[bi]``.

    Records are addressed as (buffer, row) pairs rather than row views: creating a view costs
    as much as the merge itself in the kernels' inner loops.
    """
    w_a = a[ai, WEIGHT] * a_factor
    w_b = b[bi, WEIGHT]
    w = w_a + w_b
    out[oi, COUNT] = a[ai, COUNT] + b[bi, COUNT]
    out[oi, WEIGHT] = w
    cov = MEAN + p
    if w_a <= 0.0 or w_b <= 0.0:
        use_b = w_a <= 0.0
        factor = 1.0 if use_b else a_factor
        for c in range(p):
            out[oi, MEAN + c] = b[bi, MEAN + c] if use_b else a[ai, MEAN + c]
            row = cov + c * p
            for d in range(c, p):
                out[oi, row + d] = (b[bi, row + d] if use_b else a[ai, row + d]) * factor
        return
    inv_w = 1.0 / w
    cross = w_a * w_b * inv_w
    ratio = w_b * inv_w
    for c in range(p):
        d_c = cross * (b[bi, MEAN + c] - a[ai, MEAN + c])
        row = cov + c * p
        for d in range(c, p):
            out[oi, row + d] = a[ai, row + d] * a_factor + b[bi, row + d] + d_c * (b[bi, MEAN + d] - a[ai, MEAN + d])
    for c in range(p):
        out[oi, MEAN + c] = a[ai, MEAN + c] + (b[bi, MEAN + c] - a[ai, MEAN + c]) * ratio
