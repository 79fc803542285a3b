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

**Shifted coordinates.** Rows are read minus a reference row (the latest complete row of the
window that last rebuilt the front), so that the updates run at the scale of the rows' spread,
not of their level: at ``x = 1e8 + 1e-3·ε`` the records are as exact as at ``x = ε``. Output
records hold the means in the caller's coordinates (the shift added back).

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
relative to the current row. Row weights (WLS) multiply them: row ``j`` enters with weight
``row_weight_j · lam ** age_j`` (``segf[RW]``; 1 without row weights, so the unweighted walk is
unchanged to the bit).

**Chunks.** :func:`walk_chunk` produces the window records of rows ``t0 … t1 − 1`` at once, as
the columns of an ``(record_size(p), CHUNK_COLS)`` buffer, so that finishers solve a chunk of
windows with loops whose innermost index is the window (vectorised whatever ``k`` is: the
number of regressors is a run-time argument, never a compile-time constant). Rows not needed
are skipped (the walk catches up at the next needed one); their columns hold unspecified values.

**Scratch.** A walk needs a handful of arrays, allocated once per kernel call by the engine
(:func:`quantreg.engine.workspace`) and passed flat — numba compiles nested tuples of arrays
slowly: ``seg`` (int64, 4 rows) and ``segf`` (float64, 4 rows) describe the current segment
(:func:`begin_segment`); ``front`` holds the suffix records; ``work`` the back records, the
merge's scratch and per-row factors; ``cur`` one row minus a record's means, the front's age
factor and the shift; ``istate`` the walk's position (:data:`FLIP`, :data:`BASE`,
:data:`LAST`) and each chunk row's front column.

**Records built in place.** Each row's record is written once, in its own column, from the
column of the row before it: the front's ``front[:, j − s]`` from ``front[:, j − s + 1]``
(backwards from an empty column above the window's last row), the back's ``work[:, j − t0]``
from ``work[:, j − t0 − 1]`` (the column :data:`BACK` carries the back from chunk to chunk and
takes the rows before a chunk). One read and one write per entry, where accumulating in a
scratch record and copying it out would write every entry twice — the walk is bound by its
stores.
"""

from __future__ import annotations

import math

from numba import uint64

from quantreg._kernels._jit import jit

#: Rows whose window records are produced per call of :func:`walk_chunk`.
CHUNK = 256
#: Columns of the chunk buffers: CHUNK plus padding, so that the rows of a buffer do not fall
#: into the same cache sets (a row stride of exactly 2 KiB makes them collide).
CHUNK_COLS = CHUNK + 8
#: The column of ``work`` that carries the back's record from chunk to chunk.
BACK = CHUNK_COLS - 1

#: Position of the weight sum and of the first mean in a record.
WEIGHT = 0
MEAN = 1

# rows of ``seg`` (int64) and ``segf`` (float64), see begin_segment
STARTS = 0
POS = 1
INVALID_BEFORE = 2
VALID = 3
POS_BEFORE = 0
STEPS = 1
RW = 2
LOGW_BEFORE = 3
LARGEST = 4

#: ``cur``: one row minus a record's means at ``Z … Z + p − 1``, then the front's age factor
#: (``p``) and the shift (``p + 1 … 2p``).
Z = 0

# ``istate``: the flip row, the row of front column 0, the last row in the back, then per chunk
# row the front column of its window
FLIP = 0
BASE = 1
LAST = 2
IDX = 3


@jit(python=False)
def record_size(p: int) -> int:
    """Entries of a record of ``p`` variables: the weight, ``p`` means, ``p(p+1)/2`` cross-products."""
    return 1 + p + p * (p + 1) // 2


@jit(python=False)
def cov_at(p: int, a: int) -> int:
    """Position of ``C_aa`` in a record of ``p`` variables (``C_ab`` is at ``cov_at(p, a) + b − a``)."""
    return 1 + p + a * p - (a * (a - 1)) // 2


@jit(inline="always")
def read_shift(x, xrow, y, start, seg, s, t, k, out, at):
    """The latest complete row of segment rows ``s … t`` (``[x, y]``) into ``out[at … at + k]``
    (zeros when there is none): the reference of the shifted coordinates."""
    for a in range(k + 1):
        out[at + a] = 0.0
    for j in range(t, s - 1, -1):
        if seg[VALID, j]:
            row = start + j
            xr = row if xrow.shape[0] == 0 else xrow[row]
            for c in range(k):
                out[at + c] = x[xr, c]
            out[at + k] = y[row]
            return


@jit(python=False, address=True)
def begin_segment(x, xrow, y, offsets, g, times, window, span, lam, row_weights, seg, segf, istate):
    """Start segment ``g``: describe it in ``seg`` and ``segf``, reset the walk (``istate``),
    return its first data row and its length. ``times``: all walk rows' time units (calendar
    windows), or empty; ``row_weights``: all walk rows' weights, or empty (every weight 1).
    For each segment row ``t``:

    - ``seg[STARTS, t]``: first row of its window: ``max(0, t − window + 1)`` (``span == 0``),
      or the first row with ``times[t] − span < times[j]`` (calendar windows);
      ``seg[POS, t]``: ``t``, or ``times[t] − times[0]`` (ages of the weights);
    - ``seg[VALID, t]``: 1 when y and every regressor of the row are non-NaN and its row
      weight is positive (a NaN, zero or negative weight makes the row missing);
    - ``seg[INVALID_BEFORE, t]``, ``segf[POS_BEFORE, t]``: invalid rows and Σ ``pos`` of valid
      rows before ``t`` (the missing count and the age sum of any window);
    - ``segf[STEPS, t] = lam ** (pos[t] − pos[t − 1])``, the factor that ages weights by one row;
    - ``segf[RW, t]``: the row's weight (1 without row weights), which multiplies its
      exponential weight, and ``segf[LOGW_BEFORE, t]``: Σ log of the row weights of the valid
      rows before ``t`` (0 without row weights).

    ``segf[LARGEST, c]`` (``c < k``: regressor ``c``, ``c = k``: ``y``) grows to the largest
    magnitude met in the segments begun so far (NaN ignored; the engine zeroes it once per
    kernel call): whether a column needs rescaling is known without another pass over the data.
    """
    start = offsets[g]
    length = offsets[g + 1] - start
    t_first = start if times.shape[0] > 0 else 0
    istate[FLIP] = 0
    istate[BASE] = 0
    istate[LAST] = -1
    k = x.shape[1]
    identity = xrow.shape[0] == 0
    has_rw = row_weights.shape[0] > 0
    n_invalid = 0  # running sums kept in registers, stored once per row
    pos_sum = 0.0
    logw_sum = 0.0
    seg[INVALID_BEFORE, 0] = 0
    segf[POS_BEFORE, 0] = 0.0
    segf[LOGW_BEFORE, 0] = 0.0
    first = 0
    prev_pos = 0
    for t in range(length):
        if span > 0:
            while times[t_first + t] - times[t_first + first] >= span:
                first += 1
            pos = times[t_first + t] - times[t_first]
        else:
            first = t - window + 1 if t >= window else 0
            pos = t
        seg[STARTS, t] = first
        seg[POS, t] = pos
        row = start + t
        xr = row if identity else xrow[row]
        ok = not math.isnan(y[row])
        if abs(y[row]) > segf[LARGEST, k]:
            segf[LARGEST, k] = abs(y[row])
        for c in range(k):
            v = x[xr, c]
            if math.isnan(v):
                ok = False
            elif abs(v) > segf[LARGEST, c]:
                segf[LARGEST, c] = abs(v)
        rw = 1.0
        if has_rw:
            rw = row_weights[row]
            if not rw > 0.0:
                ok = False
        segf[RW, t] = rw
        if ok:
            pos_sum += pos
            if has_rw:
                logw_sum += math.log(rw)
        else:
            n_invalid += 1
        segf[LOGW_BEFORE, t + 1] = logw_sum
        seg[VALID, t] = 1 if ok else 0
        seg[INVALID_BEFORE, t + 1] = n_invalid
        segf[POS_BEFORE, t + 1] = pos_sum
        segf[STEPS, t] = 1.0 if t == 0 or lam == 1.0 else lam ** (pos - prev_pos)
        prev_pos = pos
    return start, length


#: Rows of up to this many variables (``k ≤ 8`` regressors) are added to a record by loops
#: with a constant bound, which the compiler unrolls (the guards ``a < p`` are cheap and
#: predictable): 1.2–1.4× faster walks than loops bounded by the run-time ``p``.
UNROLL_P = 9


@jit(inline="always")
def welford_update(buf, sc, dc, cur, p, bound, ratio, factor):
    """Record ``buf[:, dc]`` = record ``buf[:, sc]`` plus a row (weighted Welford), its weight
    excepted: ``cur[Z … Z + p − 1]`` holds the row minus the source's means, ``ratio = w / W_new``
    and ``factor = W_old · ratio``: ``mean = mean_src + z·ratio``, ``C = C_src + factor·z zᵀ``.
    One read and one write per entry (``sc == dc``: in place): records are built in their own
    columns, never accumulated elsewhere and copied. ``bound``: a compile-time constant ≥ ``p``
    (see :data:`UNROLL_P`), or ``p``."""
    for a in range(bound):
        if a < p:
            buf[MEAN + a, dc] = buf[MEAN + a, sc] + cur[Z + a] * ratio
    e = MEAN + p
    for a in range(bound):
        if a < p:
            d_a = factor * cur[Z + a]
            for b in range(a, bound):
                if b < p:
                    buf[e, dc] = buf[e, sc] + d_a * cur[Z + b]
                    e += 1


@jit(python=False)
def gather_front(front, istate, c0, c1, size):
    """Copy the front's record of each chunk column ``c`` in ``c0 … c1 − 1`` (its column
    ``istate[IDX + c]``) to the consecutive columns ``g + c − c0`` after the front's own, when
    they are not consecutive (calendar windows); return ``g``."""
    g = front.shape[1] - CHUNK_COLS
    for e in range(size):
        for c in range(c0, c1):
            front[e, g + c - c0] = front[e, istate[IDX + c]]
    return g


@jit(python=False, address=True)
def walk_chunk(x, xrow, y, start, seg, segf, t0, t1, need, weighted, front, work, cur, istate, out, k):
    """Window records of the rows ``t0 … t1 − 1`` of the segment at data row ``start`` that
    ``need[t − t0]``, into ``out[:, t − t0]`` (``weighted``: exponential weights, ``lam != 1``).

    ``x[xrow[row]]`` (or ``x[row]`` when ``xrow`` is empty) holds the regressors of data row
    ``row``; ``seg``, ``segf`` and ``istate``: prepared by :func:`begin_segment`; ``front``
    (record × (longest window + padding + CHUNK_COLS): its last CHUNK_COLS columns take the
    fronts of calendar windows gathered), ``work`` (record + p + 3 rows × CHUNK_COLS) and
    ``cur`` (2p + 1): scratch. Chunks must come in order.
    """
    p = k + 1
    size = (p * (p + 3)) // 2 + 1
    delta0 = size  # rows of work: back records, δ of the means, φ/cross/share
    phi_row = delta0 + p
    age = p  # cur: one row minus the means, the front's age factor, the shift
    shift0 = p + 1
    identity = xrow.shape[0] == 0
    t = t0
    while t < t1:
        if not need[t - t0]:
            t += 1
            continue
        s = seg[STARTS, t]
        rebuild = s >= istate[FLIP]
        if rebuild:  # the front is used up: records of rows j … t for every j of this window
            buf = front  # front[:, j − s]: rows j … t, from front[:, j − s + 1] (t − s + 1: none)
            first, stop, step = t, s - 1, -1
            last_needed = t
            sc = t - s + 1
            cur[age] = 1.0
            # shifted coordinates: rows are read minus the window's latest complete row, so
            # that the updates work at the scale of the rows' spread, not of their level
            read_shift(x, xrow, y, start, seg, s, t, k, cur, shift0)
        else:  # this and the following rows that share the front: extend the back
            buf = work  # work[:, j − t0]: rows flip … j, from the previous row's; the column
            last_needed = t  # BACK carries the back from chunk to chunk, and rows before it
            u = t
            while u < t1 and (not need[u - t0] or seg[STARTS, u] < istate[FLIP]):
                if need[u - t0]:
                    last_needed = u
                u += 1
            first, stop, step = istate[LAST] + 1, last_needed + 1, 1
            sc = BACK
        if rebuild or first == istate[FLIP]:
            for e in range(size):
                buf[e, sc] = 0.0
        weight = 1.0
        for j in range(first, stop, step):
            dc = j - s if rebuild else (j - t0 if j >= t0 else BACK)
            if weighted:
                if rebuild:  # an older row: its weight relative to row t
                    if j < t:
                        weight *= segf[STEPS, j + 1]
                else:  # age the back (and the front) by one row: the source, aged, into dc first
                    step_j = segf[STEPS, j]
                    cur[age] *= step_j
                    buf[WEIGHT, dc] = buf[WEIGHT, sc] * step_j
                    for e in range(MEAN, MEAN + p):
                        buf[e, dc] = buf[e, sc]
                    for e in range(MEAN + p, size):
                        buf[e, dc] = buf[e, sc] * step_j
                    sc = dc
            # record buf[:, dc] = record buf[:, sc] ⊕ row j
            if seg[VALID, j]:  # weighted Welford update with row j (weight: exponential × row)
                row = start + j
                xr = row if identity else xrow[row]
                w_row = weight * segf[RW, j]
                w_old = buf[WEIGHT, sc]
                w_new = w_old + w_row
                buf[WEIGHT, dc] = w_new
                ratio = w_row / w_new
                factor = w_old * ratio
                for c in range(k):  # the (shifted) row minus the source's means
                    cur[Z + c] = (x[xr, c] - cur[shift0 + c]) - buf[MEAN + c, sc]
                cur[Z + k] = (y[row] - cur[shift0 + k]) - buf[MEAN + k, sc]
                if p <= UNROLL_P:  # the same update, with loops the compiler unrolls
                    welford_update(buf, sc, dc, cur, p, UNROLL_P, ratio, factor)
                else:
                    welford_update(buf, sc, dc, cur, p, p, ratio, factor)
            elif dc != sc:  # a missing row: the source
                for e in range(size):
                    buf[e, dc] = buf[e, sc]
            if not rebuild and j >= t0:
                istate[IDX + dc] = seg[STARTS, j] - istate[BASE]
                work[phi_row, dc] = cur[age]
            sc = dc
        if rebuild:
            istate[FLIP] = t + 1
            istate[BASE] = s
            istate[LAST] = t
            for e in range(size):
                out[e, t - t0] = front[e, 0]
            for a in range(p):
                out[MEAN + a, t - t0] += cur[shift0 + a]
            t += 1
            continue
        if sc != BACK:
            for e in range(size):
                work[e, BACK] = work[e, sc]
        istate[LAST] = last_needed
        # merge: out[:, c] = front[:, idx[c]] aged by φ ⊕ back[:, c], over chunk columns c0 … c1 − 1
        c0, c1 = t - t0, last_needed + 1 - t0
        f0 = istate[IDX + c0]  # the front's columns f0, f0 + 1, …, when consecutive (row windows)
        for c in range(c0 + 1, c1):
            if istate[IDX + c] != f0 + c - c0:  # not consecutive (calendar windows): gather them
                f0 = gather_front(front, istate, c0, c1, size)
                break
        # columns innermost, from unsigned offsets (no wrap-around checks), so that they vectorise
        fa, ca = uint64(f0), uint64(c0)
        n = uint64(c1 - c0)
        for i in range(n):
            c = ca + i
            w_a = front[WEIGHT, fa + i] * work[phi_row, c]
            w_b = work[WEIGHT, c]
            w = w_a + w_b
            inv_w = 1.0 / w if w > 0.0 else 0.0
            out[WEIGHT, c] = w
            work[phi_row + 1, c] = w_a * w_b * inv_w
            work[phi_row + 2, c] = w_b * inv_w
        for a in range(p):
            ma = MEAN + a
            for i in range(n):
                c = ca + i
                d = work[ma, c] - front[ma, fa + i]
                work[delta0 + a, c] = d
                out[ma, c] = (front[ma, fa + i] + d * work[phi_row + 2, c]) + cur[shift0 + a]
        e = MEAN + p
        for a in range(p):
            for b in range(a, p):
                for i in range(n):
                    c = ca + i
                    out[e, c] = (front[e, fa + i] * work[phi_row, c] + work[e, c]
                                 + work[phi_row + 1, c] * work[delta0 + a, c] * work[delta0 + b, c])
                e += 1
        t = last_needed + 1
