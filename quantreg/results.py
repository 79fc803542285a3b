"""Results of a rolling regression, as pandas objects on the caller's index and row order."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from quantreg.inference import CovSpec
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
    cov
        The covariance choice (``cov.name``: ``"nonrobust"``, ``"HC0"``, ``"HC1"``, ``"HAC"``).
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
    cov: CovSpec

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

    @property
    def cov_type(self) -> str:
        """``"nonrobust"``, ``"HC0"``, ``"HC1"`` or ``"HAC"``."""
        return self.cov.name

    @property
    def use_t(self) -> bool:
        """Whether p-values and intervals use Student's t (else the normal)."""
        return self.cov.use_t

    @cached_property
    def bse(self) -> pd.DataFrame:
        """Standard errors: ``sqrt(s² diag((XᵀWX)⁻¹))`` with ``s² = SSR / df_resid``, or the
        robust sandwich of :attr:`cov_type` (see :mod:`quantreg.inference`)."""
        return self._frame(self.output.bse)

    @cached_property
    def tvalues(self) -> pd.DataFrame:
        """``params / bse``."""
        return self.params / self.bse

    def _distribution(self):
        from scipy import stats as sps  # imported on use: scipy.stats is slow to import

        if self.use_t:
            return sps.t(self.df_resid.to_numpy()[:, None])
        return sps.norm()

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of ``tvalues``: Student's t with ``df_resid`` dof when
        :attr:`use_t` (default for ``"nonrobust"``), else the normal — as statsmodels
        ``OLS(...).fit(cov_type=...)``."""
        with np.errstate(invalid="ignore"):
            values = 2.0 * self._distribution().sf(np.abs(self.tvalues.to_numpy()))
        return pd.DataFrame(values, index=self.panel.index, columns=self.param_names)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals ``params ± q_{1−α/2} · bse`` (t or normal quantile, as :attr:`pvalues`).

        Returns a frame with columns ``(name, "lower")`` and ``(name, "upper")``.
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        with np.errstate(invalid="ignore"):
            q = self._distribution().ppf(1.0 - alpha / 2.0)
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
        """Why a row is (not) estimated, a Categorical:

        - ``ok``: estimated, every output has a value;
        - ``warmup``: fewer than ``min_nobs`` rows of the instrument yet, or before the first
          full window when not expanding;
        - ``missing``: the window has fewer than ``min_nobs`` valid rows, ``missing="skip"`` met
          a NaN in it, or the row's own y/x is NaN (its window may still have coefficients;
          its residual is NaN);
        - ``rank_deficient``: a regressor constant in the window (spread below 64·eps of its
          level) or one whose Cholesky pivot ``1 − R²_j`` is below 1e-12 (collinear);
        - ``ill_conditioned``: a pivot ``1 − R²_j`` below 1e-10 (VIF above 1e10): the normal
          equations would keep fewer than ~6 digits.

        Outputs are NaN for every status but ``ok`` (and ``missing`` rows keep their window's
        coefficients)."""
        codes = self.panel.to_caller_order(self.output.status)
        values = pd.Categorical.from_codes(codes.astype(np.int8), categories=list(STATUS_CATEGORIES))
        return pd.Series(values, index=self.panel.index, name="status")

    @cached_property
    def _diagnostics(self) -> tuple[np.ndarray, np.ndarray]:
        from quantreg._kernels.diagnostics import diagnostics_kernel
        from quantreg._parallel import run_segments

        panel = self.panel
        n, k = panel.x.shape
        rank, condition = np.empty(n, dtype=np.int64), np.empty(n)
        window = self.window if self.window is not None else max(int(np.diff(panel.offsets).max()), 1)
        lam = 1.0 if self.halflife is None else 0.5 ** (1.0 / self.halflife)
        kernel = diagnostics_kernel(k)
        run_segments(
            lambda first, last: kernel(
                panel.x, panel.y, panel.offsets, first, last, window, lam, self.add_constant, rank, condition
            ),
            panel.offsets,
        )
        return panel.to_caller_order(rank), panel.to_caller_order(condition)

    @cached_property
    def rank(self) -> pd.Series:
        """Numerical rank of each window's design, the intercept column included (``<NA>`` for an
        empty window). A regressor counts when it is not constant in the window and its Cholesky
        pivot ``1 − R²_j`` (share of its variation not explained by the regressors before it) is
        at least 1e-12 — the test that marks a window ``rank_deficient``."""
        rank = pd.array(self._diagnostics[0], dtype="Int64")
        return pd.Series(rank, index=self.panel.index, name="rank").mask(rank < 0)

    @cached_property
    def condition(self) -> pd.Series:
        """2-norm condition number of each window's column-scaled, centred regressors
        (``sqrt(λ_max/λ_min)`` of their correlation matrix; ``inf`` in rank-deficient windows, NaN
        with fewer than 2 rows). Values are resolved up to ~1e7; ``ill_conditioned`` windows
        (pivot below 1e-10) have a condition number of at least ~1e5."""
        return pd.Series(self._diagnostics[1], index=self.panel.index, name="condition")

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
