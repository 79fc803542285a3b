"""The simulation study of Fan & Li (2001, section 4.1): eight selectors on a sparse linear model.

Model: ``y = xᵀβ + σε`` with ``β = (3, 1.5, 0, 0, 2, 0, 0, 0)``, ``x ~ N(0, Σ)``,
``Σ_ij = 0.5^|i−j|`` and ``ε ~ N(0, 1)``. Each replication fits every method with its tuning
(GCV for the penalised fits, five-fold CV for the garrote) and scores it by the model error
``ME(β̂) = (β̂ − β)ᵀΣ(β̂ − β)`` relative to least squares on all eight variables.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from quantreg.exceptions import ParameterError
from quantreg.selection._validation import check_int, check_real
from quantreg.selection.estimators import SCAD, Garrote, Lasso, Ridge
from quantreg.selection.gram import GramStats
from quantreg.selection.penalties import HardThresholdPenalty
from quantreg.selection.tuning import _tune_core, best_subset_gram, tune_gram

__all__ = [
    "FAN_LI_BETA",
    "FAN_LI_SETTINGS",
    "FAN_LI_A_VALUES",
    "FAN_LI_METHODS",
    "fan_li_covariance",
    "fan_li_data",
    "model_error",
    "simulate_fan_li",
    "fan_li_study",
]

#: true coefficients of the study
FAN_LI_BETA = np.array([3.0, 1.5, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0])
#: the three ``(n, sigma)`` settings of Fan & Li's Table 1
FAN_LI_SETTINGS: tuple[tuple[int, float], ...] = ((40, 3.0), (40, 1.0), (60, 1.0))
#: candidate ``a`` for "SCAD (a by GCV)"
FAN_LI_A_VALUES: tuple[float, ...] = (2.5, 3.0, 3.7, 5.0, 7.5, 10.0)
#: method labels, in the order of the output table
FAN_LI_METHODS: tuple[str, ...] = (
    "SCAD (a tuned)",
    "SCAD (a = 3.7)",
    "LASSO",
    "Hard thresholding",
    "Ridge",
    "Best subset",
    "Garrote",
    "Oracle",
)


def fan_li_covariance(p: int = 8, rho: float = 0.5) -> np.ndarray:
    """``Σ_ij = rho^|i−j|``, the covariance (and ``E[xxᵀ]``) of the regressors.

    Examples
    --------
    >>> fan_li_covariance(3)
    array([[1.  , 0.5 , 0.25],
           [0.5 , 1.  , 0.5 ],
           [0.25, 0.5 , 1.  ]])
    """
    idx = np.arange(p)
    return rho ** np.abs(idx[:, None] - idx[None, :])


def fan_li_data(n: int, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One sample ``(X, y)`` of the study's model, drawn from ``rng``.

    Examples
    --------
    >>> X, y = fan_li_data(40, 1.0, np.random.default_rng(0))
    >>> X.shape, y.shape
    ((40, 8), (40,))
    """
    p = FAN_LI_BETA.shape[0]
    chol = np.linalg.cholesky(fan_li_covariance(p))
    X = rng.standard_normal((n, p)) @ chol.T
    y = X @ FAN_LI_BETA + sigma * rng.standard_normal(n)
    return X, y


def model_error(coef: np.ndarray, intercept: float = 0.0, beta: np.ndarray = FAN_LI_BETA) -> float:
    """``ME = (β̂ − β)ᵀ E[xxᵀ] (β̂ − β) + ĉ²`` — the excess prediction error at a new ``x``.

    Examples
    --------
    >>> model_error(FAN_LI_BETA + np.eye(8)[0])
    1.0
    """
    d = np.asarray(coef, dtype=np.float64) - beta
    return float(d @ fan_li_covariance(beta.shape[0]) @ d + intercept**2)


def _progress(iterable: Iterable[int], total: int, enabled: bool | None, desc: str) -> Iterable[int]:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def _fit_replicate(
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    criterion: str,
    a_values: np.ndarray,
    garrote_criterion: str,
    cv: int,
    subset_criterion: str,
    n_alphas: int,
    fit_intercept: bool,
    tol: float,
) -> dict[str, tuple[np.ndarray, float, float, float]]:
    """``{method: (coef, intercept, alpha, a)}`` for one sample."""
    stats = GramStats.from_rows(X, y)
    opts = {"criterion": criterion, "n_alphas": n_alphas, "refit": False}
    out: dict[str, tuple[np.ndarray, float, float, float]] = {}

    kw = {"fit_intercept": fit_intercept, "tol": tol}
    res = tune_gram(SCAD(**kw), stats, a_values=a_values, **opts)
    out["SCAD (a tuned)"] = (res.coef, res.intercept, res.alpha, float(res.a))
    res = tune_gram(SCAD(a=3.7, **kw), stats, **opts)
    out["SCAD (a = 3.7)"] = (res.coef, res.intercept, res.alpha, 3.7)
    res = tune_gram(Lasso(**kw), stats, **opts)
    out["LASSO"] = (res.coef, res.intercept, res.alpha, np.nan)

    grid, _, paths, _, j = _tune_core(
        lambda s: s.problem(fit_intercept), [HardThresholdPenalty(1.0)], stats, None, criterion,
        None, n_alphas, None, max_iter=1000, tol=tol,
    )  # fmt: skip
    out["Hard thresholding"] = (paths[0].coefs[j].copy(), float(paths[0].intercepts[j]), float(grid[j]), np.nan)

    res = tune_gram(Ridge(fit_intercept=fit_intercept), stats, **opts)
    out["Ridge"] = (res.coef, res.intercept, res.alpha, np.nan)

    sub = best_subset_gram(stats, criterion=subset_criterion, fit_intercept=fit_intercept)
    out["Best subset"] = (sub.coef, sub.intercept, np.nan, np.nan)

    garrote = Garrote(**kw)
    if garrote_criterion == "cv":
        folds = np.array_split(rng.permutation(X.shape[0]), cv)
        fold_stats = [GramStats.from_rows(X[f], y[f]) for f in folds]
        res = tune_gram(garrote, fold_stats, criterion="cv", n_alphas=n_alphas, refit=False)
    else:
        res = tune_gram(garrote, stats, criterion=garrote_criterion, n_alphas=n_alphas, refit=False)
    out["Garrote"] = (res.coef, res.intercept, res.alpha, np.nan)

    support = np.flatnonzero(FAN_LI_BETA != 0)
    sub_stats = GramStats(
        stats.n, stats.x_mean[support], stats.y_mean, stats.sxx[np.ix_(support, support)], stats.sxy[support], stats.syy
    )
    oracle = Ridge(alpha=0.0, fit_intercept=fit_intercept).fit_gram(sub_stats)
    coef = np.zeros(FAN_LI_BETA.shape[0])
    coef[support] = oracle.coef_
    out["Oracle"] = (coef, oracle.intercept_, 0.0, np.nan)

    ols = Ridge(alpha=0.0, fit_intercept=fit_intercept).fit_gram(stats)
    out["OLS"] = (ols.coef_, ols.intercept_, 0.0, np.nan)
    return out


def simulate_fan_li(
    n: int = 40,
    sigma: float = 3.0,
    n_reps: int = 100,
    seed: int = 0,
    *,
    criterion: str = "gcv",
    a_values: Sequence[float] = FAN_LI_A_VALUES,
    garrote_criterion: str = "cv",
    cv: int = 5,
    subset_criterion: str = "bic",
    n_alphas: int = 100,
    fit_intercept: bool = False,
    tol: float = 1e-7,
    progress: bool | None = None,
    return_replicates: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run Fan & Li's (2001) simulation for one ``(n, sigma)`` setting.

    Parameters
    ----------
    n : int, default=40
        Sample size of each replication.
    sigma : float, default=3.0
        Noise standard deviation.
    n_reps : int, default=100
        Number of replications.
    seed : int, default=0
        Seed of ``numpy.random.default_rng`` (data and garrote folds).
    criterion : {"gcv", "bic"}, default="gcv"
        Tuning of SCAD, LASSO, hard thresholding and ridge (GCV as in the paper).
    a_values : sequence of float, default=FAN_LI_A_VALUES
        Candidate ``a`` for "SCAD (a tuned)" (tuned jointly with ``alpha`` by ``criterion``).
    garrote_criterion : {"cv", "gcv", "bic"}, default="cv"
        Tuning of the garrote (five-fold CV as in the paper).
    cv : int, default=5
        Folds of the garrote's cross-validation.
    subset_criterion : {"bic", "gcv"}, default="bic"
        Criterion of best-subset selection.
    n_alphas : int, default=100
        Length of each alpha grid.
    fit_intercept : bool, default=False
        Fit an intercept in every method (the model has none). With an intercept, ``ĉ²`` is
        added to the model error.
    tol : float, default=1e-7
        Relative tolerance of the coordinate-descent fits (see :class:`Lasso`).
    progress : bool or None, default=None
        Show a tqdm bar (``None``: only when stderr is a terminal and tqdm is installed).
    return_replicates : bool, default=False
        Also return one row per (replication, method) with the coefficients, the chosen
        ``alpha``/``a`` and the model errors.

    Returns
    -------
    DataFrame
        Index: the methods of :data:`FAN_LI_METHODS`; columns ``"MRME (%)"`` (median over
        replications of ``ME(β̂)/ME(β̂ᴼᴸˢ)``, in percent), ``"correct zeros"`` (average number of
        true zeros estimated as exactly 0) and ``"incorrect zeros"`` (average number of
        non-zeros estimated as 0). ``attrs`` holds the settings.

    Notes
    -----
    ``ME(β̂) = (β̂ − β)ᵀΣ(β̂ − β)`` with ``Σ = E[xxᵀ]``; ``β̂ᴼᴸˢ`` is least squares on all eight
    variables of the same sample. The oracle is least squares on the true support.

    Examples
    --------
    >>> table = simulate_fan_li(40, 1.0, n_reps=3, seed=0)
    >>> table.loc["Oracle", ["correct zeros", "incorrect zeros"]].tolist()
    [5.0, 0.0]
    """
    n = check_int(n, "n", "simulate_fan_li", low=10)
    sigma = check_real(sigma, "sigma", "simulate_fan_li", low_closed=False)
    n_reps = check_int(n_reps, "n_reps", "simulate_fan_li")
    tol = check_real(tol, "tol", "simulate_fan_li", low_closed=False)
    if criterion not in ("gcv", "bic"):
        raise ParameterError(f"The 'criterion' parameter of simulate_fan_li must be 'gcv' or 'bic'. Got {criterion!r} instead.")
    if garrote_criterion not in ("cv", "gcv", "bic"):
        raise ParameterError(
            f"The 'garrote_criterion' parameter of simulate_fan_li must be 'cv', 'gcv' or 'bic'. Got {garrote_criterion!r} instead."
        )
    a_arr = np.asarray(a_values, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    zero = FAN_LI_BETA == 0
    rows: list[dict[str, Any]] = []
    for rep in _progress(range(n_reps), n_reps, progress, f"Fan & Li n={n} sigma={sigma:g}"):
        X, y = fan_li_data(n, sigma, rng)
        fits = _fit_replicate(
            X, y, rng, criterion=criterion, a_values=a_arr, garrote_criterion=garrote_criterion, cv=cv,
            subset_criterion=subset_criterion, n_alphas=n_alphas, fit_intercept=fit_intercept, tol=tol,
        )  # fmt: skip
        me_ols = model_error(*fits["OLS"][:2])
        for method in FAN_LI_METHODS:
            coef, intercept, alpha, a = fits[method]
            me = model_error(coef, intercept)
            row = {
                "rep": rep,
                "method": method,
                "me": me,
                "me_ols": me_ols,
                "rme": me / me_ols,
                "correct_zeros": int(np.sum((coef == 0) & zero)),
                "incorrect_zeros": int(np.sum((coef == 0) & ~zero)),
                "alpha": alpha,
                "a": a,
                "intercept": intercept,
            }
            row.update({f"coef_{j + 1}": float(c) for j, c in enumerate(coef)})
            rows.append(row)
    reps = pd.DataFrame(rows)
    grouped = reps.groupby("method", sort=False)
    table = pd.DataFrame(
        {
            "MRME (%)": 100.0 * grouped["rme"].median(),
            "correct zeros": grouped["correct_zeros"].mean(),
            "incorrect zeros": grouped["incorrect_zeros"].mean(),
        }
    ).reindex(list(FAN_LI_METHODS))
    table.index.name = "method"
    table.attrs.update({"n": n, "sigma": sigma, "n_reps": n_reps, "seed": seed, "criterion": criterion})
    if return_replicates:
        return table, reps
    return table


def fan_li_study(
    settings: Sequence[tuple[int, float]] = FAN_LI_SETTINGS, n_reps: int = 100, seed: int = 0, **kwargs: Any
) -> pd.DataFrame:
    """All settings of the study as one table (methods × (setting, metric)).

    Parameters
    ----------
    settings : sequence of (n, sigma), default=FAN_LI_SETTINGS
    n_reps : int, default=100
    seed : int, default=0
        Every setting uses this seed.
    **kwargs
        Passed to :func:`simulate_fan_li`.

    Returns
    -------
    DataFrame
        Columns: a MultiIndex ``("n = 40, σ = 3", "MRME (%)")``, ...

    Examples
    --------
    >>> fan_li_study([(40, 1.0)], n_reps=2).shape
    (8, 3)
    """
    if kwargs.get("return_replicates"):
        raise ParameterError("fan_li_study returns the summary table only; call simulate_fan_li(..., return_replicates=True).")
    tables = {}
    for n, sigma in settings:
        tables[f"n = {n}, σ = {sigma:g}"] = simulate_fan_li(n, sigma, n_reps=n_reps, seed=seed, **kwargs)
    out = pd.concat(tables, axis=1, names=["setting", "metric"])
    out.attrs.update({"n_reps": n_reps, "seed": seed})
    return out
