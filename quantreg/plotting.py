"""Figures of rolling fits (matplotlib, imported on use: ``pip install 'quantreg[plot]'``).

- :func:`coefficient_figure`: :meth:`quantreg.RollingOLSResult.plot` — one instrument's
  coefficient paths with confidence bands and status-coloured gaps;
- :func:`demo_figure`: the picture of ``quantreg demo`` — rolling betas with ±2·SE bands and
  residual volatility of a few portfolios, one shared legend, the codes explained below.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state): save them with
``fig.savefig``; Jupyter shows a returned figure as the cell's value.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["STATUS_COLORS", "coefficient_figure", "demo_figure"]

#: Shading of windows that were not estimated, by status.
STATUS_COLORS = {
    "warmup": "#bdbdbd",
    "missing": "#fdd0a2",
    "rank_deficient": "#fb6a4a",
    "ill_conditioned": "#9e9ac8",
}


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "plotting needs matplotlib, which is not installed: pip install 'quantreg[plot]' "
            "(or pip install matplotlib)."
        ) from err
    return Figure


def _runs(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs ``(start, stop, code)`` of equal codes (stop exclusive)."""
    if codes.size == 0:
        return []
    edges = np.flatnonzero(np.diff(codes)) + 1
    starts = np.r_[0, edges]
    stops = np.r_[edges, codes.size]
    return [(int(a), int(b), int(codes[a])) for a, b in zip(starts, stops)]


def coefficient_figure(result: Any, instrument: Hashable, params: Sequence[Hashable] | Hashable | None,
                       alpha: float) -> Any:
    """The figure of :meth:`quantreg.RollingOLSResult.plot` (see there)."""
    from matplotlib.patches import Patch

    from quantreg.results import STATUS_CATEGORIES

    Figure = _figure_class()
    names = list(result.param_names)
    if params is None:
        chosen = [n for n in names if n != "const"] or names
    else:
        chosen = [params] if isinstance(params, (str, bytes)) or not isinstance(params, Sequence) else list(params)
        unknown = [p for p in chosen if p not in names]
        if unknown or not chosen:
            raise KeyError(f"params={params!r}: {unknown or 'none given'} not among the coefficients {names}.")
    rows = result._instrument_rows(instrument)
    q = result._quantile(alpha, rows)[:, 0]
    times, _, time_name, _ = result._keys
    when = np.asarray(times[rows])
    codes = result._codes[rows]
    ok = codes == 0

    figure = Figure(figsize=(9, 2.4 * len(chosen) + 1.0), layout="constrained")
    axes = figure.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
    level = f"{1 - alpha:.0%}".replace(".0%", "%")
    handles = {}
    for axis, name in zip(axes, chosen):
        j = names.index(name)
        coef = np.where(ok, result.output.params[rows, j], np.nan)
        half = q * result.output.bse[rows, j]
        band = axis.fill_between(when, coef - half, coef + half, color="C0", alpha=0.25, linewidth=0)
        (line,) = axis.plot(when, coef, color="C0", linewidth=1.2)
        handles.setdefault("coefficient", line)
        handles.setdefault(f"{level} confidence band", band)
        for start, stop, code in _runs(codes):
            if code == 0:
                continue
            status = STATUS_CATEGORIES[code]
            end = when[stop] if stop < when.size else when[-1]
            axis.axvspan(when[start], end, color=STATUS_COLORS[status], alpha=0.6, linewidth=0)
            handles.setdefault(f"not estimated: {status}", Patch(color=STATUS_COLORS[status], alpha=0.6))
        axis.axhline(0.0, color="grey", linewidth=0.6)
        axis.set_ylabel(str(name))
        axis.set_title(f"{name}: coefficient of the window ending at each date", fontsize="medium")
    axes[-1].set_xlabel(f"window end ({time_name})")
    window = "expanding window" if result.window is None else f"window {result.window}"
    figure.suptitle(f"Rolling OLS of {result.layout.y_name!r} for {instrument!r} ({window}, {result.cov.name})")
    figure.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=min(len(handles), 4),
                  fontsize="small")
    return figure


def demo_figure(result: Any, portfolios: Sequence[str], window: int, codes: Mapping[str, str]) -> Any:
    """Rolling betas (one panel per factor, ±2·SE bands) and residual volatility of a few
    portfolios of a rolling four-factor fit on a panel of monthly returns; ``codes`` explains
    each portfolio's name in the caption."""
    from quantreg.panel import INSTRUMENT_LEVEL, TIME_LEVEL

    Figure = _figure_class()
    factors = [n for n in result.param_names if n != "const"]
    params, bse = result.params, result.bse
    resid_vol = (np.sqrt(result.ssr / result.df_resid * 12.0) * 100.0).to_numpy()  # annualised, %
    instruments = params.index.get_level_values(INSTRUMENT_LEVEL)
    dates = params.index.get_level_values(TIME_LEVEL)
    figure = Figure(figsize=(11, 10), layout="constrained")
    grid = figure.add_gridspec(3, 2)
    axes = [figure.add_subplot(grid[i // 2, i % 2]) for i in range(len(factors))]
    vol_axis = figure.add_subplot(grid[2, :])
    lines = []
    for color, name in enumerate(portfolios):
        rows = np.flatnonzero(instruments == name)
        when = dates[rows]
        for axis, factor in zip(axes, factors):
            beta = params[factor].to_numpy()[rows]
            se = bse[factor].to_numpy()[rows]
            axis.fill_between(when, beta - 2 * se, beta + 2 * se, color=f"C{color}", alpha=0.15, linewidth=0)
            axis.plot(when, beta, color=f"C{color}", linewidth=1.1)
        (line,) = vol_axis.plot(when, resid_vol[rows], color=f"C{color}", linewidth=1.1)
        lines.append(line)
    for axis, factor in zip(axes, factors):
        axis.set_title(f"Rolling {factor} beta (±2 SE)")
        axis.set_xlabel("window end (month)")
        axis.set_ylabel(f"beta on {factor}")
        axis.axhline(1.0 if factor == "Mkt-RF" else 0.0, color="grey", linewidth=0.6)
    vol_axis.set_title("Residual volatility of the rolling regressions")
    vol_axis.set_xlabel("window end (month)")
    vol_axis.set_ylabel("residual s.d., % per year")
    figure.legend(lines, list(portfolios), title="portfolio", loc="outside right upper", fontsize="small",
                  title_fontsize="small")
    figure.suptitle(
        f"quantreg demo: {window}-month rolling four-factor regressions, Kenneth French portfolios"
    )
    caption = "; ".join(f"{name}: {codes.get(name, name)}" for name in portfolios)
    figure.supxlabel(
        f"{caption}. Shaded bands: ±2 standard errors of each beta.", fontsize="small", wrap=True
    )
    return figure
