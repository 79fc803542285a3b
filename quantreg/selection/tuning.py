"""Choosing ``alpha`` (and SCAD's ``a``) along warm-started paths: GCV, BIC or K-fold CV.

Everything is computed from Gram statistics: a path is solved once per candidate ``a`` on the
full sample (GCV, BIC) or on each training fold (CV, whose folds are merged statistics), and
the held-out error of a fold comes from the fold's statistics alone. Nothing a user would not
have (such as true coefficients) enters a criterion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_X_y

from quantreg._kernels import coordinate_descent as cd
from quantreg.exceptions import ParameterError, QuantregError
from quantreg.selection import _solver
from quantreg.selection._validation import check_int, check_real
from quantreg.selection.gram import GramProblem, GramStats
from quantreg.selection.penalties import Penalty

__all__ = [
    "RegularizationPath",
    "TuningResult",
    "SubsetResult",
    "regularization_path",
    "regularization_path_gram",
    "tune",
    "tune_gram",
    "best_subset",
    "best_subset_gram",
]

CRITERIA = ("gcv", "bic", "cv")


def _gcv(mse: np.ndarray, df: np.ndarray, n: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1.0 - df / n
        out = mse / denom**2
    return np.where(np.isfinite(df) & (denom > 0.0), out, np.inf)


def _bic(mse: np.ndarray, df: np.ndarray, n: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(mse) + df * np.log(n) / n
    return np.where(np.isfinite(df), out, np.inf)


@dataclass(frozen=True, eq=False)
class RegularizationPath:
    """Solutions along a decreasing grid of ``alpha`` and their selection criteria.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        Decreasing penalty levels.
    coefs : ndarray of shape (n_alphas, n_features)
    intercepts : ndarray of shape (n_alphas,)
    mse : ndarray of shape (n_alphas,)
        Training ``(1/n)‖y − c − Xβ̂‖²``.
    df : ndarray of shape (n_alphas,)
        Effective number of parameters ``e(α)`` (plus 1 for a fitted intercept).
    n : float
        Number of rows.
    n_iter, kkt_violation : ndarray of shape (n_alphas,)
        Sweeps used and optimality violation of each fit.
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    mse: np.ndarray
    df: np.ndarray
    n: float
    n_iter: np.ndarray
    kkt_violation: np.ndarray

    @property
    def gcv(self) -> np.ndarray:
        """``GCV(α) = mse/(1 − e(α)/n)²`` (Fan & Li 2001, section 4.2); ``inf`` when ``e ≥ n``."""
        return _gcv(self.mse, self.df, self.n)

    @property
    def bic(self) -> np.ndarray:
        """``BIC(α) = log(mse) + e(α)·log(n)/n``."""
        return _bic(self.mse, self.df, self.n)

    def criterion(self, name: str) -> np.ndarray:
        """``gcv`` or ``bic`` by name."""
        return self.gcv if name == "gcv" else self.bic


@dataclass(frozen=True, eq=False)
class TuningResult:
    """The chosen ``alpha`` (and ``a``), the criterion on the whole grid, and the chosen fit.

    Attributes
    ----------
    estimator : estimator or None
        A clone with the chosen parameters, fitted on all the data (``None`` if ``refit=False``).
    criterion : str
        ``"gcv"``, ``"bic"`` or ``"cv"``.
    alpha : float
    a : float or None
        The chosen ``a`` when ``a_values`` was given.
    alphas : ndarray of shape (n_alphas,)
    a_values : ndarray of shape (n_a,) or None
    scores : ndarray of shape (n_a, n_alphas)
        The criterion (for ``"cv"``: the pooled held-out mean squared error); one row when ``a``
        is not tuned.
    path : RegularizationPath
        The full-sample path at the chosen ``a``.
    coef : ndarray of shape (n_features,)
        The path's coefficients at the chosen ``alpha``.
    intercept : float
    """

    estimator: BaseEstimator | None
    criterion: str
    alpha: float
    a: float | None
    alphas: np.ndarray
    a_values: np.ndarray | None
    scores: np.ndarray
    path: RegularizationPath
    coef: np.ndarray
    intercept: float


def _path(problem: GramProblem, penalty: Penalty, alphas: np.ndarray, *, max_iter: int, tol: float) -> RegularizationPath:
    w, n_iter, viol = _solver.solve_path(problem, penalty, alphas, max_iter=max_iter, tol=tol)
    mse, df = _solver.mse_df(problem, penalty, alphas, w)
    coefs = problem.coef(w)
    return RegularizationPath(
        alphas=alphas,
        coefs=coefs,
        intercepts=np.asarray(problem.intercept(coefs), dtype=np.float64),
        mse=mse,
        df=df,
        n=problem.n,
        n_iter=n_iter,
        kkt_violation=viol,
    )


def _alphas(problem: GramProblem, penalty: Penalty, alphas: ArrayLike | None, n_alphas: int, eps: float | None) -> np.ndarray:
    if alphas is None:
        check_int(n_alphas, "n_alphas", "the alpha grid")
        if eps is not None:
            check_real(eps, "eps", "the alpha grid", low=0.0, low_closed=False, high=1.0, high_closed=False)
        return _solver.alpha_grid(problem, penalty, n_alphas, eps)
    arr = np.asarray(alphas, dtype=np.float64).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(
            f"The 'alphas' parameter must be a non-empty sequence of finite floats >= 0. Got {alphas!r} instead."
        )
    return np.ascontiguousarray(np.sort(arr)[::-1])


def _solver_opts(estimator: BaseEstimator) -> dict[str, float]:
    return {"max_iter": int(getattr(estimator, "max_iter", 1)), "tol": float(getattr(estimator, "tol", 0.0))}


def _check_estimator(estimator: BaseEstimator) -> None:
    if not (hasattr(estimator, "_problem") and hasattr(estimator, "_penalty")):
        raise ParameterError(
            f"Expected one of quantreg.selection's estimators (Lasso, Ridge, SCAD, Garrote); got {type(estimator).__name__}."
        )
    estimator._check_params()


def _rows_to_stats(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    X, y = check_X_y(X, y, dtype=np.float64, y_numeric=True)
    return X, y


def regularization_path_gram(
    estimator: BaseEstimator,
    stats: GramStats,
    *,
    alphas: ArrayLike | None = None,
    n_alphas: int = _solver.DEFAULT_N_ALPHAS,
    eps: float | None = None,
) -> RegularizationPath:
    """The estimator's solutions along a decreasing alpha grid, from sufficient statistics.

    Parameters
    ----------
    estimator : Lasso, Ridge, SCAD or Garrote
        Supplies the penalty and its other parameters (``alpha`` itself is ignored).
    stats : GramStats
    alphas : array-like, optional
        Penalty levels (sorted decreasingly); default ``alpha_max·geomspace(1, eps, n_alphas)``.
    n_alphas : int, default=100
    eps : float, optional
        ``alpha_min/alpha_max`` of the default grid (``1e-3``; ``1e-8`` for ridge).

    Returns
    -------
    RegularizationPath

    Notes
    -----
    Each fit is warm-started from the previous one (``w = 0`` at ``alpha_max``).

    Examples
    --------
    >>> import numpy as np
    >>> from quantreg.selection import Lasso, gram_stats, regularization_path_gram
    >>> rng = np.random.default_rng(0); X = rng.standard_normal((50, 3)); y = X @ [1.0, 0.0, -2.0]
    >>> path = regularization_path_gram(Lasso(), gram_stats(X, y), n_alphas=5)
    >>> path.coefs.shape, bool(np.all(path.coefs[0] == 0))
    ((5, 3), True)
    """
    _check_estimator(estimator)
    problem = estimator._problem(stats)
    penalty = estimator._penalty()
    grid = _alphas(problem, penalty, alphas, n_alphas, eps)
    return _path(problem, penalty, grid, **_solver_opts(estimator))


def regularization_path(
    estimator: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike,
    *,
    alphas: ArrayLike | None = None,
    n_alphas: int = _solver.DEFAULT_N_ALPHAS,
    eps: float | None = None,
) -> RegularizationPath:
    """:func:`regularization_path_gram` on the statistics of the rows ``(X, y)``."""
    X, y = _rows_to_stats(X, y)
    return regularization_path_gram(estimator, GramStats.from_rows(X, y), alphas=alphas, n_alphas=n_alphas, eps=eps)


def _tune_core(
    make_problem: Callable[[GramStats], GramProblem],
    penalties: Sequence[Penalty],
    full: GramStats,
    folds: Sequence[GramStats] | None,
    criterion: str,
    alphas: ArrayLike | None,
    n_alphas: int,
    eps: float | None,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, list[RegularizationPath], int, int]:
    """Scores ``(n_penalties, n_alphas)`` and the full-sample paths; the argmin ``(i, j)``."""
    full_problem = make_problem(full)
    grid = _alphas(full_problem, penalties[0], alphas, n_alphas, eps)
    scores = np.empty((len(penalties), grid.shape[0]))
    paths = []
    for i, penalty in enumerate(penalties):
        path = _path(full_problem, penalty, grid, max_iter=max_iter, tol=tol)
        paths.append(path)
        if criterion != "cv":
            scores[i] = path.criterion(criterion)
            continue
        fold_list = list(folds or ())
        total = np.zeros(grid.shape[0])
        for k, test in enumerate(fold_list):
            train = GramStats.merge_all(f for m, f in enumerate(fold_list) if m != k)
            problem = make_problem(train)
            w, _, _ = _solver.solve_path(problem, penalty, grid, max_iter=max_iter, tol=tol)
            coefs = problem.coef(w)
            total += test.n * test.mse(coefs, problem.intercept(coefs))
        scores[i] = total / full.n
    flat = np.where(np.isnan(scores), np.inf, scores)
    i, j = np.unravel_index(int(np.argmin(flat)), flat.shape)
    return grid, scores, paths, int(i), int(j)


def tune_gram(
    estimator: BaseEstimator,
    stats: GramStats | Sequence[GramStats],
    *,
    criterion: str = "gcv",
    alphas: ArrayLike | None = None,
    a_values: ArrayLike | None = None,
    n_alphas: int = _solver.DEFAULT_N_ALPHAS,
    eps: float | None = None,
    refit: bool = True,
) -> TuningResult:
    """Choose ``alpha`` (and ``a`` for SCAD) from sufficient statistics.

    Parameters
    ----------
    estimator : Lasso, Ridge, SCAD or Garrote
    stats : GramStats or sequence of GramStats
        The sample's statistics; for ``criterion="cv"`` a sequence with one entry per fold
        (the folds' held-out rows), whose merge is the whole sample.
    criterion : {"gcv", "bic", "cv"}, default="gcv"
    alphas : array-like, optional
        Grid of ``alpha`` (default: see :func:`regularization_path_gram`).
    a_values : array-like, optional
        Candidate ``a`` for SCAD (each ``> 2``); tuned jointly with ``alpha``.
    n_alphas : int, default=100
    eps : float, optional
    refit : bool, default=True
        Return a clone with the chosen parameters fitted on the whole sample.

    Returns
    -------
    TuningResult

    Notes
    -----
    ``GCV(α) = (1/n)‖y − c − Xβ̂‖²/(1 − e(α)/n)²`` and ``BIC(α) = log((1/n)‖y − c − Xβ̂‖²) +
    e(α)log(n)/n`` with ``e(α) = tr[X_A(X_AᵀX_A + nΣ_α)⁻¹X_Aᵀ]`` over the selected set ``A``,
    ``Σ_α = diag(p'_α(|β̂_j|)/|β̂_j|)`` (plus 1 for an intercept). ``"cv"`` minimises the
    held-out mean squared error pooled over the folds, each fold's path being solved on the
    merge of the other folds' statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from quantreg.selection import Lasso, gram_stats, tune_gram
    >>> rng = np.random.default_rng(0); X = rng.standard_normal((60, 4))
    >>> y = X @ [2.0, 0.0, 0.0, -1.0] + 0.5 * rng.standard_normal(60)
    >>> res = tune_gram(Lasso(), gram_stats(X, y), criterion="bic")
    >>> res.estimator.coef_[[1, 2]].tolist()
    [0.0, 0.0]
    """
    _check_estimator(estimator)
    if criterion not in CRITERIA:
        raise ParameterError(f"The 'criterion' parameter must be one of {CRITERIA}. Got {criterion!r} instead.")
    if isinstance(stats, GramStats):
        parts = [stats]
    else:
        parts = list(stats)
        if not parts or not all(isinstance(s, GramStats) for s in parts):
            raise ParameterError("The 'stats' parameter must be a GramStats or a non-empty sequence of GramStats.")
    if criterion == "cv" and len(parts) < 2:
        raise ParameterError(
            f"criterion='cv' needs the statistics of at least 2 folds; got {len(parts)}. "
            "Pass one GramStats per fold, or use tune(estimator, X, y, criterion='cv', cv=5)."
        )
    full = GramStats.merge_all(parts)
    base = clone(estimator)
    if a_values is None:
        a_arr = None
        estimators = [base]
    else:
        if "a" not in base.get_params():
            raise ParameterError(f"a_values can only be tuned for SCAD; got {type(estimator).__name__}.")
        a_arr = np.asarray(a_values, dtype=np.float64).ravel()
        if a_arr.size == 0:
            raise ParameterError("The 'a_values' parameter must be a non-empty sequence of floats > 2.")
        estimators = [clone(base).set_params(a=float(a)) for a in a_arr]
    penalties = [e._penalty() for e in estimators]
    grid, scores, paths, i, j = _tune_core(
        base._problem,
        penalties,
        full,
        parts if criterion == "cv" else None,
        criterion,
        alphas,
        n_alphas,
        eps,
        **_solver_opts(base),
    )
    best_alpha = float(grid[j])
    best_a = None if a_arr is None else float(a_arr[i])
    fitted = None
    if refit:
        fitted = clone(estimators[i]).set_params(alpha=best_alpha).fit_gram(full)
    path = paths[i]
    return TuningResult(
        estimator=fitted,
        criterion=criterion,
        alpha=best_alpha,
        a=best_a,
        alphas=grid,
        a_values=a_arr,
        scores=scores,
        path=path,
        coef=path.coefs[j].copy(),
        intercept=float(path.intercepts[j]),
    )


def tune(
    estimator: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike,
    *,
    criterion: str = "gcv",
    alphas: ArrayLike | None = None,
    a_values: ArrayLike | None = None,
    n_alphas: int = _solver.DEFAULT_N_ALPHAS,
    eps: float | None = None,
    cv: int = 5,
    random_state: int | None = 0,
    refit: bool = True,
) -> TuningResult:
    """Choose ``alpha`` (and ``a`` for SCAD) by GCV, BIC or K-fold CV on the rows ``(X, y)``.

    Parameters
    ----------
    estimator : Lasso, Ridge, SCAD or Garrote
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    criterion : {"gcv", "bic", "cv"}, default="gcv"
    alphas, a_values, n_alphas, eps, refit
        See :func:`tune_gram`.
    cv : int, default=5
        Number of folds for ``criterion="cv"`` (shuffled ``KFold``).
    random_state : int or None, default=0
        Seed of the fold assignment.

    Returns
    -------
    TuningResult
        ``result.estimator`` is fitted on ``(X, y)`` with the chosen parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from quantreg.selection import SCAD, tune
    >>> rng = np.random.default_rng(2); X = rng.standard_normal((80, 5))
    >>> y = X @ [3.0, 0.0, 0.0, 1.5, 0.0] + rng.standard_normal(80)
    >>> res = tune(SCAD(), X, y, criterion="gcv", a_values=[3.0, 3.7, 5.0])
    >>> (res.estimator.coef_ != 0).tolist()
    [True, False, False, True, False]
    """
    X, y = _rows_to_stats(X, y)
    if criterion == "cv":
        k = check_int(cv, "cv", "tune", low=2)
        if k > X.shape[0]:
            raise ParameterError(f"cv={k} folds need at least {k} rows; got n_samples={X.shape[0]}. Lower cv.")
        splitter = KFold(n_splits=k, shuffle=True, random_state=random_state)
        stats: GramStats | list[GramStats] = [GramStats.from_rows(X[test], y[test]) for _, test in splitter.split(X)]
    else:
        stats = GramStats.from_rows(X, y)
    res = tune_gram(
        estimator, stats, criterion=criterion, alphas=alphas, a_values=a_values, n_alphas=n_alphas, eps=eps, refit=False
    )
    if refit:
        params = {"alpha": res.alpha} if res.a is None else {"alpha": res.alpha, "a": res.a}
        fitted = clone(estimator).set_params(**params).fit(X, y)
        res = TuningResult(**{**res.__dict__, "estimator": fitted})
    return res


@dataclass(frozen=True, eq=False)
class SubsetResult:
    """Best-subset least squares.

    Attributes
    ----------
    coef : ndarray of shape (n_features,)
    intercept : float
    support : ndarray of bool, shape (n_features,)
    criterion : str
    scores : ndarray of shape (2**n_features,)
        The criterion of every subset, indexed by bit mask (bit ``j`` = feature ``j``).
    """

    coef: np.ndarray
    intercept: float
    support: np.ndarray
    criterion: str
    scores: np.ndarray


def best_subset_gram(
    stats: GramStats, *, criterion: str = "bic", fit_intercept: bool = True, max_features: int = 20
) -> SubsetResult:
    """Least squares on the subset of features minimising GCV or BIC (all ``2^p`` subsets).

    Parameters
    ----------
    stats : GramStats
    criterion : {"bic", "gcv"}, default="bic"
        ``log(mse) + k·log(n)/n`` or ``mse/(1 − k/n)²``, ``k`` = subset size (+1 for an intercept).
    fit_intercept : bool, default=True
    max_features : int, default=20
        Refuse larger problems (``2^p`` least-squares fits).

    Returns
    -------
    SubsetResult

    Examples
    --------
    >>> import numpy as np
    >>> from quantreg.selection import gram_stats, best_subset_gram
    >>> rng = np.random.default_rng(0); X = rng.standard_normal((60, 4))
    >>> y = X @ [2.0, 0.0, 0.0, -1.0] + 0.5 * rng.standard_normal(60)
    >>> best_subset_gram(gram_stats(X, y)).support.tolist()
    [True, False, False, True]
    """
    if criterion not in ("bic", "gcv"):
        raise ParameterError(f"The 'criterion' parameter of best_subset must be 'bic' or 'gcv'. Got {criterion!r} instead.")
    p = stats.n_features
    if p > max_features:
        raise ParameterError(
            f"best_subset would fit 2**{p} subsets; max_features={max_features}. Screen the features first "
            "(e.g. with Lasso) or raise max_features."
        )
    problem = stats.problem(fit_intercept)
    mse = np.empty(1 << p)
    cd.subset_mse(problem.G, problem.b, problem.syy, mse)
    masks = np.arange(1 << p)
    k = np.array([bin(m).count("1") for m in masks], dtype=np.float64) + (1.0 if fit_intercept else 0.0)
    scores = _gcv(mse, k, problem.n) if criterion == "gcv" else _bic(mse, k, problem.n)
    scores = np.where(np.isnan(scores), np.inf, scores)
    best = int(np.argmin(scores))
    support = np.array([(best >> j) & 1 == 1 for j in range(p)], dtype=bool)
    coef = np.zeros(p)
    idx = np.flatnonzero(support)
    if idx.size:
        sol = np.empty(idx.size)
        if cd.cholesky_solve(np.ascontiguousarray(problem.G[np.ix_(idx, idx)]), problem.b[idx].copy(), sol) != 0:
            raise QuantregError("best_subset found no non-singular subset; XᵀX is singular.")  # pragma: no cover
        coef[idx] = sol
    return SubsetResult(
        coef=coef, intercept=float(problem.intercept(coef)), support=support, criterion=criterion, scores=scores
    )


def best_subset(
    X: ArrayLike, y: ArrayLike, *, criterion: str = "bic", fit_intercept: bool = True, max_features: int = 20
) -> SubsetResult:
    """:func:`best_subset_gram` on the statistics of the rows ``(X, y)``."""
    X, y = _rows_to_stats(X, y)
    return best_subset_gram(
        GramStats.from_rows(X, y), criterion=criterion, fit_intercept=fit_intercept, max_features=max_features
    )
