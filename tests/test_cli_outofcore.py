"""Tests of the out-of-core mode of the ``quantreg resid`` command (INPUT is a dataset directory).

Reference: :func:`quantreg.rolling_resid` on the whole panel in memory. The directory mode runs
the same kernel on one partition (whole instruments) at a time, so the residuals must be equal
exactly (tolerance 0), on every row and on a sample of instruments read back alone.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import quantreg
from quantreg import cli
from quantreg import io as qio
from quantreg.cli import main
from quantreg.datasets import make_panel
from quantreg.exceptions import IncompleteDatasetError
from quantreg.io import read_panel, write_panel

WINDOW = 30


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """NaN, unbalanced starts, instruments shorter than the window."""
    return make_panel(16, 120, 2, window=WINDOW, nan_frac=0.03, seed=8)


@pytest.fixture(scope="module")
def expected(panel) -> pd.Series:
    return quantreg.rolling_resid(panel, window=WINDOW, residual="out_of_sample").sort_index()


@pytest.fixture(params=["instrument", 5], ids=["by-instrument", "5-buckets"])
def dataset(request, panel, tmp_path):
    return write_panel(panel, tmp_path / "panel", partition=request.param)


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def resid_args(src, out, *extra):
    return ("resid", src, "-o", out, "--window", WINDOW, "--out-of-sample", *extra)


def outputs(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def test_directory_mode_equals_in_memory(capsys, tmp_path, dataset, expected, panel):
    out = tmp_path / "resid"
    code, stdout, stderr = run(capsys, *resid_args(dataset, out))
    assert code == 0, stderr
    n_parts = len(qio.list_partitions(dataset))
    assert f"{n_parts} partitions (0 up to date, 0 recomputed, {n_parts} new)" in stdout
    assert f"{len(expected):,} rows computed" in stdout
    # NaN rows by status, the in-memory fit's
    full = quantreg.rolling_ols(panel, window=WINDOW, residual="out_of_sample")
    nan = full.resid.isna()
    reasons = full.status[nan].value_counts()
    n_first = int((nan & (full.status == "ok")).sum())
    breakdown = f"{reasons['warmup']:,} warmup, {reasons['missing']:,} missing, {n_first} " \
                "no_previous_fit"
    assert f"{len(expected) - int(nan.sum()):,} residuals ({int(nan.sum()):,} NaN: {breakdown}) ->" \
        in stdout, stdout
    files = outputs(out)
    assert sum(f.endswith("/residual.parquet") for f in files) == n_parts  # one per partition
    # nothing else: no temporary file left behind
    assert [f for f in files if not f.endswith("/residual.parquet")] == [
        "_quantreg.json", "_quantreg_job.json"]
    got = read_panel(out)
    assert list(got.columns) == ["residual"]
    pd.testing.assert_series_equal(got["residual"], expected, check_exact=True,
                                   check_freq=False)
    sample = ["A001", "A009", "A015"]  # A015 is shorter than the window: all NaN
    some = read_panel(out, instruments=sample)["residual"]
    pd.testing.assert_series_equal(some, expected.loc[(slice(None), sample)], check_exact=True,
                                   check_freq=False)


def test_interrupted_run_resumes_to_the_same_output(capsys, tmp_path, dataset, expected,
                                                    monkeypatch):
    out = tmp_path / "resid"
    n_parts = len(qio.list_partitions(dataset))
    calls = {"n": 0}
    real_write = qio.pq.write_table

    def dies_on_third_write(table, where, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # killed half-way through writing the third partition
            where.write(b"PAR1 partial")
            raise KeyboardInterrupt
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(qio.pq, "write_table", dies_on_third_write)
    code, stdout, stderr = run(capsys, *resid_args(dataset, out))
    assert (code, stdout) == (130, "")
    assert stderr == "quantreg: interrupted; run the same command again to resume\n"
    done = [f for f in outputs(out) if f.endswith("residual.parquet")]
    assert len(done) == 2  # two complete files; the third was never renamed into place
    assert not [f for f in outputs(out) if f.endswith(".tmp")]  # its temporary file removed
    monkeypatch.undo()
    with pytest.raises(IncompleteDatasetError, match=r"incomplete: 2 of \d+ partitions were "
                       r"written .*run the same 'quantreg resid' command again to finish it"):
        read_panel(out)

    # A crash may also leave a temporary file (e.g. power loss): it must not count as done, and
    # is not deleted (quantreg cannot tell it from a file of the user's).
    victim = out / qio.list_partitions(dataset)[-1].key
    victim.mkdir(parents=True, exist_ok=True)
    (victim / ".residual.parquet.tmp-99999").write_bytes(b"PAR1 partial")

    code, stdout, stderr = run(capsys, *resid_args(dataset, out))
    assert code == 0, stderr
    assert f"{n_parts} partitions (2 up to date, 0 recomputed, {n_parts - 2} new)" in stdout
    assert [f for f in outputs(out) if ".tmp" in f] == [
        f"{victim.name}/.residual.parquet.tmp-99999"]
    got = read_panel(out)["residual"]
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_freq=False)

    code, stdout, _ = run(capsys, *resid_args(dataset, out))  # all done: nothing recomputed
    assert code == 0
    assert f"({n_parts} up to date, 0 recomputed, 0 new), 0 rows computed" in stdout


def test_progress_bar_counts_partitions(capsys, tmp_path, dataset, monkeypatch):
    bars = []

    class Bar:
        def __init__(self, total, initial=0):
            self.total, self.n, self.closed = total, initial, False
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    monkeypatch.setattr(cli, "_progress_factory", lambda unit="instrument": Bar)
    code, _, stderr = run(capsys, *resid_args(dataset, tmp_path / "r"))
    assert code == 0, stderr
    (bar,) = bars
    n_parts = len(qio.list_partitions(dataset))
    assert (bar.total, bar.n, bar.closed) == (n_parts, n_parts, True)


def test_options_and_columns_are_passed_through(capsys, tmp_path, panel):
    src = write_panel(panel, tmp_path / "p", partition=3)
    code, _, stderr = run(capsys, "resid", src, "-o", tmp_path / "r", "--window", 25,
                          "--y", "x1", "--x", "x2", "--missing", "skip", "--no-constant")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(panel, y="x1", x=["x2"], window=25, missing="skip",
                                      add_constant=False).sort_index()
    got = read_panel(tmp_path / "r")["residual"]
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_freq=False)


def test_errors(capsys, tmp_path, panel):
    src = write_panel(panel, tmp_path / "p", partition=2)
    out = tmp_path / "r"
    assert run(capsys, "resid", src, "-o", out, "--window", WINDOW)[0] == 0
    code, _, err = run(capsys, "resid", src, "-o", out, "--window", WINDOW + 1)
    assert code == 2
    assert err.startswith("quantreg: error: ") and "holds the results of another run" in err
    assert re.search(r"holds the results of another run \(quantreg resid .*/p -o .*/r --window "
                     r"30\); to resume, repeat that command; otherwise choose a new -o "
                     r"directory or delete this one$", err.strip()), err

    (tmp_path / "file.parquet").write_bytes(b"x")
    code, _, err = run(capsys, "resid", src, "-o", tmp_path / "file.parquet", "--window", 30)
    assert code == 2 and "OUTPUT must be a directory, but it is a file" in err

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "resid", src, "-o", foreign, "--window", 30)
    assert code == 2 and "output directory exists, is not empty and was not written by" in err
    assert (foreign / "notes.txt").read_text() == "mine"

    by_year = tmp_path / "by_year"  # hive-partitioned, but not by instrument
    flat = panel.reset_index().assign(year=lambda f: f["datetime"].dt.year)
    import pyarrow as pa
    import pyarrow.dataset as ds

    ds.write_dataset(pa.Table.from_pandas(flat, preserve_index=False), by_year, format="parquet",
                     partitioning=["year"], partitioning_flavor="hive")
    code, out, err = run(capsys, "resid", by_year, "-o", tmp_path / "r2", "--window", 30)
    assert code == 0, err  # not refused any more: bucketed first (tests/test_buckets.py)
    assert "quantreg repartition: " in out

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "resid", empty, "-o", tmp_path / "r3", "--window", 30)
    assert code == 2 and "holds no Parquet files" in err


def test_rank_deficient_partitions_warn_once(capsys, tmp_path):
    """A regressor constant in one partition: NaN there, one aggregated warning line."""
    panel = make_panel(4, 60, 1, nan_frac=0.0, unbalanced=False, seed=2)
    rows = panel.index.get_level_values("instrument") == "A001"
    panel.loc[rows, "x1"] = 3.0
    src = write_panel(panel, tmp_path / "p")
    code, _, err = run(capsys, "resid", src, "-o", tmp_path / "r", "--window", 20)
    assert code == 0
    with pytest.warns(quantreg.exceptions.RankDeficientWindowWarning, match="rank deficient"):
        full = quantreg.rolling_ols(panel, window=20)
    n_rank = int((full.status == "rank_deficient").sum())
    assert err == (f"quantreg: warning: {n_rank} of {len(panel)} windows are rank deficient (a "
                   "regressor constant within the window, or collinear regressors); their "
                   "residuals are NaN.\n")
    got = read_panel(tmp_path / "r")["residual"]
    expected = full.resid.sort_index()
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_freq=False)
    assert got.xs("A001", level="instrument").isna().all()
    job = json.loads((tmp_path / "r" / "_quantreg_job.json").read_text())
    assert job["options"]["window"] == 20
    assert np.isfinite(got.to_numpy()).sum() > 100


def test_time_and_instrument_columns_of_a_dataset(capsys, tmp_path, panel):
    """A dataset records its column names: --time-col/--instrument-col may repeat them only."""
    src = write_panel(panel.rename_axis(["date", "ticker"]), tmp_path / "p", partition=2)
    code, _, stderr = run(capsys, "resid", src, "-o", tmp_path / "r", "--window", WINDOW,
                          "--time-col", "date", "--instrument-col", "ticker")
    assert code == 0, stderr
    expected = quantreg.rolling_resid(panel, window=WINDOW).sort_index()
    got = read_panel(tmp_path / "r")["residual"]
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    code, _, stderr = run(capsys, "resid", src, "-o", tmp_path / "r2", "--window", WINDOW,
                          "--time-col", "datetime")
    assert code == 2
    assert re.match(r"^quantreg: error: --time-col datetime does not match the dataset '.*p', whose "
                    r"time and instrument columns are 'date' and 'ticker' \(recorded when it was "
                    r"written\): leave out --time-col$", stderr.strip()), stderr
