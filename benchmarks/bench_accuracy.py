"""Accuracy at Gram speed: NIST StRD digits, price-level coefficients, column scale, and the cost.

Usage (from the repository root)::

    git worktree add /tmp/quantreg-base <commit>        # the version to compare the cost with
    python benchmarks/bench_accuracy.py --baseline /tmp/quantreg-base

Sections:

1. **NIST StRD** (``tests/data/nist``): correct digits (log relative error against the certified
   coefficients, the smallest over coefficients) of ``rolling_ols`` in one full-sample window and
   as the last window of a 500-row rolling series, beside numpy ``lstsq`` and statsmodels
   ``OLS.fit(method="qr")``.
2. **Price level**: ``x = L + s·ε``, ``y = 0.5 + 2x + s·η``, window 60: the largest relative error
   of the intercept and slope over the windows against exact rational least squares
   (``fractions.Fraction`` on the stored doubles), beside a two-pass fit and numbagg's
   ``move_covmatrix`` (slope ``cov/var``, intercept from ``move_mean``).
3. **Column scale**: every column × 2^±500 and × 1e±150: the largest relative difference of the
   coefficients from the unscaled fit (rescaled), and whether every status is the same.
4. **Cost**: ``rolling_resid`` end to end on 500 assets × 2,520 dates × 3 regressors, window 120,
   at level 0 and level 1e4, and on a panel whose windows are all refined by QR (regressors
   ``u, u², u³`` of ``u`` near 3), this checkout against the baseline, each in its own warm process,
   asked in turn, best of ``--repeat``.

Results go to the ``bench_accuracy.py`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # (puts the repository root on sys.path)

import numpy as np

SCRIPT = "bench_accuracy.py"
sys.path.insert(0, str(C.ROOT / "tests"))
from references import NIST_DIGITS, digits, load_nist, one_instrument  # noqa: E402  (shared with the tests)


# --------------------------------------------------------------------------------- 1. NIST
def bench_nist(report: C.Report) -> None:
    import statsmodels.api as sm

    import quantreg

    rows = []
    for name, target in NIST_DIGITS.items():
        X, y, certified, _, intercept = load_nist(name)
        n = len(y)
        one = quantreg.rolling_ols(one_instrument(X, y), y="y", window=n, add_constant=intercept)
        rng = np.random.default_rng(0)
        pick = rng.integers(0, n, 500)
        long_x = np.vstack([X[pick] * (1 + 0.01 * rng.standard_normal((500, X.shape[1]))), X])
        long_y = np.concatenate([y.mean() + y.std() * rng.standard_normal(500), y])
        rolled = quantreg.rolling_ols(one_instrument(long_x, long_y), y="y", window=n, add_constant=intercept)
        design = sm.add_constant(X) if intercept else X
        d_one = digits(one.params.iloc[-1], certified)
        d_roll = digits(rolled.params.iloc[-1], certified)
        d_lstsq = digits(np.linalg.lstsq(design, y, rcond=None)[0], certified)
        d_qr = digits(sm.OLS(y, design).fit(method="qr").params, certified)
        ok = report.check(min(d_one, d_roll) >= target, f"NIST {name}: {min(d_one, d_roll):.1f} < {target}")
        rows.append([name, f"{d_one:.1f}", f"{d_roll:.1f}", str(one.status.iloc[-1]), f"{d_lstsq:.1f}",
                     f"{d_qr:.1f}", f"≥ {target}: {ok}"])
    report.add(
        "1. NIST StRD linear datasets: correct digits of the coefficients",
        "Log relative error against the certified values (the smallest over the coefficients, at "
        "most 15); quantreg in one full-sample window and as the last window of a 500-row rolling "
        "series ending in the dataset.\n\n"
        + C.markdown_table(["dataset", "quantreg (one window)", "quantreg (rolling)", "status", "numpy lstsq",
                            "statsmodels QR", "target"], rows),
    )


# --------------------------------------------------------------------------------- 2. price level
def exact_fits(x: np.ndarray, y: np.ndarray, window: int, rows: range) -> tuple[np.ndarray, np.ndarray]:
    """Exact intercept and slope of the windows ending at ``rows``, in rational arithmetic."""
    n = len(x)
    xs, ys = [Fraction(v) for v in x], [Fraction(v) for v in y]
    intercepts, slopes = np.full(n, np.nan), np.full(n, np.nan)
    for t in rows:
        wx, wy = xs[t - window + 1 : t + 1], ys[t - window + 1 : t + 1]
        mx, my = sum(wx) / window, sum(wy) / window
        slope = sum((a - mx) * (b - my) for a, b in zip(wx, wy)) / sum((a - mx) ** 2 for a in wx)
        slopes[t], intercepts[t] = float(slope), float(my - slope * mx)
    return intercepts, slopes


def bench_level(report: C.Report) -> None:
    import quantreg

    try:
        import numbagg
    except ImportError:
        numbagg = None
    window, n = 60, 5040
    checked = range(window - 1, n, 10)  # every 10th window, against exact arithmetic
    rows = []
    for level, spread in ((1e5, 1.0), (1e6, 1.0), (1e6, 1e-3), (1e8, 1e-3)):
        rng = np.random.default_rng(int(np.log10(level)))
        x = level + spread * rng.standard_normal(n)
        y = 0.5 + 2.0 * x + spread * rng.standard_normal(n)
        exact_c, exact_b = exact_fits(x, y, window, checked)
        full = np.array(checked)

        def errors(c, b):
            return (float(np.max(np.abs(c[full] - exact_c[full]) / np.abs(exact_c[full]))),
                    float(np.max(np.abs(b[full] - exact_b[full]) / np.abs(exact_b[full]))))

        res = quantreg.rolling_ols(one_instrument(x[:, None], y), y="y", window=window)
        ours = errors(res.params["const"].to_numpy(), res.params["x0"].to_numpy())
        two_c, two_b = np.full(n, np.nan), np.full(n, np.nan)
        for t in checked:
            wx, wy = x[t - window + 1 : t + 1], y[t - window + 1 : t + 1]
            dx = wx - wx.mean()
            two_b[t] = dx @ (wy - wy.mean()) / (dx @ dx)
            two_c[t] = wy.mean() - two_b[t] * wx.mean()
        two = errors(two_c, two_b)
        row = [f"{level:.0e}", f"{spread:g}", f"{C.fmt_err(ours[0])} / {C.fmt_err(ours[1])}",
               f"{C.fmt_err(two[0])} / {C.fmt_err(two[1])}"]
        ok = report.check(ours[1] <= 100 * max(two[1], np.finfo(float).eps),
                          f"level {level:g}, spread {spread:g}: slope {ours[1]:.1e} > 100 × two-pass")
        if numbagg is not None:
            cov = numbagg.move_covmatrix(np.column_stack([x, y]), window=window)
            b = cov[:, 0, 1] / cov[:, 0, 0]
            c = numbagg.move_mean(y, window=window) - b * numbagg.move_mean(x, window=window)
            theirs = errors(c, b)
            row.append(f"{C.fmt_err(theirs[0])} / {C.fmt_err(theirs[1])}")
            if level in (1e5, 1e6) and spread == 1.0:
                better = report.check(ours[0] <= theirs[0] and ours[1] <= theirs[1],
                                      f"level {level:g}: worse than numbagg")
                ok = f"{ok}; ≤ numbagg: {better}"
        else:
            row.append("not installed")
        rows.append(row + [ok])
    report.add(
        "2. Coefficients at price level",
        f"x = L + s·ε, y = 0.5 + 2x + s·η, {n:,} rows (20 years of days), window {window}: the "
        "largest relative error of the intercept / slope over every 10th window, against exact "
        "rational least squares on the stored doubles. Target: slope within 100× of the two-pass fit's error; at L = 1e5 and 1e6 (s = 1) "
        "no worse than numbagg.\n\n"
        + C.markdown_table(["L", "s", "quantreg", "two-pass (numpy)", "numbagg move_covmatrix", "target"], rows),
    )


# --------------------------------------------------------------------------------- 3. scale
def bench_scale(report: C.Report) -> None:
    import quantreg
    from quantreg.datasets import make_panel

    df = make_panel(20, 300, 3, nan_frac=0.0, seed=1)
    base = quantreg.rolling_ols(df, window=40)
    rows = []
    for factor in (2.0**500, 2.0**-500, 1e150, 1e-150):
        scaled = df * factor
        res = quantreg.rolling_ols(scaled, window=40)
        ok = base.status == "ok"
        ours, expected = res.params[ok], base.params[ok]
        ours = ours.assign(const=ours["const"] / factor)  # slopes: factor / factor
        largest = expected.abs().max(axis=1).to_numpy()[:, None]
        diff = float(np.max(np.abs(ours - expected).to_numpy() / largest))
        same = bool((res.status == base.status).all())
        good = report.check(diff <= 1e-12 and same, f"scale {factor:g}: {diff:.1e}, same status {same}")
        rows.append([f"{factor:g}", C.fmt_err(diff), "yes" if same else "**no**", f"≤ 1e-12: {good}"])
    report.add(
        "3. Every column scaled",
        "20 assets × 300 dates × 3 regressors, window 40: the largest difference of the coefficients "
        "from the unscaled fit's (rescaled), relative to each window's largest coefficient.\n\n"
        + C.markdown_table(["factor", "difference", "same status everywhere", "target"], rows),
    )


# --------------------------------------------------------------------------------- 4. cost
WORKER = r"""
import json, sys, time
import numpy as np
import quantreg
from quantreg.datasets import make_panel

def panel(kind):
    df = make_panel(500, 2520, 3, nan_frac=0.0, unbalanced=False, seed=0, level=1e4 if kind == "level 1e4" else 0.0)
    if kind == "all refined":
        u = 3.0 + 0.5 * np.tanh(df["x1"].to_numpy())
        df["x1"], df["x2"], df["x3"] = u, u ** 2, u ** 3
    return df

for line in sys.stdin:
    kind, window, repeat = json.loads(line)
    df = panel(kind)
    quantreg.rolling_resid(df, window=window)  # compile/load, touch the memory
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter(); quantreg.rolling_resid(df, window=window); best = min(best, time.perf_counter() - t)
    print(json.dumps({"seconds": best}), flush=True)
"""


def bench_cost(args, report: C.Report) -> None:
    roots = {"after": str(C.ROOT)}
    if args.baseline:
        roots["before"] = str(Path(args.baseline).resolve())
    workers = {label: subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       text=True, env=dict(os.environ, PYTHONPATH=root), cwd=root)
               for label, root in roots.items()}

    def ask(label: str, kind: str) -> float:
        proc = workers[label]
        proc.stdin.write(json.dumps([kind, 120, args.repeat]) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("a benchmark worker died")
        return json.loads(line)["seconds"]

    times: dict[str, dict[str, float]] = {}
    try:
        for kind in ("level 0", "level 1e4", "all refined"):
            for _ in range(2):  # interleaved, best of both rounds
                for label in roots:
                    got = ask(label, kind)
                    times.setdefault(kind, {})[label] = min(times.get(kind, {}).get(label, np.inf), got)
            print("  ", kind, times[kind], flush=True)
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait(timeout=120)
    after0, after4 = times["level 0"]["after"], times["level 1e4"]["after"]
    ok_levels = report.check(abs(after4 / after0 - 1) <= 0.05, f"level 1e4 vs 0: {after4 / after0:.3f}")
    rows = []
    for kind, by in times.items():
        row = [kind, C.fmt_seconds(by["after"])]
        if "before" in by:
            ratio = by["after"] / by["before"]
            row[1:1] = [C.fmt_seconds(by["before"])]
            row.append(f"{ratio:.2f}")
            if kind != "all refined":
                row.append(report.check(ratio <= 1.05, f"{kind}: {ratio:.2f}× today's time"))
            else:
                row.append("reported")
        rows.append(row)
    headers = ["panel", "rolling_resid"] if not args.baseline else ["panel", "before", "after", "after / before",
                                                                      "≤ 1.05"]
    report.add(
        "4. Cost",
        f"500 assets × 2,520 dates × 3 regressors, window 120, `rolling_resid` end to end, best of "
        f"{args.repeat} in two interleaved rounds. Level 1e4 / level 0 (this version): "
        f"{after4 / after0:.3f} (within 5 %: {ok_levels}). \"all refined\": regressors u, u², u³ of "
        "u near 3, so that every window goes to the QR of its rows.\n\n" + C.markdown_table(headers, rows),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", help="a checkout of the version to compare the cost with")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip", nargs="*", default=[], choices=["nist", "level", "scale", "cost"])
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    info = C.machine_info((*C.VERSIONED, "numbagg"))
    report = C.Report()
    start = time.perf_counter()
    if "nist" not in args.skip:
        bench_nist(report)
    if "level" not in args.skip:
        bench_level(report)
    if "scale" not in args.skip:
        bench_scale(report)
    if "cost" not in args.skip:
        bench_cost(args, report)
    command = "python benchmarks/bench_accuracy.py" + (" --baseline <checkout>" if args.baseline else "")
    C.finish(SCRIPT, "accuracy at Gram speed", info, time.perf_counter() - start, command, report,
             not args.no_write)


if __name__ == "__main__":
    main()
