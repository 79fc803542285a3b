"""Scikit-learn estimators ``Lasso``, ``Ridge``, ``SCAD`` and ``Garrote``, solved on Gram statistics.

Each estimator minimises ``(1/2n)‖y − c − Xβ‖² + Σ_j p_α(|β_j|)`` by building a
:class:`~quantreg.selection.gram.GramProblem` from the sufficient statistics of the data and
handing it, with its penalty, to the coordinate-descent kernel. ``fit(X, y)`` computes the
statistics from rows; ``fit_gram(stats)`` starts from given statistics (a merged stream, a
rolling window, a cross-validation fold), with identical results.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from quantreg.exceptions import QuantregError, SelectionConvergenceWarning
from quantreg.selection import _solver
from quantreg.selection._validation import check_bool, check_int, check_real
from quantreg.selection.gram import GramProblem, GramStats
from quantreg.selection.penalties import L1Penalty, L2Penalty, NonNegativeL1Penalty, Penalty, SCADPenalty

__all__ = ["Lasso", "Ridge", "SCAD", "Garrote"]


class _ConvergenceWarning(SelectionConvergenceWarning, ConvergenceWarning):
    """What the selectors emit: both quantreg's and scikit-learn's convergence warning."""


class _PenalizedLeastSquares(RegressorMixin, BaseEstimator):
    """Shared ``fit`` / ``fit_gram`` / ``predict``; subclasses choose the penalty."""

    def _penalty(self) -> Penalty:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self) -> None:
        name = type(self).__name__
        check_real(self.alpha, "alpha", name)
        check_bool(self.fit_intercept, "fit_intercept", name)
        if hasattr(self, "max_iter"):
            check_int(self.max_iter, "max_iter", name)
            check_real(self.tol, "tol", name, low_closed=False)

    def _problem(self, stats: GramStats) -> GramProblem:
        return stats.problem(self.fit_intercept)

    def fit(self, X: ArrayLike, y: ArrayLike) -> "_PenalizedLeastSquares":
        """Fit on the rows of ``X`` (n_samples, n_features) and ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Regressors (finite).
        y : array-like of shape (n_samples,)
            Response (finite).

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._check_params()
        return self._fit_stats(GramStats.from_rows(X, y))

    def fit_gram(self, stats: GramStats) -> "_PenalizedLeastSquares":
        """Fit from sufficient statistics instead of rows (same solution as :meth:`fit`).

        Parameters
        ----------
        stats : GramStats
            Count, means and centred cross-products of ``[X, y]``.

        Returns
        -------
        self
        """
        if not isinstance(stats, GramStats):
            raise TypeError(
                f"{type(self).__name__}.fit_gram expects a GramStats; got {type(stats).__name__}. "
                "Build one with quantreg.selection.gram_stats(X, y)."
            )
        self._check_params()
        self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = stats.n_features
        return self._fit_stats(stats)

    def _fit_stats(self, stats: GramStats) -> "_PenalizedLeastSquares":
        problem = self._problem(stats)
        penalty = self._penalty()
        max_iter, tol = getattr(self, "max_iter", 1), getattr(self, "tol", 0.0)  # Ridge: closed form
        w, n_iter, viol = _solver.solve(problem, penalty, max_iter=max_iter, tol=tol)
        if n_iter < 0:
            w = self._singular_fallback(problem)
        elif hasattr(self, "max_iter") and not viol <= self.tol * _solver.tol_scale(problem):
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} sweeps: the optimality "
                f"violation is {viol:.3g}, above the tolerance {self.tol * _solver.tol_scale(problem):.3g} "
                "(tol·max|Xᵀy|/n). Increase max_iter, loosen tol or standardise the features.",
                _ConvergenceWarning,
                stacklevel=3,
            )
        self._set_solution(problem, w)
        self.n_iter_ = n_iter
        self.kkt_violation_ = viol
        return self

    def _singular_fallback(self, problem: GramProblem) -> np.ndarray:  # pragma: no cover - ridge only
        raise QuantregError("singular system")

    def _set_solution(self, problem: GramProblem, w: np.ndarray) -> None:
        self.coef_ = problem.coef(w)
        self.intercept_ = float(problem.intercept(self.coef_))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """``c + Xβ`` for the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_


class Lasso(_PenalizedLeastSquares):
    """LASSO: ``(1/2n)‖y − c − Xβ‖² + α‖β‖₁`` (the same objective as scikit-learn's ``Lasso``).

    Parameters
    ----------
    alpha : float, default=1.0
        ``alpha ≥ 0``.
    fit_intercept : bool, default=True
        Fit ``c`` (the problem is then solved on centred statistics).
    max_iter : int, default=1000
        Maximum number of coordinate-descent sweeps.
    tol : float, default=1e-4
        Stop when the largest subgradient distance is ``≤ tol·max_j |Xᵀy|_j/n``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Coordinate-descent sweeps used.
    kkt_violation_ : float
        Largest subgradient distance at the solution (the optimality certificate).
    n_features_in_ : int

    Notes
    -----
    Solved by coordinate descent on ``G = XᵀX/n`` and ``b = Xᵀy/n`` with the soft-thresholding
    update ``β_j ← S(b_j − Σ_{k≠j}G_jkβ_k, α)/G_jj``.

    Examples
    --------
    >>> from quantreg.selection import Lasso
    >>> Lasso(alpha=0.1).fit([[-1.0], [0.0], [1.0]], [-1.0, 0.0, 1.0]).coef_
    array([0.85])
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-4) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _penalty(self) -> Penalty:
        return L1Penalty(self.alpha)


class Ridge(_PenalizedLeastSquares):
    """Ridge regression: ``(1/2n)‖y − c − Xβ‖² + (α/2)‖β‖²``, solved in closed form.

    Equals scikit-learn's ``Ridge(alpha=α·n_samples)``, whose objective is ``‖y − c − Xβ‖² + α‖β‖²``.

    Parameters
    ----------
    alpha : float, default=1.0
        ``alpha ≥ 0``; ``alpha = 0`` is least squares.
    fit_intercept : bool, default=True
        Fit ``c``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        1 (closed form), or -1 when ``alpha = 0`` and ``XᵀX`` is singular.
    kkt_violation_ : float
        ``max_j |(Gβ − b)_j + αβ_j|`` (NaN for the singular case).
    n_features_in_ : int

    Notes
    -----
    ``(G + αI)β = b`` by Cholesky, with ``G = XᵀX/n`` and ``b = Xᵀy/n`` (centred with an
    intercept). When ``alpha = 0`` and ``G`` is singular, the minimum-norm least-squares
    solution is returned (as scikit-learn's ``LinearRegression`` does).

    Examples
    --------
    >>> from quantreg.selection import Ridge
    >>> Ridge(alpha=1.0).fit([[-1.0], [0.0], [1.0]], [-1.0, 0.0, 1.0]).coef_
    array([0.4])
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def _penalty(self) -> Penalty:
        return L2Penalty(self.alpha)

    def _singular_fallback(self, problem: GramProblem) -> np.ndarray:
        return np.linalg.lstsq(problem.G, problem.b, rcond=None)[0]


class SCAD(_PenalizedLeastSquares):
    """SCAD-penalised least squares of Fan & Li (2001).

    Parameters
    ----------
    alpha : float, default=1.0
        ``alpha ≥ 0`` (Fan & Li's ``λ``).
    a : float, default=3.7
        ``a > 2``; 3.7 is Fan & Li's recommendation.
    fit_intercept : bool, default=True
        Fit ``c``.
    max_iter : int, default=1000
        Maximum number of coordinate-descent sweeps per step of the continuation.
    tol : float, default=1e-4
        Stop when the largest subgradient distance is ``≤ tol·max_j |Xᵀy|_j/n``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Total coordinate-descent sweeps along the continuation.
    kkt_violation_ : float
        Largest distance to the (Clarke) subdifferential at the solution.
    n_features_in_ : int

    Notes
    -----
    Objective ``(1/2n)‖y − c − Xβ‖² + Σ_j p_α(|β_j|)`` with the SCAD penalty (see
    :class:`~quantreg.selection.SCADPenalty`). The coordinate update is the closed-form SCAD
    thresholding rule. The objective is not convex, so the fit follows the solution from
    ``alpha_max = max_j|Xᵀy|_j/n`` (where 0 is the solution) down to ``alpha`` through the
    default tuning grid (100 log-spaced values down to ``1e-3·alpha_max``), warm-starting every
    step: a tuned ``alpha`` taken from that grid refits to the same local minimum.

    Examples
    --------
    >>> from quantreg.selection import SCAD
    >>> X = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]   # XᵀX/n = I/2
    >>> SCAD(alpha=0.2, fit_intercept=False).fit(X, [3.0, -3.0, 0.3, -0.3]).coef_
    array([3., 0.])
    """

    def __init__(
        self, alpha: float = 1.0, a: float = 3.7, *, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-4
    ) -> None:
        self.alpha = alpha
        self.a = a
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self) -> None:
        super()._check_params()
        check_real(self.a, "a", "SCAD", low=2.0, low_closed=False, hint="SCAD needs a > 2 (Fan & Li recommend a = 3.7).")

    def _penalty(self) -> Penalty:
        self._check_params()
        return SCADPenalty(self.alpha, self.a)


class Garrote(_PenalizedLeastSquares):
    """Breiman's (1995) non-negative garrote: ``β_j = d_j·β̂ᴼᴸˢ_j`` with ``d ≥ 0``.

    Parameters
    ----------
    alpha : float, default=1.0
        ``alpha ≥ 0``.
    fit_intercept : bool, default=True
        Fit ``c`` (in the least-squares step and in the garrote).
    max_iter : int, default=1000
        Maximum number of coordinate-descent sweeps.
    tol : float, default=1e-4
        Stop when the largest subgradient distance is ``≤ tol·max_j |Zᵀy|_j/n``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    ols_coef_ : ndarray of shape (n_features,)
        The least-squares coefficients ``β̂ᴼᴸˢ``.
    shrinkage_ : ndarray of shape (n_features,)
        The factors ``d ≥ 0``.
    n_iter_ : int
    kkt_violation_ : float
    n_features_in_ : int

    Notes
    -----
    Objective ``(1/2n)‖y − c − Σ_j d_j β̂ᴼᴸˢ_j x_j‖² + α Σ_j d_j`` over ``d ≥ 0``: a non-negative
    LASSO on the columns ``z_j = β̂ᴼᴸˢ_j x_j``, i.e. on ``G_Z = DGD`` and ``b_Z = Db`` with
    ``D = diag(β̂ᴼᴸˢ)``. The least-squares step needs ``n_samples > n_features`` (``≥`` without
    an intercept) and a full-rank ``X``.

    Examples
    --------
    >>> from quantreg.selection import Garrote
    >>> Garrote(alpha=0.5).fit([[-1.0], [0.0], [1.0]], [-2.0, 0.0, 2.0]).coef_
    array([1.625])
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 1000, tol: float = 1e-4) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _penalty(self) -> Penalty:
        return NonNegativeL1Penalty(self.alpha)

    def _problem(self, stats: GramStats) -> GramProblem:
        p = stats.n_features
        need = p + 1 if self.fit_intercept else p
        if stats.n < need:
            raise QuantregError(
                f"Garrote needs n_samples > n_features for its least-squares step (at least {need} rows for "
                f"{p} features{' and an intercept' if self.fit_intercept else ''}); got n_samples={stats.n:g}, "
                f"n_features={p}. Use Lasso or SCAD when there are fewer samples than features."
            )
        base = stats.problem(self.fit_intercept)
        ols = np.empty(p)
        if _solver.cd.ridge_gram(base.G, base.b, 0.0, ols) != 0:
            raise QuantregError(
                f"Garrote needs the least-squares fit on all {p} features, but XᵀX is singular (a constant or "
                "duplicated column?). Drop the redundant columns, or use Lasso or SCAD."
            )
        return base.scaled(ols)

    def _set_solution(self, problem: GramProblem, w: np.ndarray) -> None:
        super()._set_solution(problem, w)
        self.ols_coef_ = problem.scale.copy()
        self.shrinkage_ = w
