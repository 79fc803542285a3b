r"""Maximum likelihood and minimum-:math:`L_p`-loss fits of the linear model.

:func:`fit_mle` maximises a log-likelihood of :mod:`quantreg.theory.likelihoods` (in closed form
for the Gaussian family, else with ``scipy.optimize``); :func:`fit_loss` minimises
:math:`\sum_i|y_i - x_i^\top\beta|^p` directly. The two agree for the generalised-normal family
with shape :math:`p`, which is what :mod:`quantreg.theory.demonstrations` shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

from quantreg.exceptions import TheoryInputError
from quantreg.theory._solvers import least_absolute_deviations, newton, standardise
from quantreg.theory._validation import check_data, check_family, check_positive
from quantreg.theory.likelihoods import DENSITIES, loglike

__all__ = ["MLEResult", "LossResult", "fit_mle", "fit_loss"]

_METHODS = ("auto", "closed_form", "numerical")


@dataclass(frozen=True)
class MLEResult:
    r"""A maximum-likelihood fit of :math:`y = X\beta + \varepsilon` (see :func:`fit_mle`).

    Attributes
    ----------
    family : str
        The error law.
    shape : float or None
        Its fixed shape (:math:`\nu` or :math:`p`; None for gaussian and laplace).
    params : ndarray, shape (k,)
        :math:`\hat\beta`.
    scale : float
        :math:`\hat s` in the family's own parametrisation (see
        :mod:`quantreg.theory.likelihoods`).
    llf : float
        The maximised log-likelihood :math:`\ell(\hat\beta, \hat s)`.
    nobs : int
        :math:`n`.
    k_params : int
        :math:`k`, the number of coefficients, counted by ``aic`` and ``bic``.
    method : str
        ``"closed_form"``, ``"trust-exact"`` (Newton trust region on the full likelihood) or
        ``"highs-ipm"`` (the Laplace profile likelihood, maximised by linear programming).
    converged : bool
        Whether the optimiser converged (True for the closed form).
    n_iter : int
        Iterations of the final optimiser (0 for the closed form).
    message : str
        The optimiser's message.
    """

    family: str
    shape: float | None
    params: np.ndarray
    scale: float
    llf: float
    nobs: int
    k_params: int
    method: str
    converged: bool
    n_iter: int
    message: str

    @property
    def aic(self) -> float:
        r""":math:`-2\hat\ell + 2k` (the scale is not counted, as in statsmodels' ``OLS``)."""
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        r""":math:`-2\hat\ell + k\log n` (the scale is not counted, as in statsmodels' ``OLS``)."""
        return -2.0 * self.llf + np.log(self.nobs) * self.k_params


@dataclass(frozen=True)
class LossResult:
    r"""A fit minimising :math:`\sum_i |y_i - x_i^\top\beta|^p` (see :func:`fit_loss`).

    Attributes
    ----------
    p : float
        The exponent.
    params : ndarray, shape (k,)
        The minimiser :math:`\hat\beta`.
    objective : float
        :math:`\sum_i |y_i - x_i^\top\hat\beta|^p`.
    method : str
        ``"trust-exact"`` for :math:`p > 1`, ``"highs-ipm"`` (linear programming) for
        :math:`p = 1`.
    converged : bool
        Whether the optimiser converged.
    n_iter : int
        Iterations of the final optimiser.
    message : str
        The optimiser's message.
    """

    p: float
    params: np.ndarray
    objective: float
    method: str
    converged: bool
    n_iter: int
    message: str


def _check_options(tol: float, maxiter: int | None) -> float:
    tol = check_positive(tol, "tol", "Use a small positive tolerance such as 1e-10.")
    if maxiter is not None and (
        isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1
    ):
        raise TheoryInputError(f"maxiter must be a positive integer or None; got {maxiter!r}.")
    return tol


def fit_mle(
    X: ArrayLike,
    y: ArrayLike,
    family: str = "gaussian",
    *,
    shape: float | None = None,
    method: str = "auto",
    tol: float = 1e-10,
    maxiter: int | None = None,
) -> MLEResult:
    r"""Maximum-likelihood estimate of :math:`(\beta, s)` in :math:`y = X\beta + \varepsilon`.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank with :math:`n > k` (include a column of ones for an
        intercept).
    y : array_like, shape (n,)
        Response.
    family : {"gaussian", "laplace", "student_t", "gennorm"}
        Error law (see :mod:`quantreg.theory.likelihoods`).
    shape : float, optional
        Fixed (not estimated) shape: degrees of freedom :math:`\nu > 0` for ``"student_t"``,
        exponent :math:`p \ge 1` for ``"gennorm"``; None for the other families.
    method : {"auto", "closed_form", "numerical"}
        ``"auto"`` uses the closed form for the Gaussian family and numerical maximisation
        otherwise; ``"closed_form"`` exists only for the Gaussian family.
    tol : float
        Optimiser tolerance in standardised units (see Notes): the Newton fit stops when the
        gradient norm or the largest entry of the next Newton step is below it; the linear
        program uses it (at least 1e-10) as HiGHS's feasibility tolerances.
    maxiter : int, optional
        Maximum iterations of each optimiser; None means 1000 for ``trust-exact`` and HiGHS's
        own limit for the linear program.

    Returns
    -------
    MLEResult
        Estimates, maximised log-likelihood, ``aic``, ``bic`` and convergence information.

    Raises
    ------
    TheoryInputError
        Non-finite data, rank-deficient ``X``, :math:`n \le k`, an exact fit, an unknown family
        or method, a missing or invalid shape (``gennorm`` needs :math:`p \ge 1`), or a
        Student-t likelihood that is unbounded (:math:`\nu \le k/(n-k)`).

    Warns
    -----
    TheoryConvergenceWarning
        An optimiser stopped before reaching ``tol``.

    Notes
    -----
    Gaussian closed form: :math:`\hat\beta = (X^\top X)^{-1}X^\top y` (computed by QR),
    :math:`\hat\sigma^2 = \mathrm{RSS}/n` and
    :math:`\hat\ell = -\frac n2\bigl(\log(2\pi\,\mathrm{RSS}/n) + 1\bigr)`.

    Numerically, the fit works in standardised coordinates :math:`\gamma = R\beta/c`,
    :math:`z = y/c` (:math:`X = QR`, :math:`c^2 = \mathrm{RSS}_{\mathrm{OLS}}/n`) and maximises the
    full likelihood over :math:`(\gamma, \log s)` with ``scipy.optimize.minimize(
    method="trust-exact")``, analytic gradient and Hessian, starting from the
    least-absolute-deviations fit, so that even the Gaussian answer is found, not assumed.
    The Laplace likelihood (``gennorm`` with :math:`p = 1`) is not differentiable; its scale
    has the closed form :math:`\hat b = \frac1n\sum_i|e_i|` for any :math:`\beta`, leaving the
    profile :math:`-n\bigl(\log(\frac2n\sum_i|e_i|) + 1\bigr)`, which the linear program of
    least absolute deviations maximises (``scipy.optimize.linprog``, HiGHS). For
    :math:`1 < p < 1.5` the optimum can have residuals that vanish to rounding, and Newton's
    method may then stop short of ``tol`` (with a warning).

    Information criteria follow statsmodels' ``OLS``: :math:`\mathrm{AIC} = -2\hat\ell + 2k`,
    :math:`\mathrm{BIC} = -2\hat\ell + k\log n`, where :math:`k` counts the coefficients but
    neither the scale nor a fixed shape, for every family. Counting the scale would add 2 (AIC)
    or :math:`\log n` (BIC) to every family alike, so comparisons across families do not
    change; statsmodels' ``GenericLikelihoodModel`` (e.g. ``TLinearModel``) does count it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(50), rng.normal(size=50)])
    >>> y = X @ [1.0, 2.0] + rng.normal(size=50)
    >>> exact = fit_mle(X, y)
    >>> numeric = fit_mle(X, y, method="numerical")
    >>> exact.method, numeric.method, numeric.converged
    ('closed_form', 'trust-exact', True)
    >>> bool(np.allclose(exact.params, numeric.params, rtol=1e-8))
    True
    >>> bool(np.isclose(exact.aic, -2 * exact.llf + 2 * 2))
    True
    >>> fit_mle(X, y, family="student_t", shape=3.0).converged
    True
    """
    shape = check_family(family, shape)
    if method not in _METHODS:
        raise TheoryInputError(
            f"Unknown method {method!r}; expected one of {', '.join(map(repr, _METHODS))}."
        )
    if method == "closed_form" and family != "gaussian":
        raise TheoryInputError(
            f"method='closed_form' exists only for family='gaussian'; got family={family!r}. "
            f"Use method='auto' or 'numerical'."
        )
    if family == "gennorm" and shape is not None and shape < 1.0:
        raise TheoryInputError(
            f"fitting family='gennorm' needs shape p >= 1 (for p < 1 the loss Σ|e|^p is not "
            f"convex and has many local minima); got shape={shape!r}."
        )
    tol = _check_options(tol, maxiter)
    prob = standardise(*check_data(X, y))
    n, k = prob.X.shape
    if family == "student_t" and shape is not None and shape * (n - k) <= k:
        raise TheoryInputError(
            f"The Student-t likelihood with ν={shape!r} is unbounded for n={n}, k={k}: fitting "
            f"k points exactly and letting the scale go to 0 sends it to +inf whenever "
            f"ν <= k/(n - k) = {k / (n - k):.3g}. Use larger degrees of freedom or more rows."
        )

    def result(params: np.ndarray, scale: float, how: str, res: OptimizeResult) -> MLEResult:
        llf = loglike(params, scale, prob.X, prob.y, family, shape)
        return MLEResult(family, shape, params, scale, llf, n, k, how, bool(res.success),
                         int(res.nit), str(res.message))

    if family == "gaussian" and method != "numerical":
        params = prob.params(prob.gamma_ols)
        resid = prob.y - prob.X @ params
        rss = float(resid @ resid)
        llf = -0.5 * n * (np.log(2.0 * np.pi * rss / n) + 1.0)
        return MLEResult(family, None, params, float(np.sqrt(rss / n)), float(llf), n, k,
                         "closed_form", True, 0, "closed form")

    lad = least_absolute_deviations(prob, tol, maxiter)
    if family == "laplace" or (family == "gennorm" and shape == 1.0):
        params = prob.params(lad.x[:k])
        return result(params, float(np.mean(np.abs(prob.y - prob.X @ params))), "highs-ipm", lad)

    gamma0 = lad.x[:k]
    r0 = prob.z - prob.Q @ gamma0  # starting log-scale: gennorm's profile scale, else the RMS
    eta0 = (np.log(shape * np.mean(np.abs(r0) ** shape)) / shape if family == "gennorm"
            else 0.5 * np.log(np.mean(r0 * r0)))
    res = newton(DENSITIES[family], shape, prob, np.append(gamma0, eta0), True, tol, maxiter)
    return result(prob.params(res.x[:k]), float(prob.c * np.exp(res.x[k])), "trust-exact", res)


def fit_loss(
    X: ArrayLike, y: ArrayLike, p: float, *, tol: float = 1e-10, maxiter: int | None = None
) -> LossResult:
    r"""Coefficients minimising the :math:`L_p` loss :math:`\sum_i |y_i - x_i^\top\beta|^p`.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank with :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    p : float
        Exponent :math:`p \ge 1` (1: least absolute deviations, 2: least squares, 3: cubic).
    tol : float
        Optimiser tolerance in standardised units, as in :func:`fit_mle`.
    maxiter : int, optional
        Maximum iterations of each optimiser; None means 1000 for ``trust-exact`` and HiGHS's
        own limit for the linear program.

    Returns
    -------
    LossResult
        The minimiser, the loss there and convergence information.

    Raises
    ------
    TheoryInputError
        Non-finite data, rank-deficient ``X``, :math:`n \le k`, an exact fit or :math:`p < 1`.

    Warns
    -----
    TheoryConvergenceWarning
        An optimiser stopped before reaching ``tol``.

    Notes
    -----
    For :math:`p \ge 1` the loss is convex, so a local minimiser is global (and unique for
    :math:`p > 1`). :math:`p = 1` solves the linear program
    :math:`\min \mathbf 1^\top(u^+ + u^-)` subject to :math:`X\beta + u^+ - u^- = y`,
    :math:`u^\pm \ge 0` (``scipy.optimize.linprog``, HiGHS). :math:`p > 1` starts from that
    solution and runs ``scipy.optimize.minimize(method="trust-exact")`` with gradient
    :math:`-p\sum_i \operatorname{sign}(e_i)|e_i|^{p-1}x_i` and Hessian
    :math:`p(p-1)\sum_i |e_i|^{p-2}x_i x_i^\top`, in the standardised coordinates of
    :func:`fit_mle`. By the profile argument in
    :func:`~quantreg.theory.likelihoods.gennorm_loglike`, the minimiser is the
    generalised-normal maximum-likelihood :math:`\hat\beta` with shape :math:`p`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    >>> lad = fit_loss(X, y, p=1)   # the outlier does not move the median line y = x
    >>> bool(np.allclose(lad.params, [0.0, 1.0], atol=1e-10)), round(lad.objective, 10)
    (True, 6.0)
    >>> ols = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> bool(np.allclose(fit_loss(X, y, p=2).params, ols, rtol=1e-10))
    True
    """
    p = check_positive(p, "p", "For example p=1 (absolute), 2 (squared) or 3 (cubed) errors.")
    if p < 1.0:
        raise TheoryInputError(
            f"p must be >= 1 (for p < 1 the loss Σ|e|^p is not convex and has many local "
            f"minima); got p={p!r}."
        )
    tol = _check_options(tol, maxiter)
    prob = standardise(*check_data(X, y))
    k = prob.X.shape[1]
    res = least_absolute_deviations(prob, tol, maxiter)
    method = "highs-ipm"
    if p != 1.0:
        res = newton(DENSITIES["gennorm"], p, prob, res.x[:k], False, tol, maxiter)
        method = "trust-exact"
    params = prob.params(res.x[:k])
    objective = float(np.sum(np.abs(prob.y - prob.X @ params) ** p))
    return LossResult(p, params, objective, method, bool(res.success), int(res.nit),
                      str(res.message))
