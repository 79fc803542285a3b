"""Tests of the ``quantreg`` command (quantreg/cli.py), in-process through ``main`` and once
through ``python -m``.

Reference: :func:`quantreg.rolling_resid` / :func:`quantreg.rolling_ols` called in Python on
the same data (the command must return exactly the library's numbers, in the input's order).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import quantreg
from quantreg import cli
from quantreg.cli import main
from quantreg.datasets import FRENCH_PORTFOLIO_GROUPS, load_french_portfolios, make_panel

WINDOW = 60


@pytest.fixture(scope="module")
def french_path() -> Path:
    resource = resources.files("quantreg.data").joinpath("french_portfolios.parquet")
    with resources.as_file(resource) as path:
        yield Path(path)


@pytest.fixture(scope="module")
def french() -> pd.DataFrame:
    return load_french_portfolios()


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    """A small panel with NaNs, unbalanced starts and an instrument shorter than the window."""
    return make_panel(8, 150, 2, window=40, nan_frac=0.03, seed=21)


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------- resid
def test_resid_on_bundled_data_equals_python(capsys, tmp_path, french_path, french):
    out = tmp_path / "resid.parquet"
    code, stdout, stderr = run(capsys, "resid", french_path, "-o", out, "--window", WINDOW)
    assert code == 0, stderr
    assert stderr == ""
    written = pd.read_parquet(out)
    assert list(written.columns) == ["residual"]
    assert isinstance(written.index, pd.MultiIndex)
    assert written.index.equals(french.index)
    assert list(written.index.names) == ["datetime", "instrument"]
    expected = quantreg.rolling_resid(french, window=WINDOW)
    pd.testing.assert_series_equal(written["residual"], expected, check_exact=True)

    n_rows, n_instruments = len(french), len(FRENCH_PORTFOLIO_GROUPS)
    n_nan = int(expected.isna().sum())
    assert n_nan == n_instruments * (WINDOW - 1)  # warm-up rows only
    assert stdout.count("\n") == 1
    assert stdout.startswith(
        f"quantreg resid: {n_rows:,} rows, {n_instruments} instruments, "
        f"{n_rows - n_nan:,} residuals ({n_nan:,} NaN: {n_nan:,} warmup) -> {out} in "
    )


@pytest.mark.parametrize(
    ("flags", "options"),
    [
        (["--out-of-sample", "--halflife", "12"], dict(residual="out_of_sample", halflife=12.0)),
        (["--expanding", "--min-nobs", "10"], dict(expanding=True, min_nobs=10)),
        (["--missing", "skip"], dict(missing="skip")),
        (["--no-constant", "--y", "y", "--x", "x2"], dict(add_constant=False, y="y", x=["x2"])),
        (["--x", "x2", "--x", "x1"], dict(x=["x2", "x1"])),
    ],
)
def test_resid_options_reach_the_library(capsys, tmp_path, synthetic, flags, options):
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    synthetic.to_parquet(source)
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", 40, *flags)
    assert code == 0, stderr
    expected = quantreg.rolling_resid(synthetic, window=40, **options)
    pd.testing.assert_series_equal(pd.read_parquet(out)["residual"], expected, check_exact=True)


def test_resid_expanding_without_window(capsys, tmp_path, synthetic):
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    synthetic.to_parquet(source)
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--expanding")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(synthetic, expanding=True)
    pd.testing.assert_series_equal(pd.read_parquet(out)["residual"], expected, check_exact=True)


def test_resid_keeps_the_input_row_order(capsys, tmp_path, synthetic):
    shuffled = synthetic.sample(frac=1.0, random_state=3)
    source, out = tmp_path / "shuffled.parquet", tmp_path / "resid.parquet"
    shuffled.to_parquet(source)
    assert run(capsys, "resid", source, "-o", out, "--window", 40)[0] == 0
    written = pd.read_parquet(out)
    assert written.index.equals(shuffled.index)
    expected = quantreg.rolling_resid(synthetic, window=40).reindex(shuffled.index)
    np.testing.assert_array_equal(written["residual"].to_numpy(), expected.to_numpy())


def test_resid_csv_in_and_out(capsys, tmp_path, synthetic):
    source, out = tmp_path / "panel.csv", tmp_path / "resid.csv"
    synthetic.to_csv(source)  # the index becomes the columns datetime, instrument
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", 40)
    assert code == 0, stderr
    written = pd.read_csv(out, parse_dates=["datetime"]).set_index(["datetime", "instrument"])
    assert list(written.columns) == ["residual"]
    assert written.index.equals(synthetic.index)
    expected = quantreg.rolling_resid(synthetic, window=40)
    # CSV stores the shortest repr of each float64, which reads back exactly.
    np.testing.assert_array_equal(written["residual"].to_numpy(), expected.to_numpy())


def test_resid_parquet_with_index_as_columns(capsys, tmp_path, synthetic):
    source, out = tmp_path / "flat.parquet", tmp_path / "resid.parquet"
    synthetic.reset_index().to_parquet(source, index=False)
    assert run(capsys, "resid", source, "-o", out, "--window", 40)[0] == 0
    written = pd.read_parquet(out)
    assert written.index.equals(synthetic.index)
    expected = quantreg.rolling_resid(synthetic, window=40)
    np.testing.assert_array_equal(written["residual"].to_numpy(), expected.to_numpy())


class _RecordingBar:
    """Stands in for tqdm; records totals and updates."""

    instances: list[_RecordingBar] = []

    def __init__(self, total: int) -> None:
        self.total, self.updates = total, []
        _RecordingBar.instances.append(self)

    def __enter__(self) -> _RecordingBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        self.updates.append(n)


def test_resid_progress_batches_give_the_same_numbers(capsys, tmp_path, monkeypatch, synthetic):
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    synthetic.to_parquet(source)
    monkeypatch.setattr(cli, "_PROGRESS_MIN_ROWS", 0)
    monkeypatch.setattr(cli, "_PROGRESS_BATCHES", 3)
    monkeypatch.setattr(cli, "_progress_factory", lambda: _RecordingBar)
    _RecordingBar.instances.clear()
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", 40, "--out-of-sample")
    assert code == 0, stderr
    (bar,) = _RecordingBar.instances
    assert bar.total == 8 and len(bar.updates) == 3 and sum(bar.updates) == 8
    expected = quantreg.rolling_resid(synthetic, window=40, residual="out_of_sample")
    pd.testing.assert_series_equal(pd.read_parquet(out)["residual"], expected, check_exact=True)


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsys):
    assert not sys.stderr.isatty()
    assert cli._progress_factory() is None


def test_resid_reports_rank_deficient_windows_in_one_line(capsys, tmp_path, synthetic):
    panel = synthetic.copy()
    first = panel.index.get_level_values("instrument") == "A000"
    values = panel["x1"].to_numpy(copy=True)
    values[np.flatnonzero(first)[:60]] = 1.5  # constant regressor in A000's first windows
    panel["x1"] = values
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    panel.to_parquet(source)
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", 40)
    assert code == 0
    assert stderr.count("\n") == 1
    assert stderr.startswith("quantreg: warning: ")
    assert "rank" in stderr.lower()


# ------------------------------------------------------------------------------- errors
def _bad_inputs(tmp: Path, french_path: Path, synthetic: pd.DataFrame) -> dict[str, list]:
    """Build the files of the bad-input cases; return each case's arguments."""
    synthetic.assign(sector="tech").to_parquet(tmp / "text.parquet")
    synthetic.reset_index().drop(columns="instrument").to_csv(tmp / "noinstrument.csv", index=False)
    synthetic.to_csv(tmp / "panel.txt")
    (tmp / "corrupt.parquet").write_text("not a parquet file")
    out = tmp / "out.parquet"
    return {
        "missing file": ["resid", tmp / "nope.parquet", "-o", out, "--window", 60],
        "unknown y": ["resid", french_path, "-o", out, "--window", 60, "--y", "nope"],
        "unknown x": ["resid", french_path, "-o", out, "--window", 60, "--x", "SMB", "nope"],
        "non-numeric": ["resid", tmp / "text.parquet", "-o", out, "--window", 60],
        "window too small": ["resid", french_path, "-o", out, "--window", 3],
        "min_nobs too small": ["resid", french_path, "-o", out, "--window", 60, "--min-nobs", 2],
        "no window": ["resid", french_path, "-o", out],
        "window not positive": ["resid", french_path, "-o", out, "--window", 0],
        "bad halflife": ["resid", french_path, "-o", out, "--window", 60, "--halflife", "-1"],
        "bad input extension": ["resid", tmp / "panel.txt", "-o", out, "--window", 60],
        "bad output extension": ["resid", french_path, "-o", tmp / "out.xlsx", "--window", 60],
        "csv without instrument": ["resid", tmp / "noinstrument.csv", "-o", out, "--window", 9],
        "corrupt parquet": ["resid", tmp / "corrupt.parquet", "-o", out, "--window", 60],
        "missing=raise with NaN": [
            "resid", tmp / "text.parquet", "-o", out, "--window", 40, "--x", "x1", "x2",
            "--y", "y", "--missing", "raise",
        ],
        "output directory missing": [
            "resid", french_path, "-o", tmp / "no" / "such" / "dir.parquet", "--window", 60,
        ],
        "unknown command": ["regress", french_path],
        "no command": [],
    }


BAD_INPUT_MESSAGES = {
    "missing file": r"^quantreg: error: input file not found: '.*nope\.parquet'$",
    "unknown y": r"^quantreg: error: column\(s\) \['nope'\] given to --y/--x not found in "
                 r"'.*french_portfolios\.parquet'; its data columns are \['Mkt-RF', 'SMB', "
                 r"'HML', 'Mom', 'excess_return'\]: pass --y/--x with some of them$",
    "unknown x": r"^quantreg: error: column\(s\) \['nope'\] given to --y/--x not found in '",
    "non-numeric": r"^quantreg: error: column 'sector' of '.*text\.parquet' is not numeric \(dtype "
                   r"str\); choose numeric columns with --y/--x \(by default y is the last column "
                   r"and x every other one\)$",
    "window too small": r"^quantreg: error: --window 3 is smaller than the number of regressors "
                        r"\(5, including the constant\); use --window 5 or more, or fewer --x "
                        r"columns$",
    "min_nobs too small": r"^quantreg: error: --min-nobs 2 must be at least the number of "
                          r"regressors \(5, including the constant\) and at most --window "
                          r"\(60\)$",
    "no window": r"^quantreg: error: --window N is required \(or --expanding for windows that "
                 r"only grow\)$",
    "window not positive": r"^quantreg resid: error: argument --window: expected a positive "
                           r"number of rows, got '0' \(see 'quantreg resid --help'\)$",
    "bad halflife": r"^quantreg resid: error: argument --halflife: expected a positive number, "
                    r"got '-1' \(see 'quantreg resid --help'\)$",
    "bad input extension": r"^quantreg: error: cannot tell the format of input file '.*panel\.txt'"
                           r": expected a name ending in \.parquet, \.pq, \.csv",
    "bad output extension": r"^quantreg: error: cannot tell the format of output file "
                            r"'.*out\.xlsx': expected a name ending in \.parquet",
    "csv without instrument": r"^quantreg: error: '.*noinstrument\.csv' has no column "
                              r"'instrument': the panel needs a \(time, instrument\) "
                              r"MultiIndex or columns 'datetime' and 'instrument' \(found columns "
                              r".*; name other columns with --time-col and --instrument-col$",
    "corrupt parquet": r"^quantreg: error: cannot read '.*corrupt\.parquet' as Parquet: ",
    "missing=raise with NaN": r"^quantreg: error: column 'y' holds \d+ missing value\(s\), first "
                              r"at .*, and --missing raise; drop or fill them, or use --missing drop or "
                              r"--missing skip\.$",
    "output directory missing": r"^quantreg: error: output directory not found: "
                                r"'.*/no/such'$",
    "unknown command": r"^quantreg: error: argument {resid,repartition,demo,fan-li}: invalid "
                       r"choice: 'regress' \(choose from 'resid', 'repartition', 'demo', "
                       r"'fan-li'\)",
    "no command": r"^quantreg: error: the following arguments are required: ",
}


@pytest.mark.parametrize("case", list(BAD_INPUT_MESSAGES))
def test_bad_input_is_one_line_and_exit_code_2(case, capsys, tmp_path, french_path, synthetic):
    args = _bad_inputs(tmp_path, french_path, synthetic)[case]
    code, stdout, stderr = run(capsys, *args)
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert re.match(BAD_INPUT_MESSAGES[case], stderr.rstrip("\n")), stderr
    assert not (tmp_path / "out.parquet").exists()


def test_help_exits_zero(capsys):
    code, stdout, _ = run(capsys, "resid", "--help")
    assert code == 0
    assert "--out-of-sample" in stdout and "--halflife" in stdout and "--missing" in stdout


def test_subprocess_python_dash_m(tmp_path, french_path, french):
    """``python -m quantreg.cli`` and ``python -m quantreg`` work as console commands."""
    env = dict(os.environ)
    root = str(Path(quantreg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    out = tmp_path / "resid.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "quantreg.cli", "resid", str(french_path), "-o", str(out),
         "--window", str(WINDOW)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("quantreg resid: 24,570 rows, 30 instruments")
    expected = quantreg.rolling_resid(french, window=WINDOW)
    pd.testing.assert_series_equal(pd.read_parquet(out)["residual"], expected, check_exact=True)

    failed = subprocess.run(
        [sys.executable, "-m", "quantreg", "resid", str(tmp_path / "nope.csv"), "-o",
         str(out), "--window", "60"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.startswith("quantreg: error: input file not found: ")
    assert failed.stderr.count("\n") == 1


# ------------------------------------------------------------------------------- demo
def test_demo_prints_the_table_and_writes_a_png(capsys, tmp_path, french):
    png = tmp_path / "demo.png"
    code, stdout, stderr = run(capsys, "demo", "--output", png)
    assert code == 0, stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000
    from matplotlib.image import imread

    height, width = imread(png).shape[:2]
    assert width >= 800 and height >= 600

    lines = stdout.splitlines()
    assert lines[0].startswith("Rolling 60-month four-factor regressions of the 30 Kenneth French")
    header = lines[1].split()
    assert header == ["family", "mean|resid|", "%", "avg", "R2", "alpha", "%",
                      "b_Mkt-RF", "b_SMB", "b_HML", "b_Mom"]
    rows = {line.split()[0]: line.split() for line in lines[3:3 + 30]}
    assert list(rows) == list(FRENCH_PORTFOLIO_GROUPS)
    assert lines[-1] == (
        f"wrote {png}: rolling betas and residual volatility of NoDur, BusEq, S1V5, S5V1"
    )

    # the printed numbers are the library's, rounded to 2 decimals
    result = quantreg.rolling_ols(french, window=WINDOW)
    mean_abs = result.resid.abs().groupby(level="instrument").mean() * 100
    avg_r2 = result.rsquared.groupby(level="instrument").mean()
    latest = result.params.groupby(level="instrument").last()
    for name, fields in rows.items():
        assert fields[1] == FRENCH_PORTFOLIO_GROUPS[name]
        printed = np.array(fields[2:], dtype=float)
        expected = np.r_[mean_abs[name], avg_r2[name], latest.loc[name, "const"] * 100,
                         latest.loc[name, ["Mkt-RF", "SMB", "HML", "Mom"]].to_numpy()]
        np.testing.assert_allclose(printed, expected, atol=0.005 + 1e-12)


def test_demo_without_matplotlib_still_prints_the_table(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    png = tmp_path / "demo.png"
    code, stdout, _ = run(capsys, "demo", "--output", png)
    assert code == 0
    assert "NoDur" in stdout and "S5M5" in stdout
    assert stdout.splitlines()[-1] == (
        "matplotlib is not installed: no figure written (pip install 'quantreg[plot]')"
    )
    assert not png.exists()


# ------------------------------------------------------------------------------- fan-li
def test_fan_li_unavailable(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "quantreg.selection", None)
    code, stdout, stderr = run(capsys, "fan-li")
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith(
        "quantreg fan-li: the variable-selection simulation (quantreg.selection.simulate_fan_li) "
        "is not available: "
    )


def test_fan_li_prints_the_simulation_table(capsys):
    from quantreg.selection import simulate_fan_li

    code, stdout, stderr = run(capsys, "fan-li", "--n", 40, "--sigma", 1, "--n-reps", 3,
                               "--seed", 5, "--criterion", "bic")
    assert code == 0, stderr
    header, table = stdout.split("\n", 1)
    assert header == "Fan & Li (2001) simulation: n = 40, sigma = 1, 3 replications (seed 5), " \
                     "tuning by BIC"
    expected = simulate_fan_li(40, 1.0, n_reps=3, seed=5, criterion="bic")
    assert table == expected.to_string(float_format=lambda v: f"{v:.2f}") + "\n"


def test_fan_li_bad_parameter(capsys):
    code, stdout, stderr = run(capsys, "fan-li", "--n", 5)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1
    assert re.match(r"^quantreg: error: The 'n' parameter of simulate_fan_li .*Got 5", stderr)


# ------------------------------------------------------------------------------- version
def test_version_prints_the_package_version(capsys):
    from importlib.metadata import version

    code, stdout, stderr = run(capsys, "--version")
    assert code == 0 and stderr == ""
    assert stdout == f"quantreg {quantreg.__version__}\n"
    assert quantreg.__version__ == version("quantreg")


# ------------------------------------------------------------------------------- factors
@pytest.fixture(scope="module")
def factor_data() -> tuple[pd.Series, pd.DataFrame]:
    """Returns of 6 assets on 3 factors (a factor table with more dates than the returns)."""
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2021-01-01", periods=140)
    factors = pd.DataFrame(rng.standard_normal((140, 3)), index=dates,
                           columns=["mkt", "smb", "hml"]).rename_axis("datetime")
    panel = make_panel(6, 130, 1, window=30, nan_frac=0.02, seed=9)["y"]
    times = dates[10:][panel.index.codes[0]]
    index = pd.MultiIndex.from_arrays([times, panel.index.get_level_values("instrument")],
                                      names=["datetime", "instrument"])
    beta = rng.standard_normal(3)
    returns = pd.Series(factors.reindex(times).to_numpy() @ beta + panel.to_numpy(),
                        index=index, name="ret")
    return returns, factors


def test_factors_file_equals_python(capsys, tmp_path, factor_data):
    returns, factors = factor_data
    source, table, out = tmp_path / "ret.parquet", tmp_path / "ff.csv", tmp_path / "r.parquet"
    returns.to_frame().to_parquet(source)
    factors.to_csv(table)  # columns datetime, mkt, smb, hml
    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--factors", table,
                               "--window", 30)
    assert code == 0, stderr
    expected = quantreg.rolling_ols(returns, factors=factors, window=30)
    got = pd.read_parquet(out)["residual"]
    np.testing.assert_allclose(got.to_numpy(), expected.resid.to_numpy(), rtol=0, atol=1e-12)
    assert got.index.equals(returns.index)
    n_nan = int(expected.resid.isna().sum())
    assert f"({n_nan:,} NaN: " in stdout

    # --x chooses factors; a Parquet factor table keeps its datetime index
    factors.to_parquet(tmp_path / "ff.parquet")
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--factors", tmp_path / "ff.parquet",
                          "--x", "smb", "mkt", "--window", 25, "--out-of-sample")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(returns, factors=factors[["smb", "mkt"]], window=25,
                                      residual="out_of_sample")
    np.testing.assert_allclose(pd.read_parquet(out)["residual"].to_numpy(), expected.to_numpy(),
                               rtol=0, atol=1e-12)


def test_factors_absent_dates_need_missing_drop(capsys, tmp_path, factor_data):
    returns, factors = factor_data
    short = factors.iloc[:-20]  # the last 10 dates of the returns have no factors
    source, table, out = tmp_path / "ret.parquet", tmp_path / "ff.parquet", tmp_path / "r.parquet"
    returns.to_frame().to_parquet(source)
    short.to_parquet(table)
    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--factors", table,
                               "--window", 30)
    assert code == 2 and stdout == ""
    assert re.match(r"^quantreg: error: \d+ date\(s\) of the returns are not in the factor table, "
                    r"first .*pass --missing drop to treat those rows as missing\.$", stderr), stderr
    assert "missing=" not in stderr

    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--factors", table,
                               "--window", 30, "--missing", "drop")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(returns, factors=short, window=30, missing="drop")
    np.testing.assert_allclose(pd.read_parquet(out)["residual"].to_numpy(), expected.to_numpy(),
                               rtol=0, atol=1e-12)


def test_factors_errors(capsys, tmp_path, factor_data):
    returns, factors = factor_data
    source, out = tmp_path / "ret.parquet", tmp_path / "r.parquet"
    returns.to_frame().to_parquet(source)
    factors.reset_index().rename(columns={"datetime": "day"}).to_csv(tmp_path / "day.csv",
                                                                      index=False)
    pd.concat([factors, factors.iloc[:2]]).to_parquet(tmp_path / "dup.parquet")
    factors.to_parquet(tmp_path / "ff.parquet")
    cases = {
        "no time column": (["--factors", tmp_path / "day.csv"],
                           r"the factor table '.*day\.csv' has no column 'datetime' \(its columns "
                           r"are \['day', 'mkt', 'smb', 'hml'\]\): name its date column "
                           r"'datetime', or give its name with --time-col$"),
        "unknown --x": (["--factors", tmp_path / "ff.parquet", "--x", "mkt", "umd"],
                        r"column\(s\) \['umd'\] given to --x not found in the factor table "
                        r"'.*ff\.parquet'; its columns are \['mkt', 'smb', 'hml'\]"),
        "duplicated dates": (["--factors", tmp_path / "dup.parquet"],
                             r"the factor table '.*dup\.parquet' has 2 duplicated date\(s\), "
                             r"first \['2021-01-01 00:00:00', '2021-01-04 00:00:00'\]: it needs "
                             r"one row per date$"),
        "missing file": (["--factors", tmp_path / "nope.csv"],
                         r"factor table \(--factors\) file not found: '.*nope\.csv'$"),
        "window too small": (["--factors", tmp_path / "ff.parquet", "--window", 3],
                             r"--window 3 is smaller than the number of regressors \(4, "
                             r"including the constant\)"),
    }
    for name, (flags, message) in cases.items():
        window = [] if "--window" in flags else ["--window", 30]
        code, stdout, stderr = run(capsys, "resid", source, "-o", out, *window, *flags)
        assert code == 2 and stdout == "", name
        assert stderr.count("\n") == 1, (name, stderr)
        assert re.match(r"^quantreg: error: " + message, stderr.strip()), (name, stderr)
    assert not out.exists()

    from quantreg.io import write_panel

    dataset = write_panel(returns.to_frame(), tmp_path / "dataset")
    code, _, stderr = run(capsys, "resid", dataset, "-o", tmp_path / "o", "--window", 30,
                          "--factors", tmp_path / "ff.parquet")
    assert code == 2 and "--factors works with a file INPUT" in stderr


# ------------------------------------------------------------------------------- calendar
@pytest.fixture(scope="module")
def irregular() -> pd.DataFrame:
    """Daily stamps with gaps (weekends, random holes), so 90D holds a varying number of rows."""
    panel = make_panel(5, 200, 2, window=30, nan_frac=0.02, seed=13)
    rng = np.random.default_rng(13)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 4, 200)), "D")
    times = days[panel.index.codes[0]]
    return panel.set_axis(pd.MultiIndex.from_arrays(
        [times, panel.index.get_level_values("instrument")], names=["datetime", "instrument"]))


def test_calendar_window_equals_python(capsys, tmp_path, irregular):
    source, out = tmp_path / "panel.csv", tmp_path / "resid.parquet"
    irregular.to_csv(source)
    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--window", "90D")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(irregular, window="90D")
    np.testing.assert_array_equal(pd.read_parquet(out)["residual"].to_numpy(), expected.to_numpy())

    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", "60D", "--halflife",
                          "20D", "--min-nobs", 10)
    assert code == 0, stderr
    expected = quantreg.rolling_resid(irregular, window="60D", halflife="20D", min_nobs=10)
    np.testing.assert_array_equal(pd.read_parquet(out)["residual"].to_numpy(), expected.to_numpy())


@pytest.mark.parametrize(("flags", "message"), [
    (["--window", "1M"], r"^quantreg resid: error: argument --window: expected a positive number "
                         r"of rows or a fixed length of time such as 90D, 12h or 30min \(months, "
                         r"years and business days have no fixed length: use e\.g\. 30D or "
                         r"365D\), got '1M'"),
    (["--window", "0D"], r"^quantreg resid: error: argument --window: expected a positive number"),
    (["--window", "90D", "--expanding"],
     r"^quantreg: error: --expanding does not combine with a calendar --window \(90D\): a calendar "
     r"window is estimated as soon as it holds --min-nobs rows; leave out --expanding$"),
    (["--window", "90D", "--halflife", "30"],
     r"^quantreg: error: --halflife 30 is a number of rows, but --window 90D is a length of time: "
     r"give --halflife as a length of time too, e\.g\. --halflife 30D$"),
    (["--window", "60", "--halflife", "30D"],
     r"^quantreg: error: --halflife 30D is a length of time, which needs a calendar window such "
     r"as --window 90D"),
    (["--window", "60", "--halflife", "soon"],
     r"^quantreg resid: error: argument --halflife: expected a positive number of rows or a fixed "
     r"length of time"),
])
def test_calendar_window_errors(capsys, tmp_path, french_path, flags, message):
    code, stdout, stderr = run(capsys, "resid", french_path, "-o", tmp_path / "r.parquet", *flags)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1
    assert re.match(message, stderr), stderr


# ------------------------------------------------------------------------------- columns
def test_time_and_instrument_columns(capsys, tmp_path, synthetic):
    flat = synthetic.reset_index().rename(columns={"datetime": "date", "instrument": "ticker"})
    flat["date"] = flat["date"].dt.strftime("%Y-%m-%d")
    source, out = tmp_path / "panel.csv", tmp_path / "resid.csv"
    flat.to_csv(source, index=False)
    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--window", 40)
    assert code == 2 and re.match(r"^quantreg: error: '.*panel\.csv' has no column 'datetime' or "
                                  r"'instrument'.*name other columns with --time-col and "
                                  r"--instrument-col$", stderr), stderr

    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--window", 40,
                               "--time-col", "date", "--instrument-col", "ticker")
    assert code == 0, stderr
    written = pd.read_csv(out, dtype={"ticker": str})
    assert list(written.columns) == ["date", "ticker", "residual"]
    assert written["ticker"].tolist() == flat["ticker"].tolist()  # the input's rows and order
    expected = quantreg.rolling_resid(synthetic, window=40)
    np.testing.assert_array_equal(written["residual"].to_numpy(), expected.to_numpy())

    # a MultiIndex Parquet file with other level names
    named = synthetic.rename_axis(["date", "ticker"])
    named.to_parquet(tmp_path / "named.parquet")
    code, _, stderr = run(capsys, "resid", tmp_path / "named.parquet", "-o", tmp_path / "n.parquet",
                          "--window", 40, "--time-col", "date", "--instrument-col", "ticker")
    assert code == 0, stderr
    got = pd.read_parquet(tmp_path / "n.parquet")
    assert list(got.index.names) == ["date", "ticker"]
    np.testing.assert_array_equal(got["residual"].to_numpy(), expected.to_numpy())

    for flags, message in (
        (["--time-col", "when"], r"has no index level 'when' \(--time-col\); its index levels are "
                                 r"\['date', 'ticker'\]$"),
        (["--time-col", "date", "--instrument-col", "date"],
         r"--time-col and --instrument-col name the same column 'date'"),
    ):
        code, _, stderr = run(capsys, "resid", tmp_path / "named.parquet", "-o",
                              tmp_path / "n.parquet", "--window", 40, *flags)
        assert code == 2 and re.search(message, stderr.strip()), stderr


# ------------------------------------------------------------------------------- run totals
@pytest.fixture(scope="module")
def degenerate() -> pd.DataFrame:
    """Rank-deficient windows in three instruments, NaN rows, warm-up rows."""
    panel = make_panel(8, 150, 2, window=40, nan_frac=0.03, seed=21)
    values = panel["x1"].to_numpy(copy=True)
    names = panel.index.get_level_values("instrument")
    for name in ("A000", "A003", "A006"):
        values[np.flatnonzero(names == name)[:70]] = 1.5  # constant in their first windows
    return panel.assign(x1=values)


@pytest.mark.parametrize("batches", ["one call", "progress batches", "memory batches"])
def test_one_warning_with_the_runs_totals(capsys, tmp_path, monkeypatch, degenerate, batches):
    if batches == "progress batches":
        monkeypatch.setattr(cli, "_PROGRESS_MIN_ROWS", 0)
        monkeypatch.setattr(cli, "_PROGRESS_BATCHES", 4)
        monkeypatch.setattr(cli, "_progress_factory", lambda: _RecordingBar)
    elif batches == "memory batches":
        monkeypatch.setattr(cli, "_BATCH_ROWS", 300)
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    degenerate.to_parquet(source)
    code, stdout, stderr = run(capsys, "resid", source, "-o", out, "--window", 40)
    assert code == 0
    with pytest.warns(quantreg.RankDeficientWindowWarning) as record:
        result = quantreg.rolling_ols(degenerate, window=40)
    (library,) = record
    n_rank = int((result.status == "rank_deficient").sum())
    assert n_rank > 0
    assert str(library.message).startswith(f"{n_rank} of {len(degenerate)} windows")
    assert stderr == (
        f"quantreg: warning: {n_rank:,} of {len(degenerate):,} windows are rank deficient (a "
        "regressor constant within the window, or collinear regressors); their residuals are "
        "NaN.\n"
    )
    np.testing.assert_array_equal(pd.read_parquet(out)["residual"].to_numpy(),
                                  result.resid.to_numpy())
    nan = result.resid.isna()
    reasons = result.status[nan].value_counts()
    breakdown = ", ".join(f"{reasons[s]:,} {s}" for s in ("warmup", "missing", "rank_deficient")
                          if reasons.get(s))
    assert reasons["warmup"] and reasons["missing"] and reasons["rank_deficient"]
    assert f"({int(nan.sum()):,} NaN: {breakdown}) -> " in stdout


def test_constant_column_hint_in_cli_words(capsys, tmp_path, synthetic):
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    synthetic.assign(x2=2.0).to_parquet(source)
    code, _, stderr = run(capsys, "resid", source, "-o", out, "--window", 40)
    assert code == 0
    assert stderr.count("\n") == 1
    assert stderr.rstrip().endswith(
        "Column(s) ['x2'] are constant in every row and duplicate the intercept: leave them out "
        "of --x, or pass --no-constant to use one as the intercept."
    )
    assert "add_constant" not in stderr and "result.status" not in stderr


def test_out_of_sample_nan_reasons(capsys, tmp_path, synthetic):
    source, out = tmp_path / "panel.parquet", tmp_path / "resid.parquet"
    synthetic.to_parquet(source)
    code, stdout, _ = run(capsys, "resid", source, "-o", out, "--window", 40, "--out-of-sample")
    assert code == 0
    result = quantreg.rolling_ols(synthetic, window=40, residual="out_of_sample")
    nan = result.resid.isna()
    first = int((nan & (result.status == "ok")).sum())  # the first estimated row of each instrument
    assert first >= 7
    assert re.search(rf"\({int(nan.sum()):,} NaN: [0-9,]+ warmup, [0-9,]+ missing, {first} "
                     r"no_previous_fit\) -> ", stdout), stdout


def test_library_messages_in_cli_words():
    from quantreg._cli_support import cli_words

    cases = {
        "Pass y= and x= with existing column names.": "Pass --y and --x with existing column names.",
        "or leave it out of x/y.": "or leave it out of --y/--x.",
        "there are no regressors: pass x= columns or keep add_constant=True.":
            "there are no regressors: pass --x columns or leave out --no-constant.",
        "and missing='raise'; fill or drop them, or use missing='drop' or 'skip'.":
            "and --missing raise; fill or drop them, or use --missing drop or --missing skip.",
        "or pass missing='drop' to treat those rows as missing.":
            "or pass --missing drop to treat those rows as missing.",
        "drop them, or pass add_constant=False to use one as the intercept.":
            "drop them, or pass --no-constant to use one as the intercept.",
        "expanding=True does not combine with a calendar window": "--expanding does not combine "
                                                                  "with a calendar window",
        "pass e.g. halflife='30D' or pd.Timedelta(days=30), not 60.": "pass e.g. --halflife 30D, "
                                                                       "not 60.",
        "(only with a calendar window such as window='90D')":
            "(only with a calendar window such as --window 90D)",
        "min_nobs (3) must be at least": "--min-nobs (3) must be at least",
        "their outputs are NaN. Inspect result.status to find them.": "their outputs are NaN.",
    }
    for message, expected in cases.items():
        assert cli_words(message) == expected
