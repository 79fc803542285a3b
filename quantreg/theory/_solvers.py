r"""The numerical engines behind :mod:`quantreg.theory.fitting`, on a standardised problem.

With the thin QR decomposition :math:`X = QR` and :math:`c = \sqrt{\mathrm{RSS}_{\mathrm{OLS}}/n}`
the solvers work with :math:`z = y/c` and :math:`\gamma = R\beta/c`, so that the design
:math:`Q` is orthonormal and the residuals have unit root mean square at least squares. A
tolerance is then a tolerance on a well-scaled problem, whatever the units of ``X`` and ``y``.

* :func:`least_absolute_deviations`: the linear program of
  :math:`\min_\gamma \sum_i |z_i - q_i^\top\gamma|` (``scipy.optimize.linprog``).
* :func:`newton`: ``scipy.optimize.minimize(method="trust-exact")`` on the mean :math:`\rho`
  loss or the mean negative log-likelihood of a :class:`~quantreg.theory.likelihoods.Density`,
  with analytic gradient and Hessian.
"""

from __future__ import annotations

import warnings
from typing import Callable, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from scipy.optimize import OptimizeResult, linprog, minimize

from quantreg.exceptions import TheoryConvergenceWarning, TheoryInputError
from quantreg.theory._validation import check_fittable
from quantreg.theory.likelihoods import Density

_LP_MIN_TOL = 1e-10  # HiGHS rejects feasibility tolerances below this
_NEWTON_MAXITER = 1000
_POLISH_STEPS = 3  # Newton steps after trust-exact; quadratic convergence needs one or two


class Problem(NamedTuple):
    """The data and their standardised form: ``z = y/c = Q γ + e/c`` with ``β = c R⁻¹ γ``."""

    X: np.ndarray
    y: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    c: float
    z: np.ndarray
    gamma_ols: np.ndarray

    def params(self, gamma: np.ndarray) -> np.ndarray:
        """Coefficients :math:`\\beta` of the standardised coefficients ``gamma``."""
        return self.c * solve_triangular(self.R, gamma)


def standardise(X: np.ndarray, y: np.ndarray) -> Problem:
    """Check that ``X`` can be fitted and build the standardised :class:`Problem`."""
    check_fittable(X)
    Q, R = np.linalg.qr(X)
    resid = y - Q @ (Q.T @ y)
    c = float(np.sqrt(resid @ resid / y.shape[0]))
    if c <= 64 * np.finfo(float).eps * float(np.max(np.abs(y))):
        raise TheoryInputError(
            "y is an exact linear function of X (all least-squares residuals are zero), so the "
            "likelihood is unbounded and every loss is minimised by the same exact fit. There "
            "is no noise to model; check that y is not one of the columns of X."
        )
    z = y / c
    return Problem(X, y, Q, R, c, z, Q.T @ z)


def least_absolute_deviations(prob: Problem, tol: float, maxiter: int | None) -> OptimizeResult:
    r"""Solve :math:`\min \mathbf 1^\top(u^+ + u^-)` s.t. :math:`Q\gamma + u^+ - u^- = z`,
    :math:`u^\pm \ge 0`; ``x[:k]`` of the result is :math:`\hat\gamma`.

    HiGHS's interior-point method with crossover returns a vertex: :math:`k` residuals are
    zero to rounding, as at every least-absolute-deviations solution.
    """
    n, k = prob.Q.shape
    eye = sp.identity(n, format="csr")
    a_eq = sp.hstack([sp.csr_matrix(prob.Q), eye, -eye], format="csr")
    cost = np.concatenate([np.zeros(k), np.ones(2 * n)])
    bounds = [(None, None)] * k + [(0.0, None)] * (2 * n)
    lp_tol = max(tol, _LP_MIN_TOL)
    options: dict[str, float | int] = {
        "primal_feasibility_tolerance": lp_tol,
        "dual_feasibility_tolerance": lp_tol,
    }
    if maxiter is not None:
        options["maxiter"] = maxiter
    res = linprog(cost, A_eq=a_eq, b_eq=prob.z, bounds=bounds, method="highs-ipm",
                  options=options)
    res.success = res.status == 0
    if res.x is None:  # HiGHS returns no point when it stops early
        res.x = np.concatenate([prob.gamma_ols, np.zeros(2 * n)])
        res.message = f"{res.message}; the least-squares estimate is returned instead"
    _warn_unless_converged(res, "highs-ipm", lp_tol)
    return res


def _objective(
    density: Density, shape: float | None, Q: np.ndarray, z: np.ndarray, with_scale: bool
) -> tuple[Callable[[np.ndarray], tuple[float, np.ndarray]], Callable[[np.ndarray], np.ndarray]]:
    r"""``(fun_and_grad, hess)`` of the mean loss :math:`\frac1n\sum_i\rho(z_i - q_i^\top\gamma)`
    over :math:`\gamma` (``with_scale=False``), or of the mean negative log-likelihood
    :math:`\frac1n\sum_i\rho(r_i) + \eta - c_0`, :math:`r_i = (z_i - q_i^\top\gamma)e^{-\eta}`,
    over :math:`(\gamma, \eta = \log s)`.
    """
    n, k = Q.shape

    def parts(theta: np.ndarray) -> tuple[np.ndarray, float, float]:
        eta = float(theta[k]) if with_scale else 0.0
        s = float(np.exp(eta))
        return (z - Q @ theta[:k]) / s, s, eta

    def fun_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, s, eta = parts(theta)
        psi = density.psi(r, shape)
        grad_gamma = -(Q.T @ psi) / (n * s)
        value = float(np.mean(density.rho(r, shape)))
        if not with_scale:
            return value, grad_gamma
        value += eta - density.log_const(shape)
        return value, np.append(grad_gamma, 1.0 - np.mean(psi * r))

    def hess(theta: np.ndarray) -> np.ndarray:
        r, s, _ = parts(theta)
        dpsi = density.dpsi(r, shape)
        h_gg = (Q.T @ (dpsi[:, None] * Q)) / (n * s * s)
        if not with_scale:
            return h_gg
        psi = density.psi(r, shape)
        h_ge = (Q.T @ (dpsi * r + psi)) / (n * s)
        h_ee = float(np.mean(dpsi * r * r + psi * r))
        return np.block([[h_gg, h_ge[:, None]], [h_ge[None, :], np.array([[h_ee]])]])

    return fun_and_grad, hess


def newton(
    density: Density,
    shape: float | None,
    prob: Problem,
    theta0: np.ndarray,
    with_scale: bool,
    tol: float,
    maxiter: int | None,
) -> OptimizeResult:
    """Trust-region Newton (``trust-exact``), finished by plain Newton steps on the gradient.

    Near the optimum the decrease a step buys falls below the resolution of the objective's
    value, and ``trust-exact`` may stop ("a bad approximation caused failure to predict
    improvement") with a small but not tiny gradient. Plain Newton steps do not compare function
    values, so they finish the job (at most three, each kept only if it shrinks the gradient).
    Convergence means that the gradient norm or the largest entry of the next Newton step is
    <= ``tol``.
    """
    fun_and_grad, hess = _objective(density, shape, prob.Q, prob.z, with_scale)
    res = minimize(
        fun_and_grad, theta0, jac=True, hess=hess, method="trust-exact",
        options={"gtol": tol, "maxiter": _NEWTON_MAXITER if maxiter is None else maxiter},
    )
    if res.status == 2:  # stopped by the resolution of the objective, not by maxiter
        x, grad = res.x, res.jac
        step = _newton_step(hess(x), grad)
        for _ in range(_POLISH_STEPS):
            if step is None:
                break
            grad_new = fun_and_grad(x - step)[1]
            if not np.linalg.norm(grad_new) < np.linalg.norm(grad):
                break
            x, grad = x - step, grad_new
            step = _newton_step(hess(x), grad)
        res.x, res.jac = x, grad
        if np.linalg.norm(grad) <= tol or (step is not None and np.max(np.abs(step)) <= tol):
            res.success = True
            res.message = f"converged after Newton polishing ({res.message})"
    _warn_unless_converged(res, "trust-exact", tol)
    return res


def _newton_step(hess: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    """The Newton step ``H⁻¹ g``, or None when the Hessian is singular."""
    try:
        return np.linalg.solve(hess, grad)
    except np.linalg.LinAlgError:
        return None


def _warn_unless_converged(res: OptimizeResult, method: str, tol: float) -> None:
    if not res.success:
        grad = getattr(res, "jac", None)
        reached = "" if grad is None else f"; gradient norm {np.linalg.norm(grad):.2e}"
        warnings.warn(
            f"{method} stopped before convergence after {res.nit} iterations: {res.message}"
            f"{reached} (tolerance {tol:.1e}). Increase maxiter or loosen tol.",
            TheoryConvergenceWarning,
            stacklevel=4,
        )
