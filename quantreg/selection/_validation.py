"""Parameter checks with one wording for every selector (scikit-learn's, plus a fix hint)."""

from __future__ import annotations

import numbers

import numpy as np

from quantreg.exceptions import ParameterError

__all__ = ["check_real", "check_int", "check_bool"]


def _interval(low: float, high: float, low_closed: bool, high_closed: bool) -> str:
    left = "[" if low_closed else "("
    right = "]" if high_closed and np.isfinite(high) else ")"
    hi = "inf" if not np.isfinite(high) else f"{high:g}"
    return f"{left}{low:g}, {hi}{right}"


def check_real(
    value: object,
    name: str,
    owner: str,
    *,
    low: float = 0.0,
    high: float = np.inf,
    low_closed: bool = True,
    high_closed: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a float, or raise :class:`ParameterError` saying what is expected.

    Examples
    --------
    >>> check_real(0.5, "alpha", "Lasso")
    0.5
    >>> check_real(-1, "alpha", "Lasso")
    Traceback (most recent call last):
    ...
    quantreg.exceptions.ParameterError: The 'alpha' parameter of Lasso must be a float in the range [0, inf). Got -1 instead.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = bool(np.isfinite(v) or (v == high and high_closed))
        ok = ok and (v > low or (low_closed and v == low)) and (v < high or (high_closed and v == high))
    if not ok:
        interval = _interval(low, high, low_closed, high_closed)
        msg = f"The '{name}' parameter of {owner} must be a float in the range {interval}. Got {value!r} instead."
        raise ParameterError(msg + (f" {hint}" if hint else ""))
    return v


def check_int(value: object, name: str, owner: str, *, low: int = 1) -> int:
    """Return ``value`` as an int ``≥ low``, or raise :class:`ParameterError`."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value < low:
        raise ParameterError(
            f"The '{name}' parameter of {owner} must be an int in the range [{low}, inf). Got {value!r} instead."
        )
    return int(value)


def check_bool(value: object, name: str, owner: str) -> bool:
    """Return ``value`` as a bool, or raise :class:`ParameterError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"The '{name}' parameter of {owner} must be an instance of 'bool'. Got {value!r} instead.")
    return bool(value)
