"""Results of a rolling regression, as pandas objects on the caller's index and row order."""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from quantreg.inference import CovSpec
from quantreg.panel import Panel

if TYPE_CHECKING:
    from quantreg.rolling import Windowing

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
class WideLayout:
    """Where the rows of a long result sit in a wide (dates × instruments) frame.

    ``cells``: flat (C-order) position in the ``shape`` matrix of each long row, in the long
    result's order.
    """

    index: pd.Index
    columns: pd.Index
    cells: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.index), len(self.columns)

    def pivot(self, values: np.ndarray) -> pd.DataFrame:
        """Long per-row values as a frame shaped like the returns (NaN elsewhere)."""
        kind = values.dtype if values.dtype.kind == "f" else np.float64
        wide = np.full(self.shape[0] * self.shape[1], np.nan, dtype=kind)
        wide[self.cells] = values
        return pd.DataFrame(wide.reshape(self.shape), index=self.index, columns=self.columns)

    def pivot_categories(self, codes: np.ndarray, categories: tuple[str, ...]) -> pd.DataFrame:
        """Long category codes as a frame of Categoricals (NaN where there is no row)."""
        wide = np.full(self.shape[0] * self.shape[1], -1, dtype=np.int8)
        wide[self.cells] = codes
        wide = wide.reshape(self.shape)
        columns = {
            j: pd.Categorical.from_codes(wide[:, j], categories=list(categories)) for j in range(self.shape[1])
        }
        frame = pd.DataFrame(columns, index=self.index)
        frame.columns = self.columns
        return frame


@dataclass(frozen=True)
class RollingOLSResult:
    """Rolling least-squares fits, one per row of the panel.

    Every attribute is aligned to the caller's index and row order. Rows whose window was not
    estimated hold NaN; :attr:`status` says why. Statistics follow statsmodels' ``OLS`` /
    ``WLS`` definitions applied to each window's rows (weights ``0.5 ** (age / halflife)`` when
    a half-life is given).

    With ``factors=`` and a wide frame of returns (dates × instruments), the per-row values
    (``resid``, ``fitted``, ``nobs``, ``rsquared``, ``status``…) are frames shaped like the
    returns and the coefficients (``params``, ``bse``…) long frames on (datetime, instrument).

    Attributes
    ----------
    window, min_nobs, add_constant, expanding, missing, residual, halflife
        The options the fit was made with.
    cov
        The covariance choice (``cov.name``: ``"nonrobust"``, ``"HC0"``, ``"HC1"``, ``"HAC"``).
    """

    panel: Panel
    output: KernelOutput
    windowing: Windowing
    add_constant: bool
    expanding: bool
    missing: str
    residual: str
    halflife: object
    cov: CovSpec
    wide: WideLayout | None = None
    sorted_panel: Callable[[], Panel] | None = None

    @property
    def window(self) -> object:
        """The ``window`` argument: rows (int), a calendar offset (``"90D"``) or None."""
        return self.windowing.spec.label

    @property
    def min_nobs(self) -> int:
        return self.windowing.min_nobs

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
    def _per_row(self, values: np.ndarray, name: str) -> pd.Series | pd.DataFrame:
        """Caller-order per-row values as a Series — or, for a wide frame of returns, as a frame
        shaped like it (NaN where a cell has no row)."""
        if self.wide is None:
            return pd.Series(values, index=self.panel.index, name=name)
        return self.wide.pivot(values)

    @cached_property
    def _nobs(self) -> np.ndarray:
        return self.panel.to_caller_order(self.output.nobs)

    @cached_property
    def resid(self) -> pd.Series | pd.DataFrame:
        """``y_t − x_tᵀβ_t`` (``residual="in_sample"``) or ``y_t − x_tᵀβ_{t−1}``
        (``"out_of_sample"``, coefficients of the previous row of the same instrument)."""
        return self._per_row(self.panel.to_caller_order(self.output.resid), "residual")

    @cached_property
    def fitted(self) -> pd.Series | pd.DataFrame:
        """``x_tᵀβ`` with the same coefficients as :attr:`resid` (so ``y = fitted + resid``)."""
        return self._per_row(self.panel.to_caller_order(self.output.fitted), "fitted")

    @cached_property
    def nobs(self) -> pd.Series | pd.DataFrame:
        """Number of non-missing rows in each window (float, NaN where a wide frame has no row)."""
        values = self._nobs if self.wide is None else self._nobs.astype(np.float64)
        return self._per_row(values, "nobs")

    @cached_property
    def status(self) -> pd.Series | pd.DataFrame:
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
        codes = self.panel.to_caller_order(self.output.status).astype(np.int8)
        if self.wide is not None:
            return self.wide.pivot_categories(codes, STATUS_CATEGORIES)
        values = pd.Categorical.from_codes(codes, categories=list(STATUS_CATEGORIES))
        return pd.Series(values, index=self.panel.index, name="status")

    @cached_property
    def _diagnostics(self) -> tuple[np.ndarray, np.ndarray]:
        from quantreg._kernels.diagnostics import diagnostics_kernel
        from quantreg._parallel import run_segments
        from quantreg.calendar import halflife_decay, span_units

        panel = self.panel if self.sorted_panel is None else self.sorted_panel()
        n, k = panel.x.shape
        rank, condition = np.empty(n, dtype=np.int64), np.empty(n)
        w = self.windowing
        times, span, lam = w.times, w.span, w.lam
        if w.spec.calendar:  # the time unit of this panel's own time axis
            times, unit = panel.sorted_times()
            span, lam = span_units(w.spec.span, unit), halflife_decay(self.halflife, w.spec, unit)
        kernel = diagnostics_kernel(k)
        run_segments(
            lambda first, last: kernel(
                panel.x, panel.y, panel.offsets, times, first, last, w.rows, span, lam,
                self.add_constant, rank, condition,
            ),
            panel.offsets,
        )
        return panel.to_caller_order(rank), panel.to_caller_order(condition)

    @cached_property
    def rank(self) -> pd.Series | pd.DataFrame:
        """Numerical rank of each window's design, the intercept column included (``<NA>`` for an
        empty window; NaN in the wide layout). A regressor counts when it is not constant in the
        window and its Cholesky pivot ``1 − R²_j`` (share of its variation not explained by the
        regressors before it) is at least 1e-12 — the test that marks a window ``rank_deficient``."""
        values = self._diagnostics[0]
        if self.wide is not None:
            return self._per_row(np.where(values < 0, np.nan, values.astype(np.float64)), "rank")
        rank = pd.array(values, dtype="Int64")
        return pd.Series(rank, index=self.panel.index, name="rank").mask(rank < 0)

    @cached_property
    def condition(self) -> pd.Series | pd.DataFrame:
        """2-norm condition number of each window's column-scaled, centred regressors
        (``sqrt(λ_max/λ_min)`` of their correlation matrix; ``inf`` in rank-deficient windows, NaN
        with fewer than 2 rows). Values are resolved up to ~1e7; ``ill_conditioned`` windows
        (pivot below 1e-10) have a condition number of at least ~1e5."""
        return self._per_row(self._diagnostics[1], "condition")

    def _stat(self, column: int) -> np.ndarray:
        return self.panel.to_caller_order(self.output.stats[:, column])

    @cached_property
    def ssr(self) -> pd.Series | pd.DataFrame:
        """Sum of squared (weighted) residuals of the window."""
        return self._per_row(self._stat(0), "ssr")

    @cached_property
    def centered_tss(self) -> pd.Series | pd.DataFrame:
        """``Σ w (y − ȳ_w)²`` over the window."""
        return self._per_row(self._stat(1), "centered_tss")

    @cached_property
    def uncentered_tss(self) -> pd.Series | pd.DataFrame:
        """``Σ w y²`` over the window."""
        return self._per_row(self._stat(2), "uncentered_tss")

    @cached_property
    def _df_resid(self) -> np.ndarray:
        df = self._nobs.astype(np.float64) - self.k_params
        df[np.isnan(self._stat(0))] = np.nan
        return df

    @cached_property
    def df_resid(self) -> pd.Series | pd.DataFrame:
        """``nobs − k_params`` where the window was estimated, NaN elsewhere."""
        return self._per_row(self._df_resid, "df_resid")

    @property
    def df_model(self) -> int:
        """``k_params − k_constant``."""
        return self.k_params - self.k_constant

    @cached_property
    def _rsquared(self) -> np.ndarray:
        tss = self._stat(1) if self.add_constant else self._stat(2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 - self._stat(0) / tss

    @cached_property
    def rsquared(self) -> pd.Series | pd.DataFrame:
        """``1 − SSR / TSS`` (centred TSS with an intercept, uncentred without)."""
        return self._per_row(self._rsquared, "rsquared")

    @cached_property
    def rsquared_adj(self) -> pd.Series | pd.DataFrame:
        """``1 − (nobs − k_constant) / df_resid · (1 − R²)`` (NaN when ``df_resid = 0``)."""
        df = np.where(self._df_resid > 0, self._df_resid, np.nan)
        values = 1.0 - (self._nobs - self.k_constant) / df * (1.0 - self._rsquared)
        return self._per_row(values, "rsquared_adj")

    @cached_property
    def _llf(self) -> np.ndarray:
        n = self._nobs.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -n / 2.0 * (np.log(2.0 * np.pi * self._stat(0) / n) + 1.0) + 0.5 * self._stat(3)

    @cached_property
    def llf(self) -> pd.Series | pd.DataFrame:
        """Gaussian log-likelihood at the estimate,
        ``−n/2·(log(2π·SSR/n) + 1) + ½ Σ log w``."""
        return self._per_row(self._llf, "llf")

    @cached_property
    def aic(self) -> pd.Series | pd.DataFrame:
        """``−2 llf + 2 k_params`` (statsmodels' definition: the scale is not counted)."""
        return self._per_row(-2.0 * self._llf + 2.0 * self.k_params, "aic")

    @cached_property
    def bic(self) -> pd.Series | pd.DataFrame:
        """``−2 llf + log(nobs) k_params``."""
        with np.errstate(divide="ignore"):
            log_n = np.log(self._nobs.astype(np.float64))
        return self._per_row(-2.0 * self._llf + log_n * self.k_params, "bic")

    def to_frame(self) -> pd.DataFrame:
        """One long frame: ``residual``, ``fitted``, ``nobs``, ``rsquared``, ``status`` and the
        params (long also when the returns were a wide frame)."""
        if self.wide is not None:
            long = replace(self, wide=None)
            return long.to_frame()
        parts = [self.resid, self.fitted, self.nobs, self.rsquared, self.status, self.params]
        return pd.concat(parts, axis=1)

    def __repr__(self) -> str:
        counts = np.bincount(self.output.status.astype(np.int64), minlength=len(STATUS_CATEGORIES))
        summary = ", ".join(f"{name}={int(n)}" for name, n in zip(STATUS_CATEGORIES, counts))
        window = "expanding" if self.window is None else f"window={self.window!r}"
        return (
            f"<RollingOLSResult {self.panel.y_name!r} ~ {self.param_names}, {window}, "
            f"{self.panel.n_rows} rows in {len(self.panel.offsets) - 1} instruments: {summary}>"
        )
