"""The ``quantreg`` namespace on polars frames: ``df.quantreg.rolling_resid(window=60)``.

It mirrors the pandas accessor (:mod:`quantreg.accessor`) on polars ``DataFrame`` and
``LazyFrame`` (collected): each method is the public function on the frame, which returns
polars frames (see :mod:`quantreg.frames`). polars stays optional: ``import quantreg`` does not
import it. The namespace is registered at once when polars is already imported, else as soon as
polars is (a one-shot import hook), and in any case on the first call of a quantreg function
with a polars frame.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from typing import Any

__all__ = ["QuantregNamespace", "register"]

_registered = False


class QuantregNamespace:
    """``df.quantreg.rolling_ols/rolling_resid/rolling_select/fama_macbeth/two_pass(...)`` on a
    polars frame with ``datetime`` and ``instrument`` columns (or ``time_col=``/``instrument_col=``).

    Examples
    --------
    >>> import polars as pl, quantreg
    >>> df = pl.DataFrame({
    ...     "datetime": pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 1, 4), eager=True),
    ...     "instrument": ["A"] * 4, "x": [1.0, 2, 3, 5], "y": [2.0, 4, 6, 10]})
    >>> df.quantreg.rolling_resid(window=3)["residual"].abs().max() < 1e-12
    True
    """

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def rolling_ols(self, *args: Any, **kwargs: Any) -> Any:
        """:func:`quantreg.rolling_ols` on this frame."""
        from quantreg.rolling import rolling_ols

        return rolling_ols(self._frame, *args, **kwargs)

    def rolling_resid(self, *args: Any, **kwargs: Any) -> Any:
        """:func:`quantreg.rolling_resid` on this frame (a polars frame of residuals)."""
        from quantreg.rolling import rolling_resid

        return rolling_resid(self._frame, *args, **kwargs)

    def fama_macbeth(self, *args: Any, **kwargs: Any) -> Any:
        """:func:`quantreg.fama_macbeth` on this frame."""
        from quantreg.asset_pricing import fama_macbeth

        return fama_macbeth(self._frame, *args, **kwargs)

    def two_pass(self, *args: Any, **kwargs: Any) -> Any:
        """:func:`quantreg.two_pass` on this frame."""
        from quantreg.asset_pricing import two_pass

        return two_pass(self._frame, *args, **kwargs)

    def rolling_select(self, estimator: Any, *args: Any, **kwargs: Any) -> Any:
        """:func:`quantreg.rolling_select` on this frame."""
        from quantreg.selection.rolling import rolling_select

        return rolling_select(self._frame, estimator, *args, **kwargs)


def register() -> None:
    """Register the namespace on polars ``DataFrame`` and ``LazyFrame`` (once)."""
    global _registered
    if _registered:
        return
    import polars as pl

    pl.api.register_dataframe_namespace("quantreg")(QuantregNamespace)
    pl.api.register_lazyframe_namespace("quantreg")(QuantregNamespace)
    _registered = True


class _Loader(importlib.abc.Loader):
    """Runs polars' own loader, then registers the namespace."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        register()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, …
        return getattr(self._loader, name)


class _WhenImported(importlib.abc.MetaPathFinder):
    """A one-shot hook: when polars is imported, register the namespace."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "polars":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Register now if polars is imported, else when it is (no import of polars here)."""
    if "polars" in sys.modules:
        register()
    elif importlib.util.find_spec("polars") is not None and not any(
        isinstance(finder, _WhenImported) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _WhenImported())
