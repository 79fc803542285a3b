"""Cross-sectional neutralisation: quantreg against the tools users would pick, in ONE run.

Usage (from the repository root)::

    python benchmarks/bench_cross_section.py                 # 5,000 instruments x 2,520 dates x 5
    python benchmarks/bench_cross_section.py --size small    # a quick check

Sections (targets from issue 18):

1. ``cross_sectional_resid(df, y, x, groups="industry")`` — 30 industry dummies absorbed —
   against the groupby + statsmodels loop users write today
   (``df.groupby("datetime").apply(lambda g: sm.OLS(g[y], [g[x], dummies]).fit().resid)``):
   >= 50x. The loop is linear in the number of dates, so it is timed on ``--sample-dates``
   dates (all instruments) and scaled by the ratio of dates; the output says so. quantreg runs
   on the whole panel.
2. ``cross_sectional_resid(df, y, x)`` without groups against polars-ols
   ``compute_least_squares(y, *x, add_intercept=True, mode="residuals").over("datetime")`` on the
   whole panel (its frame converted before the timing): >= 3x.
3. First call in a fresh process with an empty numba cache: ``rolling_ols(weights=...)`` and
   ``cross_sectional_ols(groups=..., weights=...)`` (compile time included).

The residuals are compared with every anchor (max absolute difference); a mismatch is reported
and makes the script exit with status 1. Results are printed and written to the
``bench_cross_section.py`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402  (puts the repository root on sys.path)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SCRIPT = "bench_cross_section.py"
SIZES = {"small": (500, 252, 5), "medium": (2000, 1260, 5), "full": (5000, 2520, 5)}
N_GROUPS = 30
AGREE = 1e-8


def make_frame(n_assets: int, n_dates: int, k: int, seed: int = 0) -> pd.DataFrame:
    """A balanced characteristics panel sorted by (datetime, instrument): ``x0 … x{k-1}``, an
    ``industry`` category fixed per instrument (30 of them), and the signal ``y``."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=n_dates)
    names = [f"S{i:05d}" for i in range(n_assets)]
    idx = pd.MultiIndex.from_product([dates, names], names=["datetime", "instrument"])
    n = len(idx)
    x = rng.normal(size=(n, k))
    industry = np.tile(rng.integers(0, N_GROUPS, n_assets), n_dates)
    y = x @ rng.normal(size=k) + 0.1 * industry + rng.normal(size=n)
    frame = pd.DataFrame(x, index=idx, columns=[f"x{j}" for j in range(k)])
    frame["industry"] = pd.Categorical.from_codes(industry, categories=[f"ind{j:02d}" for j in range(N_GROUPS)])
    frame["y"] = y
    return frame


def statsmodels_loop(df: pd.DataFrame, x: list[str]) -> pd.Series:
    """What users write today: one statsmodels OLS with industry dummies per date."""
    import statsmodels.api as sm

    def one(g: pd.DataFrame) -> pd.Series:
        design = pd.concat([g[x], pd.get_dummies(g["industry"], dtype=float)], axis=1)
        return sm.OLS(g["y"], design).fit().resid

    return df.groupby(level="datetime", group_keys=False, observed=True).apply(one)


def first_call_code() -> str:
    return r'''
import json, time
import numpy as np, pandas as pd
t0 = time.perf_counter()
import quantreg
t_import = time.perf_counter() - t0
rng = np.random.default_rng(0)
idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=60), [f"S{i}" for i in range(40)]],
                                 names=["datetime", "instrument"])
df = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["x0", "x1", "y"])
df["w"] = rng.uniform(0.5, 2.0, len(idx))
df["industry"] = np.tile(np.arange(40) % 5, 60)
t = time.perf_counter(); quantreg.rolling_ols(df, "y", ["x0", "x1"], window=20, weights="w")
t_rolling = time.perf_counter() - t
t = time.perf_counter(); quantreg.cross_sectional_ols(df, "y", ["x0", "x1"], groups="industry", weights="w")
t_cs = time.perf_counter() - t
print(json.dumps({"import": t_import, "rolling": t_rolling, "cross": t_cs}))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--sample-dates", type=int, default=20, help="dates the statsmodels loop is timed on")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    import quantreg

    info = C.machine_info()
    print(C.format_info(info))
    n_assets, n_dates, k = SIZES[args.size]
    x = [f"x{j}" for j in range(k)]
    df = make_frame(n_assets, n_dates, k)
    n_rows = len(df)
    report = C.Report()
    # compile outside the timings
    small = df.loc[df.index.levels[0][:3]]
    quantreg.cross_sectional_resid(small, "y", x, groups="industry")
    quantreg.cross_sectional_resid(small, "y", x)

    # 1. groups vs the statsmodels loop (sampled dates, scaled)
    t_q, _, resid = C.best_of(lambda: quantreg.cross_sectional_resid(df, "y", x, groups="industry"), args.repeat)
    sample = df.index.levels[0][:args.sample_dates]
    sub = df.loc[sample]
    t_sm_sub, _, ref = C.best_of(lambda: statsmodels_loop(sub, x), 1)
    t_sm = t_sm_sub * n_dates / len(sample)
    err_sm = float(np.nanmax(np.abs(resid.loc[ref.index].to_numpy() - ref.to_numpy())))
    ratio_sm = t_sm / t_q
    ok_sm = report.check(err_sm < AGREE, f"statsmodels residuals differ by {err_sm:.2e}")
    fast_sm = report.check(ratio_sm >= 50, f"groups: {ratio_sm:.1f}x vs the statsmodels loop (target 50x)")
    report.add(
        f"1. cross_sectional_resid with {N_GROUPS} industry groups — {n_assets:,} instruments × {n_dates:,} dates × {k} regressors ({n_rows:,} rows)",
        C.markdown_table(
            ["tool", "time (whole panel)", "quantreg is", "max |Δ resid|", "agrees", "≥ 50×"],
            [["quantreg `cross_sectional_resid(groups=)`", C.fmt_seconds(t_q), "1×", "–", "–", "–"],
             [f"groupby + statsmodels OLS with dummies (timed on {len(sample)} dates, scaled ×{n_dates / len(sample):g})",
              C.fmt_seconds(t_sm), C.fmt_ratio(ratio_sm), C.fmt_err(err_sm), ok_sm, fast_sm]],
        ),
    )

    # 2. no groups vs polars-ols over("datetime")
    t_q2, _, resid2 = C.best_of(lambda: quantreg.cross_sectional_resid(df, "y", x), args.repeat)
    try:
        import polars as pl
        import polars_ols as pls

        frame = pl.from_pandas(df.drop(columns="industry").reset_index())
        expr = pls.compute_least_squares("y", *x, add_intercept=True, mode="residuals").over("datetime").alias("r")
        t_pl, _, out = C.best_of(lambda: frame.select(expr), args.repeat)
        pl_resid = out["r"].to_numpy()
        err_pl = float(np.nanmax(np.abs(resid2.to_numpy() - pl_resid)))
        ratio_pl = t_pl / t_q2
        ok_pl = report.check(err_pl < AGREE, f"polars-ols residuals differ by {err_pl:.2e}")
        fast_pl = report.check(ratio_pl >= 3, f"no groups: {ratio_pl:.2f}x vs polars-ols (target 3x)")
        pl_row = ["polars-ols `compute_least_squares(...).over(\"datetime\")`", C.fmt_seconds(t_pl),
                  C.fmt_ratio(ratio_pl), C.fmt_err(err_pl), ok_pl, fast_pl]
    except ImportError:
        pl_row = ["polars-ols (not installed)", "–", "–", "–", "–", "–"]
    report.add(
        f"2. cross_sectional_resid without groups — {n_rows:,} rows",
        C.markdown_table(
            ["tool", "time (whole panel)", "quantreg is", "max |Δ resid|", "agrees", "≥ 3×"],
            [["quantreg `cross_sectional_resid`", C.fmt_seconds(t_q2), "1×", "–", "–", "–"], pl_row],
        ),
    )

    # 3. first call, fresh process, empty numba cache
    with tempfile.TemporaryDirectory() as cache:
        first = C.run_python(first_call_code(), env={"NUMBA_CACHE_DIR": cache})
    report.add(
        "3. First call in a fresh process, empty numba cache (compilation included)",
        C.markdown_table(
            ["call", "seconds"],
            [["`import quantreg`", f"{first['import']:.2f}"],
             ["`rolling_ols(weights=...)` (first kernel call: walk, solver, refinement, OLS finisher)",
              f"{first['rolling']:.2f}"],
             ["then `cross_sectional_ols(groups=..., weights=...)` (cross-section finisher)", f"{first['cross']:.2f}"]],
        ),
    )
    command = "python benchmarks/bench_cross_section.py " + " ".join(sys.argv[1:])
    C.finish(SCRIPT, "cross-sectional neutralisation", info, time.perf_counter() - start, command, report,
             not args.no_write)
    return 1 if report.failures else 0


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sys.exit(main())
