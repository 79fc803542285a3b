"""The options of a rolling fit, validated once against the data: :class:`FitOptions`.

Every public entry point (``rolling_ols``, ``rolling_resid``, ``rolling_select``, the
``factors=`` path, Dask) validates its arguments here, with one wording for every parameter
error (what was received, what is expected), and hands the engine one options object.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quantreg._kernels.options import Options
from quantreg.calendar import MAX_ROWS, WindowSpec, halflife_decay, parse_window, span_units
from quantreg.exceptions import PanelError
from quantreg.inference import CovSpec, covariance_spec
from quantreg.panel import Layout

__all__ = ["FitOptions", "check_bool", "check_choice", "check_int", "fit_options", "window_spec"]

MISSING_OPTIONS = ("drop", "skip", "raise")
RESIDUAL_OPTIONS = ("in_sample", "out_of_sample")


def check_choice(name: str, value: object, options: Sequence[str]) -> str:
    """``value`` if it is one of ``options``; an error naming the parameter otherwise."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"The {name!r} parameter must be one of {list(options)}. Got {value!r} instead.")
    return value


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int in ``[minimum, MAX_ROWS]``; an error naming the parameter otherwise."""
    if (
        isinstance(value, (bool, np.bool_, np.timedelta64))
        or not isinstance(value, numbers.Integral)
        or not minimum <= value <= MAX_ROWS
    ):
        limit = f" (at most {MAX_ROWS})" if isinstance(value, numbers.Integral) and value > MAX_ROWS else ""
        raise ValueError(f"The {name!r} parameter must be an int in the range [{minimum}, inf){limit}. Got {value!r} instead.")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool; an error naming the parameter for anything else (``"no"``, 1, None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"The {name!r} parameter must be a bool (True or False). Got {value!r} instead.")
    return bool(value)


def window_spec(window: object) -> WindowSpec:
    """What ``window=`` asks for (rows, a calendar span, or None); errors for anything else."""
    return parse_window(window)


@dataclass(frozen=True)
class FitOptions:
    """The options of a rolling fit, validated against the data.

    ``rows``: rows per window (row windows), or a bound on any window's rows (calendar and
    unbounded expanding windows); ``span``: calendar window length in time units (0 for row
    windows); ``need_full``: windows must have ``rows`` rows (row windows, not expanding);
    ``lam``: exponential decay per row or time unit (1: unweighted); the others as the public
    arguments of :func:`quantreg.rolling_ols`.
    """

    spec: WindowSpec
    rows: int
    span: int
    min_nobs: int
    need_full: bool
    lam: float
    add_constant: bool
    expanding: bool
    missing: str
    residual: str
    halflife: object
    cov: CovSpec

    @property
    def window(self) -> object:
        """The ``window`` argument as given."""
        return self.spec.label

    def kernel_options(self, full: bool) -> Options:
        """The options as the kernels take them (every field of its declared type)."""
        return Options(
            window=int(self.rows), span=int(self.span), min_nobs=int(self.min_nobs),
            need_full=bool(self.need_full), skip_missing=self.missing == "skip",
            add_const=bool(self.add_constant), lam=float(self.lam),
            out_of_sample=self.residual == "out_of_sample", full=bool(full), cov_code=int(self.cov.code),
            use_correction=bool(self.cov.use_correction),
            kernel_weights=np.ascontiguousarray(self.cov.kernel_weights, dtype=np.float64),
            row_weights=np.empty(0),  # the layout's, if any: set by the engine
        )


def fit_options(
    layout: Layout,
    *,
    window: object,
    min_nobs: object = None,
    add_constant: object = True,
    expanding: object = False,
    missing: object = None,
    residual: object = "in_sample",
    halflife: object = None,
    cov_type: object = "nonrobust",
    cov_kwds: Mapping[str, object] | None = None,
    use_t: object = None,
) -> FitOptions:
    """Validate the options of a rolling fit and how they relate to the data.

    ``missing=None`` means ``"drop"``. A calendar window needs ``layout.times``.
    """
    add_constant = check_bool("add_constant", add_constant)
    expanding = check_bool("expanding", expanding)
    missing = check_choice("missing", "drop" if missing is None else missing, MISSING_OPTIONS)
    residual = check_choice("residual", residual, RESIDUAL_OPTIONS)
    spec = parse_window(window)
    k_params = layout.k + int(add_constant)
    if k_params == 0:
        raise PanelError("there are no regressors: pass x= columns or keep add_constant=True.")
    longest = layout.longest
    if spec.calendar:
        if expanding:
            raise ValueError(
                f"expanding=True does not combine with a calendar window ({window!r}): a calendar "
                "window is estimated as soon as it holds min_nobs rows. Drop expanding=True."
            )
        rows, span = longest, span_units(spec.span, layout.unit)
    elif spec.rows is None:
        if not expanding:
            raise ValueError("window is required unless expanding=True (an expanding window from each instrument's first row).")
        rows, span = longest, 0
    else:
        if spec.rows < k_params:
            raise ValueError(
                f"window ({spec.rows}) is smaller than the number of regressors ({k_params}"
                f"{', including the constant' if add_constant else ''}); use window >= {k_params} "
                "or fewer regressors."
            )
        # a window longer than every instrument behaves as one row longer than the longest
        rows, span = min(spec.rows, longest + 1), 0
    if min_nobs is None:
        min_nobs = k_params
    else:
        min_nobs = check_int("min_nobs", min_nobs, 1)
        if min_nobs < k_params or (spec.rows is not None and min_nobs > spec.rows):
            upper = f" and at most window ({spec.rows})" if spec.rows is not None else ""
            raise ValueError(
                f"min_nobs ({min_nobs}) must be at least the number of regressors ({k_params}){upper}."
            )
    lam = halflife_decay(halflife, spec, layout.unit)
    cov = covariance_spec(cov_type, cov_kwds, spec.rows, use_t, rows)
    return FitOptions(
        spec=spec, rows=rows, span=span, min_nobs=min_nobs, need_full=spec.rows is not None and not expanding,
        lam=lam, add_constant=add_constant, expanding=expanding, missing=missing, residual=residual,
        halflife=halflife, cov=cov,
    )
