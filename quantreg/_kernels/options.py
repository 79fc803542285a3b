"""The options of a rolling fit as the kernels take them: one named tuple, one signature.

Built in one place (:meth:`quantreg.options.FitOptions.kernel_options`) with every field
coerced to its declared type, so that each kernel is compiled for exactly one type of options.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Options(NamedTuple):
    """Window and finisher options of the kernels.

    ``window``: rows per window (row windows), or a bound on any window's rows (calendar and
    unbounded expanding windows); ``span``: calendar window length in time units (0: row
    windows); ``min_nobs``: valid rows a window needs; ``need_full``: windows must have
    ``window`` rows (row windows, not expanding); ``skip_missing``: a window holding a missing
    row is not estimated; ``add_const``: fit an intercept; ``lam``: exponential decay of the
    weights per row or time unit (1: unweighted); ``out_of_sample``: predict each row with the
    previous row's coefficients; ``full``: write coefficients, standard errors and statistics,
    not only residuals; ``cov_code``: the covariance (:mod:`quantreg._kernels.sandwich`);
    ``use_correction``: HAC small-sample factor; ``kernel_weights``: HAC lag weights;
    ``row_weights``: the weight of every walk row (WLS; multiplies the exponential weights), or
    empty for none — a row whose weight is not positive (or NaN) is a missing row;
    ``refine``: None (kernels compiled without the QR refinement: they report the windows that
    need it) or True (with it; :func:`quantreg._kernels.refine.refine_windows`).
    """

    window: int
    span: int
    min_nobs: int
    need_full: bool
    skip_missing: bool
    add_const: bool
    lam: float
    out_of_sample: bool
    full: bool
    cov_code: int
    use_correction: bool
    kernel_weights: np.ndarray
    row_weights: np.ndarray
    refine: bool | None = None
