"""The one segment walk: every row's window statistics, exact, chunk by chunk (numba, no pandas).

**Records.** The statistics of a set of rows ``z_i = [x_i, y_i]`` (``p = k + 1`` variables) with
weights ``w_i`` are one *record*, a column of a ``(record_size(p), m)`` float64 buffer:

``[W, mean_0 … mean_{p−1}, C_00, C_01 … C_0,p−1, C_11 … C_p−1,p−1]``

with ``W = Σ w_i``, ``mean = Σ w_i z_i / W`` and ``C = Σ w_i (z_i − mean)(z_i − mean)ᵀ``, the
upper triangle packed row by row (``C_ab``, ``a ≤ b``, at :func:`cov_at` ``(p, a) + b − a``).
The number of rows is not stored: it is known from the window bounds.
:class:`quantreg.selection.gram.GramStats` holds the same record.

**Merging without subtraction.** Two records combine by the pairwise update of Chan, Golub &
LeVeque (1979): ``W = W_a + W_b``, ``δ = mean_b − mean_a``, ``mean = mean_a + δ·W_b/W``,
``C = C_a + C_b + (W_a W_b / W)·δδᵀ``. Only non-negative terms are added on the diagonal, so no
digits are lost to cancellation however large the level of the data; adding one row is the
same update with ``W_b = w`` (weighted Welford). Scaling every weight by ``s`` multiplies ``W``
and ``C`` and keeps the mean.

**The two-stack walk.** The window of row ``t`` is the rows ``starts[t] … t`` of its segment
(row windows: the last ``window`` rows; calendar windows: the rows within ``span`` time units).
Window starts never move backwards, so each window is the merge of two records:

- the *front*: when a window starts at or after the current ``flip`` row, the records of rows
  ``j … t`` for every ``j`` of the new window ``s … t`` are built in one backward pass, and
  ``flip`` becomes ``t + 1``;
- the *back*: the rows ``flip … t``, accumulated forwards.

Row ``t``'s window is ``front[starts[t]] ⊕ back[t]``: amortised O(p²) per row, for fixed,
expanding and calendar windows alike, each window as exact as a two-pass computation on its
own rows. Exponential weights ``lam ** age`` are carried by scaling: the front's records are
weighted relative to their last row ``flip − 1`` and aged by ``φ`` at the merge, the back
relative to the current row.

**Chunks.** :func:`walk_chunk` produces the window records of rows ``t0 … t1 − 1`` at once, as
the columns of an ``(record_size(p), CHUNK)`` buffer, so that finishers solve a chunk of windows
with loops whose innermost index is the window (vectorised whatever ``k`` is: the number of
regressors is a run-time argument, never a compile-time constant). Rows not needed are skipped
(the walk catches up at the next needed one); their columns hold unspecified values.
"""

from __future__ import annotations

import math

import numpy as np

from quantreg._kernels._jit import jit

#: Rows whose window records are produced per call of :func:`walk_chunk`.
CHUNK = 256
#: Columns of the chunk buffers: CHUNK plus padding, so that the rows of a buffer do not fall
#: into the same cache sets (a row stride of exactly 2 KiB makes them collide).
CHUNK_COLS = CHUNK + 8

#: Position of the weight sum and of the first mean in a record.
WEIGHT = 0
MEAN = 1

# walk state (an int64 array): the flip row, the row of front column 0, the last row in the back
FLIP = 0
BASE = 1
LAST = 2


@jit()
def record_size(p: int) -> int:
    """Entries of a record of ``p`` variables: the weight, ``p`` means, ``p(p+1)/2`` cross-products."""
    return 1 + p + p * (p + 1) // 2


@jit()
def cov_at(p: int, a: int) -> int:
    """Position of ``C_aa`` in a record of ``p`` variables (``C_ab`` is at ``cov_at(p, a) + b − a``)."""
    return 1 + p + a * p - (a * (a - 1)) // 2


@jit()
def new_segments(longest: int):
    """Per-segment scratch for segments of up to ``longest`` rows:
    ``(starts, pos, valid, invalid_before, pos_before, steps)`` (see :func:`segment_setup`)."""
    return (
        np.empty(longest, dtype=np.int64), np.empty(longest, dtype=np.int64),
        np.empty(longest, dtype=np.bool_), np.empty(longest + 1, dtype=np.int64),
        np.empty(longest + 1), np.empty(longest),
    )


@jit()
def segment_setup(x, xrow, y, start, length, times, window, span, lam, seg):
    """Fill ``seg`` (:func:`new_segments`) for the segment of ``length`` rows at data row
    ``start`` and return its longest window (rows).

    - ``starts[t]``: first row of row ``t``'s window: ``max(0, t − window + 1)`` (``span == 0``),
      or the first row with ``times[t] − span < times[j]`` (calendar windows over the segment's
      int64 ``times``); ``pos[t]``: ``t``, or ``times[t] − times[0]`` (ages of the weights);
    - ``valid[t]``: y and every regressor of row ``t`` are non-NaN;
    - ``invalid_before[t]``, ``pos_before[t]``: invalid rows and Σ ``pos`` of valid rows before
      ``t`` (the missing count and the age sum of any window);
    - ``steps[t] = lam ** (pos[t] − pos[t − 1])``, the factor that ages weights by one row.
    """
    starts, pos, valid, invalid_before, pos_before, steps = seg
    k = x.shape[1]
    identity = xrow.shape[0] == 0
    invalid_before[0] = 0
    pos_before[0] = 0.0
    first = 0
    longest = 1
    for t in range(length):
        if span > 0:
            while times[t] - times[first] >= span:
                first += 1
            pos[t] = times[t] - times[0]
        else:
            first = t - window + 1 if t >= window else 0
            pos[t] = t
        starts[t] = first
        if t - first + 1 > longest:
            longest = t - first + 1
        row = start + t
        xr = row if identity else xrow[row]
        ok = not math.isnan(y[row])
        for c in range(k):
            if math.isnan(x[xr, c]):
                ok = False
        valid[t] = ok
        invalid_before[t + 1] = invalid_before[t] + (0 if ok else 1)
        pos_before[t + 1] = pos_before[t] + (pos[t] if ok else 0)
        steps[t] = 1.0 if t == 0 or lam == 1.0 else lam ** (pos[t] - pos[t - 1])
    return longest


@jit()
def new_walk(max_rows: int, p: int):
    """Buffers of a walk over windows of up to ``max_rows`` rows:
    ``(front, back, state, fstate, idx, cols, delta, gather, cur, z)``.

    ``front`` (record × max_rows): the suffix records, column ``j − BASE``; ``back`` (record ×
    chunk): the back record of each chunk row; ``state``: :data:`FLIP`, :data:`BASE`,
    :data:`LAST`; ``fstate[0]``: the factor that ages the front to the last row in the back;
    ``idx``: front column of each chunk row's window; ``cols``: per chunk row, the front's age
    factor, and the merge's cross factor and back share; ``delta``: merge scratch; ``cur``: the
    record being accumulated; ``z``: one row.
    """
    size = record_size(p)
    state = np.empty(3, dtype=np.int64)
    state[FLIP] = 0
    state[BASE] = 0
    state[LAST] = -1
    fstate = np.empty(1)
    fstate[0] = 1.0
    return (
        np.empty((size, max_rows + 8)), np.empty((size, CHUNK_COLS)), state, fstate,
        np.empty(CHUNK, dtype=np.int64), np.empty((3, CHUNK_COLS)), np.empty((p, CHUNK_COLS)),
        np.empty((size, CHUNK_COLS)), np.empty(size), np.empty(p),
    )


@jit()
def begin_segment(x, xrow, y, offsets, g, times, window, span, lam, seg, walk):
    """Start segment ``g``: fill ``seg`` (:func:`segment_setup`; ``times``: all rows' time units,
    or empty) and reset the walk; returns the segment's first data row and length."""
    start = offsets[g]
    length = offsets[g + 1] - start
    seg_times = times[start:start + length] if times.shape[0] > 0 else times
    segment_setup(x, xrow, y, start, length, seg_times, window, span, lam, seg)
    state = walk[2]
    state[FLIP] = 0
    state[BASE] = 0
    state[LAST] = -1
    return start, length


@jit()
def walk_chunk(x, xrow, y, start, seg, t0, t1, need, weighted, walk, out, k):
    """Window records of the rows ``t0 … t1 − 1`` of the segment at data row ``start`` that
    ``need[t − t0]``, into ``out[:, t − t0]`` (``weighted``: exponential weights, ``lam != 1``).

    ``x[xrow[row]]`` (or ``x[row]`` when ``xrow`` is empty) holds the regressors of data row
    ``row``; ``seg`` and ``walk``: prepared by :func:`begin_segment`. Chunks must come in order.
    """
    starts, _, valid, _, _, steps = seg
    front, back, state, fstate, idx, cols, delta, gather, cur, z = walk
    p = k + 1
    size = cur.shape[0]
    identity = xrow.shape[0] == 0
    t = t0
    while t < t1:
        if not need[t - t0]:
            t += 1
            continue
        s = starts[t]
        rebuild = s >= state[FLIP]
        if rebuild:  # the front is used up: records of rows j … t for every j of this window
            first, stop, step, buf = t, s - 1, -1, front
            last_needed = t
        else:  # this and the following rows that share the front: extend the back
            last_needed = t
            u = t
            while u < t1 and (not need[u - t0] or starts[u] < state[FLIP]):
                if need[u - t0]:
                    last_needed = u
                u += 1
            first, stop, step, buf = state[LAST] + 1, last_needed + 1, 1, back
        if rebuild or first == state[FLIP]:
            for e in range(size):
                cur[e] = 0.0
        if rebuild:
            fstate[0] = 1.0
        weight = 1.0
        for j in range(first, stop, step):
            if weighted:
                if rebuild:  # an older row: its weight relative to row t
                    if j < t:
                        weight *= steps[j + 1]
                else:  # age the back (and the front) by one row
                    fstate[0] *= steps[j]
                    cur[WEIGHT] *= steps[j]
                    for e in range(MEAN + p, size):
                        cur[e] *= steps[j]
            if valid[j]:  # weighted Welford update of cur with row j
                row = start + j
                xr = row if identity else xrow[row]
                w_old = cur[WEIGHT]
                w_new = w_old + weight
                cur[WEIGHT] = w_new
                ratio = weight / w_new
                factor = w_old * ratio
                for c in range(k):  # z = the row minus the current means
                    z[c] = x[xr, c] - cur[MEAN + c]
                z[k] = y[row] - cur[MEAN + k]
                for a in range(p):
                    cur[MEAN + a] += z[a] * ratio
                e = MEAN + p
                for a in range(p):
                    d_a = factor * z[a]
                    for b in range(a, p):
                        cur[e] += d_a * z[b]
                        e += 1
            col = j - s if rebuild else j - t0
            if col >= 0:
                for e in range(size):
                    buf[e, col] = cur[e]
                if not rebuild:
                    idx[col] = starts[j] - state[BASE]
                    cols[0, col] = fstate[0]
        if rebuild:
            state[FLIP] = t + 1
            state[BASE] = s
            state[LAST] = t
            for e in range(size):
                out[e, t - t0] = front[e, 0]
            t += 1
            continue
        state[LAST] = last_needed
        # merge: out[:, c] = front[:, idx[c]] aged by φ ⊕ back[:, c], over 1-D views of the
        # columns c0 … c1 − 1 (contiguous, so that the loops vectorise)
        c0, c1 = t - t0, last_needed + 1 - t0
        n = c1 - c0
        off = idx[c0]
        for c in range(c0 + 1, c1):
            if idx[c] != off + c - c0:
                off = -1  # not consecutive (calendar windows): gather the front's columns
                break
        if off < 0:
            src = gather
            for e in range(size):
                for c in range(c0, c1):
                    gather[e, c] = front[e, idx[c]]
            off = c0
        else:
            src = front
        phi = cols[0, c0:c1]
        cross = cols[1, c0:c1]
        share = cols[2, c0:c1]
        f_w = src[WEIGHT, off:off + n]
        b_w = back[WEIGHT, c0:c1]
        o_w = out[WEIGHT, c0:c1]
        for c in range(n):
            w_a = f_w[c] * phi[c]
            w = w_a + b_w[c]
            inv_w = 1.0 / w if w > 0.0 else 0.0
            o_w[c] = w
            cross[c] = w_a * b_w[c] * inv_w
            share[c] = b_w[c] * inv_w
        for a in range(p):
            f_m = src[MEAN + a, off:off + n]
            b_m = back[MEAN + a, c0:c1]
            o_m = out[MEAN + a, c0:c1]
            d_m = delta[a, c0:c1]
            for c in range(n):
                d = b_m[c] - f_m[c]
                d_m[c] = d
                o_m[c] = f_m[c] + d * share[c]
        e = MEAN + p
        for a in range(p):
            d_a = delta[a, c0:c1]
            for b in range(a, p):
                d_b = delta[b, c0:c1]
                f_c = src[e, off:off + n]
                b_c = back[e, c0:c1]
                o_c = out[e, c0:c1]
                for c in range(n):
                    o_c[c] = f_c[c] * phi[c] + b_c[c] + cross[c] * d_a[c] * d_b[c]
                e += 1
        t = last_needed + 1
