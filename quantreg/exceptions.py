"""Named errors and warnings of quantreg, in one place.

Errors subclass the built-in exception a pandas or scikit-learn user would expect (``ValueError``
for bad values; ``KeyError`` as well for missing columns; ``TypeError`` as well for non-numeric
data) so that existing ``except`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "QuantregError",
    "PanelError",
    "MissingColumnError",
    "NonNumericError",
    "MissingValueError",
    "RankDeficientWindowWarning",
    "QuantregWarning",
]


class QuantregError(ValueError):
    """Base class of quantreg's input errors (a ``ValueError``)."""


class PanelError(QuantregError):
    """The panel (its index, its shape or its values) cannot be used as given."""


class MissingColumnError(PanelError, KeyError):
    """A requested column is not in the frame."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NonNumericError(PanelError, TypeError):
    """A column that must be numeric is not."""


class MissingValueError(PanelError):
    """``missing="raise"`` and the data hold NaN."""


class QuantregWarning(UserWarning):
    """Base class of quantreg's warnings."""


class RankDeficientWindowWarning(QuantregWarning):
    """Some windows were rank deficient (constant or collinear regressors); their outputs are NaN."""


class TheoryInputError(QuantregError):
    """Input to :mod:`quantreg.theory` (data, parameters, scale, family or shape) cannot be used."""


class TheoryConvergenceWarning(QuantregWarning):
    """An optimiser in :mod:`quantreg.theory` stopped before reaching its tolerance."""


__all__ += ["TheoryInputError", "TheoryConvergenceWarning"]


class FileFormatError(QuantregError):
    """A file given to the ``quantreg`` command has an unsupported type or is not a panel."""


__all__ += ["FileFormatError"]


# --- selection (issue 3) -------------------------------------------------------------------
class ParameterError(QuantregError):
    """A parameter is outside its valid range (wording follows scikit-learn's)."""


class SelectionConvergenceWarning(QuantregWarning):
    """A penalised fit stopped at ``max_iter`` above its tolerance.

    The selectors emit it through a subclass that is also a
    :class:`sklearn.exceptions.ConvergenceWarning`, so existing scikit-learn filters keep working
    (this module does not import scikit-learn, to keep ``import quantreg`` light).
    """


__all__ += ["ParameterError", "SelectionConvergenceWarning"]


# --- asset pricing (issue 8) ---------------------------------------------------------------
class SkippedPeriodWarning(QuantregWarning):
    """Some cross-sections of a Fama-MacBeth fit could not be estimated (fewer complete assets
    than coefficients, or collinear regressors in the period); they are left out of the
    averages and their rows of ``params_by_period`` are NaN."""


__all__ += ["SkippedPeriodWarning"]


# --- out-of-core and Dask (issue 6) --------------------------------------------------------
class DatasetError(QuantregError, OSError):
    """A directory is not a readable quantreg panel dataset (quantreg.io)."""


class PartitionLayoutError(PanelError):
    """A Dask DataFrame has an instrument split across partitions (quantreg.distributed)."""


__all__ += ["DatasetError", "PartitionLayoutError"]


# --- data integrity at the edges (issue 14) ------------------------------------------------
class IncompleteDatasetError(DatasetError):
    """A dataset written by quantreg has no completion marker: the writing run was interrupted
    (or is still running). Finish it by running the same command again, or read what is there
    with ``read_panel(..., allow_partial=True)``."""


class DatasetLayoutError(DatasetError, PartitionLayoutError):
    """A dataset's partitions do not hold whole instruments (e.g. ``month=M/instrument=X/`` or
    ``date=D/``), so it cannot be processed one partition at a time."""


class UnsafeOutputError(QuantregError, OSError):
    """Writing would destroy data quantreg did not write: an output that is (or contains, or lies
    inside) the input, a folder that is not a quantreg dataset, a file quantreg did not write,
    or a path through a symbolic link."""


class DateFormatError(PanelError):
    """Dates are not ISO 8601 and no format was given, or do not match the given format."""


class PartialDatasetWarning(QuantregWarning):
    """``read_panel(..., allow_partial=True)`` read a dataset whose writing was not finished; the
    message gives the partitions read out of the total and the number of rows."""


__all__ += ["IncompleteDatasetError", "DatasetLayoutError", "UnsafeOutputError",
            "DateFormatError", "PartialDatasetWarning"]
