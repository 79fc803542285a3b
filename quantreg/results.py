"""Results of a rolling regression, as pandas objects on the caller's index and row order."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from quantreg.engine import Fit
from quantreg.options import FitOptions
from quantreg.panel import Layout

#: Per-row status categories, in the order of the kernels' status codes
#: (:mod:`quantreg._kernels.linalg`).
STATUS_CATEGORIES = ("ok", "warmup", "missing", "rank_deficient", "ill_conditioned")


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

    layout: Layout
    output: Fit
    options: FitOptions

    @property
    def window(self) -> object:
        """The ``window`` argument: rows (int), a calendar offset (``"90D"``) or None."""
        return self.options.window

    @property
    def min_nobs(self) -> int:
        return self.options.min_nobs

    @property
    def add_constant(self) -> bool:
        return self.options.add_constant

    @property
    def expanding(self) -> bool:
        return self.options.expanding

    @property
    def missing(self) -> str:
        return self.options.missing

    @property
    def residual(self) -> str:
        return self.options.residual

    @property
    def halflife(self) -> object:
        return self.options.halflife

    @property
    def cov(self):
        """The covariance choice (:class:`quantreg.inference.CovSpec`)."""
        return self.options.cov

    # -- wrapping -------------------------------------------------------------------------
    # Coefficient rows are the layout's rows (the caller's rows; for a wide frame the long rows
    # in Y.stack() order). Per-row outputs sit at the caller's rows or a wide frame's cells.
    def _rows(self, values: np.ndarray) -> np.ndarray:
        """Per-row outputs (``layout.n_out``) at the coefficient rows."""
        return values if self.layout.wide is None else values[self.layout.wide.cells]

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=self.layout.row_index, columns=self.param_names)

    def _per_row(self, values: np.ndarray, name: str) -> pd.Series | pd.DataFrame:
        """Values of the coefficient rows as a Series on the caller's index — or, for a wide
        frame of returns, as a frame shaped like it (NaN where a cell has no row)."""
        if self.layout.wide is None:
            return pd.Series(values, index=self.layout.index, name=name)
        return self.layout.wide.pivot(values)

    @property
    def param_names(self) -> list[Hashable]:
        """``["const", *x]`` (without ``const`` when there is no intercept)."""
        return (["const"] if self.add_constant else []) + list(self.layout.x_names)

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
            return sps.t(self._df_resid[:, None])
        return sps.norm()

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of ``tvalues``: Student's t with ``df_resid`` dof when
        :attr:`use_t` (default for ``"nonrobust"``), else the normal — as statsmodels
        ``OLS(...).fit(cov_type=...)``."""
        with np.errstate(invalid="ignore"):
            values = 2.0 * self._distribution().sf(np.abs(self.tvalues.to_numpy()))
        return pd.DataFrame(values, index=self.layout.row_index, columns=self.param_names)

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
        return pd.DataFrame(values, index=self.layout.row_index, columns=columns)

    # -- per-row values -------------------------------------------------------------------
    @cached_property
    def _nobs(self) -> np.ndarray:
        return self._rows(self.output.nobs)

    @cached_property
    def resid(self) -> pd.Series | pd.DataFrame:
        """``y_t − x_tᵀβ_t`` (``residual="in_sample"``) or ``y_t − x_tᵀβ_{t−1}``
        (``"out_of_sample"``, coefficients of the previous row of the same instrument)."""
        return self._per_row(self._rows(self.output.resid), "residual")

    @cached_property
    def fitted(self) -> pd.Series | pd.DataFrame:
        """``x_tᵀβ`` with the same coefficients as :attr:`resid` (so ``y = fitted + resid``)."""
        return self._per_row(self._rows(self.output.fitted), "fitted")

    @cached_property
    def nobs(self) -> pd.Series | pd.DataFrame:
        """Number of non-missing rows in each window (float, NaN where a wide frame has no row)."""
        values = self._nobs if self.layout.wide is None else self._nobs.astype(np.float64)
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
          level), or collinear regressors: a pivot ``sqrt(1 − R²_j)`` of the QR of the window's
          rows below 1e-13 (``R²_j``: regressor ``j`` on the ones before it);
        - ``ill_conditioned``: a QR pivot ``sqrt(1 − R²_j)`` below 1e-10 (condition number
          above about 1e10): a QR fit of the window would keep fewer than ~6 digits.

        Windows are decided by the QR of their rows only when the normal equations' pivot
        ``1 − R²_j`` is below 0.1; otherwise they are well conditioned (``ok``).

        Outputs are NaN for every status but ``ok`` (and ``missing`` rows keep their window's
        coefficients)."""
        codes = self._rows(self.output.status).astype(np.int8)
        if self.layout.wide is not None:
            return self.layout.wide.pivot_categories(codes, STATUS_CATEGORIES)
        values = pd.Categorical.from_codes(codes, categories=list(STATUS_CATEGORIES))
        return pd.Series(values, index=self.layout.index, name="status")

    @cached_property
    def _diagnostics(self) -> tuple[np.ndarray, np.ndarray]:
        from quantreg.engine import diagnostics

        rank, condition = diagnostics(self.layout, self.options)
        return self._rows(rank), self._rows(condition)

    @cached_property
    def rank(self) -> pd.Series | pd.DataFrame:
        """Numerical rank of each window's design, the intercept column included (``<NA>`` for an
        empty window; NaN in the wide layout). A regressor counts when it is not constant in the
        window and its QR pivot ``sqrt(1 − R²_j)`` (``1 − R²_j``: the share of its variation not
        explained by the regressors before it) is at least 1e-13 — the test that marks a window
        ``rank_deficient``."""
        values = self._diagnostics[0]
        if self.layout.wide is not None:
            return self._per_row(np.where(values < 0, np.nan, values.astype(np.float64)), "rank")
        rank = pd.array(values, dtype="Int64")
        return pd.Series(rank, index=self.layout.index, name="rank").mask(rank < 0)

    @cached_property
    def condition(self) -> pd.Series | pd.DataFrame:
        """2-norm condition number of each window's column-scaled, centred regressors
        (``inf`` in rank-deficient windows, NaN with fewer than 2 rows): ``sqrt(λ_max/λ_min)`` of
        their correlation matrix in well-conditioned windows, ``σ_max/σ_min`` of the QR factor
        ``R`` with unit-norm columns (one-sided Jacobi, accurate to ~1e13) in the others.
        ``ill_conditioned`` windows have a condition number of at least ~1e10."""
        return self._per_row(self._diagnostics[1], "condition")

    def _stat(self, column: int) -> np.ndarray:
        return self.output.stats[:, column]

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
        index = self.layout.row_index
        status = pd.Categorical.from_codes(self._rows(self.output.status).astype(np.int8),
                                           categories=list(STATUS_CATEGORIES))
        columns = {
            "residual": self._rows(self.output.resid),
            "fitted": self._rows(self.output.fitted),
            "nobs": self._nobs,
            "rsquared": self._rsquared,
            "status": status,
        }
        frame = pd.DataFrame(columns, index=index)
        return pd.concat([frame, self.params], axis=1)

    def __repr__(self) -> str:
        codes = self._rows(self.output.status).astype(np.int64)
        counts = np.bincount(codes, minlength=len(STATUS_CATEGORIES))
        summary = ", ".join(f"{name}={int(n)}" for name, n in zip(STATUS_CATEGORIES, counts))
        window = "expanding" if self.window is None else f"window={self.window!r}"
        return (
            f"<RollingOLSResult {self.layout.y_name!r} ~ {self.param_names}, {window}, "
            f"{self.layout.n_rows} rows in {self.layout.n_segments} instruments: {summary}>"
        )
