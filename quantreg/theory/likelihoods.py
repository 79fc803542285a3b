r"""Log-likelihoods of the linear model :math:`y = X\beta + \varepsilon` for four noise laws.

Each error law is a location-scale family: :math:`\varepsilon_i = s\,r_i` with :math:`r_i`
i.i.d. with log-density :math:`\log f_0(r) = c - \rho(r)`. The log-likelihood of
:math:`(\beta, s)` is therefore

.. math::

    \ell(\beta, s) = n\,(c - \log s)
                     - \sum_{i=1}^n \rho\!\left(\frac{y_i - x_i^\top\beta}{s}\right).

* ``gaussian``: :math:`s = \sigma`, the standard deviation; :math:`\rho(r) = r^2/2`,
  :math:`c = -\frac12\log 2\pi`.
* ``laplace``: :math:`s = b` (standard deviation :math:`b\sqrt2`); :math:`\rho(r) = |r|`,
  :math:`c = -\log 2`.
* ``student_t`` with :math:`\nu` degrees of freedom: :math:`s` is the t scale;
  :math:`\rho(r) = \frac{\nu+1}{2}\log(1 + r^2/\nu)`,
  :math:`c = \log\frac{\Gamma((\nu+1)/2)}{\Gamma(\nu/2)\sqrt{\nu\pi}}`.
* ``gennorm`` with shape :math:`p`: :math:`s = \alpha`; :math:`\rho(r) = |r|^p`,
  :math:`c = \log\frac{p}{2\Gamma(1/p)}`.

The scales are those of ``scipy.stats.norm``, ``laplace``, ``t`` and ``gennorm``. The generalised
normal (exponential-power) family contains the Laplace law (:math:`p = 1`, :math:`\alpha = b`) and
the Gaussian law (:math:`p = 2`, :math:`\alpha = \sigma\sqrt2`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from quantreg.theory._validation import check_data, check_family, check_params, check_positive

__all__ = ["gaussian_loglike", "laplace_loglike", "student_t_loglike", "gennorm_loglike", "loglike"]

_Rho = Callable[[np.ndarray, float], np.ndarray]
_R_FLOOR = 1e-8  # smallest |r| in gennorm's second derivative (standardised residuals)


@dataclass(frozen=True)
class Density:
    """A standardised error density :math:`\\log f_0(r) = c - \\rho(r)` and two derivatives.

    ``psi`` is :math:`\\rho'` and ``dpsi`` is :math:`\\rho''`, used by the Newton optimisers in
    :mod:`quantreg.theory.fitting` (None for the Laplace law, which is fitted by linear
    programming); every callable takes ``(r, shape)``.
    """

    log_const: Callable[[float | None], float]
    rho: _Rho
    psi: _Rho | None
    dpsi: _Rho | None


def _t_log_const(nu: float) -> float:
    return float(gammaln((nu + 1.0) / 2.0) - gammaln(nu / 2.0) - 0.5 * np.log(nu * np.pi))


DENSITIES: dict[str, Density] = {
    "gaussian": Density(
        log_const=lambda _: -0.5 * np.log(2.0 * np.pi),
        rho=lambda r, _: 0.5 * r * r,
        psi=lambda r, _: r,
        dpsi=lambda r, _: np.ones_like(r),
    ),
    "laplace": Density(
        log_const=lambda _: -np.log(2.0),
        rho=lambda r, _: np.abs(r),
        psi=None,
        dpsi=None,
    ),
    "student_t": Density(
        log_const=_t_log_const,
        rho=lambda r, nu: 0.5 * (nu + 1.0) * np.log1p(r * r / nu),
        psi=lambda r, nu: (nu + 1.0) * r / (nu + r * r),
        dpsi=lambda r, nu: (nu + 1.0) * (nu - r * r) / (nu + r * r) ** 2,
    ),
    "gennorm": Density(
        log_const=lambda p: float(np.log(p / 2.0) - gammaln(1.0 / p)),
        rho=lambda r, p: np.abs(r) ** p,
        psi=lambda r, p: p * np.sign(r) * np.abs(r) ** (p - 1.0),
        # unbounded at r = 0 for p < 2: floored so that the Newton model stays finite (the
        # gradient, hence the optimum, is exact)
        dpsi=lambda r, p: p * (p - 1.0) * np.maximum(np.abs(r), _R_FLOOR) ** (p - 2.0),
    ),
}
"""The four standardised densities, keyed by family name."""


def loglike(
    params: ArrayLike,
    scale: float,
    X: ArrayLike,
    y: ArrayLike,
    family: str = "gaussian",
    shape: float | None = None,
) -> float:
    r"""Log-likelihood of :math:`y = X\beta + \varepsilon` for the named error family.

    Parameters
    ----------
    params : array_like, shape (k,)
        Coefficients :math:`\beta`.
    scale : float
        Scale :math:`s > 0` of the error law (see the module table for its meaning per family).
    X : array_like, shape (n, k)
        Design matrix (include a column of ones for an intercept).
    y : array_like, shape (n,)
        Response.
    family : {"gaussian", "laplace", "student_t", "gennorm"}
        Error law.
    shape : float, optional
        Degrees of freedom :math:`\nu` for ``"student_t"``, exponent :math:`p` for
        ``"gennorm"``; must be None for the other families.

    Returns
    -------
    float
        :math:`\ell(\beta, s) = n(c - \log s) - \sum_i \rho((y_i - x_i^\top\beta)/s)`.

    Raises
    ------
    TheoryInputError
        Non-finite or mis-shaped data, ``scale <= 0``, an unknown family or a missing shape.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> y = np.array([0.1, 1.2, 1.9, 3.1])
    >>> a = loglike([0.0, 1.0], 0.5, X, y, family="gennorm", shape=2.0)
    >>> b = loglike([0.0, 1.0], 0.5 / np.sqrt(2.0), X, y, family="gaussian")
    >>> bool(np.isclose(a, b, rtol=1e-12))
    True
    """
    shape = check_family(family, shape)
    X, y = check_data(X, y)
    params = check_params(params, X.shape[1])
    scale = check_positive(scale, "scale", "It is the spread of the error law (for 'gaussian' "
                           "its standard deviation); see this module's docstring.")
    density = DENSITIES[family]
    r = (y - X @ params) / scale
    n = y.shape[0]
    return float(n * (density.log_const(shape) - np.log(scale)) - np.sum(density.rho(r, shape)))


def gaussian_loglike(params: ArrayLike, scale: float, X: ArrayLike, y: ArrayLike) -> float:
    r"""Gaussian log-likelihood of the linear model.

    Parameters
    ----------
    params : array_like, shape (k,)
        Coefficients :math:`\beta`.
    scale : float
        Standard deviation :math:`\sigma > 0` of the errors.
    X : array_like, shape (n, k)
        Design matrix.
    y : array_like, shape (n,)
        Response.

    Returns
    -------
    float
        The log-likelihood.

    Notes
    -----
    .. math::

        \ell(\beta, \sigma) = -\frac n2 \log(2\pi\sigma^2)
                              - \frac{\lVert y - X\beta\rVert^2}{2\sigma^2}.

    For any :math:`\sigma` it is a decreasing function of the residual sum of squares, so its
    maximiser in :math:`\beta` is the least-squares estimate.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 1))
    >>> y = np.array([1.0, -1.0])
    >>> bool(np.isclose(gaussian_loglike([0.0], 1.0, X, y), -np.log(2 * np.pi) - 1.0))
    True
    """
    return loglike(params, scale, X, y, family="gaussian")


def laplace_loglike(params: ArrayLike, scale: float, X: ArrayLike, y: ArrayLike) -> float:
    r"""Laplace (double-exponential) log-likelihood of the linear model.

    Parameters
    ----------
    params : array_like, shape (k,)
        Coefficients :math:`\beta`.
    scale : float
        Laplace scale :math:`b > 0` (the error standard deviation is :math:`b\sqrt2`).
    X : array_like, shape (n, k)
        Design matrix.
    y : array_like, shape (n,)
        Response.

    Returns
    -------
    float
        The log-likelihood.

    Notes
    -----
    .. math::

        \ell(\beta, b) = -n\log(2b) - \frac1b \sum_{i=1}^n |y_i - x_i^\top\beta|.

    For any :math:`b` it decreases in the sum of absolute residuals, so its maximiser in
    :math:`\beta` is the least-absolute-deviations (median regression) estimate.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 1))
    >>> y = np.array([1.0, -1.0])
    >>> bool(np.isclose(laplace_loglike([0.0], 1.0, X, y), -2 * np.log(2.0) - 2.0))
    True
    """
    return loglike(params, scale, X, y, family="laplace")


def student_t_loglike(
    params: ArrayLike, scale: float, X: ArrayLike, y: ArrayLike, df: float
) -> float:
    r"""Student-t log-likelihood of the linear model with ``df`` degrees of freedom.

    Parameters
    ----------
    params : array_like, shape (k,)
        Coefficients :math:`\beta`.
    scale : float
        t scale :math:`s > 0` (the error standard deviation is :math:`s\sqrt{\nu/(\nu-2)}` for
        :math:`\nu > 2`).
    X : array_like, shape (n, k)
        Design matrix.
    y : array_like, shape (n,)
        Response.
    df : float
        Degrees of freedom :math:`\nu > 0`.

    Returns
    -------
    float
        The log-likelihood.

    Notes
    -----
    With :math:`r_i = (y_i - x_i^\top\beta)/s`,

    .. math::

        \ell(\beta, s) = n\log\frac{\Gamma(\frac{\nu+1}{2})}{\Gamma(\frac\nu2)\sqrt{\nu\pi}\,s}
                         - \frac{\nu+1}{2}\sum_{i=1}^n \log\Bigl(1 + \frac{r_i^2}{\nu}\Bigr).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> X = np.ones((1, 1))
    >>> ll = student_t_loglike([0.0], 2.0, X, np.array([1.0]), df=3.0)
    >>> bool(np.isclose(ll, stats.t.logpdf(1.0, 3.0, scale=2.0)))
    True
    """
    return loglike(params, scale, X, y, family="student_t", shape=df)


def gennorm_loglike(
    params: ArrayLike, scale: float, X: ArrayLike, y: ArrayLike, p: float
) -> float:
    r"""Generalised-normal (exponential-power) log-likelihood of the linear model with shape ``p``.

    Parameters
    ----------
    params : array_like, shape (k,)
        Coefficients :math:`\beta`.
    scale : float
        Scale :math:`\alpha > 0` (``scipy.stats.gennorm``'s ``scale``).
    X : array_like, shape (n, k)
        Design matrix.
    y : array_like, shape (n,)
        Response.
    p : float
        Shape :math:`p > 0`: 1 is the Laplace law, 2 the Gaussian, 3 the "cubic" loss.

    Returns
    -------
    float
        The log-likelihood.

    Notes
    -----
    .. math::

        \ell(\beta, \alpha) = n\log\frac{p}{2\alpha\,\Gamma(1/p)}
                              - \sum_{i=1}^n \Bigl|\frac{y_i - x_i^\top\beta}{\alpha}\Bigr|^p.

    For fixed :math:`\beta` it is maximised by :math:`\hat\alpha^p = \frac pn\sum_i|e_i|^p`, which
    leaves the profile :math:`\ell_p(\beta) = n\log\frac{p}{2\Gamma(1/p)} - \frac np
    \log\bigl(\frac pn\sum_i|e_i|^p\bigr) - \frac np`: a decreasing function of
    :math:`\sum_i|e_i|^p`. Hence the maximum-likelihood :math:`\hat\beta` minimises
    :math:`\sum_i|y_i - x_i^\top\beta|^p`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 1))
    >>> y = np.array([1.0, -1.0])
    >>> a = gennorm_loglike([0.0], 1.0, X, y, p=1.0)
    >>> bool(np.isclose(a, laplace_loglike([0.0], 1.0, X, y)))
    True
    """
    return loglike(params, scale, X, y, family="gennorm", shape=p)
