"""QR-grade accuracy at Gram speed (issue 15): NIST StRD certified values, price-level slopes
against exact rational arithmetic, invariance to column scale, truthful status.

References: NIST's certified values (500-digit arithmetic), ``fractions.Fraction`` on the stored
doubles, ``numpy.linalg.lstsq`` and statsmodels on each window's rows.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import quantreg
from quantreg.exceptions import RankDeficientWindowWarning
from references import NIST_DIGITS, digits, load_nist, one_instrument

def with_history(X: np.ndarray, y: np.ndarray, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` earlier rows resembling the dataset, then the dataset: a long rolling series
    whose last window is exactly the dataset."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(y), rows)
    earlier_x = X[pick] * (1 + 0.01 * rng.standard_normal((rows, X.shape[1])))
    earlier_y = y.mean() + y.std() * rng.standard_normal(rows)
    return np.vstack([earlier_x, X]), np.concatenate([earlier_y, y])


@pytest.mark.parametrize("name", list(NIST_DIGITS))
@pytest.mark.parametrize("history", [0, 500], ids=["one-window", "last-window-of-rolling"])
def test_nist_certified_coefficients(name, history):
    X, y, certified, _, intercept = load_nist(name)
    n = len(y)
    if history:
        X, y = with_history(X, y, history)
    res = quantreg.rolling_ols(one_instrument(X, y), y="y", window=n, add_constant=intercept)
    assert res.status.iloc[-1] == "ok"
    reached = digits(res.params.iloc[-1].to_numpy(), certified)
    assert reached >= NIST_DIGITS[name], f"{name}: {reached:.1f} digits"


@pytest.mark.parametrize("name", ["Filip", "Longley", "Wampler3", "Wampler4", "Wampler5", "Norris", "Pontius"])
def test_nist_certified_standard_errors(name):
    """Standard errors to at least 7 digits (Filip, the hardest, reaches 7.7; statsmodels' QR
    fit gives NaN there, its covariance going through a pseudo-inverse)."""
    X, y, _, sd, intercept = load_nist(name)
    res = quantreg.rolling_ols(one_instrument(X, y), y="y", window=len(y), add_constant=intercept)
    reached = digits(res.bse.iloc[-1].to_numpy(), sd)
    assert reached >= 7.0, f"{name}: {reached:.1f} digits"


def test_filip_is_solved_not_reported_rank_deficient():
    """Filip (a degree-10 polynomial, condition number ~4e9 once centred and scaled) is what a QR
    fit solves: status ok, rank 11, a finite condition number of that size."""
    X, y, certified, _, _ = load_nist("Filip")
    res = quantreg.rolling_ols(one_instrument(X, y), y="y", window=len(y))
    assert res.status.iloc[-1] == "ok"
    assert res.rank.iloc[-1] == 11
    Xc = X - X.mean(axis=0)
    expected = np.linalg.cond(Xc / np.linalg.norm(Xc, axis=0))
    assert res.condition.iloc[-1] == pytest.approx(expected, rel=1e-3)


# --- price level ----------------------------------------------------------------------------------
def exact_slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of the stored doubles in rational arithmetic."""
    xs, ys = [Fraction(v) for v in x], [Fraction(v) for v in y]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return float(sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs))


def two_pass_slope(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float(dx @ dy / (dx @ dx))


@pytest.mark.parametrize("level", [1e2, 1e4, 1e6, 1e8])
@pytest.mark.parametrize("spread", [1.0, 1e-3])
def test_price_level_slopes_match_a_two_pass_fit(level, spread):
    """x = L + s·ε: the slope's error is within 100× of a two-pass fit on the same numbers."""
    rng = np.random.default_rng(int(np.log10(level) * 10 + np.log10(spread)))
    n, window = 300, 60
    x = level + spread * rng.standard_normal(n)
    y = 0.5 + 2.0 * x + spread * rng.standard_normal(n)
    res = quantreg.rolling_ols(one_instrument(x[:, None], y), y="y", window=window)
    slopes = res.params["x0"].to_numpy()
    eps = np.finfo(float).eps
    for t in range(window - 1, n, 37):
        rows = slice(t - window + 1, t + 1)
        exact = exact_slope(x[rows], y[rows])
        ours = abs(slopes[t] - exact) / abs(exact)
        two_pass = abs(two_pass_slope(x[rows], y[rows]) - exact) / abs(exact)
        assert ours <= 100 * max(two_pass, eps), (t, ours, two_pass)


# --- column scale ---------------------------------------------------------------------------------
def scale_panel(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, assets = 120, 3
    index = pd.MultiIndex.from_product(
        [pd.date_range("2000-01-01", periods=n), [f"A{a}" for a in range(assets)]], names=["datetime", "instrument"]
    )
    X = rng.standard_normal((n * assets, 3))
    X[:, 2] = X[:, 1] + 0.05 * X[:, 2]  # collinear enough to be refined by QR in every window
    y = 1.0 + X @ [1.0, -2.0, 0.5] + rng.standard_normal(n * assets)
    return pd.DataFrame(np.column_stack([X, y]), index=index, columns=["x0", "x1", "x2", "y"])


@pytest.mark.parametrize("factor", [2.0**500, 2.0**-500, 1e150, 1e-150, 1e77])
@pytest.mark.parametrize("columns", [["x0", "x1"], ["x0", "x1", "x2", "y"]], ids=["two-regressors", "all"])
def test_results_are_invariant_to_column_scale(factor, columns):
    df = scale_panel()
    base = quantreg.rolling_ols(df, y="y", window=20, cov_type="HC1")
    scaled = df.copy()
    scaled[columns] = scaled[columns] * factor
    res = quantreg.rolling_ols(scaled, y="y", window=20, cov_type="HC1")
    y_factor = factor if "y" in columns else 1.0
    unit = pd.Series({c: y_factor / (factor if c in columns else 1.0) for c in base.params.columns})
    exact = np.log2(factor) == round(np.log2(factor))
    rtol = 0.0 if exact else 1e-12  # 1e±150 round every value: the windows' own sensitivity
    pd.testing.assert_series_equal(res.status, base.status)
    ok = base.status == "ok"
    assert ok.mean() > 0.8
    # in each window's units (unscaled), relative to its largest coefficient
    ours, expected = res.params[ok] / unit, base.params[ok]
    largest = expected.abs().max(axis=1).to_numpy()[:, None]
    assert (np.abs(ours - expected).to_numpy() <= rtol * largest).all()
    np.testing.assert_allclose(res.bse[ok], base.bse[ok] * unit, rtol=rtol * 10, atol=0)
    np.testing.assert_allclose(res.resid, base.resid * y_factor, rtol=rtol * 100, atol=0)
    np.testing.assert_allclose(res.rsquared, base.rsquared, rtol=rtol * 100 + 1e-15)
    pd.testing.assert_series_equal(res.rank, base.rank)


def test_tiny_and_huge_regressors_are_solved_like_lstsq():
    """The issue's cases: two regressors × 1e-150 were 15 % off with status ok; × 1e77 every
    window was rank deficient. Both now equal lstsq on the window's column-scaled design."""
    df = scale_panel()
    for factor in (1e-150, 1e77):
        scaled = df.copy()
        scaled[["x0", "x1"]] *= factor
        res = quantreg.rolling_ols(scaled, y="y", window=20)
        assert (res.status.groupby(level="instrument").tail(100) == "ok").all()
        g = scaled.xs("A1", level="instrument").iloc[-20:]
        A = np.column_stack([np.ones(20), g[["x0", "x1", "x2"]]])
        norms = np.linalg.norm(A, axis=0)  # lstsq of the column-scaled design, unscaled
        expected = np.linalg.lstsq(A / norms, g["y"].to_numpy(), rcond=None)[0] / norms
        np.testing.assert_allclose(res.params.xs("A1", level="instrument").iloc[-1], expected, rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(
    exponents=st.lists(st.integers(-600, 600), min_size=4, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_power_of_two_scaling_gives_identical_numbers(exponents, seed):
    """Any regressor and y scaled by any power of two: the same numbers, rescaled, bit for bit."""
    # the rescaled coefficients β_j·2^(e_y − e_j) must themselves be doubles
    assume(all(abs(exponents[3] - e) <= 900 for e in exponents[:3]))
    df = scale_panel(seed)[["x0", "x1", "x2", "y"]]
    base = quantreg.rolling_ols(df, y="y", window=15)
    res = quantreg.rolling_ols(np.ldexp(df, np.array(exponents)), y="y", window=15)
    unit = np.concatenate([[exponents[3]], exponents[3] - np.array(exponents[:3])])
    np.testing.assert_array_equal(res.params.to_numpy(), np.ldexp(base.params.to_numpy(), unit))
    np.testing.assert_array_equal(res.resid.to_numpy(), np.ldexp(base.resid.to_numpy(), exponents[3]))
    pd.testing.assert_series_equal(res.status, base.status)


@pytest.mark.parametrize("exponents", [(500, 0, 0, 0), (0, -700, 0, 300), (0, 0, 0, -1000), (70, 0, -70, 0)])
def test_residuals_of_a_panel_that_needs_rescaling_are_exact(exponents):
    """Residuals only (the engine learns each column's magnitude while it fits, and fits again,
    scaled, only when a column is outside 2^±64 — skipping the QR refinement on the first
    pass): the same residuals as the unscaled panel, rescaled, bit for bit, on a panel whose
    every window is refined."""
    df = scale_panel(3)[["x0", "x1", "x2", "y"]]
    base = quantreg.rolling_resid(df, y="y", window=15)
    res = quantreg.rolling_resid(np.ldexp(df, np.array(exponents)), y="y", window=15)
    np.testing.assert_array_equal(res.to_numpy(), np.ldexp(base.to_numpy(), exponents[3]))


# --- refinement: exactly what a QR fit of the window's rows gives -----------------------------------
def polynomial_panel(seed: int = 9, n: int = 150, level: float = 3.0) -> pd.DataFrame:
    """Regressors x, x², x³ of x near ``level``: every window badly conditioned."""
    rng = np.random.default_rng(seed)
    frames = []
    for a in range(2):
        x = level + rng.uniform(-1, 1, n)
        X = np.column_stack([x, x**2, x**3])
        y = 1.0 + X @ [0.5, -0.2, 0.1] + 0.01 * rng.standard_normal(n)
        frame = pd.DataFrame(np.column_stack([X, y]), columns=["x0", "x1", "x2", "y"])
        frame["datetime"] = pd.date_range("2000-01-01", periods=n)
        frame["instrument"] = f"P{a}"
        frames.append(frame)
    return pd.concat(frames).set_index(["datetime", "instrument"]).sort_index()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"halflife": 10.0}, {"cov_type": "HC0"}, {"cov_type": "HAC", "cov_kwds": {"maxlags": 3}},
     {"expanding": True, "min_nobs": 10}],
    ids=["plain", "halflife", "HC0", "HAC", "expanding"],
)
def test_refined_windows_equal_statsmodels_on_the_window(kwargs):
    df = polynomial_panel()
    window = 30
    res = quantreg.rolling_ols(df, y="y", window=window, **kwargs)
    assert (res.status.groupby(level="instrument").tail(120) == "ok").all()
    halflife = kwargs.get("halflife")
    for inst, g in df.groupby(level="instrument"):
        X = sm.add_constant(g[["x0", "x1", "x2"]].to_numpy())
        yv = g["y"].to_numpy()
        for t in (window - 1, 77, len(g) - 1):
            lo = max(0, t - window + 1)
            rows = slice(lo, t + 1)
            w = None if halflife is None else 0.5 ** ((t - np.arange(lo, t + 1)) / halflife)
            model = sm.WLS(yv[rows], X[rows], weights=w) if w is not None else sm.OLS(yv[rows], X[rows])
            cov = kwargs.get("cov_type", "nonrobust")
            ref = model.fit(method="qr", cov_type=cov, cov_kwds=kwargs.get("cov_kwds"))
            label = g.index[t]
            np.testing.assert_allclose(res.params.loc[label], ref.params, rtol=1e-9)
            np.testing.assert_allclose(res.bse.loc[label], ref.bse, rtol=1e-7)
            assert res.ssr.loc[label] == pytest.approx(ref.ssr, rel=1e-8)


def test_status_follows_what_a_qr_fit_resolves():
    """Near-collinear regressors: a QR fit resolves 1 − R² = 1e-11 (once ill_conditioned, now
    ok and exact); at 1e-24 it keeps fewer than 6 digits (ill_conditioned, NaN); an exact copy
    is rank deficient."""
    rng = np.random.default_rng(35)
    n = 60
    x0 = rng.standard_normal(n)
    noise = rng.standard_normal(n)
    y = 1.0 + x0 + rng.standard_normal(n)
    cases = {"ok": 3e-6, "ill_conditioned": 1e-12, "rank_deficient": 0.0}
    for expected, size in cases.items():
        df = one_instrument(np.column_stack([x0, x0 + size * noise]), y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RankDeficientWindowWarning)
            res = quantreg.rolling_ols(df, y="y", window=20)
        assert (res.status.iloc[19:] == expected).all(), (expected, res.status.value_counts())
        if expected == "ok":
            for t in (19, 40, n - 1):
                A = np.column_stack([np.ones(20), df[["x0", "x1"]].to_numpy()[t - 19 : t + 1]])
                ref = np.linalg.lstsq(A, y[t - 19 : t + 1], rcond=None)[0]
                np.testing.assert_allclose(res.params.iloc[t], ref, rtol=1e-8)
        else:
            assert res.params.iloc[19:].isna().all().all()
        expected_rank = 3 if expected != "rank_deficient" else 2
        assert (res.rank.iloc[19:] == expected_rank).all()


def test_ill_conditioned_cross_sections_are_solved_by_qr():
    """Fama-MacBeth cross-sections with near-collinear characteristics equal lstsq per date."""
    rng = np.random.default_rng(41)
    dates, assets = 12, 40
    index = pd.MultiIndex.from_product(
        [pd.date_range("2001-01-31", periods=dates, freq="ME"), [f"S{a}" for a in range(assets)]],
        names=["datetime", "instrument"],
    )
    size = 1e6 + rng.standard_normal(len(index))
    data = pd.DataFrame({"size": size, "size2": size + 1e-4 * rng.standard_normal(len(index))}, index=index)
    data["ret"] = 0.01 + 1e-3 * (data["size"] - 1e6) + rng.standard_normal(len(index)) * 0.01
    res = quantreg.fama_macbeth(data, y="ret", x=["size", "size2"])
    for date, g in data.groupby(level="datetime"):
        # exact least squares of the stored doubles, in rational arithmetic
        cols = [[Fraction(v) for v in g[c]] for c in ("size", "size2", "ret")]
        means = [sum(c) / assets for c in cols]
        dev = [[v - m for v in c] for c, m in zip(cols, means)]
        s = [[sum(a * b for a, b in zip(dev[i], dev[j])) for j in range(3)] for i in range(3)]
        det = s[0][0] * s[1][1] - s[0][1] * s[1][0]
        b1 = (s[2][0] * s[1][1] - s[2][1] * s[0][1]) / det
        b2 = (s[0][0] * s[2][1] - s[1][0] * s[2][0]) / det
        expected = [float(means[2] - b1 * means[0] - b2 * means[1]), float(b1), float(b2)]
        assert res.status_by_period.loc[date] == "ok"
        np.testing.assert_allclose(res.params_by_period.loc[date], expected, rtol=1e-8)


def test_refined_windows_with_a_shared_factor_table_and_calendar_windows():
    """Badly conditioned factors shared by all assets (read through the row map) and calendar
    windows: each window equals statsmodels OLS on its own rows."""
    rng = np.random.default_rng(17)
    dates = pd.date_range("2001-01-01", periods=90, freq="D")
    u = 2.0 + rng.uniform(-1, 1, len(dates))
    factors = pd.DataFrame({"f1": u, "f2": u**2, "f3": u**3}, index=pd.Index(dates, name="datetime"))
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["datetime", "instrument"])
    returns = pd.Series(rng.standard_normal(len(index)), index=index, name="r")
    res = quantreg.rolling_ols(returns, factors=factors, window=25)
    cal = quantreg.rolling_ols(returns, factors=factors, window="25D")
    for inst in ("A", "B"):
        r = returns.xs(inst, level="instrument").to_numpy()
        X = sm.add_constant(factors.to_numpy())
        for t in (24, 60, 89):
            ref = sm.OLS(r[t - 24 : t + 1], X[t - 24 : t + 1]).fit(method="qr")
            for got in (res, cal):
                assert got.status.loc[(dates[t], inst)] == "ok"
                np.testing.assert_allclose(got.params.loc[(dates[t], inst)], ref.params, rtol=1e-9)
                np.testing.assert_allclose(got.bse.loc[(dates[t], inst)], ref.bse, rtol=1e-7)
