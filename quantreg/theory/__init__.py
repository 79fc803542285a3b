r"""Maximum likelihood and least squares for the linear model, shown numerically.

Under Gaussian noise the least-squares estimate *is* the maximum-likelihood estimate; under
Laplace noise the least-absolute-deviations estimate is; under generalised-normal noise with
shape :math:`p`, the minimiser of :math:`\sum_i|e_i|^p` is. This package lets you check that
on your own data and compare the fits:

* :mod:`~quantreg.theory.likelihoods`: log-likelihoods of :math:`y = X\beta + \varepsilon` for
  Gaussian, Laplace, Student-t and generalised-normal errors, as plain functions of
  ``(params, scale, X, y)``;
* :mod:`~quantreg.theory.fitting`: :func:`fit_mle` (closed form or ``scipy.optimize``) and
  :func:`fit_loss` (minimum :math:`L_p` loss);
* :mod:`~quantreg.theory.demonstrations`: each equivalence computed by two routes.

The Gaussian ``llf``, ``aic`` and ``bic`` here are those that statsmodels' ``OLS`` reports, and
that :func:`quantreg.rolling_ols` reports for every window.

Examples
--------
>>> import numpy as np
>>> from quantreg.theory import fit_loss, fit_mle
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([np.ones(200), rng.normal(size=200)])
>>> y = X @ [1.0, 2.0] + rng.laplace(size=200)
>>> laplace = fit_mle(X, y, family="laplace")
>>> bool(np.allclose(laplace.params, fit_loss(X, y, p=1).params))
True
>>> gauss = fit_mle(X, y)
>>> bool(laplace.aic < gauss.aic)   # the Laplace law describes these residuals better
True
"""

from quantreg.theory.demonstrations import (
    Equivalence,
    VarianceEstimates,
    gennorm_mle_equals_min_loss,
    laplace_mle_equals_lad,
    max_gaussian_llf,
    mle_equals_ols,
    sigma2_mle_vs_unbiased,
)
from quantreg.theory.fitting import LossResult, MLEResult, fit_loss, fit_mle
from quantreg.theory.likelihoods import (
    gaussian_loglike,
    gennorm_loglike,
    laplace_loglike,
    loglike,
    student_t_loglike,
)

__all__ = [
    "Equivalence",
    "LossResult",
    "MLEResult",
    "VarianceEstimates",
    "fit_loss",
    "fit_mle",
    "gaussian_loglike",
    "gennorm_loglike",
    "gennorm_mle_equals_min_loss",
    "laplace_loglike",
    "laplace_mle_equals_lad",
    "loglike",
    "max_gaussian_llf",
    "mle_equals_ols",
    "sigma2_mle_vs_unbiased",
    "student_t_loglike",
]
