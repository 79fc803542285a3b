"""Tests of quantreg.buckets (``quantreg.io.repartition``, ``quantreg repartition``) and of
``quantreg resid DIR`` on datasets stored by date.

References: the panel that was written (repartition must return every row exactly once,
unchanged), and :func:`quantreg.rolling_resid` on the whole panel in memory (the residuals of the
out-of-core job must be equal exactly, tolerance 0). Datasets are real Parquet files in the
layouts vendors and other tools write: a folder of per-day files, hive ``date=``,
``year=/month=``, ``date=/instrument=``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import quantreg
from quantreg import io as qio
from quantreg.cli import main
from quantreg.datasets import make_panel
from quantreg.exceptions import IncompleteDatasetError, MissingColumnError, UnsafeOutputError
from quantreg.io import bucket_of, read_panel, repartition

WINDOW = 20
MEMORY = "1M"  # the smallest bound: about 4,700 rows per chunk here, so several chunks


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """400 instruments x 60 days (24,000 rows, NaN, unbalanced starts), sorted."""
    return make_panel(400, 60, 2, window=WINDOW, nan_frac=0.02, seed=4).sort_index()


@pytest.fixture(scope="module")
def expected(panel) -> pd.Series:
    return quantreg.rolling_resid(panel, window=WINDOW).sort_index()


def per_day_files(panel: pd.DataFrame, root: Path) -> Path:
    """One Parquet file per day, as vendors deliver them."""
    root.mkdir()
    for day, rows in panel.reset_index().groupby("datetime"):
        rows.to_parquet(root / f"{day:%Y%m%d}.parquet", index=False)
    return root


def hive(panel: pd.DataFrame, root: Path, keys: list[str]) -> Path:
    """pyarrow's own hive writer (as Spark/Dask/pyarrow write datasets)."""
    flat = panel.reset_index()
    flat["date"] = flat["datetime"].dt.strftime("%Y-%m-%d")
    flat["year"] = flat["datetime"].dt.year.astype(str)
    flat["month"] = flat["datetime"].dt.month.astype(str)
    flat = flat[[c for c in flat.columns if c not in {"date", "year", "month"} - set(keys)]]
    ds.write_dataset(pa.Table.from_pandas(flat, preserve_index=False), root, format="parquet",
                     partitioning=keys, partitioning_flavor="hive", max_partitions=4096)
    return root


LAYOUTS = {
    "per-day files": lambda p, root: per_day_files(p, root),
    "date=": lambda p, root: hive(p, root, ["date"]),
    "year=/month=": lambda p, root: hive(p, root, ["year", "month"]),
    "year=/instrument=": lambda p, root: hive(p, root, ["year", "instrument"]),
}


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def data_files(root: Path) -> list[str]:
    return [f for f in files(root) if f.endswith(".parquet")]


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_same_rows(got: pd.DataFrame, panel: pd.DataFrame) -> None:
    """Every row exactly once, values unchanged (read_panel refuses duplicated rows)."""
    got = got.copy()
    got.index = got.index.set_levels(got.index.levels[1].astype(str), level=1)
    pd.testing.assert_frame_equal(got, panel, check_exact=True, check_freq=False,
                                  check_index_type=False)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_any_layout_is_bucketed_by_instrument(tmp_path, panel, layout):
    source = LAYOUTS[layout](panel, tmp_path / "src")
    before = {f: (tmp_path / "src" / f).read_bytes() for f in files(source)}
    report = repartition(source, tmp_path / "dst", buckets=5, memory=MEMORY)
    assert (report.buckets, report.rows, report.written) == (5, len(panel), report.chunks)
    assert report.chunks >= 3  # memory-bound chunks, not one read of everything
    dst = tmp_path / "dst"
    assert len(data_files(dst)) == 5 * report.chunks  # one file per bucket and chunk
    assert_same_rows(read_panel(dst), panel)
    for bucket in range(5):  # every instrument in its own hash bucket, nowhere else
        rows = pd.concat([pd.read_parquet(dst / f) for f in data_files(dst)
                          if f.startswith(f"bucket={bucket}/")])
        assert set(bucket_of(rows["instrument"].unique(), 5)) <= {bucket}
    meta = json.loads((dst / qio.SIDECAR).read_text())
    assert meta["complete"] and meta["writer"] == "quantreg repartition"
    assert sum(v["rows"] for v in meta["files"].values()) == len(panel)
    assert {f: (tmp_path / "src" / f).read_bytes() for f in files(source)} == before


@pytest.mark.parametrize("layout", ["per-day files", "year=/instrument="])
def test_resid_on_a_date_layout_equals_in_memory(capsys, tmp_path, panel, expected, layout):
    source = LAYOUTS[layout](panel, tmp_path / "src")
    out = tmp_path / "out"
    args = ("resid", source, "-o", out, "--window", WINDOW, "--memory", MEMORY)
    code, stdout, stderr = run(capsys, *args)
    assert code == 0, stderr
    assert "quantreg repartition: " in stdout and f"{len(panel):,} rows moved" in stdout
    got = read_panel(out)["residual"]
    pd.testing.assert_series_equal(got.rename_axis(expected.index.names), expected,
                                   check_exact=True, check_freq=False, check_index_type=False)
    assert np.isfinite(got.to_numpy()).sum() > len(panel) // 2
    code, stdout, _ = run(capsys, *args)  # unchanged input: nothing moved, nothing computed
    assert code == 0 and "0 rows moved" in stdout and "0 rows computed" in stdout


def test_interrupted_repartition_resumes_without_duplicates_or_losses(capsys, tmp_path, panel,
                                                                      monkeypatch):
    source = per_day_files(panel, tmp_path / "src")
    dst = tmp_path / "dst"
    args = ("repartition", source, "-o", dst, "--buckets", 4, "--memory", MEMORY)
    calls = {"n": 0}
    real_write = qio.pq.write_table

    def dies_in_the_second_chunk(table, where, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # chunk 1 (4 files) done, chunk 2 half written
            where.write(b"PAR1 partial")
            raise KeyboardInterrupt
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(qio.pq, "write_table", dies_in_the_second_chunk)
    code, stdout, stderr = run(capsys, *args)
    assert (code, stdout) == (130, "")
    assert len(data_files(dst)) == 5  # chunk 1 whole, 1 file of chunk 2, no temporary file
    assert not [f for f in files(dst) if f.endswith(".tmp")]
    with pytest.raises(IncompleteDatasetError, match="incomplete"):
        read_panel(dst)
    monkeypatch.undo()

    code, stdout, stderr = run(capsys, *args)
    assert code == 0, stderr
    assert "(1 up to date, " in stdout
    assert_same_rows(read_panel(dst), panel)
    meta = json.loads((dst / qio.SIDECAR).read_text())
    assert len(data_files(dst)) == len(meta["files"]) == 4 * (len(meta["files"]) // 4)


def test_killed_repartition_resumes_without_duplicates_or_losses(capsys, tmp_path, panel):
    """A real SIGKILL of a ``quantreg repartition`` process between two chunks' files (each
    file write slowed down so the kill lands mid-run), then the same command again."""
    source = per_day_files(panel, tmp_path / "src")
    dst = tmp_path / "dst"
    args = ["repartition", str(source), "-o", str(dst), "--buckets", "3", "--memory", MEMORY]
    slow = ("import sys, time; import quantreg.io as q; real = q.write_atomic\n"
            "def slow(*a, **k):\n    time.sleep(0.05); return real(*a, **k)\n"
            "q.write_atomic = slow\nfrom quantreg.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(quantreg.__file__).resolve().parents[1]), env.get("PYTHONPATH")]))
    process = subprocess.Popen([sys.executable, "-c", slow, *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while (len(data_files(dst)) if dst.exists() else 0) < 4:  # in the second chunk
            assert process.poll() is None, "finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    with pytest.raises(IncompleteDatasetError):
        read_panel(dst)
    code, stdout, stderr = run(capsys, *args)
    assert code == 0, stderr
    assert " up to date, " in stdout
    assert_same_rows(read_panel(dst), panel)


def test_killed_resid_on_a_date_layout_resumes(capsys, tmp_path, panel, expected, monkeypatch):
    """``quantreg resid`` interrupted in its bucketing step, then in its residual step."""
    source = hive(panel, tmp_path / "src", ["date"])
    out = tmp_path / "out"
    args = ("resid", source, "-o", out, "--window", WINDOW, "--memory", MEMORY, "--buckets", 3)
    real_write = qio.pq.write_table
    for dies_at in (5, 2):  # the 5th file: bucketing; then the 2nd file of what is left
        calls = {"n": 0}

        def dies(table, where, dies_at=dies_at, **kwargs):
            calls["n"] += 1
            if calls["n"] == dies_at:
                raise KeyboardInterrupt
            return real_write(table, where, **kwargs)

        monkeypatch.setattr(qio.pq, "write_table", dies)
        assert run(capsys, *args)[0] == 130
        monkeypatch.undo()
    code, stdout, stderr = run(capsys, *args)
    assert code == 0, stderr
    got = read_panel(out)["residual"]
    pd.testing.assert_series_equal(got.rename_axis(expected.index.names), expected,
                                   check_exact=True, check_freq=False, check_index_type=False)


def test_changed_input_is_picked_up_and_stale_files_removed(tmp_path, panel):
    source = per_day_files(panel, tmp_path / "src")
    dst = tmp_path / "dst"
    first = repartition(source, dst, buckets=3, memory=MEMORY)
    (dst / "notes.txt").write_text("the user's")  # not quantreg's: never deleted
    day = sorted(source.iterdir())[-1]
    changed = pd.read_parquet(day)
    changed["y"] = changed["y"] * 2.0 + 1.0
    time.sleep(0.01)
    changed.to_parquet(day, index=False)
    again = repartition(source, dst, memory=MEMORY)  # the bucket count of the first run is kept
    assert again.buckets == 3 and again.written == 1 and again.removed == 3  # its 3 files
    assert again.up_to_date == first.chunks - 1
    new_panel = panel.copy()
    rows = new_panel.index.get_level_values("datetime") == pd.Timestamp(day.stem)
    new_panel.loc[rows, "y"] = new_panel.loc[rows, "y"] * 2.0 + 1.0
    assert_same_rows(read_panel(dst), new_panel)
    assert len(data_files(dst)) == 3 * first.chunks  # the stale chunk's files are gone
    assert (dst / "notes.txt").read_text() == "the user's"


def test_refusals_leave_everything_in_place(capsys, tmp_path, panel):
    source = per_day_files(panel.iloc[:2000], tmp_path / "src")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "mine.parquet").write_bytes(b"the user's")
    with pytest.raises(FileExistsError, match="not empty and was not written by a repartition"):
        repartition(source, foreign, buckets=2)
    assert files(foreign) == ["mine.parquet"]
    with pytest.raises(UnsafeOutputError, match="overlaps the source"):
        repartition(source, source / "inside", buckets=2)
    assert not (source / "inside").exists()
    repartition(source, tmp_path / "dst", buckets=2)
    with pytest.raises(ValueError, match=r"holds another repartition \(of '.*src' into 2 "
                       r"buckets.*choose a new target directory"):
        repartition(source, tmp_path / "dst", buckets=3)
    with pytest.raises(ValueError, match=r"'buckets' parameter must be an int >= 1. Got 0"):
        repartition(source, tmp_path / "d2", buckets=0)
    code, _, err = run(capsys, "repartition", source, "-o", tmp_path / "d3", "--memory", "lots")
    assert code == 2 and "argument --memory: expected a size such as 512M or 2G" in err
    no_instrument = tmp_path / "no_instrument"
    no_instrument.mkdir()
    panel.reset_index().drop(columns="instrument").iloc[:50].to_parquet(
        no_instrument / "day.parquet")
    code, _, err = run(capsys, "repartition", no_instrument, "-o", tmp_path / "d4")
    assert code == 2 and "has no column 'instrument'" in err
    with pytest.raises(MissingColumnError):
        repartition(no_instrument, tmp_path / "d5")


def test_other_column_names_and_a_time_key(tmp_path, panel):
    """Spark's partitionBy("date") keeps the date only in the folder names."""
    flat = panel.reset_index().rename(columns={"instrument": "ticker"})
    flat["date"] = flat.pop("datetime").dt.strftime("%Y-%m-%d")
    ds.write_dataset(pa.Table.from_pandas(flat, preserve_index=False), tmp_path / "src",
                     format="parquet", partitioning=["date"], partitioning_flavor="hive")
    with pytest.raises(MissingColumnError, match="no column 'datetime' or 'instrument'"):
        repartition(tmp_path / "src", tmp_path / "dst", buckets=2)
    repartition(tmp_path / "src", tmp_path / "dst", buckets=2, time_col="date",
                instrument_col="ticker")
    got = read_panel(tmp_path / "dst")
    assert got.index.names == ["date", "ticker"]
    assert_same_rows(got.rename_axis(["datetime", "instrument"]), panel)
