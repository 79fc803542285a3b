"""Rolling regressions of many assets on one shared factor table (numba, no pandas).

The factor table ``F`` (``T`` dates × ``k`` factors, in time order) is never broadcast onto the
panel: :func:`quantreg._kernels.shared_factors.shared_tables_kernel` walks it once and keeps,
for the window of every date, the factorisation of its factor cross-products and the
coefficients that let each asset carry its own part.

Per asset, :func:`gather_segment` collects the asset's rows (returns, caller positions, factor
rows) into small local arrays, and :func:`quantreg._kernels.rolling.roll_segment` runs with
``x = F`` addressed through the factor rows. A window that is exactly a shared date range with
no missing row needs only the asset-specific part (O(k) per row) and the shared factorisation;
any other window (gaps, missing values, the first rows of a late-listed asset) is computed from
its own full record, exactly as on a broadcast panel.

Two layouts of the returns are read in place:

- *long*: values in the caller's row order; asset ``g`` is rows ``perm[offsets[g] …
  offsets[g+1]]``, with date codes ``date_code`` mapped to factor rows by ``fmap``;
- *wide*: a ``(n_dates, n_cols)`` matrix, flat, cell ``(d, g)`` at ``d·row_stride +
  g·col_stride`` (C or Fortran order: pandas' own layout is read without a copy); asset ``g`` is
  column ``g``, its rows the non-NaN cells in time order ``date_order`` (a NaN cell is no row),
  ``fmap[d]`` the factor row of matrix row ``d``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.rolling import roll_segment


@jit()
def gather_segment(g, yv, offsets, perm, date_code, fmap, row_stride, col_stride, date_order, f_times, calendar):
    """Asset ``g``'s rows: ``(dest, prow, frow, y, times)`` — output position of the per-row
    scalars (caller row, or matrix cell of a wide frame), output row of the coefficients, factor
    row, return, and time (calendar windows only)."""
    length = offsets[g + 1] - offsets[g]
    dest = np.empty(length, dtype=np.int64)
    frow = np.empty(length, dtype=np.int64)
    y = np.empty(length)
    if row_stride == 0:
        for t in range(length):
            q = perm[offsets[g] + t]
            dest[t] = q
            frow[t] = fmap[date_code[q]]
            y[t] = yv[q]
        prow = dest
    else:
        t = 0
        for d in date_order:
            q = d * row_stride + g * col_stride
            if not math.isnan(yv[q]):
                dest[t] = q
                frow[t] = fmap[d]
                y[t] = yv[q]
                t += 1
        prow = np.arange(offsets[g], offsets[g] + length)
    times = np.empty(length if calendar else 0, dtype=np.int64)
    for t in range(times.shape[0]):
        times[t] = f_times[frow[t]]
    return dest, prow, frow, y, times


@functools.cache
def factor_ols_kernel(k: int):
    """The shared-factor rolling OLS kernel for ``k`` factors.

    ``kernel(F, f_times, yv, offsets, perm, date_code, fmap, row_stride, col_stride, date_order,
    first, last, opts, kernel_weights, shared, outs)`` processes assets ``first:last`` (layouts in the module
    docstring; ``opts`` and ``outs`` as :func:`quantreg._kernels.rolling.rolling_ols_kernel`).
    ``resid``, ``fitted``, ``nobs`` and ``status`` are written at the caller rows (long) or the
    matrix cells (wide); ``params``, ``bse`` and ``stats`` at the caller rows (long) or in
    asset-major order (wide).
    """

    @jit()
    def kernel(
        F, f_times, yv, offsets, perm, date_code, fmap, row_stride, col_stride, date_order, first, last, opts,
        kernel_weights, shared, outs,
    ):
        calendar = opts[1] > 0
        for g in range(first, last):
            dest, prow, frow, y, times = gather_segment(
                g, yv, offsets, perm, date_code, fmap, row_stride, col_stride, date_order, f_times, calendar
            )
            roll_segment(F, frow, y, 0, y.shape[0], times, dest, prow, shared, opts, kernel_weights, outs, k)

    return kernel
