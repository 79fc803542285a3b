"""Covariance choices for rolling fits, with statsmodels' names and defaults.

``cov_type`` and ``cov_kwds`` mean what they mean in statsmodels ``OLS(...).fit``:

- ``"nonrobust"``: ``s² (XᵀX)⁻¹``; inference with Student's t (``nobs − k`` dof).
- ``"HC0"``, ``"HC1"``: White's sandwich (HC1 × ``n/(n − k)``); no keywords; normal inference.
- ``"HAC"``: Newey–West with ``cov_kwds={"maxlags": L}`` (required), ``"kernel"``
  (``"bartlett"`` default, weights ``1 − l/(L + 1)``, or ``"uniform"``) and
  ``"use_correction"`` (default ``False``: no ``n/(n − k)`` factor); normal inference. In a
  rolling window the lags run over that window's rows only.

``use_t`` overrides the distribution used for p-values and confidence intervals.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from quantreg._kernels.sandwich import HAC, HC0, HC1, NONROBUST

__all__ = ["CovSpec", "covariance_spec", "COV_TYPES", "KERNELS"]

COV_TYPES = {"nonrobust": NONROBUST, "HC0": HC0, "HC1": HC1, "HAC": HAC}
KERNELS = ("bartlett", "uniform")


class CovSpec(NamedTuple):
    """A validated covariance choice, in the form the kernels take."""

    name: str
    code: int
    kernel_weights: np.ndarray
    use_correction: bool
    use_t: bool
    kwds: dict


def _kernel_weights(kernel: str, maxlags: int, max_rows: int | None) -> np.ndarray:
    """Weights of lags ``0 … maxlags``, truncated at the longest window (longer lags never occur)."""
    n_lags = maxlags if max_rows is None else min(maxlags, max(max_rows - 1, 0))
    lags = np.arange(n_lags + 1, dtype=np.float64)
    return 1.0 - lags / (maxlags + 1.0) if kernel == "bartlett" else np.ones(n_lags + 1)


def covariance_spec(
    cov_type: str,
    cov_kwds: Mapping[str, object] | None,
    window: int | None,
    use_t: bool | None,
    max_rows: int | None = None,
) -> CovSpec:
    """Validate ``cov_type``/``cov_kwds`` (statsmodels' vocabulary) against the window
    (``max_rows``: the most rows any window holds, which bounds the lags that can occur)."""
    names = {name.lower(): name for name in COV_TYPES}
    if not isinstance(cov_type, str) or cov_type.lower() not in names:
        raise ValueError(
            f"The 'cov_type' parameter must be one of {list(COV_TYPES)}. Got {cov_type!r} instead."
        )
    name = names[cov_type.lower()]
    kwds = dict(cov_kwds or {})
    if use_t is not None and not isinstance(use_t, bool):
        raise ValueError(f"The 'use_t' parameter must be a bool or None. Got {use_t!r} instead.")
    use_t = (name == "nonrobust") if use_t is None else use_t
    if name != "HAC":
        if kwds:
            raise ValueError(f"cov_type={name!r} takes no cov_kwds; got {sorted(kwds)}.")
        return CovSpec(name, COV_TYPES[name], np.ones(1), False, use_t, {})
    unknown = sorted(set(kwds) - {"maxlags", "kernel", "use_correction"})
    if unknown:
        raise ValueError(
            f"unknown cov_kwds {unknown} for cov_type='HAC'; expected 'maxlags', 'kernel', 'use_correction'."
        )
    if "maxlags" not in kwds:
        raise ValueError("cov_type='HAC' needs cov_kwds={'maxlags': L}, the highest lag of the Newey-West sum.")
    maxlags = kwds["maxlags"]
    if isinstance(maxlags, bool) or not isinstance(maxlags, numbers.Integral) or maxlags < 0:
        raise ValueError(f"cov_kwds['maxlags'] must be an int >= 0. Got {maxlags!r} instead.")
    if window is not None and maxlags >= window:
        raise ValueError(
            f"cov_kwds['maxlags'] ({maxlags}) must be smaller than the window ({window}): "
            "lags run over the window's rows only."
        )
    kernel = kwds.get("kernel", "bartlett")
    if kernel not in KERNELS:
        raise ValueError(f"cov_kwds['kernel'] must be one of {list(KERNELS)}. Got {kernel!r} instead.")
    use_correction = kwds.get("use_correction", False)
    if not isinstance(use_correction, bool):
        raise ValueError(f"cov_kwds['use_correction'] must be a bool. Got {use_correction!r} instead.")
    weights = _kernel_weights(kernel, int(maxlags), max_rows)
    clean = {"maxlags": int(maxlags), "kernel": kernel, "use_correction": use_correction}
    return CovSpec(name, HAC, weights, use_correction, use_t, clean)
