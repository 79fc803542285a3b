r"""Maximum likelihood ≡ least squares (and its relatives), computed both ways on your data.

Each function computes one quantity by two routes and returns both, so that a notebook can show
the agreement and a test can bound it:

* :func:`mle_equals_ols`: numerical Gaussian maximum likelihood vs ``numpy.linalg.lstsq``;
* :func:`sigma2_mle_vs_unbiased`: the Gaussian MLE of :math:`\sigma^2` vs RSS/n and RSS/(n − k);
* :func:`max_gaussian_llf`: the likelihood reached by the optimiser vs
  :math:`-\frac n2(\log(2\pi\,\mathrm{RSS}/n) + 1)`;
* :func:`laplace_mle_equals_lad`: Laplace maximum likelihood vs least absolute deviations;
* :func:`gennorm_mle_equals_min_loss`: generalised-normal maximum likelihood with shape
  :math:`p` vs the minimiser of :math:`\sum_i|e_i|^p`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from quantreg.theory.fitting import fit_loss, fit_mle
from quantreg.theory.likelihoods import gaussian_loglike

__all__ = [
    "Equivalence",
    "VarianceEstimates",
    "mle_equals_ols",
    "sigma2_mle_vs_unbiased",
    "max_gaussian_llf",
    "laplace_mle_equals_lad",
    "gennorm_mle_equals_min_loss",
]


@dataclass(frozen=True)
class Equivalence:
    """One quantity computed by two routes.

    Attributes
    ----------
    claim : str
        What is claimed equal, e.g. ``"Gaussian MLE of beta = OLS"``.
    left, right : ndarray
        The two computations (1-D; a scalar quantity has one entry).
    """

    claim: str
    left: np.ndarray
    right: np.ndarray

    @property
    def max_abs_diff(self) -> float:
        r""":math:`\max_j |\mathrm{left}_j - \mathrm{right}_j|`."""
        return float(np.max(np.abs(self.left - self.right)))

    @property
    def max_rel_diff(self) -> float:
        r""":math:`\max_j |\mathrm{left}_j - \mathrm{right}_j| \,/\, \max_j |\mathrm{right}_j|`."""
        return self.max_abs_diff / max(float(np.max(np.abs(self.right))), np.finfo(float).tiny)


def _equivalence(claim: str, left: ArrayLike, right: ArrayLike) -> Equivalence:
    return Equivalence(claim, np.atleast_1d(np.asarray(left, dtype=float)),
                       np.atleast_1d(np.asarray(right, dtype=float)))


def mle_equals_ols(X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10) -> Equivalence:
    r"""The numerically maximised Gaussian likelihood gives the least-squares coefficients.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank, :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    tol : float
        Optimiser tolerance passed to :func:`~quantreg.theory.fitting.fit_mle`.

    Returns
    -------
    Equivalence
        ``left``: :math:`\hat\beta^{\mathrm{MLE}}` by ``fit_mle(..., method="numerical")``
        (trust-region Newton on :math:`(\beta, \log\sigma)`, started elsewhere);
        ``right``: :math:`\hat\beta^{\mathrm{OLS}}` by ``numpy.linalg.lstsq``.

    Notes
    -----
    :math:`\ell(\beta, \sigma) = -\frac n2\log(2\pi\sigma^2) - \frac{\lVert y - X\beta\rVert^2}
    {2\sigma^2}` depends on :math:`\beta` only through :math:`\lVert y - X\beta\rVert^2`, with a
    negative coefficient, for every :math:`\sigma`: its maximiser minimises the residual sum of
    squares.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = np.column_stack([np.ones(40), rng.normal(size=40)])
    >>> eq = mle_equals_ols(X, X @ [0.5, -1.0] + rng.normal(size=40))
    >>> eq.max_rel_diff < 1e-8
    True
    """
    mle = fit_mle(X, y, "gaussian", method="numerical", tol=tol)
    ols = np.linalg.lstsq(np.asarray(X, dtype=float), np.asarray(y, dtype=float), rcond=None)[0]
    return _equivalence("Gaussian MLE of beta = OLS", mle.params, ols)


@dataclass(frozen=True)
class VarianceEstimates:
    r"""The Gaussian maximum-likelihood variance next to the unbiased one.

    Attributes
    ----------
    sigma2_mle : float
        :math:`\hat\sigma^2` from numerical maximisation of the Gaussian likelihood.
    rss : float
        Residual sum of squares of least squares.
    nobs : int
        :math:`n`.
    k_params : int
        :math:`k`, the number of coefficients.
    """

    sigma2_mle: float
    rss: float
    nobs: int
    k_params: int

    @property
    def rss_over_n(self) -> float:
        r""":math:`\mathrm{RSS}/n`, the closed form of :math:`\hat\sigma^2_{\mathrm{MLE}}`."""
        return self.rss / self.nobs

    @property
    def unbiased(self) -> float:
        r""":math:`s^2 = \mathrm{RSS}/(n-k)`, unbiased for :math:`\sigma^2`."""
        return self.rss / (self.nobs - self.k_params)

    @property
    def bias_factor(self) -> float:
        r""":math:`E[\hat\sigma^2_{\mathrm{MLE}}]/\sigma^2 = (n-k)/n`."""
        return (self.nobs - self.k_params) / self.nobs


def sigma2_mle_vs_unbiased(X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10
                           ) -> VarianceEstimates:
    r"""The Gaussian MLE of :math:`\sigma^2` is RSS/n, biased down by :math:`(n-k)/n`.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank, :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    tol : float
        Optimiser tolerance passed to :func:`~quantreg.theory.fitting.fit_mle`.

    Returns
    -------
    VarianceEstimates
        The numerical :math:`\hat\sigma^2_{\mathrm{MLE}}` with RSS, :math:`n` and :math:`k`.

    Notes
    -----
    Setting :math:`\partial\ell/\partial\sigma^2 = -\frac n{2\sigma^2} + \frac{\mathrm{RSS}}
    {2\sigma^4} = 0` gives :math:`\hat\sigma^2 = \mathrm{RSS}/n`. Since
    :math:`E[\mathrm{RSS}] = (n-k)\sigma^2`, the unbiased estimate divides by :math:`n - k`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> X = np.column_stack([np.ones(20), rng.normal(size=(20, 3))])
    >>> est = sigma2_mle_vs_unbiased(X, rng.normal(size=20))
    >>> bool(np.isclose(est.sigma2_mle, est.rss_over_n, rtol=1e-8)), est.bias_factor
    (True, 0.8)
    """
    mle = fit_mle(X, y, "gaussian", method="numerical", tol=tol)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return VarianceEstimates(mle.scale**2, float(resid @ resid), mle.nobs, mle.k_params)


def max_gaussian_llf(X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10) -> Equivalence:
    r"""The maximised Gaussian log-likelihood is :math:`-\frac n2(\log(2\pi\mathrm{RSS}/n) + 1)`.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank, :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    tol : float
        Optimiser tolerance passed to :func:`~quantreg.theory.fitting.fit_mle`.

    Returns
    -------
    Equivalence
        ``left``: :func:`~quantreg.theory.likelihoods.gaussian_loglike` at the numerical
        maximiser; ``right``: the formula with RSS from ``numpy.linalg.lstsq``.

    Notes
    -----
    Substituting :math:`\hat\sigma^2 = \mathrm{RSS}/n` into :math:`\ell` gives
    :math:`-\frac n2\log(2\pi\,\mathrm{RSS}/n) - \frac n2`. It is the ``llf`` reported by
    statsmodels' ``OLS`` and, per window, by :func:`quantreg.rolling_ols`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> X = np.column_stack([np.ones(30), rng.normal(size=30)])
    >>> max_gaussian_llf(X, rng.normal(size=30)).max_rel_diff < 1e-12
    True
    """
    mle = fit_mle(X, y, "gaussian", method="numerical", tol=tol)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    n = y.shape[0]
    formula = -0.5 * n * (np.log(2.0 * np.pi * float(resid @ resid) / n) + 1.0)
    reached = gaussian_loglike(mle.params, mle.scale, X, y)
    return _equivalence("max Gaussian llf = -n/2 (log(2 pi RSS/n) + 1)", reached, formula)


def laplace_mle_equals_lad(X: ArrayLike, y: ArrayLike, *, tol: float = 1e-10) -> Equivalence:
    r"""Laplace maximum likelihood is least absolute deviations (median regression).

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank, :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    tol : float
        Optimiser tolerance passed to the fitters.

    Returns
    -------
    Equivalence
        ``left``: ``fit_mle(X, y, "laplace").params``; ``right``: ``fit_loss(X, y, 1).params``.

    Notes
    -----
    :math:`\ell(\beta, b) = -n\log(2b) - \frac1b\sum_i|e_i|` decreases in :math:`\sum_i|e_i|`
    for every :math:`b`, so :math:`\hat\beta^{\mathrm{MLE}} = \arg\min_\beta\sum_i|e_i|`, and
    :math:`\hat b = \frac1n\sum_i|\hat e_i|`. Both sides are solved by linear programming
    here, so their agreement is by construction; the independent evidence is statsmodels'
    ``QuantReg(q=0.5)`` (iteratively reweighted least squares), which the tests compare with.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(4)
    >>> X = np.column_stack([np.ones(25), rng.normal(size=25)])
    >>> laplace_mle_equals_lad(X, rng.laplace(size=25)).max_abs_diff < 1e-12
    True
    """
    mle = fit_mle(X, y, "laplace", tol=tol)
    lad = fit_loss(X, y, 1.0, tol=tol)
    return _equivalence("Laplace MLE of beta = LAD", mle.params, lad.params)


def gennorm_mle_equals_min_loss(X: ArrayLike, y: ArrayLike, p: float, *, tol: float = 1e-10
                                ) -> Equivalence:
    r"""Generalised-normal maximum likelihood with shape :math:`p` minimises :math:`\sum_i|e_i|^p`.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Design matrix of full column rank, :math:`n > k`.
    y : array_like, shape (n,)
        Response.
    p : float
        Shape :math:`p \ge 1` (2 is least squares, 3 the cubic loss).
    tol : float
        Optimiser tolerance passed to the fitters.

    Returns
    -------
    Equivalence
        ``left``: ``fit_mle(X, y, "gennorm", shape=p).params`` (Newton on the full likelihood over
        :math:`(\beta, \log\alpha)`); ``right``: ``fit_loss(X, y, p).params`` (Newton on the loss
        alone).

    Notes
    -----
    For fixed :math:`\beta` the likelihood peaks at :math:`\hat\alpha^p = \frac pn\sum_i|e_i|^p`;
    the profile :math:`n\log\frac p{2\Gamma(1/p)} - \frac np\log(\frac pn\sum_i|e_i|^p) -
    \frac np` decreases in :math:`\sum_i|e_i|^p`, so both routes have the same maximiser.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(5)
    >>> X = np.column_stack([np.ones(60), rng.normal(size=60)])
    >>> gennorm_mle_equals_min_loss(X, rng.uniform(-1, 1, size=60), p=3.0).max_rel_diff < 1e-8
    True
    """
    mle = fit_mle(X, y, "gennorm", shape=p, tol=tol)
    loss = fit_loss(X, y, p, tol=tol)
    return _equivalence(f"gennorm(p={p:g}) MLE of beta = argmin sum |e|^{p:g}", mle.params,
                        loss.params)
