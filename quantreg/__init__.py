"""quantreg: exact, fast rolling regressions over (datetime, instrument) panels.

Importing the package registers the ``DataFrame.quantreg`` accessor.
"""

from quantreg import accessor as _accessor  # noqa: F401  (registers df.quantreg)
from quantreg.exceptions import RankDeficientWindowWarning
from quantreg.results import RollingOLSResult
from quantreg.rolling import rolling_ols, rolling_resid

__version__ = "0.1.0"

__all__ = [
    "RankDeficientWindowWarning",
    "RollingOLSResult",
    "rolling_ols",
    "rolling_resid",
    "__version__",
]
