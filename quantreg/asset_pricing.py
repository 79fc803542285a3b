"""Fama-MacBeth cross-sectional regressions and the two-pass risk-premium workflow.

:func:`fama_macbeth` fits one least-squares regression per date across the assets of a
(datetime, instrument) panel and averages the coefficients over the dates; :func:`two_pass`
first estimates each asset's rolling factor betas with :func:`quantreg.rolling_ols`, lags them
by one row so that only betas known before date ``t`` are used, and then runs
:func:`fama_macbeth` of the returns on those betas. The numbers follow linearmodels'
``FamaMacBeth(...).fit(cov_type=..., bandwidth=..., kernel=...)`` (debiased, its default).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from quantreg import engine
from quantreg.frames import INSTRUMENT_COL, TIME_COL, panel_input
from quantreg.exceptions import (
    MissingColumnError,
    PanelError,
    ParameterError,
    SkippedPeriodWarning,
)
from quantreg.panel import cross_section_layout, default_yx, resolve_levels, row_weights, select_columns, sort_order
from quantreg.results import RollingOLSResult
from quantreg.options import check_bool
from quantreg.rolling import rolling_ols

__all__ = ["FamaMacBethResult", "TwoPassResult", "fama_macbeth", "two_pass"]

#: Per-period status categories.
PERIOD_STATUS = ("ok", "empty", "too_few", "rank_deficient")
#: Period status code of each engine status code (ok, warmup: too few rows, missing: no complete
#: row, rank deficient; ill-conditioned cross-sections are solved, as linearmodels solves them).
_PERIOD_CODE = np.array([0, 2, 1, 3, 0], dtype=np.int8)
_EMPTY = 1

_COV_TYPES = ("unadjusted", "kernel")
#: Accepted kernel names (case-insensitive, as in linearmodels) -> canonical name.
_KERNELS = {
    "bartlett": "bartlett",
    "newey-west": "bartlett",
    "parzen": "parzen",
    "gallant": "parzen",
    "qs": "qs",
    "quadratic-spectral": "qs",
    "andrews": "qs",
}
#: Newey & West (1994) automatic-bandwidth constants per kernel: (q, c, pilot exponent).
_BANDWIDTH_RULE = {
    "bartlett": (1, 1.1447, 2.0 / 9.0),
    "parzen": (2, 2.6614, 4.0 / 25.0),
    "qs": (2, 1.3221, 2.0 / 25.0),
}


# --------------------------------------------------------------------------- validation
def _check_cov_type(cov_type: object, func: str) -> str:
    if not isinstance(cov_type, str) or cov_type.lower() not in _COV_TYPES:
        raise ParameterError(
            f"The 'cov_type' parameter of {func} must be one of {list(_COV_TYPES)} "
            f"(Newey-West errors: cov_type='kernel'). Got {cov_type!r} instead."
        )
    return cov_type.lower()


def _check_kernel(kernel: object, func: str) -> str:
    if not isinstance(kernel, str) or kernel.lower() not in _KERNELS:
        raise ParameterError(
            f"The 'kernel' parameter of {func} must be one of {list(_KERNELS)}. "
            f"Got {kernel!r} instead."
        )
    return _KERNELS[kernel.lower()]


def _check_bandwidth(bandwidth: object, cov_type: str, func: str) -> float | None:
    if bandwidth is None:
        return None
    if cov_type != "kernel":
        raise ParameterError(
            f"The 'bandwidth' parameter of {func} is only used with cov_type='kernel'. Got "
            f"bandwidth={bandwidth!r} with cov_type={cov_type!r}; pass cov_type='kernel' or "
            "drop bandwidth."
        )
    if (
        isinstance(bandwidth, bool)
        or not isinstance(bandwidth, numbers.Real)
        or not 0.0 <= float(bandwidth) < math.inf
    ):
        raise ParameterError(
            f"The 'bandwidth' parameter of {func} must be a number in the range [0, number of "
            f"periods) or None (automatic). Got {bandwidth!r} instead."
        )
    return float(bandwidth)


# --------------------------------------------------------------------------- covariance
def kernel_weights(kernel: str, bandwidth: float, n_periods: int) -> np.ndarray:
    """Weights of the autocovariances at lags ``0, 1, …`` (linearmodels' definitions).

    Bartlett: ``w_i = 1 − i/(m + 1)`` and Parzen: ``z = i/(m + 1)``,
    ``w = 1 − 6z² + 6z³`` (``z ≤ ½``), ``2(1 − z)³`` (``z > ½``), for ``i = 0 … m`` with
    ``m = ⌊bandwidth⌋``; quadratic spectral: ``x = 6π(i/b)/5``,
    ``w_i = 3(sin x / x − cos x)/x²`` for every lag ``i < T`` (no truncation), ``b`` the
    bandwidth itself (all lag weights 0 when ``b = 0``).
    """
    if kernel == "qs":
        w = np.zeros(n_periods)
        if bandwidth == 0:
            return w
        x = 6.0 * np.pi * (np.arange(1, n_periods) / bandwidth) / 5.0
        w[0] = 1.0
        w[1:] = 3.0 / x**2 * (np.sin(x) / x - np.cos(x))
        return w
    m = int(bandwidth)
    z = np.arange(m + 1) / (m + 1)
    if kernel == "bartlett":
        return 1.0 - z
    w = 1.0 - 6.0 * z**2 + 6.0 * z**3
    w[z > 0.5] = 2.0 * (1.0 - z[z > 0.5]) ** 3
    return w


def _pilot_lags(n: int, exponent: float) -> int:
    return int(math.ceil(4.0 * (n / 100.0) ** exponent))


def _min_periods_automatic(kernel: str) -> int:
    exponent = _BANDWIDTH_RULE[kernel][2]
    n = 1
    while _pilot_lags(n, exponent) >= n - 1:
        n += 1
    return n


def automatic_bandwidth(deviations: np.ndarray, kernel: str) -> int:
    """Newey & West (1994) bandwidth from the per-period deviations (as linearmodels).

    The series is ``Σ_j e_tj / sd(e_j)`` (``sd`` with ``ddof=0``). With its autocovariances
    ``σ̂_j = T⁻¹ Σ_t x_t x_{t−j}`` up to the pilot lag ``n = ⌈4 (T/100)^a⌉``,
    ``ŝ_0 = σ̂_0 + 2 Σ σ̂_j``, ``ŝ_q = 2 Σ j^q σ̂_j`` and the bandwidth is
    ``min(⌈c ((ŝ_q/ŝ_0)²)^{1/(2q+1)} T^{1/(2q+1)}⌉, T − 1)``.
    """
    n_periods = deviations.shape[0]
    q, c, exponent = _BANDWIDTH_RULE[kernel]
    minimum = _min_periods_automatic(kernel)
    if n_periods < minimum:
        raise ParameterError(
            f"The automatic bandwidth of the {kernel!r} kernel needs at least {minimum} "
            f"estimated periods; there are {n_periods}. Pass bandwidth= (below {n_periods})."
        )
    pilot = _pilot_lags(n_periods, exponent)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = np.sum(deviations / deviations.std(0)[None, :], axis=1)
        sigma = np.array([x[j:] @ x[: n_periods - j] / n_periods for j in range(pilot + 1)])
        s0 = sigma[0] + 2.0 * sigma[1:].sum()
        sq = 2.0 * np.sum(sigma[1:] * np.arange(1, pilot + 1) ** q)
        m = c * ((sq / s0) ** 2) ** (1.0 / (2 * q + 1)) * n_periods ** (1.0 / (2 * q + 1))
    if not math.isfinite(m):
        raise ParameterError(
            "The automatic bandwidth is not defined: some coefficient does not vary across "
            "the estimated periods (or their long-run variance is 0). Pass bandwidth=."
        )
    return min(int(math.ceil(m)), n_periods - 1)


def _covariance(
    estimates: np.ndarray, cov_type: str, kernel: str, bandwidth: float | None
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(params, cov_params, bandwidth used) from the (T, p) per-period estimates."""
    n_periods = estimates.shape[0]
    params = estimates.mean(axis=0)
    e = estimates - params
    if cov_type == "kernel":
        if bandwidth is None:
            bandwidth = float(automatic_bandwidth(e, kernel))
        elif bandwidth >= n_periods:
            raise ParameterError(
                f"The 'bandwidth' parameter of fama_macbeth must be below the number of "
                f"estimated periods, {n_periods} (their estimates have autocovariances up to lag "
                f"{n_periods - 1}). Got {bandwidth:g} instead; use a smaller bandwidth."
            )
        w = kernel_weights(kernel, bandwidth, n_periods)
    else:
        w = np.ones(1)
    s = e.T @ e
    for lag in range(1, len(w)):
        gamma = e[lag:].T @ e[:-lag]
        s += w[lag] * (gamma + gamma.T)
    if n_periods < 2:
        cov = np.full_like(s, np.nan)
    else:
        cov = s / n_periods / (n_periods - 1)
    return params, cov, bandwidth


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FamaMacBethResult:
    """Fama-MacBeth estimates: per-period cross-sectional fits and their time averages.

    Attributes
    ----------
    params : Series
        The averages of the per-period coefficients over the ``T`` estimated periods.
    cov_params : DataFrame
        Covariance of :attr:`params` (standard or kernel/HAC; see :func:`fama_macbeth`).
    params_by_period : DataFrame
        One row per datetime that has at least one complete row; NaN where the period was
        skipped (see :attr:`status_by_period`).
    nobs_by_period : Series
        Number of complete (asset) rows of each period.
    status_by_period : Series (Categorical)
        ``ok``, ``too_few`` (fewer complete rows than coefficients) or ``rank_deficient``
        (a regressor constant across the period's assets, or collinear regressors: a pivot
        ``1 − R²_j`` below 1e-12, the rolling fits' tolerance).
    rsquared_by_period : Series
        ``1 − SSR/TSS`` of each cross-section (centred TSS with an intercept).
    cov_type, kernel, bandwidth
        The covariance used; ``kernel`` and ``bandwidth`` are None unless ``cov_type="kernel"``
        (``bandwidth`` is then the one used, chosen automatically when not given).
    y_name : label of the regressand.
    """

    params: pd.Series
    cov_params: pd.DataFrame
    params_by_period: pd.DataFrame
    nobs_by_period: pd.Series
    status_by_period: pd.Series
    rsquared_by_period: pd.Series
    cov_type: str
    kernel: str | None
    bandwidth: float | None
    y_name: Hashable

    @property
    def param_names(self) -> list[Hashable]:
        return list(self.params.index)

    @cached_property
    def nperiods(self) -> int:
        """``T``: the number of periods whose cross-section was estimated."""
        return int((self.status_by_period == "ok").sum())

    @property
    def df_resid(self) -> int:
        """``T − 1``, the degrees of freedom of the t distribution used for inference."""
        return self.nperiods - 1

    @cached_property
    def nobs(self) -> int:
        """Number of complete rows in the estimated periods."""
        return int(self.nobs_by_period[self.status_by_period == "ok"].sum())

    @cached_property
    def bse(self) -> pd.Series:
        """Standard errors, ``sqrt(diag(cov_params))``."""
        return pd.Series(np.sqrt(np.diag(self.cov_params.to_numpy())), index=self.params.index, name="bse")

    @cached_property
    def tvalues(self) -> pd.Series:
        """``params / bse``."""
        return (self.params / self.bse).rename("tvalues")

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from a t distribution with ``T − 1`` degrees of freedom."""
        with np.errstate(invalid="ignore"):
            from scipy import stats as sps  # imported on use: slow to import

            values = 2.0 * sps.t.sf(np.abs(self.tvalues.to_numpy()), self.df_resid)
        return pd.Series(values, index=self.params.index, name="pvalues")

    @cached_property
    def avg_rsquared(self) -> float:
        """Mean of :attr:`rsquared_by_period` over the estimated periods."""
        return float(np.nanmean(self.rsquared_by_period[self.status_by_period == "ok"]))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals ``params ± t_{1−α/2, T−1} · bse`` (columns ``lower``, ``upper``)."""
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 < alpha < 1.0:
            raise ParameterError(f"The 'alpha' parameter of conf_int must be a float in the range (0, 1). Got {alpha!r} instead.")
        with np.errstate(invalid="ignore"):
            from scipy import stats as sps

            q = sps.t.ppf(1.0 - alpha / 2.0, self.df_resid)
        return pd.DataFrame(
            {"lower": self.params - q * self.bse, "upper": self.params + q * self.bse},
            index=self.params.index,
        )

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficient table: estimate, standard error, t, p-value and confidence bounds.

        ``str(result)`` prints the same table under a header (periods, rows, covariance).
        """
        ci = self.conf_int(alpha)
        low, high = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        return pd.DataFrame(
            {
                "coef": self.params,
                "std err": self.bse,
                "t": self.tvalues,
                "P>|t|": self.pvalues,
                low: ci["lower"],
                high: ci["upper"],
            }
        )

    def __str__(self) -> str:
        skipped = len(self.status_by_period) - self.nperiods
        if self.cov_type == "kernel":
            cov = f"kernel (HAC), {self.kernel} kernel, bandwidth {self.bandwidth:g}"
        else:
            cov = "unadjusted (standard deviation of the per-period estimates)"
        header = [
            f"Fama-MacBeth regression of {self.y_name!r}",
            f"periods estimated (T): {self.nperiods}   skipped: {skipped}   rows: {self.nobs}",
            f"average cross-section R²: {self.avg_rsquared:.4f}",
            f"covariance: {cov}; inference t({self.df_resid})",
        ]
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
            table = self.summary().to_string()
        return "\n".join(header) + "\n" + table

    def __repr__(self) -> str:
        skipped = len(self.status_by_period) - self.nperiods
        cov = self.cov_type if self.cov_type != "kernel" else (
            f"kernel ({self.kernel}, bandwidth {self.bandwidth:g})")
        return (
            f"<FamaMacBethResult {self.y_name!r} ~ {' + '.join(map(str, self.param_names))} "
            f"(k={len(self.param_names)})\n"
            f"  T={self.nperiods} periods estimated, {skipped} skipped, {self.nobs:,} rows; "
            f"cov_type={cov!r}; average R² {self.avg_rsquared:.3f}>"
        )


@dataclass(frozen=True)
class TwoPassResult:
    """The two passes of :func:`two_pass`.

    Attributes
    ----------
    first_pass : RollingOLSResult
        Rolling time-series regressions of ``y`` on the factors, per asset.
    betas : DataFrame
        The first pass's factor coefficients (no intercept) moved one row later within each
        asset: on the caller's index, the row at date ``t`` holds the betas estimated on the
        window ending at the asset's previous row.
    fama_macbeth : FamaMacBethResult
        Cross-sectional regressions of ``y_t`` on ``betas`` (with an intercept), per date.
    """

    first_pass: RollingOLSResult
    betas: pd.DataFrame
    fama_macbeth: FamaMacBethResult
    shanken: bool = False
    factor_cov: pd.DataFrame | None = None

    @property
    def params(self) -> pd.Series:
        """The risk premia (and the intercept ``const``): ``fama_macbeth.params``."""
        return self.fama_macbeth.params

    @property
    def correction(self) -> str:
        """``"shanken"`` (Shanken 1992 errors-in-variables correction) or ``"none"``."""
        return "shanken" if self.shanken else "none"

    @cached_property
    def shanken_c(self) -> float:
        """``c = 1 + λ̂ᵀ Σ̂_f⁻¹ λ̂`` (λ̂: the factor premia; Σ̂_f: :attr:`factor_cov`); NaN
        without ``shanken=True``."""
        if self.factor_cov is None:
            return float("nan")
        names = list(self.factor_cov.columns)
        lam = self.fama_macbeth.params[names].to_numpy()
        return float(1.0 + lam @ np.linalg.solve(self.factor_cov.to_numpy(), lam))

    @cached_property
    def cov_params(self) -> pd.DataFrame:
        """Covariance of :attr:`params`: the Fama-MacBeth one, or with ``shanken=True``
        ``c·V_FM + [[0, 0], [0, Σ̂_f / T]]`` (the intercept gets ``c·V_FM`` only)."""
        cov = self.fama_macbeth.cov_params
        if not self.shanken:
            return cov
        out = cov * self.shanken_c
        names = list(self.factor_cov.columns)
        out.loc[names, names] += self.factor_cov.to_numpy() / self.fama_macbeth.nperiods
        return out

    @cached_property
    def bse(self) -> pd.Series:
        """Standard errors: ``sqrt(diag(cov_params))`` (Shanken-corrected with ``shanken=True``)."""
        if not self.shanken:
            return self.fama_macbeth.bse
        return pd.Series(np.sqrt(np.diag(self.cov_params.to_numpy())), index=self.params.index, name="bse")

    @cached_property
    def tvalues(self) -> pd.Series:
        return (self.params / self.bse).rename("tvalues")

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values, t distribution with ``T − 1`` degrees of freedom."""
        if not self.shanken:
            return self.fama_macbeth.pvalues
        from scipy import stats as sps

        with np.errstate(invalid="ignore"):
            values = 2.0 * sps.t.sf(np.abs(self.tvalues.to_numpy()), self.fama_macbeth.df_resid)
        return pd.Series(values, index=self.params.index, name="pvalues")

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficient table of the second pass (:meth:`FamaMacBethResult.summary`), with the
        Shanken-corrected errors when ``shanken=True``; ``table.attrs["correction"]`` names the
        correction used (also printed by ``str(result)``)."""
        table = self.fama_macbeth.summary(alpha)
        if self.shanken:
            from scipy import stats as sps

            q = sps.t.ppf(1.0 - alpha / 2.0, self.fama_macbeth.df_resid)
            low, high = table.columns[-2], table.columns[-1]
            table = table.assign(**{"std err": self.bse, "t": self.tvalues, "P>|t|": self.pvalues})
            table[low] = self.params - q * self.bse
            table[high] = self.params + q * self.bse
        table.attrs["correction"] = self._correction_text()
        return table

    def _correction_text(self) -> str:
        if self.shanken:
            return f"Shanken (1992) errors-in-variables correction, c = {self.shanken_c:.6g}"
        return "none (Fama-MacBeth standard errors; pass shanken=True for the Shanken correction)"

    def __str__(self) -> str:
        text = str(self.fama_macbeth)
        if not self.shanken:
            return text + "\nstandard errors: " + self._correction_text()
        lines = [line for line in text.split("\n") if not line.startswith(" ") and "coef" not in line][:4]
        with pd.option_context("display.float_format", "{:.6g}".format, "display.width", 120):
            table = self.summary().to_string()
        return "\n".join(lines + ["standard errors: " + self._correction_text(), table])

    def __repr__(self) -> str:
        first, second = self.first_pass, self.fama_macbeth
        premia = ", ".join(f"{name} {value:.4g} (t {t:.2f})" for name, value, t in
                           zip(second.param_names, second.params, second.tvalues))
        window = "expanding" if first.window is None else f"window={first.window!r}"
        return (
            f"<TwoPassResult {second.y_name!r} on factors {list(first.layout.x_names)}\n"
            f"  first pass: {first.layout.n_segments:,} assets, {first.layout.n_rows:,} rows, {window}\n"
            f"  second pass: T={second.nperiods} periods, cov_type={second.cov_type!r}; premia: {premia}>"
        )


# --------------------------------------------------------------------------- estimators
def fama_macbeth(
    data: pd.DataFrame,
    y: Hashable | None = None,
    x: Sequence[Hashable] | Hashable | None = None,
    *,
    add_constant: bool = True,
    cov_type: str = "unadjusted",
    bandwidth: float | None = None,
    kernel: str = "bartlett",
    weights: Hashable | pd.Series | None = None,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
) -> FamaMacBethResult:
    """Fama-MacBeth (1973) regressions: one cross-sectional OLS per date, then time averages.

    Parameters
    ----------
    data : DataFrame
        Panel on a two-level MultiIndex (``datetime``, ``instrument``), in any row order, or a
        flat pandas or polars frame with the time and instrument as columns.
    y : column label, optional
        Regressand; default: the last column.
    x : column label or list of labels, optional
        Regressors; default: every other column.
    add_constant : bool, default True
        Give each cross-section an intercept ``const``.
    cov_type : {"unadjusted", "kernel"}
        ``unadjusted``: the sample covariance of the per-period estimates divided by ``T``;
        ``kernel``: a HAC (Newey-West with the Bartlett kernel) covariance of them.
    bandwidth : float, optional
        Kernel bandwidth, in ``[0, T)``; Bartlett and Parzen use its integer part (the
        number of lags). Default: chosen from the data by the Newey & West (1994) rule, as
        linearmodels does (needs ``T ≥ 4`` for Bartlett, 5 for Parzen, 6 for QS). Only with
        ``cov_type="kernel"``.
    kernel : str, default "bartlett"
        ``bartlett`` (alias ``newey-west``), ``parzen`` (``gallant``) or ``qs``
        (``quadratic-spectral``, ``andrews``); case-insensitive. Validated always, used only
        with ``cov_type="kernel"``.
    weights : column label, Series or array, optional
        Row weights of the cross-sections (each date's fit is a WLS, as statsmodels
        ``WLS(weights=...)``): a column (then not a default regressor), a Series on the index,
        or one value per row. A zero, negative or NaN weight makes the row missing; an
        infinite weight is an error. The time averages stay unweighted.
    time_level, instrument_level : index level names, optional
        When the levels are not named ``datetime`` and ``instrument``.
    time_col, instrument_col : str, default "datetime", "instrument"
        The key columns of a flat pandas or polars frame.

    Returns
    -------
    FamaMacBethResult
        ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``, ``cov_params``,
        ``params_by_period``, ``nobs_by_period``, ``status_by_period``, ``summary()``. These
        are pandas objects whatever the input: indexed by coefficient or by date, they have
        no instrument rows to give back in the input's kind.

    Warns
    -----
    SkippedPeriodWarning
        Once, with counts, when some periods have fewer complete rows than coefficients or
        collinear regressors (a regressor constant across the period's assets counts, as it
        duplicates the intercept). They are left out (``T`` counts the others), as in
        linearmodels.

    Raises
    ------
    PanelError
        When no period can be estimated.
    ParameterError
        Unknown ``cov_type`` or ``kernel``; ``bandwidth`` negative, given without
        ``cov_type="kernel"``, or not below ``T``.

    Notes
    -----
    A row is used when ``y`` and every regressor are non-missing (other rows are dropped, as
    linearmodels does). For each date ``t`` with ``n_t`` such rows, OLS of ``y`` on ``x``
    across assets gives ``β̂_t`` (solved from the period's centred Gram matrix). With the
    ``T`` estimated periods,

    .. math:: \\hat\\beta = T^{-1} \\sum_t \\hat\\beta_t, \\qquad
              \\hat V = \\frac{1}{T (T-1)} \\Big( \\Gamma_0 + \\sum_{j \\ge 1} w_j
              (\\Gamma_j + \\Gamma_j^\\top) \\Big), \\quad
              \\Gamma_j = \\sum_{t > j} e_t e_{t-j}^\\top,

    with ``e_t = β̂_t − β̂`` (in time order; skipped periods are removed, not zero-filled),
    ``w_j = 0`` for ``cov_type="unadjusted"`` and the kernel weights otherwise (Bartlett:
    ``w_j = 1 − j/(m+1)``, ``m = ⌊bandwidth⌋``). t-statistics are compared with a t
    distribution with ``T − 1`` degrees of freedom. This is linearmodels'
    ``FamaMacBeth(...).fit(cov_type, bandwidth=, kernel=)`` with ``debiased=True``.

    Differences from linearmodels: a period is rank deficient here when a Cholesky pivot of
    its column-scaled Gram matrix, ``1 − R²_j``, is below 1e-12 (linearmodels: a numerical
    rank below ``k`` from a pivoted QR with tolerance ``max(n, k)·eps``), so nearly collinear
    cross-sections that linearmodels would solve into noise are skipped here; a
    ``bandwidth`` given with ``cov_type="unadjusted"`` is an error here (linearmodels ignores
    it); datetimes without any complete row are absent from ``params_by_period`` (as in
    linearmodels) and not counted as skipped.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg.asset_pricing as ap
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-31", periods=3, freq="ME"), ["A", "B", "C", "D"]],
    ...     names=["datetime", "instrument"])
    >>> beta = np.array([0.5, 1.0, 1.5, 2.0] * 3)
    >>> premium = np.repeat([0.01, 0.03, 0.02], 4)
    >>> df = pd.DataFrame({"beta": beta, "ret": 0.001 + premium * beta}, index=idx)
    >>> res = ap.fama_macbeth(df)
    >>> res.params.round(6).tolist()
    [0.001, 0.02]
    >>> res.params_by_period["beta"].round(6).tolist()
    [0.01, 0.03, 0.02]
    >>> round(float(res.bse["beta"]), 6)    # std of (0.01, 0.03, 0.02) / sqrt(3)
    0.005774
    """
    func = "fama_macbeth"
    cov_type = _check_cov_type(cov_type, func)
    kernel = _check_kernel(kernel, func)
    bandwidth = _check_bandwidth(bandwidth, cov_type, func)
    add_constant = check_bool("add_constant", add_constant)
    data, _, time_level, instrument_level = panel_input(data, time_col, instrument_col, time_level, instrument_level)
    y, x = default_yx(data, y, x, [weights])
    w = None if weights is None else row_weights(data, weights)
    layout, dates = cross_section_layout(data, y, x, time_level=time_level, instrument_level=instrument_level,
                                         weights=w)
    x_names = layout.x_names
    n_coef = layout.k + int(add_constant)
    if n_coef == 0:
        raise PanelError("there are no regressors: pass x= columns or keep add_constant=True.")
    coef, stats, nobs, codes = engine.cross_sections(layout, add_constant)[:4]
    status = _PERIOD_CODE[codes]
    # dates in time order, without those that have no complete row
    order = np.arange(len(dates)) if dates.is_monotonic_increasing else np.argsort(dates, kind="stable")
    order = order[status[order] != _EMPTY]
    dates = dates[order]
    coef, stats, nobs, status = coef[order], stats[order], nobs[order], status[order]
    names = (["const"] if add_constant else []) + list(x_names)
    ok = status == 0
    n_ok = int(ok.sum())
    if n_ok == 0:
        raise PanelError(
            f"no cross-section can be estimated: each of the {len(dates)} dates with complete "
            f"rows has fewer complete rows than the {n_coef} coefficients, or collinear "
            "regressors. A regressor that depends only on the date (the same for every asset) "
            "is collinear with the constant; use regressors that vary across assets, or more "
            "assets per date."
        )
    n_few = int(np.count_nonzero(status == PERIOD_STATUS.index("too_few")))
    n_rank = int(np.count_nonzero(status == PERIOD_STATUS.index("rank_deficient")))
    if n_few or n_rank:
        warnings.warn(
            f"{n_few + n_rank} of {len(dates)} periods were skipped: {n_few} with fewer "
            f"complete rows than the {n_coef} coefficients, {n_rank} with collinear regressors "
            "(rank deficient); they are not counted in T and their rows of params_by_period are "
            "NaN. Inspect result.status_by_period.",
            SkippedPeriodWarning,
            stacklevel=2,
        )
    params, cov, bandwidth = _covariance(coef[ok], cov_type, kernel, bandwidth)
    date_index = pd.Index(dates, name=dates.name)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsq = 1.0 - stats[:, 0] / stats[:, 1]
    return FamaMacBethResult(
        params=pd.Series(params, index=names, name="params"),
        cov_params=pd.DataFrame(cov, index=names, columns=names),
        params_by_period=pd.DataFrame(coef, index=date_index, columns=names),
        nobs_by_period=pd.Series(nobs, index=date_index, name="nobs"),
        status_by_period=pd.Series(
            pd.Categorical.from_codes(status, categories=list(PERIOD_STATUS)),
            index=date_index,
            name="status",
        ),
        rsquared_by_period=pd.Series(rsq, index=date_index, name="rsquared"),
        cov_type=cov_type,
        kernel=kernel if cov_type == "kernel" else None,
        bandwidth=bandwidth if cov_type == "kernel" else None,
        y_name=layout.y_name,
    )


def lag_within_instrument(
    frame: pd.DataFrame, time_level: Hashable | None = None, instrument_level: Hashable | None = None
) -> pd.DataFrame:
    """Move every column one row later within each instrument (in time order).

    The first row of each instrument becomes NaN. The result has the caller's index and row
    order; the caller's row order does not matter.
    """
    time_pos, inst_pos = resolve_levels(frame.index, time_level, instrument_level)
    order, offsets, _ = sort_order(frame.index, time_pos, inst_pos)
    perm = np.arange(len(frame)) if order is None else order
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    ordered = values[perm]
    shifted = np.empty_like(ordered)
    shifted[1:] = ordered[:-1]
    starts = offsets[:-1][np.diff(offsets) > 0]
    shifted[starts] = np.nan
    out = np.empty_like(shifted)
    out[perm] = shifted
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def two_pass(
    data: pd.DataFrame,
    y: Hashable | None = None,
    factors: Sequence[Hashable] | Hashable | None = None,
    window: int | None = None,
    *,
    cov_type: str = "unadjusted",
    bandwidth: float | None = None,
    kernel: str = "bartlett",
    shanken: bool = False,
    time_level: Hashable | None = None,
    instrument_level: Hashable | None = None,
    time_col: Hashable = TIME_COL,
    instrument_col: Hashable = INSTRUMENT_COL,
    **rolling_kwargs: Any,
) -> TwoPassResult:
    """Two-pass risk premia: rolling factor betas per asset, then Fama-MacBeth on lagged betas.

    Parameters
    ----------
    data : DataFrame
        Panel on a (``datetime``, ``instrument``) MultiIndex holding the asset returns ``y``
        and the factor returns (the same on every asset's row of a date), or a flat pandas or
        polars frame with the time and instrument as columns.
    y : column label, optional
        The (excess) return; default: the last column.
    factors : label or list of labels, optional
        The factor columns; default: every column other than ``y``.
    window : int
        Rows of each asset in a first-pass window (see :func:`quantreg.rolling_ols`).
    cov_type, bandwidth, kernel
        Covariance of the second pass, see :func:`fama_macbeth`.
    shanken : bool, default False
        Correct the second pass's standard errors for the estimation error of the betas
        (Shanken 1992): with ``λ̂`` the factor premia (intercept excluded) and ``Σ̂_f`` the
        sample covariance (``ddof=1``) of the factors over the ``T`` periods used,
        ``c = 1 + λ̂ᵀΣ̂_f⁻¹λ̂``; the variance of each premium becomes ``c·V_FM,jj + Σ̂_f,jj / T``
        and that of the intercept ``c·V_FM,00`` (Cochrane, *Asset Pricing*, §12.2, with the
        Fama-MacBeth covariance ``V_FM`` in place of the OLS one). ``bse``, ``tvalues``,
        ``pvalues``, ``cov_params`` and ``summary()`` follow; ``shanken_c`` and ``factor_cov``
        hold the pieces.
    time_level, instrument_level : index level names, optional
    time_col, instrument_col : str, default "datetime", "instrument"
        The key columns of a flat pandas or polars frame.
    **rolling_kwargs
        Passed to :func:`quantreg.rolling_ols` for the first pass (``min_nobs``,
        ``add_constant``, ``expanding``, ``missing``, ``halflife``…).

    Returns
    -------
    TwoPassResult
        ``first_pass``, ``betas`` and ``fama_macbeth`` (plus ``params``, ``bse``,
        ``tvalues``, ``pvalues``, ``summary()`` of the second pass). For polars or flat pandas
        input, ``betas`` and the first pass's tables are frames of that kind (rows in the
        input's order); the second pass's tables are pandas (by coefficient or date).

    Notes
    -----
    First pass, per asset ``i``: ``y_{i,s} = a_{i,t} + b_{i,t}ᵀ f_s + e_{i,s}`` over the
    window of rows ending at ``t``. The betas used at date ``t`` are those of the window ending
    at the asset's *previous* row, ``b_{i,t⁻}`` — known before ``t``, so there is no look-ahead.
    Second pass, per date: ``y_{i,t} = γ_{0,t} + γ_tᵀ b_{i,t⁻} + u_{i,t}`` across assets; the
    premia are ``γ̂ = T⁻¹ Σ_t γ̂_t`` with the standard errors of :func:`fama_macbeth`.
    Rows whose lagged betas are not available (warm-up, rank-deficient windows) are dropped
    from the second pass. The column names of ``betas`` and of the premia are the factors'.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg.asset_pricing as ap
    >>> rng = np.random.default_rng(0)
    >>> dates = pd.date_range("2000-01-31", periods=40, freq="ME")
    >>> idx = pd.MultiIndex.from_product([dates, [f"P{i}" for i in range(6)]],
    ...                                  names=["datetime", "instrument"])
    >>> mkt = np.repeat(rng.normal(0.01, 0.04, 40), 6)
    >>> beta = np.tile(np.linspace(0.5, 1.5, 6), 40)
    >>> df = pd.DataFrame({"mkt": mkt, "ret": beta * mkt + rng.normal(0, 0.01, 240)}, index=idx)
    >>> res = ap.two_pass(df, factors=["mkt"], window=12, cov_type="kernel", bandwidth=3)
    >>> res.betas.columns.tolist(), res.params.index.tolist()
    (['mkt'], ['const', 'mkt'])
    >>> res.fama_macbeth.nperiods    # dates 13..40: betas from the 12 rows before
    28
    """
    func = "two_pass"
    shanken = check_bool("shanken", shanken)
    cov_type = _check_cov_type(cov_type, func)
    kernel = _check_kernel(kernel, func)
    bandwidth = _check_bandwidth(bandwidth, cov_type, func)
    if "x" in rolling_kwargs:
        raise TypeError("two_pass() takes the regressors as factors=, not x=.")
    data, origin, time_level, instrument_level = panel_input(
        data, time_col, instrument_col, time_level, instrument_level
    )
    if not isinstance(data, pd.DataFrame):
        raise PanelError(
            f"expected a pandas DataFrame on a (datetime, instrument) MultiIndex; got "
            f"{type(data).__name__}."
        )
    columns = list(data.columns)
    if factors is not None:
        factor_list = (
            [factors]
            if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence | pd.Index)
            else list(factors)
        )
        absent = [f for f in factor_list if f not in columns]
        if absent:
            raise MissingColumnError(
                f"two_pass: factor(s) {absent} not found in the frame; available columns: "
                f"{columns}. Pass factors= with existing column names."
            )
        if not factor_list:
            raise PanelError("two_pass: factors is empty; pass at least one factor column.")
    else:
        factor_list = None
    y_name, factor_list = select_columns(data, y, factor_list)
    first = rolling_ols(
        data, y_name, factor_list, window, time_level=time_level,
        instrument_level=instrument_level, **rolling_kwargs,
    )
    betas = lag_within_instrument(first.params[factor_list], time_level, instrument_level)
    second_data = betas.copy()
    second_data[y_name] = data[y_name].to_numpy()
    second = fama_macbeth(
        second_data, y_name, factor_list, add_constant=True, cov_type=cov_type,
        bandwidth=bandwidth, kernel=kernel, time_level=time_level,
        instrument_level=instrument_level,
    )
    factor_cov = None
    if shanken:
        time_pos = resolve_levels(data.index, time_level, instrument_level)[0]
        used = second.status_by_period.index[(second.status_by_period == "ok").to_numpy()]
        by_date = data[factor_list].groupby(level=time_pos).first().reindex(used)
        factor_cov = pd.DataFrame(np.atleast_2d(np.cov(by_date.to_numpy(dtype=np.float64), rowvar=False, ddof=1)),
                                  index=factor_list, columns=factor_list)
    return TwoPassResult(first_pass=replace(first, origin=origin), betas=origin.panel(betas), fama_macbeth=second,
                         shanken=shanken, factor_cov=factor_cov)
