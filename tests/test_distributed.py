"""Tests of quantreg.distributed on a real two-process LocalCluster.

Reference: the in-memory engine (:func:`quantreg.rolling_resid` / :func:`quantreg.rolling_ols`)
on the same rows. Each partition runs the same kernel on whole instruments, so the Dask result
must be *equal* (tolerance 0), not merely close.
"""

from __future__ import annotations

import logging
import os
import signal
import time

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import quantreg  # noqa: E402
import quantreg.distributed as qd  # noqa: E402
from quantreg.datasets import make_panel  # noqa: E402
from quantreg.exceptions import MissingColumnError, PartitionLayoutError  # noqa: E402
from quantreg.io import write_panel  # noqa: E402

WINDOW = 40
SLEEP = 0.4  # seconds per partition in the worker-kill test


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def flat() -> pd.DataFrame:
    """A panel with NaN, unbalanced starts and short instruments, sorted by instrument."""
    panel = make_panel(24, 200, 3, window=WINDOW, nan_frac=0.02, seed=6)
    return panel.reset_index().sort_values(["instrument", "datetime"], ignore_index=True)


def _in_memory(flat: pd.DataFrame, **options) -> pd.Series:
    return quantreg.rolling_resid(flat.set_index(["datetime", "instrument"]), window=WINDOW,
                                  **options)


def _shuffled(result) -> bool:
    """Whether quantreg put a Dask shuffle in front of its per-partition task."""
    return any(type(e).__name__ in ("RearrangeByColumn", "Shuffle") for e in result.expr.walk())


def _by_key(frame: pd.DataFrame, column: str = "residual") -> pd.Series:
    """A result computed by Dask, on (datetime, instrument) whether they were columns or index."""
    flat = frame.reset_index() if frame.index.name in ("datetime", "instrument") else frame
    flat = flat.assign(instrument=flat["instrument"].astype(str))
    return flat.set_index(["datetime", "instrument"])[column]


def _check_rows(got: pd.Series, expected: pd.Series) -> None:
    """Row for row by (datetime, instrument), exactly: same rows, same values (NaN included)."""
    assert not got.index.has_duplicates and len(got) == len(expected)
    got = got.reindex(expected.index)  # a row missing from got would be NaN: compared below
    assert got.index.equals(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


# each layout a user may hand over: (how to build it from the flat frame, shuffle expected)
LAYOUTS = {
    "row-blocks": (lambda f: dd.from_pandas(f.sort_values(["datetime", "instrument"],
                                                          ignore_index=True), npartitions=4),
                   True),
    "by-date-index": (lambda f: dd.from_pandas(f.set_index("datetime"), npartitions=4), True),
    "instrument-index-unsorted": (
        lambda f: dd.from_pandas(f.sample(frac=1.0, random_state=1).set_index("instrument"),
                                 npartitions=3, sort=False), True),
    "by-instrument-columns": (  # whole instruments per partition, found by the check
        lambda f: dd.from_pandas(f.set_index("instrument"), npartitions=4).reset_index(), False),
    "by-instrument-index": (lambda f: dd.from_pandas(f.set_index("instrument"), npartitions=4),
                            False),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_any_partitioning_equals_in_memory(client, flat, layout):
    build, shuffles = LAYOUTS[layout]
    ddf = build(flat)
    result = qd.rolling_resid(ddf, window=WINDOW, residual="out_of_sample")
    assert _shuffled(result) is shuffles
    if not shuffles:  # the input's own partitions and index, row for row
        assert result.npartitions == ddf.npartitions and result.divisions == ddf.divisions
    got = client.compute(result).result()
    assert list(got.columns) == [c for c in ("datetime", "instrument", "residual")
                                 if c in ddf.columns or c == "residual"]
    assert got.index.name == ddf.index.name
    expected = _in_memory(flat, residual="out_of_sample")
    _check_rows(_by_key(got), expected)
    assert np.isfinite(got["residual"].to_numpy()).sum() > len(flat) // 2  # not all NaN


def test_merge_with_the_input_pairs_the_right_rows(client, flat):
    """The README's way: merge on the keys. Computed separately from the input, in a row order
    that differs from the input's, the pairs are still right."""
    ddf = dd.from_pandas(flat.sample(frac=1.0, random_state=3), npartitions=4)
    resid = qd.rolling_resid(ddf, window=WINDOW)
    joined = client.compute(ddf.merge(resid, on=["datetime", "instrument"], how="left")).result()
    assert len(joined) == len(flat)
    expected = _in_memory(flat)
    _check_rows(_by_key(joined), expected)
    y_back = joined.set_index(["datetime", "instrument"])["y"].reindex(expected.index)
    np.testing.assert_array_equal(y_back.to_numpy(),
                                  flat.set_index(["datetime", "instrument"])["y"]
                                  .reindex(expected.index).to_numpy())


def test_calendar_window_equals_in_memory(client, flat):
    ddf = dd.from_pandas(flat.set_index("instrument"), npartitions=3)
    got = client.compute(qd.rolling_resid(ddf, window="60D", residual="out_of_sample")).result()
    expected = quantreg.rolling_resid(flat.set_index(["datetime", "instrument"]), window="60D",
                                      residual="out_of_sample")
    np.testing.assert_array_equal(got["residual"].to_numpy(), expected.to_numpy())
    weighted = client.compute(qd.rolling_ols(ddf, window="60D", halflife="20D")).result()
    in_memory = quantreg.rolling_ols(flat.set_index(["datetime", "instrument"]), window="60D",
                                     halflife="20D")
    np.testing.assert_allclose(weighted["residual"].to_numpy(), in_memory.resid.to_numpy(),
                               rtol=0, atol=1e-12)
    assert np.isfinite(got["residual"].to_numpy()).sum() > len(flat) // 2


def test_ols_equals_in_memory(client, flat):
    by_date = dd.from_pandas(flat.sort_values("datetime", ignore_index=True), npartitions=3)
    got = client.compute(qd.rolling_ols(by_date, window=WINDOW, missing="skip")).result()
    expected = quantreg.rolling_ols(
        flat.set_index(["datetime", "instrument"]), window=WINDOW, missing="skip"
    ).to_frame()
    got = got.set_index(["datetime", "instrument"]).reindex(expected.index)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("partition", ["instrument", 5])
def test_parquet_path_equals_in_memory(client, flat, tmp_path, partition):
    panel = flat.set_index(["datetime", "instrument"])
    root = write_panel(panel, tmp_path / "panel", partition=partition)
    resid = qd.rolling_resid(root, window=WINDOW)
    assert not _shuffled(resid)  # whole instruments per folder: no shuffle
    got = client.compute(resid).result()
    _check_rows(_by_key(got), quantreg.rolling_resid(panel, window=WINDOW))


def test_date_partitioned_path_equals_in_memory(client, flat, tmp_path):
    """A hive ``date=`` dataset written by pyarrow: one partition per file, then shuffled."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    by_date = flat.assign(date=flat["datetime"].dt.strftime("%Y-%m"))
    ds.write_dataset(pa.Table.from_pandas(by_date, preserve_index=False), tmp_path / "by_date",
                     format="parquet", partitioning=["date"], partitioning_flavor="hive")
    resid = qd.rolling_resid(tmp_path / "by_date", window=WINDOW)
    assert _shuffled(resid)
    got = client.compute(resid).result()
    _check_rows(_by_key(got), _in_memory(flat))


def test_split_instrument_without_shuffle_is_an_error(client, flat):
    by_date = flat.sort_values(["datetime", "instrument"], ignore_index=True)
    ddf = dd.from_pandas(by_date, npartitions=3)
    with pytest.raises(PartitionLayoutError, match=r"instrument '.+' spans partitions \[.*"
                       r"shuffle=False.*set_index\('instrument'\)"):
        qd.rolling_resid(ddf, window=WINDOW, shuffle=False)
    with pytest.raises(ValueError, match=r"'shuffle' parameter .* must be 'auto', True or "
                       r"False. Got 'yes' instead"):
        qd.rolling_resid(ddf, window=WINDOW, shuffle="yes")
    forced = qd.rolling_resid(dd.from_pandas(flat.set_index("instrument"), npartitions=2),
                              window=WINDOW, shuffle=True)  # whole instruments, shuffled anyway
    assert _shuffled(forced)
    _check_rows(_by_key(client.compute(forced).result()), _in_memory(flat))


def test_bad_options_fail_before_computing(flat):
    ddf = dd.from_pandas(flat.set_index("instrument"), npartitions=2)
    with pytest.raises(ValueError, match=r"window \(2\) is smaller than the number of regressors"):
        qd.rolling_resid(ddf, window=2)
    with pytest.raises(MissingColumnError, match=r"no column or index named \['when'\]"):
        qd.rolling_resid(ddf, window=WINDOW, time_col="when")
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['windw'\]"):
        qd.rolling_resid(ddf, window=WINDOW, windw=3)
    with pytest.raises(quantreg.exceptions.PanelError, match="expected a dask.dataframe"):
        qd.rolling_resid(flat, window=WINDOW)


def test_workers_load_the_cached_kernel_once(client, flat):
    _in_memory(flat)  # the kernel for k=3 is now in numba's on-disk cache
    first = qd.load_kernels(client, 3)
    assert len(first) == 2
    for report in first.values():  # loaded from the cache, not compiled
        assert report[3]["cache_misses"] == 0 and report[3]["cache_hits"] >= 1
    again = qd.load_kernels(client, 3)  # same processes: the memoised kernel, nothing reloaded
    assert {w: r[3]["cache_hits"] for w, r in again.items()} == {
        w: r[3]["cache_hits"] for w, r in first.items()
    }


def _slow(pdf: pd.DataFrame) -> pd.DataFrame:
    time.sleep(SLEEP)
    return pdf


def test_killed_worker_still_gives_the_complete_result(client, flat):
    """Partitions by date (so quantreg shuffles), a worker killed while it runs a task."""
    ddf = dd.from_pandas(flat.sort_values("datetime", ignore_index=True), npartitions=8)
    slow = ddf.map_partitions(_slow, meta=ddf._meta)
    expected = _in_memory(flat)
    pids = client.run(os.getpid)
    result = qd.rolling_resid(slow, window=WINDOW)
    assert _shuffled(result)
    future = client.compute(result)
    victim = sorted(pids)[0]
    deadline = time.monotonic() + 30
    while not client.processing().get(victim):  # kill it while it runs one of our tasks
        assert time.monotonic() < deadline, "the worker never received a task"
        time.sleep(0.01)
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=120)
    _check_rows(_by_key(got), expected)
    assert pids[victim] not in client.run(os.getpid).values()  # the process really died
