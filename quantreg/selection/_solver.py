"""Glue between a :class:`GramProblem`, a :class:`Penalty` and the numba kernels (no checks here)."""

from __future__ import annotations

import numpy as np

from quantreg._kernels import coordinate_descent as cd
from quantreg.selection.gram import GramProblem
from quantreg.selection.penalties import Penalty

__all__ = ["DEFAULT_N_ALPHAS", "tol_scale", "alpha_grid", "solve", "solve_path", "mse_df"]

#: number of alphas of the default path (also the continuation grid of non-convex fits)
DEFAULT_N_ALPHAS = 100


def tol_scale(problem: GramProblem) -> float:
    """``‖b‖∞`` (the gradient at 0): the unit in which the relative ``tol`` is expressed."""
    s = float(np.max(np.abs(problem.b))) if problem.b.size else 0.0
    return s if s > 0.0 else 1.0


def alpha_grid(problem: GramProblem, penalty: Penalty, n_alphas: int = DEFAULT_N_ALPHAS, eps: float | None = None) -> np.ndarray:
    """``alpha_max·eps^(k/(n_alphas − 1))``, decreasing (``eps`` defaults to the penalty's).

    Computed by the same kernels as :func:`~quantreg._kernels.coordinate_descent.cd_continuation_gram`,
    so that a grid point refits to exactly the path's solution.
    """
    eps = penalty.default_eps if eps is None else eps
    top = max(penalty.alpha_max(problem.b, problem.G), 1e-300)
    out = np.empty(int(n_alphas))
    cd.log_grid(top, float(eps), out)
    return out


def solve_path(
    problem: GramProblem,
    penalty: Penalty,
    alphas: np.ndarray,
    *,
    max_iter: int,
    tol: float,
    w0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warm-started solutions ``w`` (kernel space) along ``alphas``: ``(coefs, n_iter, violation)``."""
    p = problem.b.shape[0]
    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    k = alphas.shape[0]
    w = np.zeros(p) if w0 is None else np.array(w0, dtype=np.float64)
    coefs = np.empty((k, p))
    n_iter = np.empty(k, dtype=np.int64)
    viol = np.empty(k)
    cd.cd_path_gram(
        problem.G,
        problem.b,
        alphas,
        penalty.kind,
        penalty.params,
        w,
        int(max_iter),
        float(tol) * tol_scale(problem),
        coefs,
        n_iter,
        viol,
    )
    return coefs, n_iter, viol


def solve(problem: GramProblem, penalty: Penalty, *, max_iter: int, tol: float) -> tuple[np.ndarray, int, float]:
    """One fit ``(w, n_iter, violation)`` from ``w = 0``; ``n_iter = -1`` for a singular ridge system.

    Non-convex penalties follow the continuation of ``cd_continuation_gram`` along the default
    grid (``DEFAULT_N_ALPHAS`` points, the penalty's ``default_eps``).
    """
    w = np.zeros(problem.b.shape[0])
    tol_abs = float(tol) * tol_scale(problem)
    if penalty.convex:
        n_iter, viol = cd.cd_gram(problem.G, problem.b, w, penalty.kind, penalty.params, int(max_iter), tol_abs)
    else:
        n_iter, viol = cd.cd_continuation_gram(
            problem.G, problem.b, w, penalty.kind, penalty.params, DEFAULT_N_ALPHAS, penalty.default_eps,
            int(max_iter), tol_abs,
        )  # fmt: skip
    return w, int(n_iter), float(viol)


def mse_df(problem: GramProblem, penalty: Penalty, alphas: np.ndarray, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training mean squared error and effective number of parameters (intercept included)."""
    k = alphas.shape[0]
    mse = np.empty(k)
    df = np.empty(k)
    cd.path_mse_df(
        problem.G,
        problem.b,
        problem.syy,
        np.ascontiguousarray(alphas, dtype=np.float64),
        penalty.kind,
        penalty.params,
        np.ascontiguousarray(coefs),
        mse,
        df,
    )
    return mse, df + (1.0 if problem.fit_intercept else 0.0)
