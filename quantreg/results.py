"""Results of a rolling regression, as pandas objects on the caller's index and row order."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from quantreg.engine import Fit
from quantreg.frames import PANDAS, Origin
from quantreg.options import FitOptions
from quantreg.panel import Layout, resolve_levels

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

    Tables come back in the kind of frame the fit was given: for a polars frame, every table
    on the panel's rows (``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``,
    ``resid``, ``status``… and ``to_frame()``) is a polars frame with the time and instrument
    columns first, rows in the input's order, NaN as null and ``status`` a ``pl.Enum``; for a
    flat pandas frame, a flat pandas frame on the caller's index with the two key columns first.
    :meth:`summary` and :meth:`plot` work the same whatever the input.

    Attributes
    ----------
    window, min_nobs, add_constant, expanding, missing, residual, halflife
        The options the fit was made with.
    cov
        The covariance choice (``cov.name``: ``"nonrobust"``, ``"HC0"``, ``"HC1"``, ``"HAC"``).
    origin
        The kind of frame the fit was given (:class:`quantreg.frames.Origin`).
    """

    layout: Layout
    output: Fit
    options: FitOptions
    origin: Origin = PANDAS
    level_names: tuple[Hashable | None, Hashable | None] = (None, None)

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

    def _table(self, values: np.ndarray) -> pd.DataFrame:
        """Coefficient-shaped values as a table in the caller's kind."""
        return self.origin.panel(self._frame(values))

    def _per_row(self, values: np.ndarray, name: str) -> pd.Series | pd.DataFrame:
        """Values of the coefficient rows as a Series on the caller's index (or a polars / flat
        frame, as given) — or, for a wide frame of returns, as a frame shaped like it (NaN
        where a cell has no row)."""
        if self.layout.wide is None:
            return self.origin.panel(pd.Series(values, index=self.layout.index, name=name))
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
        return self._table(self.output.params)

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
        return self._table(self.output.bse)

    @cached_property
    def _tvalues(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.output.params / self.output.bse

    @cached_property
    def tvalues(self) -> pd.DataFrame:
        """``params / bse``."""
        return self._table(self._tvalues)

    @cached_property
    def _pvalues(self) -> np.ndarray:
        return self._pvalues_at(slice(None))

    def _pvalues_at(self, rows: slice | np.ndarray) -> np.ndarray:
        """Two-sided p-values of the coefficient rows ``rows``."""
        from scipy import stats as sps  # imported on use: scipy.stats is slow to import

        t = np.abs(self._tvalues[rows])
        with np.errstate(invalid="ignore"):
            if self.use_t:
                return 2.0 * sps.t.sf(t, self._df_resid[rows][:, None])
            return 2.0 * sps.norm.sf(t)

    def _quantile(self, alpha: float, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """``q_{1−α/2}`` of the t (``df_resid`` dof) or normal distribution of the coefficient
        rows ``rows``, as a column ``(m, 1)``."""
        from scipy import stats as sps

        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        df = self._df_resid[rows]
        with np.errstate(invalid="ignore"):
            if self.use_t:
                return sps.t.ppf(1.0 - alpha / 2.0, df)[:, None]
            return np.full((df.shape[0], 1), sps.norm.ppf(1.0 - alpha / 2.0))

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values of ``tvalues``: Student's t with ``df_resid`` dof when
        :attr:`use_t` (default for ``"nonrobust"``), else the normal — as statsmodels
        ``OLS(...).fit(cov_type=...)``."""
        return self._table(self._pvalues)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Confidence intervals ``params ± q_{1−α/2} · bse`` (t or normal quantile, as :attr:`pvalues`).

        Returns a frame with columns ``(name, "lower")`` and ``(name, "upper")`` (for polars and
        flat input, columns ``name_lower`` and ``name_upper`` after the key columns).
        """
        q = self._quantile(alpha)
        params, bse = self.output.params, self.output.bse
        lower, upper = params - q * bse, params + q * bse
        columns = pd.MultiIndex.from_product([self.param_names, ["lower", "upper"]])
        values = np.stack([lower, upper], axis=2).reshape(len(lower), -1)
        return self.origin.panel(pd.DataFrame(values, index=self.layout.row_index, columns=columns))

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
        return self.origin.panel(pd.Series(values, index=self.layout.index, name="status"))

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
        return self.origin.panel(pd.Series(rank, index=self.layout.index, name="rank").mask(rank < 0))

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
        return self._per_row(self._rsquared_adj, "rsquared_adj")

    @cached_property
    def _rsquared_adj(self) -> np.ndarray:
        df = np.where(self._df_resid > 0, self._df_resid, np.nan)
        return 1.0 - (self._nobs - self.k_constant) / df * (1.0 - self._rsquared)

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
        params (long also when the returns were a wide frame; polars or flat as the input)."""
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
        return self.origin.panel(pd.concat([frame, self._frame(self.output.params)], axis=1))

    # -- reading one instrument -----------------------------------------------------------
    @cached_property
    def _keys(self) -> tuple[pd.Index, pd.Index, Hashable, Hashable]:
        """Times and instruments of the coefficient rows, and the two level names."""
        index = self.layout.row_index
        t, i = resolve_levels(index, *self.level_names)
        return index.get_level_values(t), index.get_level_values(i), index.names[t], index.names[i]

    def _instrument_rows(self, instrument: Hashable) -> np.ndarray:
        """Coefficient rows of one instrument, in time order."""
        times, instruments, _, name = self._keys
        rows = np.flatnonzero(np.asarray(instruments == instrument))
        if rows.size == 0:
            known = instruments.unique()
            raise KeyError(
                f"instrument {instrument!r} is not in the fit ({len(known)} instruments, e.g. "
                f"{list(known[:5])}); pass one of the values of {name!r}."
            )
        return rows[np.argsort(np.asarray(times[rows]), kind="stable")]

    @cached_property
    def _codes(self) -> np.ndarray:
        return self._rows(self.output.status).astype(np.int64)

    def summary(self, instrument: Hashable | None = None, date: object = None, alpha: float = 0.05):
        """A statsmodels-style summary of one window, or a table of every instrument's latest one.

        Parameters
        ----------
        instrument : label, optional
            One instrument: the text summary (``print(result.summary("A"))``) of its latest
            estimated window — the last row whose status is ``ok`` — or of the window ending at
            ``date``: coefficients, standard errors, t (z for robust covariances), p-values,
            ``1 − alpha`` confidence intervals, nobs, R², status and covariance type, the
            numbers statsmodels ``OLS(y, X).fit(cov_type=...).summary()`` gives on that window's
            rows. None: a table of every instrument's latest estimated window.
        date : datetime-like, optional
            With ``instrument``: the window ending at this row (whatever its status).
        alpha : float, default 0.05
            Confidence level ``1 − alpha`` of the intervals.

        Returns
        -------
        WindowSummary or DataFrame
            For one instrument a :class:`quantreg.summary.WindowSummary` (prints as text; its
            ``table`` holds the coefficient rows). For all, a frame indexed by (instrument,
            coefficient) with the window's end, ``coef``, ``std err``, ``t``, ``P>|t|``, the
            bounds, ``nobs`` and ``rsquared``; instruments without an estimated window are left
            out. For polars or flat input, the same table with instrument and coefficient as
            columns (a polars or flat pandas frame).

        Examples
        --------
        >>> import numpy as np, pandas as pd, quantreg
        >>> idx = pd.MultiIndex.from_product(
        ...     [pd.date_range("2024-01-01", periods=6), ["A", "B"]], names=["datetime", "instrument"])
        >>> x = np.array([0.0, 5, 1, 3, 4, 2, 2, 8, 3, 1, 7, 0])
        >>> df = pd.DataFrame({"x": x, "y": 1.0 + 2.0 * x + np.sin(x)}, index=idx)
        >>> res = quantreg.rolling_ols(df, window=4)
        >>> res.summary()["coef"].round(3).tolist()   # latest windows: A const, A x, B const, B x
        [1.234, 2.001, 1.469, 2.078]
        >>> print(res.summary("A", date="2024-01-05"))  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
        Rolling OLS: instrument 'A', window ending 2024-01-05
        ==============================================================================
        Dep. Variable:                       y  Status:                             ok
        ...
                         coef    std err          t      P>|t|     [0.025     0.975]
        ------------------------------------------------------------------------------
        const          2.6745     0.4400     6.0788      0.026     0.7814     4.5676
        x              1.4437     0.1607     8.9862      0.012     0.7524     2.1350
        ...
        """
        from quantreg.summary import WindowSummary

        if instrument is None:
            if date is not None:
                raise ValueError("date= needs instrument=: summary(instrument, date) reads one window.")
            return self.origin.table(self._latest_table(alpha))
        rows = self._instrument_rows(instrument)
        times, _, time_name, inst_name = self._keys
        if date is None:
            ok = rows[self._codes[rows] == 0]
            if ok.size == 0:
                statuses = sorted(set(STATUS_CATEGORIES[c] for c in self._codes[rows]))
                raise ValueError(
                    f"instrument {instrument!r} has no estimated window (statuses: {statuses}); "
                    "pass date= to see one window anyway."
                )
            row = int(ok[-1])
        else:
            row_times = times[rows]
            stamp = pd.Timestamp(date) if isinstance(row_times, pd.DatetimeIndex) else date
            hit = np.flatnonzero(np.asarray(row_times == stamp))
            if hit.size == 0:
                raise KeyError(
                    f"instrument {instrument!r} has no row at {date!r}; its rows run from "
                    f"{row_times[0]} to {row_times[-1]}."
                )
            row = int(rows[hit[0]])
        q = float(self._quantile(alpha, np.array([row]))[0, 0])
        stat, p_name = ("t", "P>|t|") if self.use_t else ("z", "P>|z|")
        params, bse = self.output.params[row], self.output.bse[row]
        table = pd.DataFrame(
            {"coef": params, "std err": bse, stat: self._tvalues[row], p_name: self._pvalues_at(np.array([row]))[0],
             f"[{alpha / 2:g}": params - q * bse, f"{1 - alpha / 2:g}]": params + q * bse},
            index=pd.Index(self.param_names, name="coefficient"),
        )
        window = "expanding" if self.window is None else str(self.window)
        if self.halflife is not None:
            window += f", halflife {self.halflife}"
        left = [
            ("Dep. Variable", self.layout.y_name), (f"Instrument ({inst_name})", instrument),
            ("Window end", _when(times[row])), ("Window", window),
            ("No. Observations", int(self._nobs[row])), ("Df Residuals", _count(self._df_resid[row])),
            ("Df Model", self.df_model),
        ]
        right = [
            ("Status", STATUS_CATEGORIES[self._codes[row]]),
            ("R-squared", f"{self._rsquared[row]:.3f}"),
            ("Adj. R-squared", f"{self._rsquared_adj[row]:.3f}"),
            ("Log-Likelihood", f"{self._llf[row]:.5g}"),
            ("AIC", f"{-2.0 * self._llf[row] + 2.0 * self.k_params:.5g}"),
            ("BIC", f"{-2.0 * self._llf[row] + np.log(self._nobs[row]) * self.k_params:.5g}"),
            ("Cov. Type", self.cov.name),
        ]
        notes = []
        if self.cov.name == "nonrobust":
            notes.append("Standard errors assume that the covariance matrix of the errors is correctly specified.")
        elif self.cov.name == "HAC":
            notes.append(f"HAC standard errors from the window's own rows, maxlags {self.cov.maxlags}.")
        else:
            notes.append(f"Heteroskedasticity-robust standard errors ({self.cov.name}).")
        title = f"Rolling OLS: instrument {instrument!r}, window ending {_when(times[row])}"
        return WindowSummary(title, left, right, table, notes)

    def _latest_table(self, alpha: float) -> pd.DataFrame:
        """Every instrument's latest estimated window, long by (instrument, coefficient)."""
        times, instruments, time_name, inst_name = self._keys
        ok = np.flatnonzero(self._codes == 0)
        keys = pd.DataFrame({"t": np.asarray(times[ok]), "i": np.asarray(instruments[ok]), "row": ok})
        latest = keys.sort_values("t", kind="stable").groupby("i", sort=False)["row"].last()
        rows = latest.to_numpy()
        if rows.size == 0:
            raise ValueError("no window was estimated (no row has status 'ok'): nothing to summarise.")
        q = self._quantile(alpha, rows)
        k = self.k_params
        params, bse = self.output.params[rows], self.output.bse[rows]
        stat, p_name = ("t", "P>|t|") if self.use_t else ("z", "P>|z|")
        table = pd.DataFrame({
            time_name: np.repeat(np.asarray(times[rows]), k),
            "coef": params.ravel(), "std err": bse.ravel(), stat: self._tvalues[rows].ravel(),
            p_name: self._pvalues_at(rows).ravel(),
            f"[{alpha / 2:g}": (params - q * bse).ravel(), f"{1 - alpha / 2:g}]": (params + q * bse).ravel(),
            "nobs": np.repeat(self._nobs[rows], k), "rsquared": np.repeat(self._rsquared[rows], k),
        }, index=pd.MultiIndex.from_product([latest.index, self.param_names], names=[inst_name, "coefficient"]))
        return table.sort_index(level=0, sort_remaining=False)

    def plot(self, instrument: Hashable, params: Sequence[Hashable] | Hashable | None = None, alpha: float = 0.05):
        """Coefficient paths of one instrument with ``1 − alpha`` confidence bands.

        One panel per coefficient (default: every coefficient but the intercept; all of them
        when there is no regressor): the coefficient of the window ending at each row, its
        ``params ± q_{1−α/2}·bse`` band (t or normal quantile, as :attr:`pvalues`), and, where
        a window was not estimated (status other than ``ok``), a gap shaded in the status's
        colour. One legend for the figure, outside the panels. Needs matplotlib
        (``pip install 'quantreg[plot]'``).

        Returns
        -------
        matplotlib.figure.Figure
            Not attached to pyplot: save it with ``fig.savefig(path)``; in Jupyter it shows as
            the cell's value.
        """
        from quantreg.plotting import coefficient_figure

        return coefficient_figure(self, instrument, params, alpha)

    def __repr__(self) -> str:
        from quantreg.summary import status_shares

        window = "expanding" if self.window is None else f"window={self.window!r}"
        kind = "" if self.origin.kind == "pandas" else f" ({self.origin.kind} input)"
        return (
            f"<RollingOLSResult {self.layout.y_name!r} ~ {' + '.join(map(str, self.param_names))} "
            f"(k={self.k_params})\n"
            f"  {self.layout.n_rows:,} rows, {self.layout.n_segments:,} instruments{kind}; {window}, "
            f"min_nobs={self.min_nobs}, cov_type={self.cov.name!r}\n"
            f"  windows: {status_shares(self._codes, STATUS_CATEGORIES)}>"
        )


def _count(value: float) -> object:
    """A float count as an int (NaN as it is)."""
    return int(value) if np.isfinite(value) else value


def _when(value: object) -> str:
    """A time as text: a date alone when it is midnight."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value)
