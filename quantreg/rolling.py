"""Rolling OLS over a (datetime, instrument) panel: the public entry points.

:func:`rolling_ols` and :func:`rolling_resid` validate their arguments, build the layout of
whatever they were given (a long panel, or returns and a factor table — :mod:`quantreg.panel`,
:mod:`quantreg.factors`), run the engine (:mod:`quantreg.engine`) and wrap its arrays on the
caller's index (:mod:`quantreg.results`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from quantreg import engine
from quantreg.frames import INSTRUMENT_COL, TIME_COL, factor_input, panel_input
from quantreg.options import MISSING_OPTIONS, check_choice, fit_options, window_spec
from quantreg.panel import Layout, default_yx, panel_layout, row_weights, with_weights
from quantreg.results import RollingOLSResult

if TYPE_CHECKING:
    import polars as pl

__all__ = ["rolling_ols", "rolling_resid"]


def rolling_ols(
    data: pd.DataFrame | pd.Series | pl.DataFrame | pl.LazyFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    window: int | str | pd.Timedelta | None = None,
    *,
    factors: pd.DataFrame | None = None,
    min_nobs: int | None = None,
    add_constant: bool = True,
    expanding: bool = False,
    missing: str | None = None,
    residual: str = "in_sample",
    halflife: float | None = None,
    weights: Hashable | pd.Series | None = None,
    cov_type: str = "nonrobust",
    cov_kwds: Mapping[str, object] | None = None,
    use_t: bool | None = None,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
) -> RollingOLSResult:
    """Rolling least squares of ``y`` on ``x`` for every instrument of a panel.

    For the row of instrument ``i`` at time ``t``, OLS is fitted on that instrument's last
    ``window`` rows ending at ``t`` (rows of other instruments never enter). The residual kept
    is the *latest-coefficient residual* ``y_t − x_tᵀβ_t``.

    Parameters
    ----------
    data : DataFrame
        Panel in any row order: a pandas frame on a two-level MultiIndex (``datetime``,
        ``instrument``); a flat pandas frame with the time and instrument as columns; or a
        polars ``DataFrame``/``LazyFrame`` (collected) with those columns. Every other column is
        data.
    y : column label, optional
        Regressand; default: the last column.
    x : column label or list of labels, optional
        Regressors; default: every other column.
    window : int, str or Timedelta
        Number of rows of the instrument in each window (missing rows included, as in
        statsmodels ``RollingOLS``). Optional only with ``expanding=True`` (then the window
        grows from each instrument's first row without bound). A fixed time length (``"90D"``,
        ``"12h"``, ``"30min"``, a ``pd.Timedelta``) is a *calendar window*: the instrument's
        rows with time in ``(t − window, t]``, as pandas ``Series.rolling("90D")``, estimated
        once they hold ``min_nobs`` valid rows (``expanding`` does not apply).
    factors : DataFrame, optional
        A factor table indexed by datetime (unique, any order), one column per factor, shared
        by every asset: ``data`` is then the returns — a Series or one-column frame on the
        (datetime, instrument) MultiIndex, or a wide frame indexed by datetime with one column
        per instrument (NaN: no row) — and ``x`` is not used. Equals the call on the panel with
        ``factors`` broadcast onto it, without making that copy (see :mod:`quantreg.factors`).
    min_nobs : int, optional
        Minimum number of non-missing rows a window needs to be estimated; default: the number
        of regressors (with the constant). Must lie in ``[k, window]``.
    add_constant : bool, default True
        Add an intercept ``const`` (recovered from the window means).
    expanding : bool, default False
        Estimate the first ``window − 1`` rows of each instrument on the rows available so far
        (when at least ``min_nobs``); otherwise they are NaN (status ``warmup``).
    missing : {"drop", "skip", "raise"}, default "drop"
        ``drop``: windows use their non-missing rows; ``skip``: a window containing any
        missing row is NaN (status ``missing``); ``raise``: missing values are an error. A row
        is missing when y or any regressor is NaN. With ``factors=``, a date of the returns
        absent from the factor table is an error unless ``missing="drop"`` is passed
        explicitly: then its rows are missing rows.
    residual : {"in_sample", "out_of_sample"}
        ``in_sample``: ``y_t − x_tᵀβ_t``; ``out_of_sample``: ``y_t − x_tᵀβ_{t−1}`` with the
        coefficients of the window ending at the instrument's previous row (no look-ahead).
    halflife : float, str or Timedelta, optional
        Exponentially weighted least squares: the row ``a`` rows before the window's last
        row has weight ``0.5 ** (a / halflife)`` (age counted in rows, missing rows included).
        With a calendar window the age and the half-life are times (``halflife="30D"``).
    weights : column label, Series or array, optional
        Row weights: weighted least squares on every window, as statsmodels
        ``RollingWLS(weights=...)`` (a column of ``data``, a Series on its index, or one value
        per row). With ``halflife``, a row's weight is its row weight times its exponential
        weight. A zero, negative or NaN weight makes the row a missing row (left out of every
        window, status ``missing``); an infinite weight is an error. Not available with
        ``factors=``.
    cov_type : {"nonrobust", "HC0", "HC1", "HAC"}, default "nonrobust"
        Covariance of each window's coefficients, as statsmodels ``OLS(...).fit(cov_type=...)``
        on that window's rows (see :mod:`quantreg.inference`); ``"HAC"`` needs
        ``cov_kwds={"maxlags": L}`` and uses only the window's rows.
    cov_kwds : dict, optional
        ``maxlags``, ``kernel`` (``"bartlett"``/``"uniform"``) and ``use_correction`` for HAC.
    use_t : bool, optional
        Student's t (``nobs − k`` dof) or the normal for p-values and intervals; default as
        statsmodels: t for ``"nonrobust"``, normal for the robust covariances.
    time_level, instrument_level : index level names, optional
        When the levels are not named ``datetime`` and ``instrument``.
    time_col, instrument_col : str, default "datetime", "instrument"
        The time and instrument columns of a flat pandas or polars frame (and of a flat or
        polars factor table). On a MultiIndex frame another value names the index level.

    Returns
    -------
    RollingOLSResult
        ``params``, ``bse``, ``tvalues``, ``pvalues``, ``resid``, ``fitted``, ``nobs``,
        ``rsquared``, ``rsquared_adj``, ``ssr``, ``llf``, ``aic``, ``bic``, ``status``…, all on
        the caller's index and row order — as polars frames for a polars input, flat pandas
        frames (the key columns first, the caller's index) for a flat one; ``summary()``,
        ``plot()``.

    Warns
    -----
    RankDeficientWindowWarning
        Once, with the count, when some windows have a constant or collinear regressor; their
        outputs are NaN (status ``rank_deficient``).

    Notes
    -----
    Each window's count, weighted means and centred cross-products of ``[x, y]`` are obtained
    by merging per-block partial statistics without subtraction (Chan, Golub & LeVeque), so
    price-level data lose no digits; slopes solve ``S_xx β = S_xy`` by Cholesky on the
    column-scaled matrix and the intercept is ``ȳ − x̄ᵀβ``. With weights ``w`` (``weights``,
    ``halflife`` or their product):
    ``SSR = Σ w e²``, ``s² = SSR / (nobs − k)``, ``llf = −n/2·(log(2π·SSR/n) + 1) + ½ Σ log w``,
    exactly as statsmodels ``WLS`` on the window.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=6), ["A", "B"]], names=["datetime", "instrument"])
    >>> x = np.array([0.0, 5, 1, 3, 4, 2, 2, 8, 3, 1, 7, 0])
    >>> df = pd.DataFrame({"x": x, "y": 1.0 + 2.0 * x}, index=idx)
    >>> res = quantreg.rolling_ols(df, window=3)
    >>> res.params.loc[("2024-01-06", "A")].round(10).tolist()
    [1.0, 2.0]
    >>> res.status.head(4).tolist()    # no window of 3 rows yet for either instrument
    ['warmup', 'warmup', 'warmup', 'warmup']
    """
    explicit = missing is not None
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    data, origin, time_level, instrument_level = panel_input(
        data, time_col, instrument_col, time_level, instrument_level, returns=factors is not None
    )
    if factors is not None:
        factors = factor_input(factors, time_col)
    y, x = default_yx(data, y, x, [weights])
    layout, given_missing = _layout(data, y, x, window, factors, missing, time_level, instrument_level, explicit)
    layout = _weighted(layout, data, weights, factors)
    options = fit_options(
        layout, window=window, min_nobs=min_nobs, add_constant=add_constant, expanding=expanding,
        missing=given_missing, residual=residual, halflife=halflife, cov_type=cov_type, cov_kwds=cov_kwds,
        use_t=use_t,
    )
    output = engine.fit(layout, options, full=True)
    engine.warn_degenerate_windows(output.status, layout, options.add_constant, stacklevel=2)
    return RollingOLSResult(layout=layout, output=output, options=options, origin=origin,
                            level_names=(time_level, instrument_level))


def rolling_resid(
    data: pd.DataFrame | pd.Series | pl.DataFrame | pl.LazyFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    window: int | str | pd.Timedelta | None = None,
    *,
    factors: pd.DataFrame | None = None,
    min_nobs: int | None = None,
    add_constant: bool = True,
    expanding: bool = False,
    missing: str | None = None,
    residual: str = "in_sample",
    halflife: float | None = None,
    weights: Hashable | pd.Series | None = None,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
) -> pd.Series | pd.DataFrame | pl.DataFrame:
    """The residuals of :func:`rolling_ols` (same arguments) as a Series named ``residual``.

    Only the residuals are computed and kept, which saves the memory of params and statistics.
    Given a polars frame, the residuals come back as a polars frame with the time and
    instrument columns and ``residual`` (null where not estimated), rows in the input's order;
    given a flat pandas frame, as a flat pandas frame on its index (key columns, ``residual``).

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=5), ["A"]], names=["datetime", "instrument"])
    >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "y": [1.0, 2, 4, 4, 5]}, index=idx)
    >>> quantreg.rolling_resid(df, window=3).round(4).tolist()
    [nan, nan, 0.1667, -0.3333, 0.1667]
    """
    explicit = missing is not None
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    data, origin, time_level, instrument_level = panel_input(
        data, time_col, instrument_col, time_level, instrument_level, returns=factors is not None
    )
    if factors is not None:
        factors = factor_input(factors, time_col)
    y, x = default_yx(data, y, x, [weights])
    layout, given_missing = _layout(data, y, x, window, factors, missing, time_level, instrument_level, explicit)
    layout = _weighted(layout, data, weights, factors)
    options = fit_options(
        layout, window=window, min_nobs=min_nobs, add_constant=add_constant, expanding=expanding,
        missing=given_missing, residual=residual, halflife=halflife,
    )
    output = engine.fit(layout, options, full=False)
    engine.warn_degenerate_windows(output.status, layout, options.add_constant, stacklevel=2)
    if layout.wide is not None:
        frame = layout.wide
        return pd.DataFrame(output.resid.reshape(frame.shape), index=frame.index, columns=frame.columns, copy=False)
    return origin.panel(pd.Series(output.resid, index=layout.index, name="residual", copy=False))


def _weighted(layout: Layout, data, weights, factors) -> Layout:
    """The layout with the row weights, if any (validated against ``data``)."""
    if weights is None:
        return layout
    if factors is not None:
        raise ValueError("weights= does not combine with factors=; broadcast the factors onto the panel instead.")
    return with_weights(layout, row_weights(data, weights))


def _layout(
    data, y, x, window, factors, missing: str, time_level, instrument_level, explicit: bool
) -> tuple[Layout, str]:
    """The layout of the data (a panel, or returns and a factor table), and ``missing``."""
    calendar = window_spec(window).calendar
    if factors is None:
        layout = panel_layout(
            data, y, x, missing=missing, time_level=time_level, instrument_level=instrument_level,
            calendar=calendar,
        )
        return layout, missing
    from quantreg.factors import factor_layout

    if x is not None:
        raise ValueError(
            "x= and factors= are exclusive: with factors= every column of the factor table is a "
            "regressor (select them with factors=F[[...]])."
        )
    layout = factor_layout(
        data, factors, y=y, missing=missing if explicit else None, time_level=time_level,
        instrument_level=instrument_level, calendar=calendar,
    )
    return layout, missing
