"""quantreg: exact, fast rolling regressions over (datetime, instrument) panels.

Importing the package registers the ``DataFrame.quantreg`` accessor. Submodules:
:mod:`quantreg.selection` (penalised selectors on Gram statistics), :mod:`quantreg.theory`
(likelihood and least squares), :mod:`quantreg.datasets` (bundled and synthetic panels).
"""

from quantreg import accessor as _accessor  # noqa: F401  (registers df.quantreg)
from quantreg import selection
from quantreg.asset_pricing import FamaMacBethResult, TwoPassResult, fama_macbeth, two_pass
from quantreg.exceptions import RankDeficientWindowWarning, SkippedPeriodWarning
from quantreg.results import RollingOLSResult
from quantreg.rolling import rolling_ols, rolling_resid
from quantreg.selection import RollingSelectResult, rolling_select

__version__ = "0.1.0"

__all__ = [
    "FamaMacBethResult",
    "SkippedPeriodWarning",
    "TwoPassResult",
    "fama_macbeth",
    "two_pass",
    "RankDeficientWindowWarning",
    "RollingOLSResult",
    "RollingSelectResult",
    "rolling_ols",
    "rolling_resid",
    "rolling_select",
    "selection",
    "__version__",
]
