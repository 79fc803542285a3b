"""Variable selection on Gram statistics: LASSO, ridge, SCAD and the non-negative garrote.

Every estimator minimises ``(1/2n)‖y − c − Xβ‖² + Σ_j p_α(|β_j|)`` from the sufficient
statistics of the data (:class:`GramStats`), so that one solver serves a full sample, a merged
stream of chunks, a cross-validation fold or a rolling window. Tuning (GCV, BIC, K-fold CV)
runs along warm-started alpha paths; :func:`simulate_fan_li` reproduces the simulation study
of Fan & Li (2001).
"""

from quantreg.selection.estimators import SCAD, Garrote, Lasso, Ridge
from quantreg.selection.gram import GramProblem, GramStats, gram_stats
from quantreg.selection.penalties import (
    HardThresholdPenalty,
    L1Penalty,
    L2Penalty,
    MCPPenalty,
    NonNegativeL1Penalty,
    Penalty,
    SCADPenalty,
)
from quantreg.selection.rolling import RollingSelectResult, rolling_select
from quantreg.selection.simulation import (
    FAN_LI_A_VALUES,
    FAN_LI_BETA,
    FAN_LI_METHODS,
    FAN_LI_SETTINGS,
    fan_li_covariance,
    fan_li_data,
    fan_li_study,
    model_error,
    simulate_fan_li,
)
from quantreg.selection.tuning import (
    RegularizationPath,
    SubsetResult,
    TuningResult,
    best_subset,
    best_subset_gram,
    regularization_path,
    regularization_path_gram,
    tune,
    tune_gram,
)

__all__ = [
    "RollingSelectResult",
    "rolling_select",
    "Lasso",
    "Ridge",
    "SCAD",
    "Garrote",
    "GramStats",
    "GramProblem",
    "gram_stats",
    "Penalty",
    "L1Penalty",
    "L2Penalty",
    "SCADPenalty",
    "NonNegativeL1Penalty",
    "MCPPenalty",
    "HardThresholdPenalty",
    "RegularizationPath",
    "TuningResult",
    "SubsetResult",
    "regularization_path",
    "regularization_path_gram",
    "tune",
    "tune_gram",
    "best_subset",
    "best_subset_gram",
    "simulate_fan_li",
    "fan_li_study",
    "fan_li_data",
    "fan_li_covariance",
    "model_error",
    "FAN_LI_BETA",
    "FAN_LI_SETTINGS",
    "FAN_LI_A_VALUES",
    "FAN_LI_METHODS",
]
