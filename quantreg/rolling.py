"""Rolling OLS over a (datetime, instrument) panel: panel → kernels → results."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantreg._kernels.rolling import (
    ILL_CONDITIONED,
    MISSING_DROP,
    MISSING_SKIP,
    RANK_DEFICIENT,
    rolling_ols_kernel,
)
from quantreg._kernels.shared_factors import empty_tables
from quantreg.calendar import MAX_ROWS, WindowSpec, halflife_decay, parse_window, span_units
from quantreg.exceptions import PanelError, RankDeficientWindowWarning
from quantreg._parallel import run_segments
from quantreg.inference import CovSpec, covariance_spec
from quantreg.panel import Panel, prepare_panel
from quantreg.results import KernelOutput, RollingOLSResult

__all__ = ["rolling_ols", "rolling_resid"]

MISSING_OPTIONS = ("drop", "skip", "raise")
RESIDUAL_OPTIONS = ("in_sample", "out_of_sample")


def check_choice(name: str, value: object, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(f"The {name!r} parameter must be one of {list(options)}. Got {value!r} instead.")
    return str(value)


def _check_int(name: str, value: object, minimum: int) -> int:
    if (
        isinstance(value, (bool, np.bool_, np.timedelta64))
        or not isinstance(value, numbers.Integral)
        or not minimum <= value <= MAX_ROWS
    ):
        limit = f" (at most {MAX_ROWS})" if isinstance(value, numbers.Integral) and value > MAX_ROWS else ""
        raise ValueError(f"The {name!r} parameter must be an int in the range [{minimum}, inf){limit}. Got {value!r} instead.")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool; an error naming the parameter for anything else (``"no"``, 1, None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"The {name!r} parameter must be a bool (True or False). Got {value!r} instead.")
    return bool(value)


@dataclass(frozen=True)
class Windowing:
    """The window options, validated against the data, in the kernels' terms.

    ``rows``: rows per window (row windows), or a bound on any window's rows (calendar and
    unbounded expanding windows); ``span``: calendar window length in time units (0 for row
    windows); ``unit``: the time unit in ns; ``need_full``: windows must have ``rows`` rows
    (row windows, not expanding); ``lam``: exponential decay per row or time unit; ``times``:
    the sorted rows' times in units (calendar windows; else empty).
    """

    spec: WindowSpec
    rows: int
    span: int
    unit: int
    min_nobs: int
    need_full: bool
    lam: float
    times: np.ndarray

    def kernel_options(self, missing: str, add_constant: bool, residual: str, full: bool, cov: CovSpec) -> tuple:
        """The ``opts`` tuple of the rolling kernels."""
        return (
            self.rows, self.span, self.min_nobs, self.need_full,
            MISSING_SKIP if missing == "skip" else MISSING_DROP, add_constant, self.lam,
            residual == "out_of_sample", full, cov.code, cov.use_correction,
        )


def check_options(
    panel: Panel,
    window: object,
    min_nobs: object,
    add_constant: bool,
    expanding: bool,
    halflife: object,
    times: tuple[np.ndarray, int] | None = None,
) -> Windowing:
    """Validate how the options relate to the data.

    ``times`` (sorted times in units, unit) is read from the panel for calendar windows unless
    given.
    """
    add_constant = check_bool("add_constant", add_constant)
    expanding = check_bool("expanding", expanding)
    spec = parse_window(window)
    k_params = len(panel.x_names) + int(add_constant)
    if k_params == 0:
        raise PanelError("there are no regressors: pass x= columns or keep add_constant=True.")
    longest = max(int(np.diff(panel.offsets).max()), 1)
    if spec.calendar:
        if expanding:
            raise ValueError(
                f"expanding=True does not combine with a calendar window ({window!r}): a calendar "
                "window is estimated as soon as it holds min_nobs rows. Drop expanding=True."
            )
        sorted_times, unit = panel.sorted_times() if times is None else times
        rows, span = longest, span_units(spec.span, unit)
    elif spec.rows is None:
        if not expanding:
            raise ValueError("window is required unless expanding=True (an expanding window from each instrument's first row).")
        sorted_times, unit, rows, span = np.empty(0, dtype=np.int64), 1, longest, 0
    else:
        # a window longer than every instrument behaves as one row longer than the longest
        sorted_times, unit, rows, span = np.empty(0, dtype=np.int64), 1, min(spec.rows, longest + 1), 0
        if spec.rows < k_params:
            raise ValueError(
                f"window ({spec.rows}) is smaller than the number of regressors ({k_params}"
                f"{', including the constant' if add_constant else ''}); use window >= {k_params} "
                "or fewer regressors."
            )
    if min_nobs is None:
        min_nobs = k_params
    else:
        min_nobs = _check_int("min_nobs", min_nobs, 1)
        if min_nobs < k_params or (spec.rows is not None and min_nobs > spec.rows):
            upper = f" and at most window ({spec.rows})" if spec.rows is not None else ""
            raise ValueError(
                f"min_nobs ({min_nobs}) must be at least the number of regressors ({k_params}){upper}."
            )
    lam = halflife_decay(halflife, spec, unit)
    need_full = spec.rows is not None and not expanding
    return Windowing(spec, rows, span, unit, min_nobs, need_full, lam, sorted_times)


def rolling_ols(
    data: pd.DataFrame | pd.Series,
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
    cov_type: str = "nonrobust",
    cov_kwds: Mapping[str, object] | None = None,
    use_t: bool | None = None,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
) -> RollingOLSResult:
    """Rolling least squares of ``y`` on ``x`` for every instrument of a panel.

    For the row of instrument ``i`` at time ``t``, OLS is fitted on that instrument's last
    ``window`` rows ending at ``t`` (rows of other instruments never enter). The residual kept
    is the *latest-coefficient residual* ``y_t − x_tᵀβ_t``.

    Parameters
    ----------
    data : DataFrame
        Panel on a two-level MultiIndex (``datetime``, ``instrument``), in any row order.
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

    Returns
    -------
    RollingOLSResult
        ``params``, ``bse``, ``tvalues``, ``pvalues``, ``resid``, ``fitted``, ``nobs``,
        ``rsquared``, ``rsquared_adj``, ``ssr``, ``llf``, ``aic``, ``bic``, ``status``…, all on
        the caller's index and row order.

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
    column-scaled matrix and the intercept is ``ȳ − x̄ᵀβ``. With weights ``w`` (halflife):
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
    if factors is not None:
        from quantreg.factors import factor_rolling_ols

        _check_no_x(x)
        return factor_rolling_ols(
            data, factors, window, y=y, min_nobs=min_nobs, add_constant=add_constant,
            expanding=expanding, missing=missing, residual=residual, halflife=halflife,
            cov_type=cov_type, cov_kwds=cov_kwds, use_t=use_t, time_level=time_level,
            instrument_level=instrument_level,
        )
    panel, output, windowing, missing, residual, cov = _fit(
        data, y, x, window, min_nobs, add_constant, expanding, missing, residual, halflife,
        time_level, instrument_level, full=True, cov_type=cov_type, cov_kwds=cov_kwds, use_t=use_t,
    )
    return RollingOLSResult(
        cov=cov,
        panel=panel,
        output=output,
        windowing=windowing,
        add_constant=add_constant,
        expanding=expanding,
        missing=missing,
        residual=residual,
        halflife=halflife,
    )


def _check_no_x(x: object) -> None:
    if x is not None:
        raise ValueError(
            "x= and factors= are exclusive: with factors= every column of the factor table is a "
            "regressor (select them with factors=F[[...]])."
        )


def warn_degenerate_windows(status: np.ndarray, panel: Panel, add_constant: bool, stacklevel: int) -> None:
    """One :class:`RankDeficientWindowWarning` counting rank-deficient and ill-conditioned
    windows, naming any regressor that is constant in every row (it duplicates the intercept)."""
    n_rank = int(np.count_nonzero(status == RANK_DEFICIENT))
    n_ill = int(np.count_nonzero(status == ILL_CONDITIONED))
    if not (n_rank or n_ill):
        return
    message = (
        f"{n_rank} of {status.shape[0]} windows are rank deficient (a regressor constant within "
        "the window, or collinear regressors)"
    )
    if n_ill:
        message += f" and {n_ill} are ill conditioned (nearly collinear regressors)"
    message += "; their outputs are NaN. Inspect result.status to find them."
    constant = [name for name in _constant_columns(panel)] if add_constant else []
    if constant:
        message += (
            f" Regressor(s) {constant} are constant in every row and duplicate the intercept: "
            "drop them, or pass add_constant=False to use one as the intercept."
        )
    warnings.warn(message, RankDeficientWindowWarning, stacklevel=stacklevel)


def _constant_columns(panel: Panel) -> list[Hashable]:
    names = []
    for j, name in enumerate(panel.x_names):
        column = panel.x[:, j]
        finite = column[~np.isnan(column)]
        if finite.size and finite.min() == finite.max():
            names.append(name)
    return names


def _fit(
    data, y, x, window, min_nobs, add_constant, expanding, missing, residual, halflife,
    time_level, instrument_level, *, full: bool, cov_type: str = "nonrobust",
    cov_kwds: Mapping[str, object] | None = None, use_t: bool | None = None,
) -> tuple[Panel, KernelOutput, Windowing, str, str, CovSpec]:
    """Validate, run the kernel, warn about rank-deficient windows."""
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    residual = check_choice("residual", residual, RESIDUAL_OPTIONS)
    panel = prepare_panel(
        data, y, x, missing=missing, time_level=time_level, instrument_level=instrument_level
    )
    windowing = check_options(panel, window, min_nobs, add_constant, expanding, halflife)
    cov = covariance_spec(cov_type, cov_kwds, windowing.spec.rows, use_t, windowing.rows)
    output = _run_kernel(panel, windowing, add_constant, missing, residual, full, cov)
    warn_degenerate_windows(output.status, panel, add_constant, stacklevel=4)
    return panel, output, windowing, missing, residual, cov


def new_output(n: int, k_params: int, full: bool, n_scalar: int | None = None) -> KernelOutput:
    """Output arrays for ``n`` rows; without ``full`` only ``resid`` and ``status`` (the
    residual-only path keeps no params, statistics, fitted values or counts). ``n_scalar``:
    rows of the per-row scalar outputs when they differ from ``n`` (wide frames)."""
    n_scalar = n if n_scalar is None else n_scalar
    rows = n if full else 0
    return KernelOutput(
        params=np.empty((rows, k_params)),
        bse=np.empty((rows, k_params)),
        resid=np.empty(n_scalar),
        fitted=np.empty(n_scalar if full else 0),
        nobs=np.empty(n_scalar if full else 0, dtype=np.int64),
        status=np.empty(n_scalar, dtype=np.int8),
        stats=np.empty((rows, 4)),
    )


def _run_kernel(
    panel: Panel,
    windowing: Windowing,
    add_constant: bool,
    missing: str,
    residual: str,
    full: bool,
    cov: CovSpec,
) -> KernelOutput:
    n, k = panel.x.shape
    out = new_output(n, k + int(add_constant), full)
    kernel = rolling_ols_kernel(k)
    opts = windowing.kernel_options(missing, add_constant, residual, full, cov)
    shared = empty_tables(k)

    def run(first: int, last: int) -> None:
        kernel(
            panel.x, panel.y, panel.offsets, windowing.times, first, last, opts,
            cov.kernel_weights, shared, tuple(out),
        )

    run_segments(run, panel.offsets)
    return out


def rolling_resid(
    data: pd.DataFrame | pd.Series,
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
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
) -> pd.Series:
    """The residuals of :func:`rolling_ols` (same arguments) as a Series named ``residual``.

    Only the residuals are computed and kept, which saves the memory of params and statistics.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=5), ["A"]], names=["datetime", "instrument"])
    >>> df = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "y": [1.0, 2, 4, 4, 5]}, index=idx)
    >>> quantreg.rolling_resid(df, window=3).round(4).tolist()
    [nan, nan, 0.1667, -0.3333, 0.1667]
    """
    if factors is not None:
        from quantreg.factors import factor_rolling_resid

        _check_no_x(x)
        return factor_rolling_resid(
            data, factors, window, y=y, min_nobs=min_nobs, add_constant=add_constant,
            expanding=expanding, missing=missing, residual=residual, halflife=halflife,
            time_level=time_level, instrument_level=instrument_level,
        )
    panel, output, *_ = _fit(
        data, y, x, window, min_nobs, add_constant, expanding, missing, residual, halflife,
        time_level, instrument_level, full=False,
    )
    return pd.Series(panel.to_caller_order(output.resid), index=panel.index, name="residual", copy=False)
