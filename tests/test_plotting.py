"""RollingOLSResult.plot() and the demo figure (quantreg/plotting.py), drawn with the Agg backend.

The drawn data are checked against the result's own tables (coefficients, ``conf_int``) and
the figures are saved to files that are then read back.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.image import imread  # noqa: E402

import quantreg  # noqa: E402
from quantreg.datasets import FRENCH_PORTFOLIO_GROUPS, load_french_portfolios  # noqa: E402
from quantreg.plotting import STATUS_COLORS, demo_figure  # noqa: E402
from references import make_test_panel  # noqa: E402


@pytest.fixture(scope="module")
def result():
    panel = make_test_panel(3, 120, 2, seed=8, nan_frac=0.05)
    panel.loc[panel.index.get_level_values("instrument") == "A01", "x1"] = np.where(
        np.arange((panel.index.get_level_values("instrument") == "A01").sum()) % 50 < 30, 1.0, np.nan
    )  # a constant regressor for stretches of A01: rank-deficient windows
    with pytest.warns(quantreg.RankDeficientWindowWarning):
        return quantreg.rolling_ols(panel, window=20)


def test_plot_draws_coefficients_bands_and_status_gaps(result, tmp_path):
    figure = result.plot("A00", alpha=0.1)
    axes = figure.axes
    assert [axis.get_ylabel() for axis in axes] == ["x0", "x1"]  # the intercept left out by default
    assert axes[-1].get_xlabel() == "window end (datetime)"
    assert all(axis.get_title() for axis in axes) and "'A00'" in figure.get_suptitle()
    rows = result.params.xs("A00", level="instrument").sort_index()
    ok = (result.status.xs("A00", level="instrument").sort_index() == "ok").to_numpy()
    bounds = result.conf_int(0.1).xs("A00", level="instrument").sort_index()
    for axis, name in zip(axes, ["x0", "x1"]):
        line = axis.get_lines()[0]
        drawn = np.asarray(line.get_ydata(), dtype=float)
        np.testing.assert_array_equal(drawn[ok], rows[name].to_numpy()[ok])
        assert np.isnan(drawn[~ok]).all()  # gaps where the window was not estimated
        band = np.concatenate([path.vertices[:, 1] for path in axis.collections[0].get_paths()])  # outlines
        lower, upper = bounds[(name, "lower")].to_numpy()[ok], bounds[(name, "upper")].to_numpy()[ok]
        assert np.isclose(band.min(), lower.min(), rtol=1e-12) and np.isclose(band.max(), upper.max(), rtol=1e-12)
    legend = figure.legends[0]
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels[:2] == ["coefficient", "90% confidence band"] and "not estimated: warmup" in labels
    path = tmp_path / "coefficients.png"
    figure.savefig(path, dpi=80)
    assert path.stat().st_size > 10_000 and imread(path).shape[0] > 300


def test_status_gaps_are_coloured_by_status(result):
    figure = result.plot("A01", params=["const", "x1"])
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "not estimated: rank_deficient" in labels and "not estimated: warmup" in labels
    spans = [p for p in figure.axes[0].patches]
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in spans}
    assert {STATUS_COLORS["warmup"], STATUS_COLORS["rank_deficient"]} <= colours
    assert [axis.get_ylabel() for axis in figure.axes] == ["const", "x1"]


def test_plot_errors(result, monkeypatch):
    with pytest.raises(KeyError, match=r"params='beta': \['beta'\] not among the coefficients \['const', 'x0', 'x1'\]"):
        result.plot("A00", params="beta")
    with pytest.raises(KeyError, match=r"instrument 'nope' is not in the fit"):
        result.plot("nope")
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        result.plot("A00", alpha=0)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"plotting needs matplotlib.*pip install 'quantreg\[plot\]'"):
        result.plot("A00")


def test_plot_from_polars_input(tmp_path):
    pl = pytest.importorskip("polars")
    panel = make_test_panel(2, 60, 1, seed=3)
    res = quantreg.rolling_ols(pl.from_pandas(panel.reset_index()), window=15)
    figure = res.plot("A01")
    reference = quantreg.rolling_ols(panel, window=15).plot("A01")
    np.testing.assert_array_equal(figure.axes[0].get_lines()[0].get_ydata(),
                                  reference.axes[0].get_lines()[0].get_ydata())


def test_demo_figure_shares_one_legend_and_explains_the_codes(tmp_path):
    panel = load_french_portfolios()
    result = quantreg.rolling_ols(panel, window=60)
    codes = {"NoDur": "consumer non-durables", "S1V5": "small value"}
    figure = demo_figure(result, ["NoDur", "S1V5"], 60, codes)
    assert len(figure.legends) == 1 and all(axis.get_legend() is None for axis in figure.axes)
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["NoDur", "S1V5"]
    caption = figure._supxlabel.get_text()
    assert "NoDur: consumer non-durables" in caption and "S1V5: small value" in caption and "±2 standard errors" in caption
    beta_axis = figure.axes[0]
    assert beta_axis.get_title() == "Rolling Mkt-RF beta (±2 SE)"
    band = np.concatenate([path.vertices[:, 1] for path in beta_axis.collections[0].get_paths()])
    nodur = result.params.xs("NoDur", level="instrument")["Mkt-RF"]
    se = result.bse.xs("NoDur", level="instrument")["Mkt-RF"]
    assert np.isclose(np.nanmax(band), np.nanmax(nodur + 2 * se)) and np.isclose(np.nanmin(band), np.nanmin(nodur - 2 * se))
    path = tmp_path / "demo.png"
    figure.savefig(path, dpi=60)
    assert path.stat().st_size > 10_000
    assert set(FRENCH_PORTFOLIO_GROUPS) >= set(codes)
    assert isinstance(pd.Timestamp(nodur.index[-1]), pd.Timestamp)
