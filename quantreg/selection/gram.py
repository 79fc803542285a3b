"""Sufficient statistics of a least-squares problem: count, means, centred cross-products.

A linear model over a sample (or one rolling window) is fully described by
``(n, x̄, ȳ, Sxx, Sxy, Syy)`` with ``Sxx = Σ(x − x̄)(x − x̄)ᵀ``, ``Sxy = Σ(x − x̄)(y − ȳ)`` and
``Syy = Σ(y − ȳ)²``. The statistics are computed from rows in two passes (centred, so price-level
data keep their digits) and merged without subtraction (Chan, Golub & LeVeque), so that folds,
chunks or windows can be combined exactly.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from quantreg._kernels.walk import MEAN, WEIGHT
from quantreg.exceptions import QuantregError

__all__ = ["GramStats", "GramProblem", "gram_stats"]


class GramProblem(NamedTuple):
    """The kernel's view of a problem: ``min ½wᵀGw − bᵀw + Σp(|w_j|)`` and how to map back.

    ``G = XᵀX/n``, ``b = Xᵀy/n`` and ``syy = yᵀy/n`` (all centred when ``fit_intercept``);
    the coefficients are ``scale·w`` (``scale`` is the least-squares fit for the garrote and
    ones otherwise) and the intercept is ``ȳ − x̄ᵀcoef``.
    """

    G: np.ndarray
    b: np.ndarray
    syy: float
    n: float
    fit_intercept: bool
    x_mean: np.ndarray
    y_mean: float
    scale: np.ndarray

    def coef(self, w: np.ndarray) -> np.ndarray:
        """Coefficients ``scale·w`` (works row-wise on a path of shape ``(n_alphas, p)``)."""
        return w * self.scale

    def intercept(self, coef: np.ndarray) -> np.ndarray | float:
        """``ȳ − x̄ᵀcoef`` with an intercept, else 0 (row-wise on a path)."""
        if not self.fit_intercept:
            return 0.0 if coef.ndim == 1 else np.zeros(coef.shape[0])
        return self.y_mean - coef @ self.x_mean

    def scaled(self, scale: np.ndarray) -> "GramProblem":
        """The problem on the columns ``x_j·scale_j`` (``G → sGs``, ``b → s·b``)."""
        s = np.asarray(scale, dtype=np.float64)
        G = np.ascontiguousarray(self.G * np.outer(s, s))
        return self._replace(G=G, b=self.b * s, scale=self.scale * s)


class GramStats:
    """Count, means and centred cross-products of ``[X, y]``.

    The statistics are held as one *record* of the rolling engine
    (:mod:`quantreg._kernels.walk`): ``[n, x̄, ȳ, C]`` with ``C`` the packed upper triangle of
    the centred cross-products of ``z = [x, y]`` — the very statistics the engine keeps for
    every window, so that a window's record is a :class:`GramStats` (:meth:`from_record`).

    Parameters
    ----------
    n : float
        Number of rows.
    x_mean : ndarray of shape (p,)
        Column means of ``X``.
    y_mean : float
        Mean of ``y``.
    sxx : ndarray of shape (p, p)
        ``Σ(x − x̄)(x − x̄)ᵀ``.
    sxy : ndarray of shape (p,)
        ``Σ(x − x̄)(y − ȳ)``.
    syy : float
        ``Σ(y − ȳ)²``.

    Notes
    -----
    Two statistics merge as ``n = n₁ + n₂``, ``δ = m₂ − m₁``, ``m = m₁ + δ·n₂/n`` and
    ``S = S₁ + S₂ + δδᵀ·n₁n₂/n`` on the stacked ``[x, y]`` — no subtraction of large sums.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [4.0, 0.0]]); y = np.array([1.0, 2.0, 4.0])
    >>> s = GramStats.from_rows(X, y)
    >>> s.n, s.x_mean, float(s.syy)
    (3.0, array([2.33333333, 1.        ]), 4.666666666666667)
    >>> both = GramStats.from_rows(X[:1], y[:1]).merge(GramStats.from_rows(X[1:], y[1:]))
    >>> bool(np.allclose(both.sxx, s.sxx))
    True
    """

    __slots__ = ("record",)

    def __init__(self, n: float, x_mean: ArrayLike, y_mean: float, sxx: ArrayLike, sxy: ArrayLike, syy: float) -> None:
        x_mean = np.asarray(x_mean, dtype=np.float64).reshape(-1)
        p = x_mean.shape[0]
        sxx = np.asarray(sxx, dtype=np.float64)
        sxy = np.asarray(sxy, dtype=np.float64).reshape(-1)
        if sxx.shape != (p, p) or sxy.shape != (p,):
            raise QuantregError(
                f"GramStats got x_mean of length {p}, sxx of shape {sxx.shape} and sxy of shape {sxy.shape}; "
                f"expected ({p}, {p}) and ({p},). Build them with GramStats.from_rows(X, y)."
            )
        n = float(n)
        values = np.concatenate([[n, float(y_mean), float(syy)], x_mean, sxx.ravel(), sxy])
        if not np.all(np.isfinite(values)):
            raise QuantregError(
                "GramStats got non-finite values (NaN or inf); expected finite statistics. "
                "Drop or impute the rows with missing values before computing them."
            )
        if n < 1:
            raise QuantregError(f"GramStats needs n >= 1 rows; got n={n:g}.")
        C = np.empty((p + 1, p + 1))
        C[:p, :p] = 0.5 * (sxx + sxx.T)
        C[:p, p] = C[p, :p] = sxy
        C[p, p] = float(syy)
        upper = np.triu_indices(p + 1)
        self.record = np.concatenate([[n], x_mean, [float(y_mean)], C[upper]])

    @classmethod
    def from_record(cls, record: ArrayLike) -> "GramStats":
        """The statistics of one engine record ``[W, means of z = [x, y], packed C]`` (unweighted:
        ``W`` is the number of rows)."""
        record = np.asarray(record, dtype=np.float64).reshape(-1)
        q = int(round((np.sqrt(8 * record.shape[0] + 1) - 3) / 2))  # size = 1 + q + q(q+1)/2
        if q < 2 or 1 + q + q * (q + 1) // 2 != record.shape[0]:
            raise QuantregError(f"a record has 1 + q + q(q+1)/2 entries for q ≥ 2 variables; got {record.shape[0]}.")
        p = q - 1
        C = cls._unpack(record, q)
        return cls(record[WEIGHT], record[MEAN:MEAN + p], record[MEAN + p], C[:p, :p], C[:p, p], C[p, p])

    @staticmethod
    def _unpack(record: np.ndarray, q: int) -> np.ndarray:
        C = np.empty((q, q))
        upper = np.triu_indices(q)
        C[upper] = record[MEAN + q:]
        C.T[upper] = record[MEAN + q:]
        return C

    @property
    def n_features(self) -> int:
        """Number of regressors ``p``."""
        return int((np.sqrt(8 * self.record.shape[0] + 1) - 3) / 2 + 0.5) - 1

    @property
    def n(self) -> float:
        """Number of rows."""
        return float(self.record[WEIGHT])

    @property
    def x_mean(self) -> np.ndarray:
        return self.record[MEAN:MEAN + self.n_features].copy()

    @property
    def y_mean(self) -> float:
        return float(self.record[MEAN + self.n_features])

    @property
    def _cross(self) -> np.ndarray:
        return self._unpack(self.record, self.n_features + 1)

    @property
    def sxx(self) -> np.ndarray:
        p = self.n_features
        return np.ascontiguousarray(self._cross[:p, :p])

    @property
    def sxy(self) -> np.ndarray:
        p = self.n_features
        return self._cross[:p, p].copy()

    @property
    def syy(self) -> float:
        p = self.n_features
        return float(self._cross[p, p])

    @classmethod
    def from_rows(cls, X: ArrayLike, y: ArrayLike) -> "GramStats":
        """Statistics of the rows of ``X`` (n, p) and ``y`` (n,), in two centred passes."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise QuantregError(
                f"GramStats.from_rows got X of shape {X.shape} and y of shape {y.shape}; "
                "expected X of shape (n, p) and y of shape (n,) with the same n."
            )
        if X.shape[0] == 0:
            raise QuantregError("GramStats.from_rows got 0 rows; expected at least 1.")
        x_mean = X.mean(axis=0)
        y_mean = float(y.mean())
        Xc = X - x_mean
        yc = y - y_mean
        # second pass: the residual mean of the centred data (exact re-centring)
        dx = Xc.mean(axis=0)
        dy = float(yc.mean())
        Xc -= dx
        yc -= dy
        return cls(
            n=float(X.shape[0]),
            x_mean=x_mean + dx,
            y_mean=y_mean + dy,
            sxx=Xc.T @ Xc,
            sxy=Xc.T @ yc,
            syy=float(yc @ yc),
        )

    def merge(self, other: "GramStats") -> "GramStats":
        """Statistics of the union of both samples (Chan's pairwise update on the records)."""
        if other.n_features != self.n_features:
            raise QuantregError(
                f"Cannot merge GramStats with {self.n_features} and {other.n_features} features; "
                "expected the same columns in both."
            )
        q = self.n_features + 1
        a, b = self.record, other.record
        n = a[WEIGHT] + b[WEIGHT]
        delta = b[MEAN:MEAN + q] - a[MEAN:MEAN + q]
        record = np.empty_like(a)
        record[WEIGHT] = n
        record[MEAN:MEAN + q] = a[MEAN:MEAN + q] + delta * (b[WEIGHT] / n)
        upper = np.triu_indices(q)
        cross = np.outer(delta, delta)[upper] * (a[WEIGHT] * b[WEIGHT] / n)
        record[MEAN + q:] = a[MEAN + q:] + b[MEAN + q:] + cross
        merged = object.__new__(GramStats)
        merged.record = record
        return merged

    def __add__(self, other: "GramStats") -> "GramStats":
        return self.merge(other)

    @staticmethod
    def merge_all(parts: Iterable["GramStats"]) -> "GramStats":
        """Merge a non-empty sequence of statistics."""
        parts = list(parts)
        if not parts:
            raise QuantregError("merge_all got no GramStats; expected at least one.")
        out = parts[0]
        for part in parts[1:]:
            out = out.merge(part)
        return out

    def problem(self, fit_intercept: bool = True) -> GramProblem:
        """The per-row problem ``(G, b, syy)``, centred when ``fit_intercept`` else raw."""
        n = self.n
        if fit_intercept:
            G, b, syy = self.sxx / n, self.sxy / n, self.syy / n
        else:
            G = (self.sxx + n * np.outer(self.x_mean, self.x_mean)) / n
            b = (self.sxy + n * self.x_mean * self.y_mean) / n
            syy = (self.syy + n * self.y_mean**2) / n
        G = np.ascontiguousarray(0.5 * (G + G.T))
        return GramProblem(
            G=G,
            b=np.ascontiguousarray(b),
            syy=float(syy),
            n=n,
            fit_intercept=bool(fit_intercept),
            x_mean=self.x_mean,
            y_mean=self.y_mean,
            scale=np.ones(self.n_features),
        )

    def mse(self, coef: ArrayLike, intercept: ArrayLike = 0.0) -> np.ndarray | float:
        """Mean squared error ``(1/n)‖y − c − Xβ‖²`` of these rows, from the statistics alone.

        ``coef`` may be one coefficient vector (p,) or a path (k, p) with ``intercept`` (k,).

        Notes
        -----
        ``(ȳ − c − x̄ᵀβ)² + (Syy − 2Sxyᵀβ + βᵀSxxβ)/n``.
        """
        coef = np.asarray(coef, dtype=np.float64)
        intercept = np.asarray(intercept, dtype=np.float64)
        bias = self.y_mean - intercept - coef @ self.x_mean
        quad = np.einsum("...i,ij,...j->...", coef, self.sxx, coef)
        centred = (self.syy - 2.0 * (coef @ self.sxy) + quad) / self.n
        out = bias**2 + np.maximum(centred, 0.0)
        return float(out) if out.ndim == 0 else out


def gram_stats(X: ArrayLike, y: ArrayLike) -> GramStats:
    """Sufficient statistics of ``(X, y)``; shorthand for :meth:`GramStats.from_rows`.

    Examples
    --------
    >>> import numpy as np
    >>> s = gram_stats(np.arange(6.0).reshape(3, 2), np.array([0.0, 1.0, 2.0]))
    >>> s.sxy
    array([4., 4.])
    """
    return GramStats.from_rows(X, y)
