"""Penalties of the selectors: each one is an integer ``kind`` plus a float64 ``params`` array.

A penalty object only validates its parameters and describes itself to the coordinate-descent
kernel (:mod:`quantreg._kernels.coordinate_descent`); the kernel does the arithmetic. Adding a
penalty means adding a kind there and a small class here.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from quantreg._kernels import coordinate_descent as cd
from quantreg.selection._validation import check_real

__all__ = [
    "Penalty",
    "L1Penalty",
    "L2Penalty",
    "SCADPenalty",
    "NonNegativeL1Penalty",
    "MCPPenalty",
    "HardThresholdPenalty",
]


class Penalty:
    """Base class: ``p_alpha(|t|)`` applied to every coefficient.

    Parameters
    ----------
    alpha : float
        Regularisation strength, ``alpha ≥ 0``.

    Notes
    -----
    Subclasses set ``kind`` (the kernel's integer code), ``convex`` and ``sparse`` (whether
    the penalty can set coefficients exactly to zero), and extend :attr:`params`.
    """

    kind: ClassVar[int]
    convex: ClassVar[bool] = True
    sparse: ClassVar[bool] = True
    #: smallest alpha of the default path, as a fraction of :meth:`alpha_max`
    default_eps: ClassVar[float] = 1e-3

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = check_real(alpha, "alpha", type(self).__name__)

    @property
    def params(self) -> np.ndarray:
        """The kernel's parameter array ``[alpha, ...]``."""
        return np.array([self.alpha], dtype=np.float64)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({args})"

    def value(self, w: ArrayLike) -> float:
        """``Σ_j p(|w_j|)``."""
        w = np.asarray(w, dtype=np.float64).ravel()
        prm = self.params
        return float(sum(cd.penalty_value(self.kind, prm, float(x)) for x in w))

    def derivative(self, t: ArrayLike) -> np.ndarray:
        """``p'(|t|)`` elementwise (right derivative at 0)."""
        t = np.asarray(t, dtype=np.float64)
        prm = self.params
        return np.array([cd.penalty_derivative(self.kind, prm, float(x)) for x in t.ravel()]).reshape(t.shape)

    def threshold(self, z: ArrayLike, d: float = 1.0) -> np.ndarray:
        """The univariate rule ``argmin_t (d/2)(t − z)² + p(|t|)`` (an orthonormal design when ``d = 1``).

        Examples
        --------
        >>> from quantreg.selection import L1Penalty
        >>> L1Penalty(1.0).threshold([-3.0, 0.5, 2.0])
        array([-2.,  0.,  1.])
        """
        z = np.asarray(z, dtype=np.float64)
        flat = np.ascontiguousarray(z.ravel())
        out = np.empty_like(flat)
        cd.threshold_many(self.kind, self.params, flat, float(d), out)
        return out.reshape(z.shape)

    def subdiff_distance(self, w: ArrayLike, grad: ArrayLike) -> np.ndarray:
        """Distance of ``−grad_j`` to the subdifferential of ``p(|·|)`` at ``w_j`` (0 at optimality)."""
        w = np.asarray(w, dtype=np.float64).ravel()
        grad = np.asarray(grad, dtype=np.float64).ravel()
        prm = self.params
        return np.array([cd.subdiff_distance(self.kind, prm, float(a), float(g)) for a, g in zip(w, grad)])

    def alpha_max(self, b: np.ndarray, G: np.ndarray) -> float:
        """Top of the default alpha grid: the smallest ``alpha`` at which ``w = 0`` is stationary
        (``max_j |b_j|``; ``max(max_j b_j, 0)`` for the non-negative L1), ``100·tr(G)/p`` for ridge."""
        G = np.ascontiguousarray(G, dtype=np.float64)
        return float(cd.alpha_max_gram(G, np.ascontiguousarray(b, dtype=np.float64), self.kind))


class L1Penalty(Penalty):
    """LASSO penalty ``p(t) = alpha·t`` (soft thresholding)."""

    kind = cd.L1


class NonNegativeL1Penalty(Penalty):
    """``p(t) = alpha·t`` with the constraint ``w ≥ 0`` (the non-negative garrote's factors)."""

    kind = cd.NN_L1


class L2Penalty(Penalty):
    """Ridge penalty ``p(t) = alpha·t²/2`` (proportional shrinkage, never exactly zero).

    Notes
    -----
    The default path runs from ``100·tr(G)/p`` down to ``1e-8`` times that (essentially
    least squares).
    """

    kind = cd.L2
    sparse = False
    default_eps = 1e-8


class SCADPenalty(Penalty):
    """Smoothly clipped absolute deviation penalty of Fan & Li (2001).

    Parameters
    ----------
    alpha : float
        ``alpha ≥ 0`` (Fan & Li's ``λ``).
    a : float
        ``a > 2``; Fan & Li recommend ``a = 3.7``.

    Notes
    -----
    .. math::

        p(t) = \\begin{cases} \\alpha t & t \\le \\alpha \\\\
        \\dfrac{2a\\alpha t - t^2 - \\alpha^2}{2(a-1)} & \\alpha < t \\le a\\alpha \\\\
        \\dfrac{(a+1)\\alpha^2}{2} & t > a\\alpha \\end{cases}

    On an orthonormal design the solution is the SCAD thresholding rule
    ``sgn(z)(|z| − α)₊`` for ``|z| ≤ 2α``, ``((a − 1)z − sgn(z)aα)/(a − 2)`` for
    ``2α < |z| ≤ aα`` and ``z`` beyond.

    Examples
    --------
    >>> SCADPenalty(1.0, a=3.7).threshold([1.5, 3.0, 5.0])
    array([0.5       , 2.58823529, 5.        ])
    """

    kind = cd.SCAD
    convex = False

    def __init__(self, alpha: float = 1.0, a: float = 3.7) -> None:
        super().__init__(alpha)
        self.a = check_real(
            a, "a", type(self).__name__, low=2.0, low_closed=False, hint="SCAD needs a > 2 (Fan & Li recommend a = 3.7)."
        )

    @property
    def params(self) -> np.ndarray:
        return np.array([self.alpha, self.a], dtype=np.float64)


class MCPPenalty(Penalty):
    """Minimax concave penalty (Zhang 2010): ``alpha·t − t²/(2γ)`` up to ``γ·alpha``, then flat.

    Parameters
    ----------
    alpha : float
        ``alpha ≥ 0``.
    gamma : float
        ``gamma > 0``; ``gamma → ∞`` gives the LASSO and ``gamma = 1`` hard thresholding.
    """

    kind = cd.MCP
    convex = False

    def __init__(self, alpha: float = 1.0, gamma: float = 3.0) -> None:
        super().__init__(alpha)
        self.gamma = check_real(gamma, "gamma", type(self).__name__, low=0.0, low_closed=False)

    @property
    def params(self) -> np.ndarray:
        return np.array([self.alpha, self.gamma], dtype=np.float64)


class HardThresholdPenalty(MCPPenalty):
    """Fan & Li's hard thresholding penalty, ``½[α² − (t − α)²·1(t < α)]`` (MCP with γ = 1).

    The factor ½ matches the ``(1/2n)`` scaling of the least-squares term, so that on an
    orthonormal design the solution is the hard thresholding rule ``z·1(|z| > α)``.

    Examples
    --------
    >>> HardThresholdPenalty(1.0).threshold([0.9, 1.1, -2.0])
    array([ 0. ,  1.1, -2. ])
    """

    def __init__(self, alpha: float = 1.0) -> None:
        Penalty.__init__(self, alpha)
        self.gamma = 1.0

    def __repr__(self) -> str:
        return f"HardThresholdPenalty(alpha={self.alpha!r})"
