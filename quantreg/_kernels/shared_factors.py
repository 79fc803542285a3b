"""Factor cross-products computed once per date and shared by every asset (numba, no pandas).

For a regression of many assets on one factor table ``F`` (dates × k), the window of date ``b``
is the date range ``f_starts[b] … b``. :func:`shared_tables_kernel` walks ``F`` once with the
two-stack scheme of :mod:`quantreg._kernels.windows` on the *date* axis and keeps, per date:

- the factorisation of the window's factor cross-products (``fac``, ``fac_status``) and its
  count, weight and factor means (``fwin``);
- the coefficients of every update the walk makes — adding date ``j`` to a rebuilt front
  (``suf[j]``), adding date ``b`` to the back (``pre[b]``), merging front and back (``mrg[b]``):
  the weights, weight ratios and factor-mean differences, which are the same for all assets.

An asset whose window at ``b`` is exactly that date range with no missing row then needs only
its own part: the mean of its returns and their cross-products with the factors and with
themselves, ``(ȳ, C_fy, C_yy)``, carried through the *same* updates by
:func:`shared_records` — O(k) per row, no division — and combined into a moment record that
the shared factorisation solves. The arithmetic is the subtraction-free pairwise update of
:mod:`quantreg._kernels.moments`, so the result equals the asset's own full record up to
rounding.
"""

from __future__ import annotations

import functools

import numpy as np

from quantreg._kernels._jit import jit
from quantreg._kernels.moments import COUNT, MEAN, WEIGHT, add_point, clear, copy_record, merge, scale
from quantreg._kernels.ols_solve import factor_gram
from quantreg._kernels.windows import decay_steps, row_validity, segment_windows

#: ``kind[b]``: the walk rebuilt its front at ``b`` (the window is the front alone) …
REBUILD = 0
#: … or added ``b`` to the back (the window is front ⊕ back).
MERGE = 1
# asset walk state
LAST_DATE = 0
LAST_BAD = 1
FRONT_END = 2


def empty_tables(k: int) -> tuple:
    """The ``shared`` argument of the kernels when no factor table is shared."""
    return (
        np.empty(0), np.empty(0, dtype=np.int8), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int8),
        np.empty((0, 3 + k)), np.empty((0, 2 + k)), np.empty((0, 3 + k)), np.empty((0, 2 + k)),
    )


@functools.cache
def shared_tables_kernel(k: int):
    """``build(F, f_times, window, span, lam, add_const, want_inverse)`` → ``(fac, fac_status,
    f_starts, kind, pre, suf, mrg, fwin)`` for ``k`` factors (windows as the rolling kernels).

    ``fac_status[b]``: the :func:`~quantreg._kernels.ols_solve.factor_gram` code, -1 when a
    factor value in the window is NaN; ``pre[b] = [scale, c, r, δf…]`` (``scale`` 0: the back
    starts at ``b``); ``suf[j] = [c, r, δf…]``; ``mrg[b] = [φ, cross, ratio, δf…]``;
    ``fwin[b] = [count, W, f̄…]``. ``c``, ``r``: the factors ``w·W_old/W_new`` and
    ``w/W_new`` of a weighted Welford update, ``δf`` the factors minus the old means.
    """

    @jit()
    def build(F, f_times, window, span, lam, add_const, want_inverse):
        n_dates = F.shape[0]
        p = k + 1
        zeros = np.zeros(n_dates)  # placeholder regressand: only the factors' part is used
        no_rows = np.empty(0, dtype=np.int64)
        starts, pos = segment_windows(f_times, n_dates, window, span)
        steps = decay_steps(pos, lam)
        weighted = steps.shape[0] > 0
        valid, invalid_before, _, max_rows = row_validity(F, no_rows, zeros, 0, n_dates, starts, pos)
        rsize = MEAN + p + p * p
        suffix = np.zeros((max_rows, rsize))
        prefix = np.zeros((1, rsize))
        rec = np.zeros((1, rsize))
        z = np.zeros(p)
        size = 2 * k * k + 2 * k + 1  # L | 1/D | L⁻¹ | diag(S⁻¹), see ols_solve.factor_gram
        fac = np.zeros(n_dates * size)
        fac_status = np.empty(n_dates, dtype=np.int8)
        kind = np.empty(n_dates, dtype=np.int8)
        pre = np.zeros((n_dates, 3 + k))
        suf = np.zeros((n_dates, 2 + k))
        mrg = np.zeros((n_dates, 3 + k))
        fwin = np.zeros((n_dates, 2 + k))
        flip, base, front = 0, 0, 1.0
        for b in range(n_dates):
            s = starts[b]
            if s >= flip:  # rebuild the front over s … b, weights relative to b
                kind[b] = REBUILD
                clear(suffix, b - s)
                weight = 1.0
                for j in range(b, s - 1, -1):
                    if j < b:
                        copy_record(suffix, j - s, suffix, j - s + 1, p)
                        if weighted:
                            weight *= steps[j + 1]
                    if valid[j]:
                        w_old = suffix[j - s, WEIGHT]
                        for c in range(k):
                            suf[j, 2 + c] = F[j, c] - suffix[j - s, MEAN + c]
                            z[c] = F[j, c]
                        add_point(suffix, j - s, z, weight, p)
                        w_new = suffix[j - s, WEIGHT]
                        if w_new > 0.0:
                            suf[j, 0] = weight * w_old / w_new
                            suf[j, 1] = weight / w_new
                flip, base, front = b + 1, s, 1.0
                clear(prefix, 0)
                copy_record(rec, 0, suffix, 0, p)
            else:  # add b to the back and merge it with the front
                kind[b] = MERGE
                if b == flip:
                    pre[b, 0] = 0.0
                else:
                    pre[b, 0] = steps[b] if weighted else 1.0
                    if weighted:
                        scale(prefix, 0, steps[b], p)
                if weighted:
                    front *= steps[b]
                if valid[b]:
                    w_old = prefix[0, WEIGHT]
                    for c in range(k):
                        pre[b, 3 + c] = F[b, c] - prefix[0, MEAN + c]
                        z[c] = F[b, c]
                    add_point(prefix, 0, z, 1.0, p)
                    w_new = prefix[0, WEIGHT]
                    pre[b, 1] = w_old / w_new
                    pre[b, 2] = 1.0 / w_new
                a = s - base
                w_a = suffix[a, WEIGHT] * front
                w_b = prefix[0, WEIGHT]
                mrg[b, 0] = front
                if w_a > 0.0 and w_b > 0.0:
                    mrg[b, 1] = w_a * w_b / (w_a + w_b)
                    mrg[b, 2] = w_b / (w_a + w_b)
                else:
                    mrg[b, 2] = 1.0 if w_a <= 0.0 else 0.0
                for c in range(k):
                    mrg[b, 3 + c] = prefix[0, MEAN + c] - suffix[a, MEAN + c]
                merge(rec, 0, suffix, a, front, prefix, 0, p)
            fwin[b, 0] = rec[0, COUNT]
            fwin[b, 1] = rec[0, WEIGHT]
            for c in range(k):
                fwin[b, 2 + c] = rec[0, MEAN + c]
            if invalid_before[b + 1] - invalid_before[s] > 0:
                fac_status[b] = -1
            else:
                fac_status[b] = factor_gram(rec, 0, k, add_const, want_inverse, fac, b * size)
        return fac, fac_status, starts, kind, pre, suf, mrg, fwin

    return build


@jit(inline=True)
def shared_records(
    t0, t1, frow, y, valid, f_starts, kind, pre, suf, mrg, fwin, fac_status, state, y_front, y_back,
    states, fac_rows, records, k,
):
    """Carry the asset's ``(ȳ, C_fy, C_yy)`` through the shared walk's updates at its rows
    ``t0 … t1 − 1`` (dates ``frow[t]``) and, for each row whose window is to be solved
    (``states[t − t0] == 0``) and is exactly the shared date range with no missing row, write
    its moment record in ``records[t − t0]`` and its date in ``fac_rows[t − t0]`` (-1 for
    the others). Chunks must be consecutive and start at row 0.

    ``state[LAST_BAD]`` is the last date up to the current one at which the asset has no valid
    row (a date before its first row, a gap, a missing return): a window is shareable only if
    it starts after it. ``y_front[e − j]`` is the front from date ``j`` to the last rebuild
    ``e`` (``state[FRONT_END]``), ``y_back`` the back. One call per chunk, not per row: a call
    with this many arrays costs reference counting comparable to the row's arithmetic.
    """
    p = k + 1
    cov = MEAN + p
    for t in range(t0, t1):
        ri = t - t0
        b = frow[t]
        if t == 0 or b > state[LAST_DATE] + 1:
            state[LAST_BAD] = b - 1
        if not valid[t]:
            state[LAST_BAD] = b
        state[LAST_DATE] = b
        if kind[b] == REBUILD:
            s = f_starts[b]
            mean = 0.0
            cyy = 0.0
            m = 0
            u = t
            j = b
            while j >= s and u >= 0 and frow[u] == j and valid[u]:
                dy = y[u] - mean
                cj = suf[j, 0]
                for c in range(k):
                    previous = y_front[m - 1, 1 + c] if m > 0 else 0.0
                    y_front[m, 1 + c] = previous + cj * suf[j, 2 + c] * dy
                cyy += cj * dy * dy
                mean += suf[j, 1] * dy
                y_front[m, 0] = mean
                y_front[m, 1 + k] = cyy
                m += 1
                u -= 1
                j -= 1
            state[FRONT_END] = b
        elif valid[t]:
            if pre[b, 0] == 0.0:
                for c in range(k + 2):
                    y_back[c] = 0.0
            elif pre[b, 0] != 1.0:
                for c in range(1, k + 2):
                    y_back[c] *= pre[b, 0]
            dy = y[t] - y_back[0]
            cb = pre[b, 1]
            for c in range(k):
                y_back[1 + c] += cb * pre[b, 3 + c] * dy
            y_back[1 + k] += cb * dy * dy
            y_back[0] += pre[b, 2] * dy
        fac_rows[ri] = -1
        if states[ri] != 0 or fac_status[b] < 0 or state[LAST_BAD] >= f_starts[b]:
            continue
        fac_rows[ri] = b
        a = state[FRONT_END] - f_starts[b]
        records[ri, COUNT] = fwin[b, 0]
        records[ri, WEIGHT] = fwin[b, 1]
        for c in range(k):
            records[ri, MEAN + c] = fwin[b, 2 + c]
        if kind[b] == REBUILD:
            records[ri, MEAN + k] = y_front[a, 0]
            for c in range(k):
                records[ri, cov + c * p + k] = y_front[a, 1 + c]
            records[ri, cov + k * p + k] = y_front[a, 1 + k]
            continue
        phi, cross, ratio = mrg[b, 0], mrg[b, 1], mrg[b, 2]
        dy = y_back[0] - y_front[a, 0]
        records[ri, MEAN + k] = y_front[a, 0] + ratio * dy
        for c in range(k):
            records[ri, cov + c * p + k] = phi * y_front[a, 1 + c] + y_back[1 + c] + cross * mrg[b, 3 + c] * dy
        records[ri, cov + k * p + k] = phi * y_front[a, 1 + k] + y_back[1 + k] + cross * dy * dy
