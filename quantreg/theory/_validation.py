"""Input checks of :mod:`quantreg.theory`, done once at the public boundary.

Every check raises :class:`~quantreg.exceptions.TheoryInputError` (a ``ValueError``) whose
message says what was received, what is expected and how to fix it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from quantreg.exceptions import TheoryInputError

FAMILIES = ("gaussian", "laplace", "student_t", "gennorm")
"""Names accepted by ``family=``; ``student_t`` and ``gennorm`` also need ``shape``."""


def as_float_array(value: ArrayLike, name: str, ndim: int) -> np.ndarray:
    """Return ``value`` as a finite float64 array with ``ndim`` dimensions."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TheoryInputError(
            f"{name} must be numeric; converting it to float64 failed ({exc}). "
            f"Pass a numeric array, or encode categorical columns first."
        ) from None
    if array.ndim != ndim:
        hint = " Use X.reshape(-1, 1) for a single regressor." if name == "X" else ""
        raise TheoryInputError(
            f"{name} must be {ndim}-D; got an array of shape {array.shape}.{hint}"
        )
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise TheoryInputError(
            f"{name} contains {bad} non-finite value(s) (NaN or inf); the likelihood is "
            f"undefined there. Drop or impute those rows before calling."
        )
    return np.ascontiguousarray(array)


def check_data(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix ``X`` (n, k) and a response ``y`` (n,)."""
    X = as_float_array(X, "X", 2)
    y = as_float_array(y, "y", 1)
    if X.shape[0] != y.shape[0]:
        raise TheoryInputError(
            f"X and y must have the same number of rows; got X with {X.shape[0]} rows and y "
            f"with {y.shape[0]}. Align them (same observations, same order) before calling."
        )
    if X.shape[1] == 0:
        raise TheoryInputError(
            "X has no columns; a linear model needs at least one regressor (e.g. a constant)."
        )
    return X, y


def check_fittable(X: np.ndarray) -> None:
    """Check that ``X`` has full column rank and more rows than columns."""
    n, k = X.shape
    if n <= k:
        raise TheoryInputError(
            f"X has {n} rows and {k} columns; estimating {k} coefficients and a scale needs "
            f"more observations than coefficients. Add rows or drop regressors."
        )
    rank = int(np.linalg.matrix_rank(X))
    if rank < k:
        raise TheoryInputError(
            f"X is rank deficient: rank {rank} < {k} columns, so the coefficients are not "
            f"identified. Drop collinear columns (a duplicated column, a constant added twice, "
            f"dummies that sum to the constant)."
        )


def check_params(params: ArrayLike, k: int) -> np.ndarray:
    """Validate a coefficient vector of length ``k``."""
    params = as_float_array(params, "params", 1)
    if params.shape[0] != k:
        raise TheoryInputError(
            f"params must have one entry per column of X ({k}); got {params.shape[0]}."
        )
    return params


def check_positive(value: float, name: str, hint: str) -> float:
    """Validate a finite, strictly positive scalar; ``hint`` says how to fix a bad one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TheoryInputError(f"{name} must be a positive number; got {value!r}. {hint}") from None
    if not np.isfinite(number) or number <= 0.0:
        raise TheoryInputError(f"{name} must be finite and > 0; got {value!r}. {hint}")
    return number


def check_family(family: str, shape: float | None) -> float | None:
    """Validate ``family`` and return its shape (None for the families without one)."""
    if family not in FAMILIES:
        raise TheoryInputError(
            f"Unknown family {family!r}; expected one of {', '.join(map(repr, FAMILIES))}."
        )
    if family in ("gaussian", "laplace"):
        if shape is not None:
            raise TheoryInputError(
                f"family={family!r} has no shape parameter; got shape={shape!r}. Leave shape=None "
                f"(or use family='gennorm' with shape=2 or 1)."
            )
        return None
    what = "degrees of freedom ν" if family == "student_t" else "exponent p"
    if shape is None:
        raise TheoryInputError(
            f"family={family!r} needs shape= (its {what}); got shape=None. "
            f"For example shape=3.0."
        )
    return check_positive(shape, f"shape (the {what} of family={family!r})",
                          "For example shape=3.0.")
