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
        f"{n_rows - n_nan:,} residuals ({n_nan:,} NaN) -> {out} in "
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
    "non-numeric": r"^quantreg: error: column 'sector' has non-numeric dtype str; convert it with "
                   r"pd\.to_numeric\(df\['sector'\]\) or leave it out of x/y\.$",
    "window too small": r"^quantreg: error: --window 3 is smaller than the number of regressors "
                        r"\(5, including the constant\); use --window 5 or more, or fewer --x "
                        r"columns$",
    "min_nobs too small": r"^quantreg: error: --min-nobs 2 must be at least the number of "
                          r"regressors \(5, including the constant\) and at most --window "
                          r"\(60\)$",
    "no window": r"^quantreg: error: --window N is required \(or --expanding for windows that "
                 r"only grow\)$",
    "window not positive": r"^quantreg resid: error: argument --window: expected a positive "
                           r"integer, got '0' \(see 'quantreg resid --help'\)$",
    "bad halflife": r"^quantreg resid: error: argument --halflife: expected a positive number, "
                    r"got '-1' \(see 'quantreg resid --help'\)$",
    "bad input extension": r"^quantreg: error: cannot tell the format of input file '.*panel\.txt'"
                           r": expected a name ending in \.parquet, \.pq, \.csv",
    "bad output extension": r"^quantreg: error: cannot tell the format of output file "
                            r"'.*out\.xlsx': expected a name ending in \.parquet",
    "csv without instrument": r"^quantreg: error: '.*noinstrument\.csv' has no column "
                              r"'instrument': the panel needs a \(datetime, instrument\) "
                              r"MultiIndex or columns 'datetime' and 'instrument' \(found columns",
    "corrupt parquet": r"^quantreg: error: cannot read '.*corrupt\.parquet' as Parquet: ",
    "missing=raise with NaN": r"^quantreg: error: column 'y' holds \d+ missing value\(s\), first "
                              r"at .*, and missing='raise'",
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
