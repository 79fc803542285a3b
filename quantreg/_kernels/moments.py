"""Weighted window moments stored in one flat float64 array, merged without subtraction.

A *moment record* describes a set of rows ``z_i`` (here ``z = [x_1, …, x_k, y]``, ``p = k + 1``)
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


@jit()
def clear(rec: np.ndarray) -> None:
    """Make ``rec`` the record of the empty set."""
    rec[:] = 0.0


@jit()
def add_point(rec: np.ndarray, z: np.ndarray, weight: float, p: int) -> None:
    """Add one row ``z`` with weight ``weight`` to ``rec`` (weighted Welford update)."""
    w_old = rec[WEIGHT]
    w_new = w_old + weight
    rec[COUNT] += 1.0
    rec[WEIGHT] = w_new
    if w_new <= 0.0:
        return
    factor = weight * w_old / w_new
    cov = MEAN + p
    ratio = weight / w_new
    for i in range(p):
        d_i = z[i] - rec[MEAN + i]
        if factor != 0.0:
            row = cov + i * p
            for j in range(i, p):
                rec[row + j] += factor * d_i * (z[j] - rec[MEAN + j])
    for i in range(p):
        rec[MEAN + i] += (z[i] - rec[MEAN + i]) * ratio


@jit()
def scale(rec: np.ndarray, factor: float, p: int) -> None:
    """Multiply every weight of the record by ``factor`` (the means do not change)."""
    rec[WEIGHT] *= factor
    cov = MEAN + p
    for i in range(p):
        row = cov + i * p
        for j in range(i, p):
            rec[row + j] *= factor


@jit()
def merge(out: np.ndarray, a: np.ndarray, a_factor: float, b: np.ndarray, p: int) -> None:
    """Write into ``out`` the record of ``a`` (weights scaled by ``a_factor``) united with ``b``."""
    w_a = a[WEIGHT] * a_factor
    w_b = b[WEIGHT]
    w = w_a + w_b
    out[COUNT] = a[COUNT] + b[COUNT]
    out[WEIGHT] = w
    cov = MEAN + p
    if w_a <= 0.0 or w_b <= 0.0:
        src = b if w_a <= 0.0 else a
        src_factor = 1.0 if w_a <= 0.0 else a_factor
        for i in range(p):
            out[MEAN + i] = src[MEAN + i]
            row = cov + i * p
            for j in range(i, p):
                out[row + j] = src[row + j] * src_factor
        return
    cross = w_a * w_b / w
    ratio = w_b / w
    for i in range(p):
        d_i = b[MEAN + i] - a[MEAN + i]
        row = cov + i * p
        for j in range(i, p):
            d_j = b[MEAN + j] - a[MEAN + j]
            out[row + j] = a[row + j] * a_factor + b[row + j] + cross * d_i * d_j
    for i in range(p):
        out[MEAN + i] = a[MEAN + i] + (b[MEAN + i] - a[MEAN + i]) * ratio
