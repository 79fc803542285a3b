"""Results of a rolling regression, as pandas objects on the caller's index and row order."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from quantreg.panel import Panel

#: Per-row status categories, in kernel code order.
STATUS_CATEGORIES = ("ok", "warmup", "missing", "rank_deficient", "ill_conditioned")


class KernelOutput(NamedTuple):
    """Arrays written by the rolling kernel, in sorted (instrument, time) order."""

    params: np.ndarray  # (n, k_params)
    bse: np.ndarray  # (n, k_params)
    resid: np.ndarray
    fitted: np.ndarray
    nobs: np.ndarray  # int64
    status: np.ndarray  # int8 codes into STATUS_CATEGORIES
    stats: np.ndarray  # (n, 4): SSR, centred TSS, uncentred TSS, sum of log weights


@dataclass(frozen=True)
class RollingOLSResult:
    """Rolling least-squares fits, one per row of the panel.

    Every attribute is aligned to the caller's index and row order. Rows whose window was not
    estimated hold NaN; :attr:`status` says why. Statistics follow statsmodels' ``OLS`` /
    ``WLS`` definitions applied to each window's rows (weights ``0.5 ** (age / halflife)`` when
    a half-life is given).

    Attributes
    ----------
    window, min_nobs, add_constant, expanding, missing, residual, halflife
        The options the fit was made with.
    """

    panel: Panel
    output: KernelOutput
    window: int | None
    min_nobs: int
    add_constant: bool
    expanding: bool
    missing: str
    residual: str
    halflife: float | None

    # -- wrapping -------------------------------------------------------------------------
    def _series(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(self.panel.to_caller_order(values), index=self.panel.index, name=name)

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            self.panel.to_caller_order(values), index=self.panel.index, columns=self.param_names
        )

    @property
    def param_names(self) -> list[Hashable]:
        """``["const", *x]`` (without ``const`` when there is no intercept)."""
        return (["const"] if self.add_constant else []) + list(self.panel.x_names)

    @property
    def k_constant(self) -> int:
        return int(self.add_constant)

    @property
    def k_params(self) -> int:
        """Number of estimated coefficients per window, the intercept included."""
        return len(self.param_names)

    # -- coefficients ---------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        """Coefficients ``β_t`` of the window ending at each row."""
        return self._frame(self.output.params)

    @cached_property
    def bse(self) -> pd.DataFrame:
        """Standard errors ``sqrt(s² diag((XᵀWX)⁻¹))`` with ``s² = SSR / df_resid``."""
        return self._frame(self.output.bse)

    @cached_property
    def tvalues(self) -> pd.DataFrame:
        """``params / bse``."""
        return self.params / self.bse

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of ``tvalues`` under Student's t with ``df_resid`` degrees of freedom
        (as statsmodels ``OLS(...).fit()`` with ``cov_type="nonrobust"``)."""
        from scipy import stats as sps  # imported on use: scipy.stats is slow to import

        df = self.df_resid.to_numpy()[:, None]
        with np.errstate(invalid="ignore"):
            values = 2.0 * sps.t.sf(np.abs(self.tvalues.to_numpy()), df)
        return pd.DataFrame(values, index=self.panel.index, columns=self.param_names)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals ``params ± t_{1−α/2, df_resid} · bse``.

        Returns a frame with columns ``(name, "lower")`` and ``(name, "upper")``.
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        from scipy import stats as sps

        df = self.df_resid.to_numpy()[:, None]
        with np.errstate(invalid="ignore"):
            q = sps.t.ppf(1.0 - alpha / 2.0, df)
        params, bse = self.params.to_numpy(), self.bse.to_numpy()
        lower, upper = params - q * bse, params + q * bse
        columns = pd.MultiIndex.from_product([self.param_names, ["lower", "upper"]])
        values = np.stack([lower, upper], axis=2).reshape(len(lower), -1)
        return pd.DataFrame(values, index=self.panel.index, columns=columns)

    # -- per-row values -------------------------------------------------------------------
    @cached_property
    def resid(self) -> pd.Series:
        """``y_t − x_tᵀβ_t`` (``residual="in_sample"``) or ``y_t − x_tᵀβ_{t−1}``
        (``"out_of_sample"``, coefficients of the previous row of the same instrument)."""
        return self._series(self.output.resid, "residual")

    @cached_property
    def fitted(self) -> pd.Series:
        """``x_tᵀβ`` with the same coefficients as :attr:`resid` (so ``y = fitted + resid``)."""
        return self._series(self.output.fitted, "fitted")

    @cached_property
    def nobs(self) -> pd.Series:
        """Number of non-missing rows in each window."""
        return self._series(self.output.nobs, "nobs")

    @cached_property
    def status(self) -> pd.Series:
        """Why a row is (not) estimated: ``ok``; ``warmup`` (fewer than ``min_nobs`` rows of the
        instrument yet, or before the first full window when not expanding); ``missing`` (missing
        values: the window has fewer than ``min_nobs`` valid rows, ``missing="skip"`` met a NaN in
        the window, or the row's own y/x is NaN — its window may still be estimated);
        ``rank_deficient`` (a regressor constant in the window, or collinear ones)."""
        codes = self.panel.to_caller_order(self.output.status)
        values = pd.Categorical.from_codes(codes.astype(np.int8), categories=list(STATUS_CATEGORIES))
        return pd.Series(values, index=self.panel.index, name="status")

    def _stat(self, column: int) -> np.ndarray:
        return self.panel.to_caller_order(self.output.stats[:, column])

    @cached_property
    def ssr(self) -> pd.Series:
        """Sum of squared (weighted) residuals of the window."""
        return pd.Series(self._stat(0), index=self.panel.index, name="ssr")

    @cached_property
    def centered_tss(self) -> pd.Series:
        """``Σ w (y − ȳ_w)²`` over the window."""
        return pd.Series(self._stat(1), index=self.panel.index, name="centered_tss")

    @cached_property
    def uncentered_tss(self) -> pd.Series:
        """``Σ w y²`` over the window."""
        return pd.Series(self._stat(2), index=self.panel.index, name="uncentered_tss")

    @cached_property
    def df_resid(self) -> pd.Series:
        """``nobs − k_params`` where the window was estimated, NaN elsewhere."""
        df = self.nobs.to_numpy().astype(np.float64) - self.k_params
        df[np.isnan(self._stat(0))] = np.nan
        return pd.Series(df, index=self.panel.index, name="df_resid")

    @property
    def df_model(self) -> int:
        """``k_params − k_constant``."""
        return self.k_params - self.k_constant

    @cached_property
    def rsquared(self) -> pd.Series:
        """``1 − SSR / TSS`` (centred TSS with an intercept, uncentred without)."""
        tss = self.centered_tss if self.add_constant else self.uncentered_tss
        with np.errstate(divide="ignore", invalid="ignore"):
            values = 1.0 - self.ssr.to_numpy() / tss.to_numpy()
        return pd.Series(values, index=self.panel.index, name="rsquared")

    @cached_property
    def rsquared_adj(self) -> pd.Series:
        """``1 − (nobs − k_constant) / df_resid · (1 − R²)`` (NaN when ``df_resid = 0``)."""
        df = self.df_resid.to_numpy()
        df = np.where(df > 0, df, np.nan)
        values = 1.0 - (self.nobs.to_numpy() - self.k_constant) / df * (1.0 - self.rsquared.to_numpy())
        return pd.Series(values, index=self.panel.index, name="rsquared_adj")

    @cached_property
    def llf(self) -> pd.Series:
        """Gaussian log-likelihood at the estimate,
        ``−n/2·(log(2π·SSR/n) + 1) + ½ Σ log w``."""
        n = self.nobs.to_numpy().astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = -n / 2.0 * (np.log(2.0 * np.pi * self.ssr.to_numpy() / n) + 1.0) + 0.5 * self._stat(3)
        return pd.Series(values, index=self.panel.index, name="llf")

    @cached_property
    def aic(self) -> pd.Series:
        """``−2 llf + 2 k_params`` (statsmodels' definition: the scale is not counted)."""
        return (-2.0 * self.llf + 2.0 * self.k_params).rename("aic")

    @cached_property
    def bic(self) -> pd.Series:
        """``−2 llf + log(nobs) k_params``."""
        with np.errstate(divide="ignore"):
            log_n = np.log(self.nobs.to_numpy().astype(np.float64))
        return (-2.0 * self.llf + log_n * self.k_params).rename("bic")

    def to_frame(self) -> pd.DataFrame:
        """One frame: ``residual``, ``fitted``, ``nobs``, ``rsquared``, ``status`` and the params."""
        parts = [self.resid, self.fitted, self.nobs, self.rsquared, self.status, self.params]
        return pd.concat(parts, axis=1)

    def __repr__(self) -> str:
        counts = self.status.value_counts().reindex(list(STATUS_CATEGORIES), fill_value=0)
        summary = ", ".join(f"{name}={int(n)}" for name, n in counts.items())
        window = "expanding" if self.window is None else f"window={self.window}"
        return (
            f"<RollingOLSResult {self.panel.y_name!r} ~ {self.param_names}, {window}, "
            f"{self.panel.n_rows} rows in {len(self.panel.offsets) - 1} instruments: {summary}>"
        )
