"""RollingOLSResult.summary() and the reprs of every result type (quantreg/summary.py).

Reference: statsmodels ``OLS(y, X).fit(cov_type=...)`` on the rows of the summarised window
(tests/references.py::statsmodels_window for the nonrobust case); tolerance 1e-9 relative
(the engine's merge of window statistics and statsmodels' QR differ in the last digits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose

import quantreg
from quantreg.selection import Lasso
from quantreg.summary import WindowSummary
from references import make_test_panel, statsmodels_window

RTOL = 1e-9
WINDOW = 25


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_test_panel(4, 90, 2, seed=21, nan_frac=0.04, level=3.0)


def window_rows(panel: pd.DataFrame, instrument, end) -> pd.DataFrame:
    """The complete rows of the row window of ``instrument`` ending at ``end``."""
    rows = panel.xs(instrument, level="instrument").sort_index()
    rows = rows.loc[:end].iloc[-WINDOW:]
    return rows.dropna()


def sm_fit(panel, instrument, end, **fit):
    rows = window_rows(panel, instrument, end)
    X = sm.add_constant(rows[["x0", "x1"]].to_numpy())
    if not fit:
        return statsmodels_window(X, rows["y"].to_numpy())
    return sm.OLS(rows["y"].to_numpy(), X).fit(**fit)


@pytest.mark.parametrize("cov", [{}, {"cov_type": "HC1"}])
def test_one_instrument_matches_statsmodels(panel, cov):
    res = quantreg.rolling_ols(panel, window=WINDOW, **cov)
    instrument = "A02"
    status = res.status.xs(instrument, level="instrument").sort_index()
    latest = status.index[status == "ok"][-1]
    summary = res.summary(instrument, alpha=0.1)
    assert isinstance(summary, WindowSummary)
    ref = sm_fit(panel, instrument, latest, **cov)
    table = summary.table
    stat = "t" if not cov else "z"
    assert list(table.columns) == ["coef", "std err", stat, f"P>|{stat}|", "[0.05", "0.95]"]
    assert_allclose(table["coef"], ref.params, rtol=RTOL)
    assert_allclose(table["std err"], ref.bse, rtol=RTOL)
    assert_allclose(table[stat], ref.tvalues, rtol=RTOL)
    assert_allclose(table[f"P>|{stat}|"], ref.pvalues, rtol=1e-7)
    assert_allclose(table[["[0.05", "0.95]"]], ref.conf_int(0.1), rtol=RTOL)
    text = str(summary)
    header = dict(pair for pair in summary.left + summary.right)
    assert header["No. Observations"] == ref.nobs
    assert float(header["R-squared"]) == pytest.approx(ref.rsquared, abs=5e-4)
    assert float(header["Adj. R-squared"]) == pytest.approx(ref.rsquared_adj, abs=5e-4)
    assert float(header["Log-Likelihood"]) == pytest.approx(ref.llf, rel=1e-3)
    assert float(header["AIC"]) == pytest.approx(ref.aic, rel=1e-3)
    assert header["Status"] == "ok" and header["Cov. Type"] == ("HC1" if cov else "nonrobust")
    assert f"window ending {latest.date()}" in text and "Dep. Variable:" in text
    assert f"{ref.params[1]:.4f}" in text and text.count("\n") < 30


def test_date_picks_that_window_whatever_its_status(panel):
    res = quantreg.rolling_ols(panel, window=WINDOW)
    rows = panel.xs("A01", level="instrument").sort_index()
    end = rows.index[40]
    ref = sm_fit(panel, "A01", end)
    assert_allclose(res.summary("A01", date=str(end.date())).table["coef"], ref.params, rtol=RTOL)
    first = rows.index[0]
    early = res.summary("A01", date=first)
    assert dict(early.right)["Status"] == "warmup" and early.table["coef"].isna().all()


def test_all_instruments_table(panel):
    res = quantreg.rolling_ols(panel, window=WINDOW)
    table = res.summary()
    assert table.index.names == ["instrument", "coefficient"]
    assert list(table.columns) == ["datetime", "coef", "std err", "t", "P>|t|", "[0.025", "0.975]", "nobs",
                                   "rsquared"]
    for instrument in panel.index.get_level_values("instrument").unique():
        part = table.xs(instrument, level="instrument")
        ref = sm_fit(panel, instrument, part["datetime"].iloc[0])
        assert_allclose(part["coef"], ref.params, rtol=RTOL)
        assert_allclose(part["std err"], ref.bse, rtol=RTOL)
        assert_allclose(part["P>|t|"], ref.pvalues, rtol=1e-7)
        assert (part["nobs"] == ref.nobs).all()
        assert_allclose(part["rsquared"], ref.rsquared, rtol=RTOL)
        # the latest *estimated* window: the last row of status ok
        status = res.status.xs(instrument, level="instrument").sort_index()
        assert part["datetime"].iloc[0] == status.index[status == "ok"][-1]


def test_summary_errors(panel):
    res = quantreg.rolling_ols(panel, window=WINDOW)
    with pytest.raises(KeyError, match=r"instrument 'ZZZ' is not in the fit \(4 instruments"):
        res.summary("ZZZ")
    with pytest.raises(KeyError, match=r"instrument 'A00' has no row at '1999-01-01'; its rows run from"):
        res.summary("A00", date="1999-01-01")
    with pytest.raises(ValueError, match=r"date= needs instrument="):
        res.summary(date="2020-02-01")
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        res.summary("A00", alpha=1.5)
    short = quantreg.rolling_ols(panel, window=500)
    with pytest.raises(ValueError, match=r"instrument 'A00' has no estimated window \(statuses: \['warmup'\]\)"):
        short.summary("A00")


# ----------------------------------------------------------------------------- reprs
def test_reprs_are_short_and_informative(panel):
    res = quantreg.rolling_ols(panel, window=WINDOW, cov_type="HC0")
    text = repr(res)
    assert text.startswith("<RollingOLSResult 'y' ~ const + x0 + x1 (k=3)")
    assert "window=25" in text and "cov_type='HC0'" in text and "instruments" in text
    counts = res.status.value_counts()
    assert f"ok={counts['ok']:,} ({100 * counts['ok'] / len(panel):.1f}%)" in text
    sel = quantreg.rolling_select(panel, Lasso(alpha=0.05), window=WINDOW)
    fm = quantreg.fama_macbeth(make_test_panel(8, 30, 2, seed=2, unbalanced=False))
    factors = make_test_panel(6, 40, 1, seed=5, unbalanced=False)
    factors["x0"] = factors["x0"].groupby(level="datetime").transform("first")
    tp = quantreg.two_pass(factors, factors=["x0"], window=12)
    for result, start in ((res, "<RollingOLSResult"), (sel, "<RollingSelectResult Lasso(alpha=0.05)"),
                          (fm, "<FamaMacBethResult 'y'"), (tp, "<TwoPassResult 'y' on factors ['x0']")):
        text = repr(result)
        assert text.startswith(start) and text.endswith(">")
        assert 2 <= text.count("\n") + 1 <= 4 and max(map(len, text.splitlines())) < 130
        assert "array(" not in text and "Layout(" not in text
    assert "ok=" in repr(sel) and "selected per estimated window" in repr(sel)
    assert "T=30" in repr(fm) and "premia: const" in repr(tp)
