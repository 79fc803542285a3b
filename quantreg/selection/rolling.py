"""Per-asset, per-window variable selection on the rolling engine's window statistics."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from quantreg import engine
from quantreg.frames import INSTRUMENT_COL, PANDAS, TIME_COL, Origin, panel_input
from quantreg.options import MISSING_OPTIONS, check_bool, check_choice, fit_options
from quantreg.panel import Layout, panel_layout
from quantreg.results import STATUS_CATEGORIES
from quantreg.selection.estimators import Garrote

__all__ = ["RollingSelectResult", "rolling_select"]


@dataclass(frozen=True)
class RollingSelectResult:
    """Penalised fits of every row's window, on the caller's index and row order.

    Tables come back in the kind of frame the fit was given (polars, flat pandas or the
    MultiIndex frame), as for :class:`quantreg.RollingOLSResult`.

    Attributes
    ----------
    estimator : the (unfitted) estimator whose settings every window used.
    window, min_nobs : the window options.
    origin : the kind of frame the fit was given (:class:`quantreg.frames.Origin`).
    """

    layout: Layout
    estimator: object
    fit_intercept: bool
    output: engine.Selection
    window: object = None
    min_nobs: int | None = None
    origin: Origin = PANDAS

    def _series(self, values: np.ndarray, name: str) -> pd.Series:
        return self.origin.panel(pd.Series(values, index=self.layout.index, name=name))

    @cached_property
    def _params(self) -> pd.DataFrame:
        columns = ["const", *self.layout.x_names]
        return pd.DataFrame(self.output.params, index=self.layout.index, columns=columns)

    @cached_property
    def _selected(self) -> pd.DataFrame:
        coefs = self._params[list(self.layout.x_names)]
        return (coefs != 0.0).astype("boolean").mask(coefs.isna())

    @cached_property
    def params(self) -> pd.DataFrame:
        """``const`` (0 without an intercept) and the coefficients of each row's window."""
        return self.origin.panel(self._params)

    @cached_property
    def selected(self) -> pd.DataFrame:
        """Whether each regressor's coefficient is non-zero (NaN where the window was not fitted)."""
        return self.origin.panel(self._selected)

    @cached_property
    def n_selected(self) -> pd.Series:
        """Number of non-zero coefficients per window."""
        counts = self._selected.sum(axis=1).astype("Int64").mask(self._params["const"].isna())
        return self.origin.panel(counts.rename("n_selected"))

    @cached_property
    def resid(self) -> pd.Series:
        """``y_t − c_t − x_tᵀβ_t`` (or with the previous row's fit when out of sample)."""
        return self._series(self.output.resid, "residual")

    @cached_property
    def fitted(self) -> pd.Series:
        """``c + x_tᵀβ`` with the coefficients of :attr:`resid`."""
        return self._series(self.output.fitted, "fitted")

    @cached_property
    def nobs(self) -> pd.Series:
        """Valid rows in each window."""
        return self._series(self.output.nobs, "nobs")

    @cached_property
    def n_iter(self) -> pd.Series:
        """Coordinate-descent sweeps spent on each window (0 where not fitted)."""
        return self._series(self.output.n_iter, "n_iter")

    @cached_property
    def status(self) -> pd.Series:
        """As :attr:`quantreg.RollingOLSResult.status`; ``rank_deficient`` also marks the
        garrote's singular least-squares step and singular ridge systems."""
        values = pd.Categorical.from_codes(self.output.status, categories=list(STATUS_CATEGORIES))
        return self.origin.panel(pd.Series(values, index=self.layout.index, name="status"))

    def __repr__(self) -> str:
        from quantreg.summary import status_shares

        names = ["const", *self.layout.x_names] if self.fit_intercept else list(self.layout.x_names)
        kind = "" if self.origin.kind == "pandas" else f" ({self.origin.kind} input)"
        window = "expanding" if self.window is None else f"window={self.window!r}"
        ok = self.output.status == 0
        selected = self.output.params[ok][:, 1:] != 0.0
        mean = f"{selected.sum(axis=1).mean():.2f} of {len(self.layout.x_names)}" if ok.any() else "–"
        return (
            f"<RollingSelectResult {self.estimator!r} on {self.layout.y_name!r} ~ "
            f"{' + '.join(map(str, names))}\n"
            f"  {self.layout.n_rows:,} rows, {self.layout.n_segments:,} instruments{kind}; {window}, "
            f"min_nobs={self.min_nobs}\n"
            f"  windows: {status_shares(self.output.status, STATUS_CATEGORIES)}; regressors selected "
            f"per estimated window: {mean}>"
        )


def _solver_settings(estimator: object) -> tuple[int, np.ndarray, bool, float, int, float, bool]:
    if not hasattr(estimator, "_penalty") or not hasattr(estimator, "fit_gram"):
        raise TypeError(
            f"rolling_select needs a quantreg.selection estimator (Lasso, Ridge, SCAD or Garrote); "
            f"got {type(estimator).__name__}."
        )
    estimator._check_params()
    penalty = estimator._penalty()
    return (
        int(penalty.kind),
        np.ascontiguousarray(penalty.params, dtype=np.float64),
        bool(penalty.convex),
        float(penalty.default_eps),
        int(getattr(estimator, "max_iter", 1)),
        float(getattr(estimator, "tol", 0.0)),
        bool(estimator.fit_intercept),
    )


def rolling_select(
    data: pd.DataFrame,
    estimator: object,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    window: int | None = None,
    *,
    min_nobs: int | None = None,
    expanding: bool = False,
    missing: str = "drop",
    residual: str = "in_sample",
    halflife: float | None = None,
    warm_start: bool = False,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
) -> RollingSelectResult:
    """Fit a selector (``Lasso``, ``Ridge``, ``SCAD``, ``Garrote``) on every rolling window of every asset.

    Each window's fit equals ``estimator.fit`` on that window's rows (same ``alpha``): the
    problem is formed from the window's exact moment record and solved by the estimator's own
    kernel along the same path. Windows, ``min_nobs``, ``expanding``,
    ``missing``, ``residual`` and ``halflife`` mean what they mean in
    :func:`quantreg.rolling_ols`; the intercept follows ``estimator.fit_intercept``.

    Parameters
    ----------
    data : DataFrame
        On a (datetime, instrument) MultiIndex, or a flat pandas or polars frame with the time
        and instrument as columns (see :func:`quantreg.rolling_ols`).
    estimator : a ``quantreg.selection`` estimator; only its settings are used.
    y, x, window, min_nobs, expanding, missing, residual, halflife, time_level, instrument_level, time_col, instrument_col
        As in :func:`quantreg.rolling_ols`.
    warm_start : bool, default False
        Start coordinate descent (Lasso, Garrote) from the previous window's solution instead
        of zero: fewer sweeps, and the same solution to within the estimator's ``tol`` (not
        bit for bit). Ridge is solved in closed form and SCAD by continuation either way.

    Returns
    -------
    RollingSelectResult
        ``params``, ``selected``, ``n_selected``, ``resid``, ``fitted``, ``nobs``, ``status``,
        ``n_iter`` — polars or flat pandas frames for such input, rows in the input's order.

    Notes
    -----
    With weights (``halflife``) the objective is ``(1/2W) Σ w_i (y_i − c − x_iᵀβ)² + Σ p(|β_j|)``.
    Non-convex penalties (SCAD) follow the estimators' continuation from ``alpha_max`` in every
    window rather than a warm start, so that each window finds the same local minimum as a
    fresh fit. A window whose ridge system or garrote least-squares step is singular is NaN
    (``rank_deficient``).

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> from quantreg.selection import Lasso
    >>> rng = np.random.default_rng(0)
    >>> idx = pd.MultiIndex.from_product([pd.date_range("2024-01-01", periods=40), ["A", "B"]],
    ...                                  names=["datetime", "instrument"])
    >>> X = rng.normal(size=(80, 3))
    >>> df = pd.DataFrame(X, index=idx, columns=["f1", "f2", "f3"]).assign(y=2 * X[:, 0] + 0.1 * rng.normal(size=80))
    >>> res = quantreg.rolling_select(df, Lasso(alpha=0.1), window=20)
    >>> res.selected.dropna().mean().round(2).tolist()   # f1 always in, the noise factors mostly out
    [1.0, 0.0, 0.0]
    """
    missing = check_choice("missing", missing, MISSING_OPTIONS)
    kind, penalty, convex, eps, max_iter, tol, fit_intercept = _solver_settings(estimator)
    data, origin, time_level, instrument_level = panel_input(
        data, time_col, instrument_col, time_level, instrument_level
    )
    layout = panel_layout(data, y, x, missing=missing, time_level=time_level, instrument_level=instrument_level)
    options = fit_options(
        layout, window=window, min_nobs=min_nobs, add_constant=fit_intercept, expanding=expanding,
        missing=missing, residual=residual, halflife=halflife,
    )
    if options.spec.calendar:
        raise ValueError(
            f"rolling_select takes a window in rows; calendar windows ({window!r}) are available "
            "in rolling_ols and rolling_resid."
        )
    solver = (kind, penalty, convex, isinstance(estimator, Garrote), eps, max_iter, tol, check_bool("warm_start", warm_start))
    output = engine.select(layout, options, solver)
    engine.warn_degenerate_windows(output.status, layout, fit_intercept, stacklevel=2)
    return RollingSelectResult(layout=layout, estimator=estimator, fit_intercept=fit_intercept, output=output,
                               window=options.window, min_nobs=options.min_nobs, origin=origin)
