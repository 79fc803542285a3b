"""The engine: the only Python code that calls the rolling kernels.

Every path — rolling OLS and residuals, shared factor tables, wide frames, calendar windows,
robust covariances, per-window diagnostics, rolling selection, Fama-MacBeth cross-sections —
is one layout (:class:`quantreg.panel.Layout`) and one options object in, arrays out:
allocate the outputs, run a finisher kernel of the one walk over the layout's segments on all
cores (:func:`quantreg._parallel.run_segments`), collect, warn once. Outputs are already at the
caller's positions (``layout.dest``), so wrapping them is only a matter of an index.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import NamedTuple

import numpy as np

from quantreg._kernels.cross_section import cross_section_kernel
from quantreg._kernels.diagnostics import diagnostics_kernel
from quantreg._kernels.groups import centre_within
from quantreg._kernels.linalg import ILL_CONDITIONED, RANK_DEFICIENT, solution_rows
from quantreg._kernels.ols import ols_kernel
from quantreg._kernels.options import Options
from quantreg._kernels.sandwich import NONROBUST, sandwich_kernel
from quantreg._kernels.select import select_kernel
from quantreg._kernels.steps import SOLVE_STEPS, SOLVERS, STEPS, prepare
from quantreg._kernels.walk import CHUNK, CHUNK_COLS, IDX, LARGEST, record_size
from quantreg._parallel import row_blocks, run_segments
from quantreg.exceptions import RankDeficientWindowWarning
from quantreg.options import FitOptions
from quantreg.panel import NO_ROWS, Layout, grid_to_caller

__all__ = [
    "Fit", "Selection", "CrossSections", "fit", "diagnostics", "select", "cross_sections", "absorb_groups",
    "equilibrate",
    "warn_degenerate_windows",
]

#: Status of a cell of a wide frame that holds no row.
NO_ROW = -1


class Fit(NamedTuple):
    """Outputs of a rolling fit. Per-row values (``resid``, ``fitted``, ``nobs``, ``status``:
    codes of :data:`quantreg.results.STATUS_CATEGORIES`) have ``layout.n_out`` entries, at the
    caller's rows (or a wide frame's cells); the coefficients' rows (``params``, ``bse``,
    ``stats``: SSR, centred TSS, uncentred TSS, Σ log w) ``layout.n_rows``. Without ``full``
    only ``resid`` and ``status`` are filled (the others are empty)."""

    resid: np.ndarray
    fitted: np.ndarray
    nobs: np.ndarray
    status: np.ndarray
    params: np.ndarray
    bse: np.ndarray
    stats: np.ndarray


#: A column (a regressor, or the regressand) whose largest magnitude is outside
#: ``2^±EQUILIBRATE_EXP`` is rescaled by a power of two before any product is formed, so that
#: squares and cross-products neither overflow nor underflow anywhere in the double range.
EQUILIBRATE_EXP = 64


#: Rows per block of :func:`_column_extremes` (a multiple of 128), the blocks shared out
#: between the cores.
_EXTREMES_BLOCK = 65_536


def _column_extremes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``x`` (n × k) its max and min (NaN if it holds a NaN), in one pass over
    blocks of rows on all cores: for a C-contiguous ``x``, 128 rows at a time are read as one
    row of ``128·k`` values, so that the reduction runs along contiguous memory."""
    n, k = x.shape
    if n == 0:
        return np.zeros(k), np.zeros(k)
    if not x.flags.c_contiguous:
        with np.errstate(invalid="ignore"):
            return x.max(axis=0), x.min(axis=0)
    bounds = row_blocks(n, _EXTREMES_BLOCK)
    his, los = np.empty((bounds.shape[0] - 1, k)), np.empty((bounds.shape[0] - 1, k))

    def run(first: int, last: int) -> None:  # blocks first … last − 1
        for b in range(first, last):
            his[b], los[b] = _block_extremes(x[bounds[b]:bounds[b + 1]])

    run_segments(run, bounds)
    with np.errstate(invalid="ignore"):
        return his.max(axis=0), los.min(axis=0)


def _block_extremes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, k = x.shape
    m = 128
    q = (n // m) * m
    with np.errstate(invalid="ignore"):
        head = x[:q].reshape(n // m, m * k)
        hi = head.max(axis=0).reshape(m, k).max(axis=0) if q else np.full(k, -np.inf)
        lo = head.min(axis=0).reshape(m, k).min(axis=0) if q else np.full(k, np.inf)
        if q < n:
            hi = np.maximum(hi, x[q:].max(axis=0))
            lo = np.minimum(lo, x[q:].min(axis=0))
    return hi, lo


def _power_of_two_exponent(values: np.ndarray, largest: float) -> int:
    """``−e`` for the exponent ``e`` of the largest finite magnitude in ``values`` (``largest``,
    when it is finite: no copy) when it is outside ``±EQUILIBRATE_EXP``, else 0."""
    if not np.isfinite(largest):  # a NaN (from the scan) or an inf: the finite values' own
        finite = values[np.isfinite(values)]
        largest = float(np.abs(finite).max()) if finite.size else 0.0
    return _scale_exponent(largest)


def _scale_exponent(largest: float) -> int:
    """``−e`` for the exponent ``e`` of a column's largest finite magnitude when it is outside
    ``±EQUILIBRATE_EXP``, else 0."""
    exponent = int(np.frexp(largest)[1])
    return -exponent if largest > 0.0 and abs(exponent) > EQUILIBRATE_EXP else 0


def equilibrate(layout: Layout, largest: np.ndarray | None = None) -> tuple[Layout, np.ndarray, int]:
    """The layout with each regressor column and the regressand scaled by a power of two
    (:data:`EQUILIBRATE_EXP`), and the exponents ``(a, b)`` applied: ``x_j·2^a_j``, ``y·2^b``.
    ``largest``: each column's largest magnitude (the regressors', then ``y``'s), when known
    (:func:`_run`); else they are taken from the data.

    Scaling by powers of two is exact and every step of the kernels commutes with it, so the
    fit of the scaled layout, mapped back (:func:`unscale`), is the fit of the original bit for
    bit wherever the original does not overflow or underflow — and finite where it would.
    """
    if largest is None:  # NaN where a column holds a NaN
        his, los = (np.concatenate(pair) for pair in zip(_column_extremes(layout.x), _column_extremes(layout.y[:, None])))
        largest = np.maximum(np.abs(his), np.abs(los))
    k = layout.k
    x_exp = np.array([_power_of_two_exponent(layout.x[:, j], float(largest[j])) for j in range(k)], dtype=np.int64)
    y_exp = _power_of_two_exponent(layout.y, float(largest[k]))
    if not x_exp.any() and y_exp == 0:
        return layout, x_exp, y_exp
    x = np.ascontiguousarray(np.ldexp(layout.x, x_exp)) if x_exp.any() else layout.x
    y = np.ldexp(layout.y, y_exp) if y_exp else layout.y
    return dataclasses.replace(layout, x=x, y=y), x_exp, y_exp


def unscale(values: np.ndarray, exponents: np.ndarray | int) -> None:
    """``values · 2^exponents`` in place (exact; ±inf or 0 only beyond the double range)."""
    with np.errstate(over="ignore", under="ignore"):
        values[...] = np.ldexp(values, exponents)


def _unscale_fit(x_exp: np.ndarray, y_exp: int, add_constant: bool, coef: tuple, per_row: tuple,
                 squares: tuple) -> None:
    """Map outputs of an equilibrated layout back to the caller's units: coefficients (and
    their standard errors) ``· 2^(a_j − b)``, per-row values ``· 2^−b``, sums of squares
    ``· 2^−2b``."""
    if not (y_exp or x_exp.any()):
        return
    coef_exp = np.concatenate([np.zeros(int(add_constant), dtype=np.int64), x_exp]) - y_exp
    for values in coef:
        unscale(values, coef_exp)
    for values in per_row:
        unscale(values, -y_exp)
    for values in squares:
        unscale(values, -2 * y_exp)


def fit(layout: Layout, options: FitOptions, *, full: bool) -> Fit:
    """Rolling least squares of every row's window (``full``: coefficients, standard errors —
    robust ones as ``options.cov`` says — and statistics as well as residuals)."""
    n_out, n = layout.n_out, layout.n_rows
    k_params = layout.k + int(options.add_constant)
    wide = n_out != n or layout.wide is not None
    # residuals of a grid: written in walk order, not scattered row by row, then moved to the
    # caller's rows at once (with coefficients and statistics as well, the copies cost more
    # than the scattered stores)
    grid = 0 if wide or full else layout.grid
    if grid:
        layout = dataclasses.replace(layout, dest=NO_ROWS, pdest=NO_ROWS)
    out = Fit(
        resid=np.full(n_out, np.nan) if wide else np.empty(n_out),
        fitted=(np.full(n_out, np.nan) if wide else np.empty(n_out)) if full else np.empty(0),
        nobs=np.zeros(n_out if full else 0, dtype=np.int64),
        status=np.full(n_out, NO_ROW, dtype=np.int8) if wide else np.empty(n_out, dtype=np.int8),
        params=np.empty((n if full else 0, k_params)),
        bse=np.empty((n if full else 0, k_params)),
        stats=np.empty((n if full else 0, 4)),
    )
    opts = options.kernel_options(full)
    # fitted as it is; the walk finds each column's largest magnitude on the way, and only a
    # column outside 2^±EQUILIBRATE_EXP makes it fit again, scaled (no pass over the data first)
    largest = _run(ols_kernel, layout, opts, tuple(out), scale_unknown=True)
    layout, x_exp, y_exp = equilibrate(layout, largest)
    if x_exp.any() or y_exp:
        _run(ols_kernel, layout, opts, tuple(out))
    if full and options.cov.code != NONROBUST:
        _run(sandwich_kernel, layout, opts, out.bse)
    if grid:
        out = Fit(*(grid_to_caller(values, grid) if values.shape[0] else values for values in out))
    _unscale_fit(x_exp, y_exp, options.add_constant, (out.params, out.bse), (out.resid, out.fitted),
                 (out.stats[:, :3],))
    return out


def diagnostics(layout: Layout, options: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the numerical rank of its window's design (-1 for an empty window) and the
    condition number of its column-scaled, centred regressors (NaN with fewer than 2 rows), at
    the caller's rows (``layout.n_out``; rank -1 and NaN where a wide frame has no row)."""
    layout = equilibrate(layout)[0]  # rank and condition do not change with column scale
    rank = np.full(layout.n_out, -1, dtype=np.int64)
    condition = np.full(layout.n_out, np.nan)
    _run(diagnostics_kernel, layout, options.kernel_options(False), (rank, condition))
    return rank, condition


class Selection(NamedTuple):
    """Outputs of a rolling selection, at the caller's rows: ``params`` (n × (k + 1), the
    intercept — 0 without one — then the coefficients), ``resid``, ``fitted``, ``nobs``,
    ``status`` and ``n_iter`` (coordinate-descent sweeps)."""

    params: np.ndarray
    resid: np.ndarray
    fitted: np.ndarray
    nobs: np.ndarray
    status: np.ndarray
    n_iter: np.ndarray


def select(layout: Layout, options: FitOptions, solver: tuple) -> Selection:
    """Penalised least squares of every row's window; ``solver`` is ``(kind, penalty, convex,
    garrote, eps, max_iter, tol, warm_start)`` (see :mod:`quantreg._kernels.select`)."""
    n = layout.n_out
    out = Selection(
        params=np.empty((n, layout.k + 1)), resid=np.empty(n), fitted=np.empty(n),
        nobs=np.empty(n, dtype=np.int64), status=np.empty(n, dtype=np.int8), n_iter=np.empty(n, dtype=np.int64),
    )
    kind, penalty, convex, garrote, eps, max_iter, tol, warm_start = solver
    settings = (
        int(kind), np.ascontiguousarray(penalty, dtype=np.float64), bool(convex), bool(garrote), float(eps),
        int(max_iter), float(tol), bool(warm_start),
    )
    # the helper compiles the walk and the coordinate descent; this process the rest
    _run(select_kernel, layout, options.kernel_options(False), tuple(out), settings, SOLVERS,
         compiled=STEPS + SOLVERS, helped=(STEPS.walk_chunk, SOLVERS.cd_gram, SOLVERS.cd_continuation_gram))
    return out


class CrossSections(NamedTuple):
    """Outputs of one least-squares fit per segment (date): ``coef`` (segments × (k +
    add_const)), ``stats`` (SSR, TSS — centred with an intercept), ``nobs`` and ``status``;
    with ``rows``, ``resid`` and ``fitted`` of every row at its output position (else empty)."""

    coef: np.ndarray
    stats: np.ndarray
    nobs: np.ndarray
    status: np.ndarray
    resid: np.ndarray
    fitted: np.ndarray


def cross_sections(layout: Layout, add_constant: bool, rows: bool = False) -> CrossSections:
    """Least squares of each segment's complete rows (one cross-section per date; weighted
    when the layout has row weights); ``rows``: also every row's residual and fitted value."""
    layout, x_exp, y_exp = equilibrate(layout)
    g = layout.n_segments
    n_rows = layout.n_rows if rows else 0
    out = CrossSections(
        coef=np.empty((g, layout.k + int(add_constant))), stats=np.empty((g, 2)),
        nobs=np.empty(g, dtype=np.int64), status=np.empty(g, dtype=np.int8),
        resid=np.empty(n_rows), fitted=np.empty(n_rows),
    )
    # one window as long as the longest segment: each segment's last row sees all its rows
    opts = Options(
        window=layout.longest, span=0, min_nobs=1, need_full=False, skip_missing=False,
        add_const=bool(add_constant), lam=1.0, out_of_sample=False, full=False, cov_code=NONROBUST,
        use_correction=False, kernel_weights=np.ones(1), row_weights=np.empty(0),
    )
    _run(cross_section_kernel, layout, opts, tuple(out), steps=SOLVE_STEPS, helped=(SOLVE_STEPS.solve_chunk,))
    _unscale_fit(x_exp, y_exp, add_constant, (out.coef,), (out.resid, out.fitted), (out.stats,))
    return out


class Absorbed(NamedTuple):
    """A layout with its rows centred within (segment, group) cells (:func:`absorb_groups`):
    ``layout`` (NaN rows: missing), ``means`` (segments · groups × (k + 1): the cells' weighted
    means of ``[x, y]``), ``cell_weight`` (0: an empty cell) and ``tss`` (per segment, the
    weighted centred total sum of squares of ``y``)."""

    layout: Layout
    means: np.ndarray
    cell_weight: np.ndarray
    tss: np.ndarray


def absorb_groups(layout: Layout, codes: np.ndarray, n_groups: int) -> Absorbed:
    """Absorb one dummy per group in each segment's regression: the rows minus their
    (segment, group) cell's weighted means (``codes``: int64 group of each walk row, −1 for
    missing), solved afterwards without an intercept (Frisch–Waugh–Lovell)."""
    n, g = layout.n_rows, layout.n_segments
    xc, yc = np.empty_like(layout.x), np.empty(n)
    means, cell_weight, tss = np.empty((g * n_groups, layout.k + 1)), np.empty(g * n_groups), np.empty(g)
    codes = np.ascontiguousarray(codes, dtype=np.int64)

    def run(first: int, last: int) -> None:
        centre_within(layout.x, layout.y, layout.weights, codes, layout.offsets, first, last, int(n_groups), xc, yc,
                      means, cell_weight, tss)

    run_segments(run, layout.offsets)
    return Absorbed(dataclasses.replace(layout, x=xc, y=yc), means, cell_weight, tss)


def cache_stats() -> dict[str, int]:
    """Numba dispatcher statistics of the least-squares kernel in this process:
    ``{"cache_hits": …, "cache_misses": …}`` (a miss means this process compiled it)."""
    stats = ols_kernel.stats
    return {"cache_hits": sum(stats.cache_hits.values()), "cache_misses": sum(stats.cache_misses.values())}


def workspace(k: int, longest: int, window: int) -> tuple[np.ndarray, ...]:
    """Scratch of one kernel call over segments of up to ``longest`` rows and windows of up to
    ``window`` rows, for ``k`` regressors: ``(seg, segf, front, work, cur, istate, rec, sol,
    state, need)`` (see :mod:`quantreg._kernels.walk` and :mod:`quantreg._kernels.ols`).
    Allocated here, flat, so that the kernels neither allocate nor unpack nested tuples."""
    p = k + 1
    size = record_size.py_func(p)  # the kernels' formulas, run by Python: nothing to compile
    n_sol = solution_rows.py_func(k)[-1]
    return (
        np.empty((4, longest + 1), dtype=np.int64), _segment_floats(longest, k),
        np.empty((size, _padded(min(window, longest) + 8 + CHUNK_COLS))), np.empty((size + p + 3, CHUNK_COLS)),
        np.empty(2 * p + 1), np.empty(IDX + CHUNK, dtype=np.int64), np.empty((size, CHUNK_COLS)),
        np.empty((n_sol, CHUNK_COLS)), np.empty(CHUNK, dtype=np.int8), np.empty(CHUNK, dtype=np.bool_),
    )


def _segment_floats(longest: int, k: int) -> np.ndarray:
    """``segf`` of a workspace (see :func:`quantreg._kernels.walk.begin_segment`), its row of
    the largest magnitudes zeroed."""
    segf = np.empty((LARGEST + 1, max(longest + 1, k + 1)))
    segf[LARGEST] = 0.0
    return segf


def _padded(columns: int) -> int:
    """``columns`` rounded up to an odd number of 64-byte cache lines of float64 (8 mod 16), so
    that the rows of a buffer do not pile into a few cache sets (a row of 128 columns, 1 KiB,
    puts a record's 55 rows into 4 of the L1 cache's 64 sets)."""
    return columns + (8 - columns % 16) % 16


def _longest(offsets: np.ndarray, first: int, last: int) -> int:
    return max(int(np.diff(offsets[first:last + 1]).max(initial=0)), 1)


#: The steps a helper process compiles on a cold first call (:func:`quantreg._kernels.steps.prepare`):
#: about half of what the finisher and its steps take to compile.
_HELPED = (STEPS.walk_chunk, STEPS.solve_chunk)


def _run(kernel, layout: Layout, opts, outs, *extra, steps: tuple = STEPS, compiled: tuple | None = None,
         helped: tuple = _HELPED, scale_unknown: bool = False) -> np.ndarray:
    """Run ``kernel`` over the layout's segments on all cores, passing it ``steps`` (then
    ``extra``); ``compiled``: every step it calls (default: ``steps``), of which the helper
    process compiles those in ``helped`` on a cold first call. Returns the largest magnitude
    of each regressor column and of ``y`` in the segments the kernel began (zeros if it began
    none). ``scale_unknown``: the layout was not equilibrated — where a column's magnitude is
    outside ``2^±EQUILIBRATE_EXP`` the QR refinement is not run (the caller fits again at a
    safe scale)."""
    prepare(steps if compiled is None else compiled, helped)
    if layout.weights.shape[0] > 0:  # row weights (WLS), in walk order
        opts = opts._replace(row_weights=layout.weights)
    found = []  # per range of segments, from the threads (list.append is atomic)

    def run(first: int, last: int) -> None:
        ws = workspace(layout.k, _longest(layout.offsets, first, last), opts.window)
        args = (layout.x, layout.xrow, layout.y, layout.offsets, layout.dest, layout.pdest, layout.times, first, last)
        refine = kernel(*args, opts, outs, ws, steps, *extra)  # windows the normal equations cannot be trusted with
        largest = ws[1][LARGEST, :layout.k + 1]
        if refine and not (scale_unknown and _needs_scaling(largest)):
            kernel(*args, opts._replace(refine=True), outs, ws, steps, *extra)
        found.append(largest)

    run_segments(run, layout.offsets)
    return np.max(found, axis=0) if found else np.zeros(layout.k + 1)


def _needs_scaling(largest: np.ndarray) -> bool:
    """Whether :func:`equilibrate`, given ``largest``, surely rescales a column (an infinite
    magnitude leaves the decision to the finite values: not surely)."""
    return any(np.isfinite(value) and _scale_exponent(float(value)) for value in largest)


def warn_degenerate_windows(status: np.ndarray, layout: Layout, add_constant: bool, stacklevel: int) -> None:
    """One :class:`RankDeficientWindowWarning` counting rank-deficient and ill-conditioned
    windows, naming any regressor that is constant in every row (it duplicates the intercept)."""
    n_rank = int(np.count_nonzero(status == RANK_DEFICIENT))
    n_ill = int(np.count_nonzero(status == ILL_CONDITIONED))
    if not (n_rank or n_ill):
        return
    n_windows = int(np.count_nonzero(status != NO_ROW))
    message = (
        f"{n_rank} of {n_windows} windows are rank deficient (a regressor constant within "
        "the window, or collinear regressors)"
    )
    if n_ill:
        message += f" and {n_ill} are ill conditioned (nearly collinear regressors)"
    message += "; their outputs are NaN. Inspect result.status to find them."
    constant = layout.constant_columns() if add_constant else []
    if constant:
        message += (
            f" Regressor(s) {constant} are constant in every row and duplicate the intercept: "
            "drop them, or pass add_constant=False to use one as the intercept."
        )
    warnings.warn(message, RankDeficientWindowWarning, stacklevel=stacklevel + 1)
