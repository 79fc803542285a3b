"""Independent references for quantreg's numbers (the oracle table read by tests and benchmarks).

Each public function maps to references that share none of its code:

- certified values: the NIST StRD linear datasets (:func:`load_nist`, :data:`NIST_DIGITS`,
  :func:`digits`), read by ``tests/test_accuracy.py`` and ``benchmarks/bench_accuracy.py``;
- ``rolling_ols`` → :func:`lstsq_rolling` (one ``numpy.linalg.lstsq`` per window, weights by
  ``sqrt(w)`` row scaling), :func:`statsmodels_rolling` (statsmodels ``RollingOLS`` per
  instrument), :func:`statsmodels_window` (statsmodels ``OLS``/``WLS`` on one window),
  :func:`users_workflow` (the groupby + ``RollingOLS`` code users run today).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.regression.rolling import RollingOLS


def make_test_panel(
    n_assets: int = 4,
    n_dates: int = 80,
    k: int = 2,
    *,
    seed: int = 0,
    nan_frac: float = 0.0,
    level: float = 0.0,
    unbalanced: bool = True,
    order: str = "datetime",
) -> pd.DataFrame:
    """A small random panel: columns ``x0 … x{k-1}`` then ``y``; unbalanced starts and lengths."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=n_dates, freq="D")
    frames = []
    for a in range(n_assets):
        start = int(rng.integers(0, n_dates // 3)) if unbalanced else 0
        stop = n_dates - (int(rng.integers(0, n_dates // 4)) if unbalanced else 0)
        d = dates[start:stop]
        x = level + rng.normal(size=(len(d), k))
        beta = rng.normal(size=k)
        y = 0.3 * a + x @ beta + rng.normal(scale=0.5, size=len(d))
        frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(k)])
        frame["y"] = y
        frame["datetime"] = d
        frame["instrument"] = f"A{a:02d}"
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    if nan_frac:
        values = df[[*(f"x{j}" for j in range(k)), "y"]].to_numpy()
        mask = rng.random(values.shape) < nan_frac / (k + 1)
        values[mask] = np.nan
        df[[*(f"x{j}" for j in range(k)), "y"]] = values
    keys = ["datetime", "instrument"] if order == "datetime" else ["instrument", "datetime"]
    return df.sort_values(keys).set_index(["datetime", "instrument"])


def _window_rows(t: int, window: int, expanding: bool, min_nobs: int) -> range | None:
    if not expanding and t < window - 1:
        return None
    return range(max(0, t - window + 1), t + 1)


def lstsq_rolling(
    df: pd.DataFrame,
    window: int,
    *,
    min_nobs: int | None = None,
    add_constant: bool = True,
    expanding: bool = False,
    missing: str = "drop",
    halflife: float | None = None,
    y: str = "y",
) -> pd.DataFrame:
    """Per-window ``numpy.linalg.lstsq`` (rank-deficient windows by ``matrix_rank`` → NaN).

    Returns a frame on ``df.index`` with the params (``const`` + x names), ``residual``
    (in-sample), ``nobs`` and ``ssr``.
    """
    xcols = [c for c in df.columns if c != y]
    names = (["const"] if add_constant else []) + xcols
    k = len(names)
    min_nobs = k if min_nobs is None else min_nobs
    out = pd.DataFrame(np.nan, index=df.index, columns=[*names, "residual", "nobs", "ssr"])
    for _, g in df.groupby(level="instrument", sort=False):
        g = g.sort_index(level="datetime")
        X = g[xcols].to_numpy()
        if add_constant:
            X = np.column_stack([np.ones(len(g)), X])
        yv = g[y].to_numpy()
        valid = ~(np.isnan(yv) | np.isnan(X).any(axis=1))
        rows_out = np.full((len(g), k + 3), np.nan)
        for t in range(len(g)):
            rows = _window_rows(t, window, expanding, min_nobs)
            if rows is None:
                continue
            idx = np.array(rows)
            ok = valid[idx]
            if missing == "skip" and not ok.all():
                continue
            use = idx[ok]
            if len(use) < min_nobs:
                continue
            w = np.ones(len(use)) if halflife is None else 0.5 ** ((t - use) / halflife)
            Xw, yw = X[use] * np.sqrt(w)[:, None], yv[use] * np.sqrt(w)
            if np.linalg.matrix_rank(X[use]) < k:
                continue
            beta = np.linalg.lstsq(Xw, yw, rcond=None)[0]
            rows_out[t, :k] = beta
            rows_out[t, k] = yv[t] - X[t] @ beta
            rows_out[t, k + 1] = len(use)
            rows_out[t, k + 2] = np.sum((yw - Xw @ beta) ** 2)
        out.loc[g.index] = rows_out
    return out


def statsmodels_rolling(
    df: pd.DataFrame,
    window: int,
    *,
    y: str = "y",
    add_constant: bool = True,
    reset: int | None = None,
    **kwargs: object,
) -> dict[str, pd.DataFrame | pd.Series]:
    """statsmodels ``RollingOLS`` run per instrument; params, bse, rsquared, llf, ssr, nobs."""
    xcols = [c for c in df.columns if c != y]
    parts: dict[str, list] = {key: [] for key in ("params", "bse", "rsquared", "rsquared_adj", "llf", "ssr", "nobs", "aic", "bic")}
    for _, g in df.groupby(level="instrument", sort=False):
        X = g[xcols]
        if add_constant:
            X = sm.add_constant(X, prepend=True, has_constant="add")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels divides by df_resid = 0
            fit = RollingOLS(g[y], X, window=window, **kwargs).fit(reset=reset)
        parts["params"].append(fit.params)
        parts["bse"].append(fit.bse)
        for key in ("rsquared", "rsquared_adj", "llf", "ssr", "aic", "bic"):
            parts[key].append(pd.Series(np.asarray(getattr(fit, key)), index=g.index))
        parts["nobs"].append(pd.Series(np.asarray(fit.nobs), index=g.index))
    out = {key: pd.concat(value).reindex(df.index) for key, value in parts.items()}
    # Where df_resid = 0 the fit is exact and the SSR is rounding noise: statsmodels reports
    # inf/NaN standard errors and a finite llf of that noise; quantreg reports NaN standard
    # errors and llf = +inf. Those rows are left out of the comparison.
    no_dof = (out["nobs"] <= len(xcols) + int(add_constant)) & out["params"].notna().all(axis=1)
    for key in ("bse", "rsquared_adj", "llf", "aic", "bic"):
        out[key] = out[key].mask(no_dof, np.nan if key != "llf" else np.inf)
    out["aic"] = out["aic"].mask(no_dof, -np.inf)
    out["bic"] = out["bic"].mask(no_dof, -np.inf)
    return out


def users_workflow(data: pd.DataFrame, window: int) -> pd.DataFrame:
    """The code users run today (issue 2), verbatim apart from keeping params for comparison."""

    def rolling_ols(x, y, window=window):
        x = sm.add_constant(x)
        params = RollingOLS(endog=y, exog=x, window=window).fit().params
        return pd.DataFrame({"residual": y - (params * x).sum(axis=1), "has_params": params.notna().all(axis=1)})

    return data.groupby("instrument", group_keys=False).apply(lambda g: rolling_ols(g.iloc[:, :-1], g.iloc[:, -1]))


def statsmodels_window(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None):
    """statsmodels ``OLS`` (or ``WLS`` with ``weights``) fitted on one window's rows."""
    if weights is None:
        return sm.OLS(y, X).fit()
    return sm.WLS(y, X, weights=weights).fit()


# --- NIST StRD ------------------------------------------------------------------------------------
NIST = Path(__file__).parent / "data" / "nist"

#: Digits each dataset must reach: what numpy's lstsq / statsmodels' QR reach, minus 0.5.
NIST_DIGITS = {
    "Wampler1": 8.8, "Wampler2": 9.7, "Wampler3": 8.6, "Wampler4": 7.3, "Wampler5": 5.4,
    "Filip": 7.6, "Longley": 10.4, "Norris": 11.6, "Pontius": 11.7, "NoInt1": 14.0, "NoInt2": 14.0,
}


def load_nist(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Regressors, y, certified coefficients and their certified standard deviations."""
    data = json.loads((NIST / f"{name}.json").read_text())
    y = np.array(data["y"], dtype=float)
    if data["design"] == "poly":
        x = np.array(data["x"], dtype=float)
        X = np.column_stack([x**j for j in range(1, data["degree"] + 1)])
    else:
        X = np.array(data["X"], dtype=float)
    params = np.array([float(v) for v in data["params"]])
    sd = np.array([float(v) for v in data["param_sd"]])
    return X, y, params, sd, bool(data["intercept"])


def digits(estimate: np.ndarray, certified: np.ndarray) -> float:
    """The smallest log relative error (correct significant digits, at most 15) over entries."""
    estimate = np.asarray(estimate, dtype=float)
    if not np.isfinite(estimate).all():
        return float("nan")
    error = np.abs(estimate - certified) / np.where(certified != 0, np.abs(certified), 1.0)
    return float(np.min(np.minimum(-np.log10(np.maximum(error, 1e-300)), 15.0)))


def one_instrument(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    n = len(y)
    index = pd.MultiIndex.from_arrays(
        [pd.date_range("2000-01-01", periods=n, freq="D"), np.repeat("A", n)], names=["datetime", "instrument"]
    )
    return pd.DataFrame(np.column_stack([X, y]), index=index, columns=[*(f"x{j}" for j in range(X.shape[1])), "y"])
