"""Sample panels: the bundled French portfolios and synthetic panels with known coefficients.

Both return a DataFrame indexed by a (``datetime``, ``instrument``) MultiIndex, sorted by date
then instrument, with the regressors first and the label last -- the layout that
:func:`quantreg.rolling_ols` reads by default (``y`` = last column, ``x`` = the others).
"""

from __future__ import annotations

from importlib import resources
from numbers import Integral, Real

import numpy as np
import pandas as pd

from quantreg.exceptions import QuantregError

__all__ = ["FRENCH_PORTFOLIO_GROUPS", "load_french_portfolios", "make_panel"]

_FRENCH_FILE = "french_portfolios.parquet"

#: Family of each of the 30 bundled French portfolios (``instrument`` -> family).
FRENCH_PORTFOLIO_GROUPS: dict[str, str] = {
    **{
        name: "industry"
        for name in ("NoDur", "Durbl", "Manuf", "Enrgy", "Chems", "BusEq",
                     "Telcm", "Utils", "Shops", "Hlth", "Money", "Other")
    },
    **{f"S{s}V{v}": "size/value" for s in (1, 3, 5) for v in (1, 3, 5)},
    **{f"S{s}M{m}": "size/momentum" for s in (1, 3, 5) for m in (1, 3, 5)},
}


def load_french_portfolios() -> pd.DataFrame:
    """Load monthly excess returns of 30 Kenneth French portfolios with four factors.

    The file is read from the installed package (``quantreg/data``), whatever the working
    directory. Source, units and terms are stated in ``data/README.md`` of the repository.

    Returns
    -------
    pandas.DataFrame
        24,570 rows (819 months from January 1949 to March 2017 × 30 portfolios) indexed by a
        sorted (``datetime``, ``instrument``) MultiIndex, with float64 columns ``Mkt-RF``,
        ``SMB``, ``HML``, ``Mom`` (the factors, equal for every portfolio on a date) and
        ``excess_return`` (the label, last). Returns are decimal per month (0.01 = 1 %).

    Notes
    -----
    ``excess_return`` is :math:`r_{i,t} - r^f_t`, the portfolio's return minus the one-month
    Treasury bill rate, so a four-factor regression reads

    .. math:: r_{i,t} - r^f_t = \\alpha_i + \\beta_{i,1} \\mathrm{MktRF}_t
              + \\beta_{i,2} \\mathrm{SMB}_t + \\beta_{i,3} \\mathrm{HML}_t
              + \\beta_{i,4} \\mathrm{Mom}_t + \\varepsilon_{i,t}.

    ``datetime`` is the first day of the month over which the return is earned.
    :data:`FRENCH_PORTFOLIO_GROUPS` gives each portfolio's family.

    Examples
    --------
    >>> from quantreg.datasets import load_french_portfolios
    >>> panel = load_french_portfolios()
    >>> panel.shape
    (24570, 5)
    >>> list(panel.columns)
    ['Mkt-RF', 'SMB', 'HML', 'Mom', 'excess_return']
    >>> panel.index.get_level_values("instrument").nunique()
    30
    """
    source = resources.files("quantreg.data").joinpath(_FRENCH_FILE)
    with resources.as_file(source) as path:
        return pd.read_parquet(path, engine="pyarrow")


def make_panel(
    n_assets: int = 50,
    n_dates: int = 500,
    k: int = 3,
    *,
    window: int | None = None,
    nan_frac: float = 0.01,
    unbalanced: bool = True,
    level: float = 0.0,
    x_scale: float = 1.0,
    noise: float = 1.0,
    shared_x: bool = False,
    start: str = "2000-01-03",
    freq: str = "B",
    seed: int = 0,
    return_params: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Make a synthetic (datetime, instrument) panel with known regression coefficients.

    Parameters
    ----------
    n_assets, n_dates, k : int
        Number of instruments, of dates on the calendar, and of regressors (all >= 1).
    window : int or None
        With ``unbalanced=True``, make the last ``max(1, n_assets // 10)`` instruments *shorter*
        than ``window`` rows (they start late; needs ``n_assets >= 2`` and ``window >= 2``) and
        every other instrument at least ``window`` rows long. ``None``: no such guarantee.
    nan_frac : float
        Probability in [0, 1) that a cell (any column, ``y`` included) is NaN, independently.
    unbalanced : bool
        Instruments start on different dates: the first row of each instrument is drawn
        uniformly among the first quarter of the calendar (the first instrument starts on the
        first date). All instruments end on the last date. ``False``: every instrument has a row
        on every date (``n_assets * n_dates`` rows).
    level, x_scale : float
        Regressors are ``level + x_scale * N(0, 1)``; ``level=1e4, x_scale=0.01`` gives
        price-level data that defeats uncentred add/subtract updates.
    noise : float
        Standard deviation of the Gaussian error of ``y``.
    shared_x : bool
        One regressor matrix per date shared by all instruments (a factor table), instead of
        independent regressors per row.
    start, freq : str
        First date and frequency of the calendar (``pandas.date_range``).
    seed : int
        Seed of :func:`numpy.random.default_rng`; equal seeds give equal panels.
    return_params : bool
        Also return the true coefficients.

    Returns
    -------
    panel : pandas.DataFrame
        Float64 columns ``x1`` .. ``xk`` and ``y`` (last), indexed by a sorted, unique
        (``datetime``, ``instrument``) MultiIndex; instruments are named ``A000``, ``A001``...
    params : pandas.DataFrame
        Only with ``return_params=True``: one row per instrument, columns ``const``, ``x1`` ..
        ``xk`` (the labels of :attr:`RollingOLSResult.params`).

    Notes
    -----
    Each row of instrument :math:`i` on date :math:`t` is drawn as

    .. math:: y_{i,t} = \\alpha_i + x_{i,t}^\\top \\beta_i + \\sigma \\varepsilon_{i,t},
              \\quad x_{i,t} = \\mu + s\\, z_{i,t},

    with :math:`\\alpha_i \\sim N(0, 0.1^2)`, :math:`\\beta_{i,j} \\sim N(1, 0.5^2)`,
    :math:`z, \\varepsilon \\sim N(0, 1)` independent, :math:`\\sigma` = ``noise``,
    :math:`\\mu` = ``level`` and :math:`s` = ``x_scale``. The coefficients are constant over
    time, so a full-sample OLS fit per instrument recovers them up to sampling error
    :math:`\\approx \\sigma / (s \\sqrt{n_i})`. Everything is generated with vectorised numpy
    (12.6 million rows take a few seconds).

    Examples
    --------
    >>> from quantreg.datasets import make_panel
    >>> panel, params = make_panel(4, 250, 2, seed=1, return_params=True)
    >>> list(panel.columns), list(params.columns)
    (['x1', 'x2', 'y'], ['const', 'x1', 'x2'])
    >>> panel.index.names == ["datetime", "instrument"]
    True
    >>> panel.index.get_level_values("instrument").nunique()
    4
    """
    _check_int("n_assets", n_assets, 1)
    _check_int("n_dates", n_dates, 1)
    _check_int("k", k, 1)
    if window is not None:
        _check_int("window", window, 1)
        if window > n_dates:
            raise QuantregError(
                f"The 'window' parameter of make_panel must be at most n_dates={n_dates} "
                f"(the calendar length). Got {window} instead; lower window or raise n_dates."
            )
    if not isinstance(nan_frac, Real) or not 0.0 <= float(nan_frac) < 1.0:
        raise QuantregError(
            f"The 'nan_frac' parameter of make_panel must be a float in the range [0, 1). "
            f"Got {nan_frac!r} instead."
        )
    rng = np.random.default_rng(seed)

    starts = _first_rows(rng, n_assets, n_dates, window, unbalanced)
    if starts is None:
        date_idx = np.repeat(np.arange(n_dates, dtype=np.int32), n_assets)
        asset_idx = np.tile(np.arange(n_assets, dtype=np.int32), n_dates)
    else:
        present = np.arange(n_dates, dtype=np.int32)[:, None] >= starts[None, :]
        date_idx, asset_idx = np.nonzero(present)  # row-major: sorted by date, then instrument
        del present
    n_rows = date_idx.size

    const = rng.normal(0.0, 0.1, n_assets)
    betas = rng.normal(1.0, 0.5, (n_assets, k))

    # One (k + 1, n) block: its transpose is the DataFrame's block, so pandas does not copy.
    block = np.empty((k + 1, n_rows), dtype=np.float64)
    if shared_x:
        factors = level + x_scale * rng.standard_normal((k, n_dates))
        for j in range(k):
            np.take(factors[j], date_idx, out=block[j])
    else:
        for j in range(k):
            rng.standard_normal(n_rows, out=block[j])
            block[j] *= x_scale
            block[j] += level
    y = block[k]
    rng.standard_normal(n_rows, out=y)
    y *= noise
    y += const[asset_idx]
    for j in range(k):
        y += block[j] * betas[asset_idx, j]

    if nan_frac > 0.0:
        for j in range(k + 1):
            block[j][rng.random(n_rows, dtype=np.float32) < nan_frac] = np.nan

    width = max(3, len(str(n_assets - 1)))
    names = pd.Index([f"A{i:0{width}d}" for i in range(n_assets)], dtype="str")
    dates = pd.date_range(start, periods=n_dates, freq=freq, name="datetime")
    index = pd.MultiIndex(
        levels=[dates, names],
        codes=[date_idx, asset_idx],
        names=["datetime", "instrument"],
        verify_integrity=False,
    )
    regressors = [f"x{j + 1}" for j in range(k)]
    panel = pd.DataFrame(block.T, index=index, columns=[*regressors, "y"], copy=False)
    if not return_params:
        return panel
    params = pd.DataFrame(
        np.column_stack([const, betas]),
        index=pd.Index(names, name="instrument"),
        columns=["const", *regressors],
    )
    return panel, params


def _first_rows(
    rng: np.random.Generator, n_assets: int, n_dates: int, window: int | None, unbalanced: bool
) -> np.ndarray | None:
    """Return each instrument's first date position, or None for a balanced panel."""
    if not unbalanced:
        return None
    starts = rng.integers(0, n_dates // 4 + 1, n_assets).astype(np.int32)
    starts[0] = 0
    if window is not None:
        starts = np.minimum(starts, n_dates - window)
        n_short = max(1, n_assets // 10) if n_assets >= 2 and window >= 2 else 0
        if n_short:
            starts[n_assets - n_short:] = n_dates - rng.integers(1, window, n_short)
    return starts


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise QuantregError(
            f"The {name!r} parameter of make_panel must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )
