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


def test_resid_equals_in_memory(client, flat):
    ddf = dd.from_pandas(flat.set_index("instrument"), npartitions=4)
    assert ddf.known_divisions
    result = qd.rolling_resid(ddf, window=WINDOW, residual="out_of_sample")
    assert result.npartitions == ddf.npartitions
    got = client.compute(result).result()
    expected = _in_memory(flat, residual="out_of_sample")
    pd.testing.assert_index_equal(got.index, ddf.index.compute())
    assert got.name == "residual"
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())  # exact, NaN included
    assert np.isfinite(got.to_numpy()).sum() > len(flat) // 2  # not all NaN


def test_calendar_window_equals_in_memory(client, flat):
    ddf = dd.from_pandas(flat.set_index("instrument"), npartitions=3)
    got = client.compute(qd.rolling_resid(ddf, window="60D", residual="out_of_sample")).result()
    expected = quantreg.rolling_resid(flat.set_index(["datetime", "instrument"]), window="60D",
                                      residual="out_of_sample")
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    weighted = client.compute(qd.rolling_ols(ddf, window="60D", halflife="20D")).result()
    in_memory = quantreg.rolling_ols(flat.set_index(["datetime", "instrument"]), window="60D", halflife="20D")
    np.testing.assert_allclose(weighted["residual"].to_numpy(), in_memory.resid.to_numpy(), rtol=0, atol=1e-12)
    assert np.isfinite(got.to_numpy()).sum() > len(flat) // 2


def test_ols_equals_in_memory(client, flat):
    ddf = dd.from_pandas(flat, npartitions=1).repartition(npartitions=1)
    got = client.compute(qd.rolling_ols(ddf, window=WINDOW, missing="skip")).result()
    expected = quantreg.rolling_ols(
        flat.set_index(["datetime", "instrument"]), window=WINDOW, missing="skip"
    ).to_frame()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_exact=True)


@pytest.mark.parametrize("partition", ["instrument", 5])
def test_parquet_path_equals_in_memory(client, flat, tmp_path, partition):
    panel = flat.set_index(["datetime", "instrument"])
    root = write_panel(panel, tmp_path / "panel", partition=partition)
    resid = qd.rolling_resid(root, window=WINDOW)
    rows = dd.read_parquet(str(root), split_row_groups=False)
    both = client.compute(rows.assign(residual=resid)).result()
    both["instrument"] = both["instrument"].astype(str)
    got = both.set_index(["datetime", "instrument"])["residual"].sort_index()
    expected = quantreg.rolling_resid(panel, window=WINDOW).sort_index()
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_index_type=False)


def test_split_instrument_is_an_error(flat):
    by_date = flat.sort_values(["datetime", "instrument"], ignore_index=True)
    ddf = dd.from_pandas(by_date, npartitions=3)
    with pytest.raises(PartitionLayoutError, match=r"instrument '.+' spans partitions \[.*"
                       r"set_index\('instrument'\)"):
        qd.rolling_resid(ddf, window=WINDOW)


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
    ddf = dd.from_pandas(flat.set_index("instrument"), npartitions=8)
    slow = ddf.map_partitions(_slow, meta=ddf._meta)
    expected = _in_memory(flat)
    pids = client.run(os.getpid)
    future = client.compute(qd.rolling_resid(slow, window=WINDOW))
    victim = sorted(pids)[0]
    deadline = time.monotonic() + 30
    while not client.processing().get(victim):  # kill it while it runs one of our tasks
        assert time.monotonic() < deadline, "the worker never received a task"
        time.sleep(0.01)
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=60)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert pids[victim] not in client.run(os.getpid).values()  # the process really died
