"""Cross-sectional regressions: one least-squares fit per date across instruments.

:func:`cross_sectional_ols` regresses ``y`` on ``x`` separately on the rows of each value of
``by`` (a date, by default), optionally weighted (WLS) and with one dummy per category of
``groups`` absorbed (an industry, a country); :func:`cross_sectional_resid` keeps only the
residuals — *neutralising* a signal against exposures and groups. Each date is a segment of
one layout (:mod:`quantreg.panel`), solved by the engine's cross-section finisher
(:mod:`quantreg._kernels.cross_section`): the same exact statistics, solver, refinement and
status codes as the rolling fits.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from quantreg import engine
from quantreg.exceptions import MissingColumnError, PanelError, RankDeficientWindowWarning
from quantreg.frames import is_polars
from quantreg.options import check_bool, check_int
from quantreg.panel import Layout, default_yx, row_weights, segment_layout, with_weights

__all__ = ["CrossSectionalOLSResult", "cross_sectional_ols", "cross_sectional_resid"]

#: Per-date status categories (as :attr:`quantreg.FamaMacBethResult.status_by_period`).
STATUS = ("ok", "empty", "too_few", "rank_deficient")
#: Date status of each engine status code (ok, warmup: too few rows, missing: no complete row,
#: rank deficient; an ill-conditioned cross-section is solved, by the QR).
_CODE = np.array([0, 2, 1, 3, 0], dtype=np.int8)


@dataclass(frozen=True)
class CrossSectionalOLSResult:
    """One least-squares fit per date (per value of ``by``).

    Attributes
    ----------
    params : DataFrame
        One row per date, columns ``["const", *x]`` (no ``const`` without an intercept); NaN
        where the date was not estimated (see :attr:`status`). With ``groups`` the ``const`` is
        the mean of the date's group intercepts (the sum-to-zero convention, see
        :attr:`group_effects`).
    resid, fitted : Series
        Per row, on the caller's index and in its order: ``y − ŷ`` and ``ŷ`` of its date's fit
        (NaN where the row is missing or its date was not estimated).
    nobs : Series
        Complete rows of each date (non-missing ``y``, ``x``, group, and a positive weight).
    rsquared : Series
        ``1 − SSR/TSS`` per date, TSS centred (weighted) with an intercept or groups,
        uncentred otherwise — statsmodels' ``rsquared`` of the same fit.
    ssr, centered_tss : Series
    status : Series (Categorical)
        ``ok``, ``empty`` (no complete row), ``too_few`` (fewer complete rows than
        coefficients, the absorbed group dummies included) or ``rank_deficient``.
    group_effects : DataFrame
        With ``groups``: per date and category, the category's effect relative to ``const``
        (they sum to zero over the categories present on the date) or, without an intercept,
        the category's own intercept; NaN for a category absent on that date.
    """

    layout: Layout
    dates: pd.Index
    coef: np.ndarray
    stats: np.ndarray
    nobs_by_date: np.ndarray
    codes: np.ndarray
    resid_rows: np.ndarray
    fitted_rows: np.ndarray
    add_constant: bool
    group_names: pd.Index | None
    intercepts: np.ndarray | None

    @property
    def param_names(self) -> list[Hashable]:
        return (["const"] if self.add_constant else []) + list(self.layout.x_names)

    @cached_property
    def params(self) -> pd.DataFrame:
        return pd.DataFrame(self.coef, index=self.dates, columns=self.param_names)

    @cached_property
    def resid(self) -> pd.Series:
        return pd.Series(self.resid_rows, index=self.layout.index, name="residual", copy=False)

    @cached_property
    def fitted(self) -> pd.Series:
        return pd.Series(self.fitted_rows, index=self.layout.index, name="fitted", copy=False)

    @cached_property
    def nobs(self) -> pd.Series:
        return pd.Series(self.nobs_by_date, index=self.dates, name="nobs")

    @cached_property
    def ssr(self) -> pd.Series:
        return pd.Series(self.stats[:, 0], index=self.dates, name="ssr")

    @cached_property
    def centered_tss(self) -> pd.Series:
        return pd.Series(self.stats[:, 1], index=self.dates, name="centered_tss")

    @cached_property
    def rsquared(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = 1.0 - self.stats[:, 0] / self.stats[:, 1]
        return pd.Series(values, index=self.dates, name="rsquared")

    @cached_property
    def status(self) -> pd.Series:
        return pd.Series(pd.Categorical.from_codes(self.codes, categories=list(STATUS)), index=self.dates,
                         name="status")

    @cached_property
    def group_effects(self) -> pd.DataFrame:
        if self.intercepts is None:
            raise AttributeError("group_effects: the fit has no groups (pass groups=).")
        effects = self.intercepts
        if self.add_constant:
            effects = effects - self.coef[:, :1]
        return pd.DataFrame(effects, index=self.dates, columns=self.group_names)

    def __repr__(self) -> str:
        counts = np.bincount(self.codes, minlength=len(STATUS))
        summary = ", ".join(f"{name}={int(n)}" for name, n in zip(STATUS, counts))
        return (f"<CrossSectionalOLSResult {self.layout.y_name!r} ~ {self.param_names}"
                f"{' + groups' if self.intercepts is not None else ''}, {len(self.dates)} dates: {summary}>")


def cross_sectional_ols(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    by: Hashable = "datetime",
    groups: Hashable | None = None,
    weights: Hashable | pd.Series | None = None,
    add_constant: bool = True,
    min_nobs: int | None = None,
) -> CrossSectionalOLSResult:
    """One OLS (WLS with ``weights``) of ``y`` on ``x`` per date, across instruments.

    Parameters
    ----------
    data : DataFrame
        Rows in any order: a panel on a (datetime, instrument) MultiIndex, a flat pandas frame
        with a ``by`` column, or a polars ``DataFrame``/``LazyFrame`` with one (read through
        Arrow; per-row outputs are then on the rows' positions, and
        :func:`cross_sectional_resid` returns a polars frame).
    y : column label, optional
        Regressand; default: the last column (other than ``weights``/``groups`` columns).
    x : column label or list of labels, optional
        Regressors; default: every other column (except ``weights`` and ``groups``).
    by : index level or column label, default "datetime"
        One regression per value of ``by``.
    groups : index level or column label, optional
        Categories (an industry): one dummy per category is absorbed, without materialising
        the dummies, by weighted within-group centring of ``y`` and ``x`` on each date
        (Frisch-Waugh-Lovell): slopes, residuals, fitted values, SSR and R² equal those of
        the regression with explicit dummies. A row with a missing category is a missing row.
    weights : column label, Series or array, optional
        Row weights (WLS, as statsmodels ``WLS(weights=...)``): a column, a Series on the
        index, or one value per row. A zero, negative or NaN weight makes the row missing;
        an infinite weight is an error.
    add_constant : bool, default True
        Give each date an intercept ``const``. With ``groups``, the dummies span the constant:
        the fit is the same either way, and ``const`` (sum-to-zero convention) is the mean of
        the date's group intercepts ``α_g``, :attr:`~CrossSectionalOLSResult.group_effects`
        ``α_g − const``; without it, ``group_effects`` are the ``α_g`` themselves.
    min_nobs : int, optional
        Complete rows a date needs to be estimated; default (and at least): the number of
        coefficients, the date's groups included.

    Returns
    -------
    CrossSectionalOLSResult
        ``params``, ``resid``, ``fitted``, ``nobs``, ``rsquared``, ``ssr``, ``status``,
        ``group_effects``.

    Warns
    -----
    RankDeficientWindowWarning
        Once, with the count, when some dates have collinear regressors (their outputs are NaN).

    Notes
    -----
    Per date ``t`` with complete rows ``i`` and weights ``w_i`` (1 without ``weights``):
    ``β̂_t = argmin Σ_i w_i (y_i − c_t − x_iᵀβ)²`` from the date's exact weighted means and
    centred cross-products; ``ŷ_i = ȳ_t + (x_i − x̄_t)ᵀβ̂_t``. With groups ``g(i)``:
    ``ỹ_i = y_i − ȳ_{t,g(i)}``, ``x̃_i = x_i − x̄_{t,g(i)}`` (weighted means of the date's group)
    and ``β̂_t`` is the regression of ``ỹ`` on ``x̃`` without intercept; the group intercepts
    are ``α_g = ȳ_{t,g} − x̄_{t,g}ᵀβ̂_t`` and ``ŷ_i = α_{g(i)} + x_iᵀβ̂_t``;
    ``R² = 1 − SSR / Σ_i w_i (y_i − ȳ_t)²``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=2), list("ABCD")], names=["datetime", "instrument"])
    >>> df = pd.DataFrame({"size": [1.0, 2, 3, 4, 1, 2, 3, 4],
    ...                    "ret": [1.0, 3, 5, 7, 2, 3, 4, 5]}, index=idx)
    >>> res = quantreg.cross_sectional_ols(df, "ret", "size")
    >>> res.params.round(10).values.tolist()
    [[-1.0, 2.0], [1.0, 1.0]]
    >>> res.resid.abs().max() < 1e-12
    np.True_
    """
    add_constant = check_bool("add_constant", add_constant)
    if min_nobs is not None:
        min_nobs = check_int("min_nobs", min_nobs, 1)
    if is_polars(data):
        data = _polars_to_pandas(data)
    y, x = default_yx(data, y, x, [weights, groups])
    layout, dates = segment_layout(data, y, x, by=by)
    if weights is not None:
        layout = with_weights(layout, row_weights(data, weights))
    n_coef = layout.k + int(add_constant)
    if n_coef == 0 and groups is None:
        raise PanelError("there are no regressors: pass x= columns, groups=, or keep add_constant=True.")
    group_codes = group_names = None
    if groups is not None:
        group_codes, group_names = _group_codes(data, groups)
        group_codes = group_codes if layout.dest.shape[0] == 0 else group_codes[layout.dest]
    fit_layout, within = layout, None
    if groups is not None:
        fit_layout, within = _absorb(layout, group_codes, len(group_names))
    if within is not None and layout.k == 0:  # nothing left to solve: the centred y is the residual
        out = _demeaned_only(fit_layout)
    else:
        out = engine.cross_sections(fit_layout, add_constant and groups is None, rows=True)
    coef, stats, nobs, codes = out.coef, out.stats, out.nobs, _CODE[out.status]
    intercepts = None
    resid, fitted = out.resid, out.fitted  # at the caller's rows (layout.dest)
    if within is not None:
        coef, stats, codes, intercepts = _groups_finish(layout, within, out, add_constant, codes)
        y_caller = layout.y if layout.dest.shape[0] == 0 else _to_caller(layout.y, layout.dest)
        fitted = y_caller - resid  # α_g + xᵀβ: the residual is the within residual
    g_count = within["n_groups"] if within is not None else np.zeros(len(nobs), dtype=np.int64)
    needed = layout.k + np.where(g_count > 0, g_count, int(add_constant)) if within is not None else np.full(
        len(nobs), n_coef)
    if min_nobs is not None:
        needed = np.maximum(needed, min_nobs)
    few = (nobs < needed) & (codes == 0)
    if few.any():
        codes = codes.copy()
        codes[few] = 2
    _blank(codes, layout, coef, stats, resid, fitted, intercepts)
    n_rank = int(np.count_nonzero(codes == 3))
    if n_rank:
        warnings.warn(
            f"{n_rank} of {len(codes)} cross-sections are rank deficient (a regressor constant "
            "across the date's rows — within every group, with groups= — or collinear "
            "regressors); their outputs are NaN. Inspect result.status to find them.",
            RankDeficientWindowWarning, stacklevel=2,
        )
    order = np.arange(len(dates)) if dates.is_monotonic_increasing else np.argsort(dates, kind="stable")
    order = order[np.diff(layout.offsets)[order] > 0]  # values of `by` with no row are left out
    return CrossSectionalOLSResult(
        layout=layout, dates=dates[order], coef=coef[order], stats=stats[order], nobs_by_date=nobs[order],
        codes=codes[order], resid_rows=resid, fitted_rows=fitted, add_constant=add_constant,
        group_names=group_names, intercepts=None if intercepts is None else intercepts[order],
    )


def cross_sectional_resid(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    by: Hashable = "datetime",
    groups: Hashable | None = None,
    weights: Hashable | pd.Series | None = None,
    add_constant: bool = True,
    min_nobs: int | None = None,
) -> pd.Series:
    """The residuals of :func:`cross_sectional_ols` (same arguments), a Series named
    ``residual`` on the caller's index: ``y`` neutralised to ``x`` (and ``groups``) per date.
    From a polars frame: a polars frame of the ``by`` (and ``instrument``) column and
    ``residual``, in the input's row order.

    Examples
    --------
    >>> import pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=1), list("ABCD")], names=["datetime", "instrument"])
    >>> df = pd.DataFrame({"industry": ["a", "a", "b", "b"], "signal": [1.0, 3, 10, 14]}, index=idx)
    >>> quantreg.cross_sectional_resid(df, "signal", [], groups="industry").tolist()
    [-1.0, 1.0, -2.0, 2.0]
    """
    frame = _polars_to_pandas(data) if is_polars(data) else None
    resid = cross_sectional_ols(
        data if frame is None else frame, y, x, by=by, groups=groups, weights=weights, add_constant=add_constant,
        min_nobs=min_nobs,
    ).resid
    if frame is None:
        return resid
    import polars as pl

    keys = [c for c in (by, "instrument") if c in frame.columns]
    return pl.from_pandas(frame[keys].assign(residual=resid.to_numpy()))


def _polars_to_pandas(data: object) -> pd.DataFrame:
    """A polars DataFrame (or LazyFrame, collected) as a flat pandas frame, through Arrow."""
    frame = data.collect() if type(data).__name__ == "LazyFrame" else data
    return frame.to_pandas()


def _is_label(value: object) -> bool:
    return value is not None and isinstance(value, Hashable) and not isinstance(value, tuple)


def _group_codes(data: pd.DataFrame, groups: Hashable) -> tuple[np.ndarray, pd.Index]:
    """int64 category code of every row (−1: missing) and the categories, from a column or an
    index level."""
    names = [n for n in data.index.names if n is not None]
    if isinstance(data, pd.DataFrame) and _is_label(groups) and groups in data.columns:
        values = data[groups]
    elif groups in names:
        values = data.index.get_level_values(groups)
    else:
        raise MissingColumnError(
            f"groups={groups!r} is neither a column ({list(data.columns)}) nor an index level "
            f"({list(data.index.names)}) of the frame; pass the name of the column of categories."
        )
    codes, categories = pd.factorize(values, sort=True)
    return np.asarray(codes, dtype=np.int64), pd.Index(categories, name=groups)


def _absorb(layout: Layout, codes: np.ndarray, n_groups: int) -> tuple[Layout, dict]:
    """The layout with ``y`` and ``x`` centred within (date, group) cells (the dummies
    absorbed, :func:`quantreg.engine.absorb_groups`), and what the finish needs."""
    absorbed = engine.absorb_groups(layout, codes, n_groups)
    present = (absorbed.cell_weight > 0).reshape(layout.n_segments, n_groups)
    return absorbed.layout, {"means": absorbed.means, "present": present, "n_groups": present.sum(axis=1),
                             "tss": absorbed.tss, "n_cat": n_groups}


def _groups_finish(layout: Layout, within: dict, out, add_constant: bool, codes: np.ndarray):
    """Coefficients, statistics, status and group intercepts of the absorbed fit."""
    k = layout.k
    slopes = out.coef  # no intercept: the within regression
    g = layout.n_segments
    n_cat = within["n_cat"]
    means = within["means"].reshape(g, n_cat, k + 1)
    alpha = means[:, :, k] - np.einsum("gcj,gj->gc", means[:, :, :k], slopes) if k else means[:, :, k].copy()
    alpha[~within["present"]] = np.nan
    coef = np.empty((g, k + int(add_constant)))
    if add_constant:  # sum-to-zero convention: const = mean of the intercepts of the groups present
        present = within["present"]
        with np.errstate(invalid="ignore", divide="ignore"):
            coef[:, 0] = np.where(present, alpha, 0.0).sum(axis=1) / present.sum(axis=1)
    coef[:, int(add_constant):] = slopes
    stats = np.column_stack([out.stats[:, 0], within["tss"]])
    return coef, stats, codes, alpha


def _demeaned_only(layout: Layout) -> engine.CrossSections:
    """The outputs of a fit with no regressor left once the groups are absorbed: the centred
    ``y`` is the residual (in the caller's order), its weighted sum of squares the SSR."""
    g = layout.n_segments
    seg = np.repeat(np.arange(g, dtype=np.int64), np.diff(layout.offsets))
    valid = ~np.isnan(layout.y)
    w = layout.weights if layout.weights.shape[0] else np.ones(layout.n_rows)
    e = np.where(valid, layout.y, 0.0)
    ssr = np.bincount(seg, weights=np.where(valid, w, 0.0) * e * e, minlength=g)
    nobs = np.bincount(seg, weights=valid.astype(np.float64), minlength=g).astype(np.int64)
    resid = layout.y if layout.dest.shape[0] == 0 else _to_caller(layout.y, layout.dest)
    status = np.where(nobs > 0, 0, 2).astype(np.int8)
    return engine.CrossSections(coef=np.empty((g, 0)), stats=np.column_stack([ssr, ssr]), nobs=nobs,
                                status=status, resid=resid.copy(), fitted=np.empty(0))


def _blank(codes, layout, coef, stats, resid, fitted, intercepts) -> None:
    """NaN outputs of the dates not estimated."""
    bad = codes != 0
    if not bad.any():
        return
    coef[bad] = np.nan
    stats[bad, 0] = np.nan
    if intercepts is not None:
        intercepts[bad] = np.nan
    seg = np.repeat(bad, np.diff(layout.offsets))
    rows = seg if layout.dest.shape[0] == 0 else _to_caller(seg, layout.dest)
    resid[rows] = np.nan
    fitted[rows] = np.nan


def _to_caller(walk_values: np.ndarray, dest: np.ndarray) -> np.ndarray:
    out = np.empty_like(walk_values)
    out[dest] = walk_values
    return out
