"""Tests of quantreg.io: hive-partitioned Parquet panels.

Reference: the pandas frame that was written (and pandas ``.loc`` selections of it): a round
trip must give it back exactly (values, dtypes, index), and filtered reads must equal the same
selection made in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from quantreg import io as qio
from quantreg.datasets import make_panel
from quantreg.exceptions import DatasetError, MissingColumnError, PanelError
from quantreg.io import bucket_of, list_partitions, read_panel, read_partition, write_panel


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel(9, 60, 2, nan_frac=0.05, seed=4)


@pytest.fixture(params=["instrument", 4], ids=["by-instrument", "4-buckets"])
def stored(request, panel, tmp_path):
    return write_panel(panel, tmp_path / "panel", partition=request.param), request.param


def assert_equal(got: pd.DataFrame, expected: pd.DataFrame, **kwargs) -> None:
    """Exact equality; a ``.loc`` selection keeps the calendar's ``freq``, a read does not."""
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_freq=False, **kwargs)


def _fragments(root, instruments):
    dataset = qio.open_dataset(root)
    flt = qio.panel_filter(dataset, qio.read_metadata(root), instruments, None, None)
    return [f.path for f in dataset.get_fragments(filter=flt)]


# ----------------------------------------------------------------------------- round trips
def test_round_trip_is_exact(stored, panel):
    root, _ = stored
    back = read_panel(root)
    assert_equal(back, panel)


def test_any_row_order_and_level_names_and_int_instruments(tmp_path, panel):
    other = panel.copy()
    codes = pd.factorize(other.index.get_level_values("instrument"))[0]
    other.index = pd.MultiIndex.from_arrays(
        [codes.astype(np.int64), other.index.get_level_values("datetime")], names=["id", "day"]
    )  # instrument first, integer labels, other names
    shuffled = other.sample(frac=1.0, random_state=0)
    root = write_panel(shuffled, tmp_path / "p", partition=3, time_level="day",
                       instrument_level="id")
    back = read_panel(root)
    assert back.index.names == ["day", "id"]
    expected = other.swaplevel().sort_index()
    assert_equal(back, expected)
    subset = read_panel(root, instruments=[2, 5])
    assert_equal(subset, expected.loc[(slice(None), [2, 5]), :])


# ----------------------------------------------------------------------------- filters
def test_filters_equal_pandas_selection(stored, panel):
    root, _ = stored
    wanted = ["A002", "A007"]
    got = read_panel(root, instruments=wanted, start="2000-01-20", end="2000-02-25",
                     columns=["y", "x1"])
    expected = panel.loc[(slice("2000-01-20", "2000-02-25"), wanted), ["y", "x1"]]
    assert len(expected) > 20
    assert_equal(got, expected)
    one = read_panel(root, instruments="A003", columns="x2")
    assert_equal(one, panel.loc[(slice(None), ["A003"]), ["x2"]])


def test_reading_a_subset_opens_only_its_partitions(stored, panel):
    root, partition = stored
    wanted = ["A001", "A005"]
    files = _fragments(root, wanted)
    all_files = _fragments(root, None)
    if partition == "instrument":
        assert sorted(os.path.basename(os.path.dirname(f)) for f in files) == [
            "instrument=A001", "instrument=A005"]
    else:
        buckets = sorted({f"bucket={b}" for b in bucket_of(wanted, partition)})
        assert sorted(os.path.basename(os.path.dirname(f)) for f in files) == buckets
    assert len(files) < len(all_files)
    # Make every other partition unreadable: the subset is still read, the whole is not.
    for path in set(all_files) - set(files):
        with open(path, "wb") as fh:
            fh.write(b"not parquet at all")
    got = read_panel(root, instruments=wanted)
    assert_equal(got, panel.loc[(slice(None), wanted), :])
    with pytest.raises(DatasetError, match=r"cannot read the dataset .*magic bytes not found"):
        read_panel(root)


def test_partitions_hold_whole_instruments(stored, panel):
    root, partition = stored
    parts = list_partitions(root)
    expected_n = panel.index.get_level_values("instrument").nunique() if partition == "instrument" \
        else len(set(bucket_of(panel.index.levels[1], partition)))
    assert len(parts) == expected_n
    seen = []
    for part in parts:
        frame = read_partition(root, part)
        names = frame.index.get_level_values("instrument").unique().tolist()
        seen += names
        assert_equal(frame.sort_index(), panel.loc[(slice(None), names), :])
    assert sorted(seen) == sorted(panel.index.levels[1])  # each exactly once


def test_bucket_of_is_stable_across_processes():
    names = [f"A{i:03d}" for i in range(50)]
    here = bucket_of(names, 7)
    code = ("import sys, json; sys.path.insert(0, %r); from quantreg.io import bucket_of; "
            "print(json.dumps(bucket_of(%r, 7).tolist()))") % (os.getcwd() + "/..", names)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, cwd=os.path.dirname(os.path.dirname(qio.__file__)))
    assert json.loads(out.stdout) == here.tolist()
    assert here.min() >= 0 and here.max() <= 6 and len(set(here)) > 3


# ----------------------------------------------------------------------------- atomic writes
def test_write_atomic_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.parquet"

    def broken(table, where):
        where.write(b"PAR1 half a file")
        raise KeyboardInterrupt  # interrupted in the middle of the write

    monkeypatch.setattr(qio.pq, "write_table", broken)
    with pytest.raises(KeyboardInterrupt):
        qio.write_atomic(pd.DataFrame({"a": [1.0]}), target)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- errors
def test_write_errors(tmp_path, panel):
    with pytest.raises(PanelError, match=r"two-level MultiIndex \(datetime, instrument\); got a "
                       r"RangeIndex"):
        write_panel(panel.reset_index(), tmp_path / "a")
    with pytest.raises(ValueError, match=r"'partition' parameter of write_panel must be "
                       r"'instrument' or an int >= 1 .* Got 0 instead"):
        write_panel(panel, tmp_path / "b", partition=0)
    with pytest.raises(PanelError, match=r"duplicated \(datetime, instrument\) entries"):
        write_panel(pd.concat([panel, panel.iloc[:1]]), tmp_path / "c")
    with pytest.raises(PanelError, match=r"column\(s\) \['bucket'\] have the name of an index "
                       "level or of the partition key"):
        write_panel(panel.assign(bucket=1.0), tmp_path / "d")
    write_panel(panel, tmp_path / "e")
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        write_panel(panel, tmp_path / "e", partition=2)
    write_panel(panel.iloc[:50], tmp_path / "e", partition=2, overwrite=True)  # replaced
    assert_equal(read_panel(tmp_path / "e"), panel.iloc[:50].sort_index())


def test_read_errors(tmp_path, panel):
    with pytest.raises(FileNotFoundError, match="dataset directory not found"):
        read_panel(tmp_path / "missing")
    (tmp_path / "file.parquet").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="expected a dataset directory"):
        read_panel(tmp_path / "file.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no Parquet files"):
        read_panel(tmp_path / "empty")
    root = write_panel(panel, tmp_path / "p", partition=2)
    with pytest.raises(MissingColumnError, match=r"column\(s\) \['z'\] not found in the dataset"):
        read_panel(root, columns=["z"])
    with pytest.raises(PanelError, match="cannot read 'soon' as a date"):
        read_panel(root, start="soon")
    with pytest.raises(PanelError, match="do not match the dataset's instrument type"):
        read_panel(root, instruments=[1.5])
    (root / qio.SIDECAR).write_text("{not json")
    with pytest.raises(DatasetError, match="cannot read .* as JSON"):
        read_panel(root)
    flat = tmp_path / "flat"
    flat.mkdir()
    panel.reset_index().rename(columns={"datetime": "when"}).to_parquet(flat / "x.parquet")
    with pytest.raises(MissingColumnError, match=r"has no column 'datetime'"):
        read_panel(flat)


def test_foreign_hive_dataset_is_read(tmp_path, panel):
    """A dataset written by pyarrow directly (no sidecar) with hive keys is read as a panel."""
    import pyarrow as pa

    table = pa.Table.from_pandas(panel.reset_index(), preserve_index=False)
    ds.write_dataset(table, tmp_path / "hive", format="parquet", partitioning=["instrument"],
                     partitioning_flavor="hive")
    back = read_panel(tmp_path / "hive", instruments=["A000", "A008"])
    assert_equal(back, panel.loc[(slice(None), ["A000", "A008"]), :])
