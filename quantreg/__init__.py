"""quantreg: exact, fast rolling regressions over (datetime, instrument) panels.

Importing the package registers the ``DataFrame.quantreg`` accessor (and the ``quantreg``
namespace on polars frames, once polars is imported). Submodules:
:mod:`quantreg.selection` (penalised selectors on Gram statistics), :mod:`quantreg.asset_pricing`
(Fama-MacBeth, two-pass), :mod:`quantreg.theory` (likelihood and least squares),
:mod:`quantreg.datasets` (bundled and synthetic panels). The names that need scikit-learn or
``scipy.stats`` are imported on first use, so that ``import quantreg`` stays fast.
"""

from importlib import import_module
from typing import Any

from quantreg import accessor as _accessor  # noqa: F401  (registers df.quantreg)
from quantreg import polars_namespace as _polars_namespace
from quantreg.exceptions import RankDeficientWindowWarning, SkippedPeriodWarning
from quantreg.results import RollingOLSResult
from quantreg.rolling import rolling_ols, rolling_resid

__version__ = "0.1.0"

_polars_namespace.install()  # df.quantreg on polars frames, without importing polars

_LAZY = {
    "selection": ("quantreg.selection", None),
    "rolling_select": ("quantreg.selection.rolling", "rolling_select"),
    "RollingSelectResult": ("quantreg.selection.rolling", "RollingSelectResult"),
    "fama_macbeth": ("quantreg.asset_pricing", "fama_macbeth"),
    "two_pass": ("quantreg.asset_pricing", "two_pass"),
    "FamaMacBethResult": ("quantreg.asset_pricing", "FamaMacBethResult"),
    "TwoPassResult": ("quantreg.asset_pricing", "TwoPassResult"),
    "cross_sectional_ols": ("quantreg.cross_section", "cross_sectional_ols"),
    "cross_sectional_resid": ("quantreg.cross_section", "cross_sectional_resid"),
    "CrossSectionalOLSResult": ("quantreg.cross_section", "CrossSectionalOLSResult"),
}

__all__ = [
    "CrossSectionalOLSResult",
    "FamaMacBethResult",
    "RankDeficientWindowWarning",
    "RollingOLSResult",
    "RollingSelectResult",
    "SkippedPeriodWarning",
    "TwoPassResult",
    "cross_sectional_ols",
    "cross_sectional_resid",
    "fama_macbeth",
    "rolling_ols",
    "rolling_resid",
    "rolling_select",
    "selection",
    "two_pass",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'quantreg' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
