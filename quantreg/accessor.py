"""The ``DataFrame.quantreg`` accessor: a thin, stateless front to :mod:`quantreg.rolling`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from quantreg import rolling
from quantreg.results import RollingOLSResult

if TYPE_CHECKING:  # imported on use: scipy.stats and scikit-learn are slow to import
    from quantreg.asset_pricing import FamaMacBethResult, TwoPassResult
    from quantreg.cross_section import CrossSectionalOLSResult
    from quantreg.selection.rolling import RollingSelectResult


@pd.api.extensions.register_dataframe_accessor("quantreg")
class QuantregAccessor:
    """``df.quantreg.rolling_ols/rolling_resid/rolling_select/fama_macbeth/two_pass/cross_sectional_ols/
    cross_sectional_resid(...)`` on a panel frame.

    The frame is a MultiIndex panel or a flat frame with time and instrument columns (results
    then come back flat, see :mod:`quantreg.frames`); polars frames have the same namespace
    (:mod:`quantreg.polars_namespace`). pandas builds the accessor on every attribute access,
    so ``__init__`` only keeps the frame.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.date_range("2024-01-01", periods=4), ["A"]], names=["datetime", "instrument"])
    >>> df = pd.DataFrame({"x": [1.0, 2, 3, 5], "y": [2.0, 4, 6, 10]}, index=idx)
    >>> df.quantreg.rolling_resid(window=3).abs().max() < 1e-12
    np.True_
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def rolling_ols(self, *args: Any, **kwargs: Any) -> RollingOLSResult:
        """:func:`quantreg.rolling_ols` on this frame."""
        return rolling.rolling_ols(self._frame, *args, **kwargs)

    def rolling_resid(self, *args: Any, **kwargs: Any) -> pd.Series:
        """:func:`quantreg.rolling_resid` on this frame."""
        return rolling.rolling_resid(self._frame, *args, **kwargs)

    def fama_macbeth(self, *args: Any, **kwargs: Any) -> FamaMacBethResult:
        """:func:`quantreg.fama_macbeth` on this frame."""
        from quantreg.asset_pricing import fama_macbeth

        return fama_macbeth(self._frame, *args, **kwargs)

    def two_pass(self, *args: Any, **kwargs: Any) -> TwoPassResult:
        """:func:`quantreg.two_pass` on this frame."""
        from quantreg.asset_pricing import two_pass

        return two_pass(self._frame, *args, **kwargs)

    def cross_sectional_ols(self, *args: Any, **kwargs: Any) -> CrossSectionalOLSResult:
        """:func:`quantreg.cross_sectional_ols` on this frame."""
        from quantreg.cross_section import cross_sectional_ols

        return cross_sectional_ols(self._frame, *args, **kwargs)

    def cross_sectional_resid(self, *args: Any, **kwargs: Any) -> pd.Series:
        """:func:`quantreg.cross_sectional_resid` on this frame."""
        from quantreg.cross_section import cross_sectional_resid

        return cross_sectional_resid(self._frame, *args, **kwargs)

    def rolling_select(self, estimator: Any, *args: Any, **kwargs: Any) -> RollingSelectResult:
        """:func:`quantreg.rolling_select` on this frame."""
        from quantreg.selection.rolling import rolling_select

        return rolling_select(self._frame, estimator, *args, **kwargs)


@pd.api.extensions.register_series_accessor("quantreg")
class QuantregSeriesAccessor:
    """``returns.quantreg.rolling_ols/rolling_resid(factors=F, ...)`` on a long Series of returns.

    Examples
    --------
    >>> import numpy as np, pandas as pd, quantreg
    >>> dates = pd.date_range("2024-01-01", periods=5)
    >>> F = pd.DataFrame({"mkt": [0.01, -0.02, 0.0, 0.03, 0.01]}, index=dates)
    >>> idx = pd.MultiIndex.from_product([dates, ["A"]], names=["datetime", "instrument"])
    >>> returns = pd.Series(2.0 * F["mkt"].to_numpy(), index=idx)
    >>> returns.quantreg.rolling_ols(factors=F, window=3).params["mkt"].round(10).tolist()
    [nan, nan, 2.0, 2.0, 2.0]
    """

    def __init__(self, series: pd.Series) -> None:
        self._series = series

    def rolling_ols(self, *args: Any, **kwargs: Any) -> RollingOLSResult:
        """:func:`quantreg.rolling_ols` on this Series (with ``factors=``)."""
        return rolling.rolling_ols(self._series, *args, **kwargs)

    def rolling_resid(self, *args: Any, **kwargs: Any) -> pd.Series:
        """:func:`quantreg.rolling_resid` on this Series (with ``factors=``)."""
        return rolling.rolling_resid(self._series, *args, **kwargs)
