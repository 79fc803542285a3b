"""The whole option matrix of the engine, for every number of regressors k = 1 … 8, against
per-window least squares (quantreg.engine, quantreg._kernels).

Reference: for every row, the window's rows are selected from the documented rules (row,
expanding, unbounded expanding and calendar windows; ``missing``; ``min_nobs``), weighted by
``lam ** age`` (``halflife``) and solved with ``numpy.linalg.lstsq`` on the square-root-weighted
rows; standard errors from ``s² (XᵀWX)⁻¹`` (from the rows' QR factor; nonrobust) and White's sandwich (HC0). Tolerance:
1e-8 relative to each quantity's scale. Also: one compiled kernel serves every k.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import quantreg
from quantreg import engine
from quantreg._kernels.ols import ols_kernel

TOL = 1e-8


def make_data(k: int, seed: int) -> pd.DataFrame:
    """Three instruments on irregular business days, a late listing, NaN in y and x."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=48)
    frames = []
    for i, n in enumerate((48, 40, 27)):
        when = dates[-n:]
        keep = rng.random(n) > 0.1  # gaps: days without a row
        keep[-1] = True
        when = when[keep]
        X = rng.normal(size=(len(when), k)) + 100.0 * (i == 1)  # one instrument at price level
        y = 0.5 + X @ rng.normal(size=k) + rng.normal(size=len(when))
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)]).assign(y=y)
        frame.loc[rng.random(len(when)) < 0.08, "y"] = np.nan
        frame.loc[rng.random(len(when)) < 0.05, "x0"] = np.nan
        frame.index = pd.MultiIndex.from_arrays([when, [f"A{i}"] * len(when)], names=["datetime", "instrument"])
        frames.append(frame)
    return pd.concat(frames).sample(frac=1.0, random_state=seed)  # any row order


def reference(df: pd.DataFrame, window, *, expanding=False, missing="drop", min_nobs=None,
              halflife=None, add_constant=True, residual="in_sample"):
    """Per-row params, bse (nonrobust, HC0), resid and status by least squares on each window."""
    k = df.shape[1] - 1
    kp = k + int(add_constant)
    min_nobs = kp if min_nobs is None else min_nobs
    out = {}
    for _, g in df.sort_index(level="datetime").groupby(level="instrument"):
        X = g.iloc[:, :k].to_numpy()
        y = g["y"].to_numpy()
        times = g.index.get_level_values("datetime")
        valid = ~(np.isnan(y) | np.isnan(X).any(axis=1))
        previous = None
        for t in range(len(g)):
            if isinstance(window, str):
                first = int(np.searchsorted(times, times[t] - pd.Timedelta(window), side="right"))
                ages = (times[t] - times).days.to_numpy().astype(float)
                lam_unit = pd.Timedelta(halflife) / pd.Timedelta("1D") if halflife else None
            else:
                first = 0 if window is None else max(0, t - window + 1)
                ages = (t - np.arange(len(g))).astype(float)
                lam_unit = halflife
            rows = np.arange(first, t + 1)
            full = window is None or isinstance(window, str) or expanding or t - first + 1 >= window
            used = rows[valid[rows]]
            status = "ok"
            if not full or len(rows) < min_nobs:
                status = "warmup"
            elif missing == "skip" and not valid[rows].all():
                status = "missing"
            elif len(used) < min_nobs:
                status = "warmup" if len(rows) < min_nobs else "missing"
            fit = None
            if status == "ok":
                w = np.ones(len(used)) if halflife is None else 0.5 ** (ages[used] / lam_unit)
                Z = np.column_stack([np.ones(len(used)), X[used]]) if add_constant else X[used]
                sw = np.sqrt(w)
                beta = np.linalg.lstsq(Z * sw[:, None], y[used] * sw, rcond=None)[0]
                e = y[used] - Z @ beta
                r_inv = np.linalg.inv(np.linalg.qr(Z * sw[:, None], mode="r"))
                H = r_inv @ r_inv.T  # (ZᵀWZ)⁻¹ from the QR factor of the weighted rows
                df_resid = len(used) - kp
                s2 = (w * e * e).sum() / df_resid if df_resid > 0 else np.nan
                scores = Z * (w * e)[:, None]
                hc0 = H @ scores.T @ scores @ H
                se_hc0 = np.sqrt(np.diag(hc0)) if df_resid > 0 else np.full(kp, np.nan)
                tss = (w * (y[used] - (np.average(y[used], weights=w) if add_constant else 0.0)) ** 2).sum()
                fit = (beta, np.sqrt(s2 * np.diag(H)), se_hc0, np.linalg.cond(Z * sw[:, None]),
                       tss / max((w * e * e).sum(), 1e-300))
            if status == "ok" and not valid[t]:
                status = "missing"
            xt = np.r_[1.0, X[t]] if add_constant else X[t]
            coef = (previous if residual == "out_of_sample" else (fit[0] if fit else None))
            resid = y[t] - xt @ coef if coef is not None else np.nan
            out[g.index[t]] = (status, fit, resid)
            previous = fit[0] if fit else None
    return out


OPTION_SETS = [
    dict(window=12),
    dict(window=12, expanding=True, min_nobs="k + 2"),
    dict(window=None, expanding=True),
    dict(window="30D"),
    dict(window=12, missing="skip"),
    dict(window=12, halflife=5.0, residual="out_of_sample"),
    dict(window="30D", halflife="7D", add_constant=False),
    dict(window=15, add_constant=False, residual="out_of_sample", min_nobs=12),
]


@pytest.mark.parametrize("k", range(1, 9))
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(f"{a}={b}" for a, b in o.items()))
def test_every_option_and_every_k_equals_per_window_least_squares(k, options):
    if options.get("min_nobs") == "k + 2":
        options = {**options, "min_nobs": k + 2}
    df = make_data(k, seed=k)
    ref = reference(df, **options)
    res = quantreg.rolling_ols(df, **options)
    hc0 = quantreg.rolling_ols(df, cov_type="HC0", **options)
    resid = quantreg.rolling_resid(df, **options)
    status, params, bse, bse_hc0 = res.status, res.params.to_numpy(), res.bse.to_numpy(), hc0.bse.to_numpy()
    compared = 0
    for i, label in enumerate(df.index):
        want_status, fit, want_resid = ref[label]
        assert status.iloc[i] == want_status, (label, options)
        np.testing.assert_allclose(resid.iloc[i], want_resid, rtol=TOL, atol=TOL * 10, equal_nan=True)
        np.testing.assert_allclose(res.resid.iloc[i], want_resid, rtol=TOL, atol=TOL * 10, equal_nan=True)
        if fit is None:
            assert np.isnan(params[i]).all()
            continue
        beta, se, se_hc0, cond, tss_over_ssr = fit
        # the normal equations keep about 16 − 2·log10(cond) digits (raw price-level columns
        # without an intercept are the worst case here), and SSR = s_yy − uᵀD⁻¹u about
        # 16 − log10(TSS/SSR) digits
        rtol = max(TOL, 1e-15 * cond**2)
        scale = np.abs(beta).max() + 1.0
        np.testing.assert_allclose(params[i], beta, rtol=rtol, atol=rtol * scale)
        rtol_se = max(1e-7, rtol, 1e-14 * tss_over_ssr)
        np.testing.assert_allclose(bse[i], se, rtol=rtol_se, equal_nan=True)
        np.testing.assert_allclose(bse_hc0[i], se_hc0, rtol=max(1e-7, rtol), equal_nan=True)
        compared += 1
    assert compared > 8


def test_one_compiled_kernel_serves_every_number_of_regressors():
    """k is a run-time argument: fits with k = 1 … 8 add no compiled specialisation (the only
    other one is the variant with the QR refinement compiled in, ``Options.refine`` True)."""
    for k in range(1, 9):
        quantreg.rolling_resid(make_data(k, seed=k), window=12)
    options_types = [signature[9] for signature in ols_kernel.signatures]
    assert len(options_types) <= 2
    refine_types = {str(t.types[-1]) for t in options_types}
    assert "none" in refine_types and refine_types <= {"none", "bool"}


def test_windows_that_need_refinement_are_solved_again_with_it():
    """The kernel compiled without the QR refinement reports the windows that need it (status
    REFINE, NaN); the engine solves them again with it: the fit equals lstsq on every window."""
    from quantreg._kernels.linalg import REFINE
    from quantreg._kernels.steps import STEPS
    from quantreg.options import fit_options
    from quantreg.panel import panel_layout

    rng = np.random.default_rng(5)
    idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=40), ["A", "B"]],
                                     names=["datetime", "instrument"])
    u = rng.normal(size=len(idx))
    df = pd.DataFrame({"y": rng.normal(size=len(idx)), "u": u, "u2": u + 1e-4 * rng.normal(size=len(idx))}, index=idx)
    layout = panel_layout(df, "y", ["u", "u2"])
    options = fit_options(layout, window=10)
    n = layout.n_rows
    outs = (np.empty(n), np.empty(0), np.empty(0, dtype=np.int64), np.empty(n, dtype=np.int8),
            np.empty((0, 3)), np.empty((0, 3)), np.empty((0, 4)))
    ws = engine.workspace(layout.k, engine._longest(layout.offsets, 0, layout.n_segments), 10)
    args = (layout.x, layout.xrow, layout.y, layout.offsets, layout.dest, layout.pdest, layout.times, 0,
            layout.n_segments)
    left = ols_kernel(*args, options.kernel_options(False), outs, ws, STEPS)
    assert left == np.count_nonzero(outs[3] == REFINE) > 0
    assert np.isnan(outs[0][outs[3] == REFINE]).all()
    assert ols_kernel(*args, options.kernel_options(False)._replace(refine=True), outs, ws, STEPS) == 0
    assert not (outs[3] == REFINE).any()
    res = quantreg.rolling_ols(df, y="y", x=["u", "u2"], window=10)
    for instrument, rows in df.groupby(level="instrument"):
        fitted = res.params.xs(instrument, level="instrument")
        for end in range(9, len(rows)):
            window = rows.iloc[end - 9:end + 1]
            design = np.column_stack([np.ones(10), window[["u", "u2"]].to_numpy()])
            beta = np.linalg.lstsq(design, window["y"].to_numpy(), rcond=None)[0]
            np.testing.assert_allclose(fitted.iloc[end].to_numpy(), beta, rtol=1e-7, atol=1e-7 * np.abs(beta).max())


def test_weighted_and_unweighted_paths_agree_in_the_limit():
    """halflife → ∞ is ordinary least squares (the weighted walk's scaling reduces to the plain one)."""
    df = make_data(3, seed=11)
    plain = quantreg.rolling_ols(df, window=12)
    nearly = quantreg.rolling_ols(df, window=12, halflife=1e12)
    np.testing.assert_allclose(nearly.params.to_numpy(), plain.params.to_numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("k", [1, 4])
def test_results_do_not_depend_on_the_chunking(k):
    """Windows longer than a chunk (256 rows) and chunks cut inside a window give the same numbers."""
    rng = np.random.default_rng(k)
    n = 700
    X = rng.normal(size=(n, k)) + 1e4
    y = X @ rng.normal(size=k) + rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    idx = pd.MultiIndex.from_arrays([pd.date_range("2000-01-01", periods=n), ["A"] * n], names=["datetime", "instrument"])
    df = pd.DataFrame(X, index=idx, columns=[f"x{j}" for j in range(k)]).assign(y=y)
    for window in (300, 257, 256, 7):
        got = quantreg.rolling_ols(df, window=window).params.to_numpy()
        t = n - 1
        rows = np.arange(t - window + 1, t + 1)
        rows = rows[~np.isnan(y[rows])]
        Z = np.column_stack([np.ones(len(rows)), X[rows]])
        want = np.linalg.lstsq(Z - np.r_[0.0, X[rows].mean(0)], y[rows], rcond=None)[0]
        want[0] -= want[1:] @ X[rows].mean(0)
        np.testing.assert_allclose(got[t], want, rtol=1e-7, atol=1e-7)


def test_a_window_record_is_the_selection_modules_gram_statistics():
    """One representation of the statistics: the walk's record of a window is a GramStats."""
    from quantreg._kernels.ols import fit_chunk
    from quantreg._kernels.steps import STEPS
    from quantreg.engine import workspace
    from quantreg.options import fit_options
    from quantreg.panel import panel_layout
    from quantreg.selection import GramStats

    df = make_data(3, seed=5).dropna()
    layout = panel_layout(df)
    options = fit_options(layout, window=10)
    opts = options.kernel_options(False)
    ws = workspace(layout.k, layout.longest, opts.window)
    n = fit_chunk(layout.x, layout.xrow, layout.y, layout.offsets, layout.times, 0, 0, opts, False, *ws, STEPS)
    rows = slice(n - 10, n)  # the last row's window: the segment's last 10 rows
    record = ws[6][:, n - 1]
    expected = GramStats.from_rows(layout.x[rows], layout.y[rows])
    np.testing.assert_allclose(record, expected.record, rtol=1e-11, atol=1e-9)
    assert GramStats.from_record(record).n == 10


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 1_000, 5_000])
@pytest.mark.parametrize("special", ["none", "nan", "inf", "both"])
def test_column_extremes_in_blocks_equal_numpy(monkeypatch, n, special):
    """The blocked, multi-core column max/min equals numpy's (NaN when a column holds a NaN),
    across block boundaries and a ragged last block."""
    monkeypatch.setattr(engine, "_EXTREMES_BLOCK", 256)
    monkeypatch.setattr(engine, "run_segments", lambda run, offsets: [run(i, i + 1) for i in range(len(offsets) - 1)])
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3)) * 10.0 ** rng.integers(-5, 5, size=3)
    if n and special in ("nan", "both"):
        x[rng.integers(n), 1] = np.nan
    if n and special in ("inf", "both"):
        x[rng.integers(n), 2] = -np.inf
    hi, lo = engine._column_extremes(x)
    if n == 0:
        np.testing.assert_array_equal(hi, np.zeros(3))
        return
    np.testing.assert_array_equal(hi, x.max(axis=0))
    np.testing.assert_array_equal(lo, x.min(axis=0))
