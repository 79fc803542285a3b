"""Data integrity at the edges (issue 14), on real files in temporary folders.

1. Never delete or overwrite what quantreg did not write.
2. Never reinterpret identifiers, dates or foreign datasets' partition keys.
3. Never serve stale or silently partial results.
4. Ctrl-C on the command line: one line, exit code 130, resumable.

Each rule through the public API (``quantreg.io``, ``quantreg.cli.main``) and, for at least one
case, through the ``quantreg`` command as a subprocess. Reference for every number:
:func:`quantreg.rolling_resid` on the same rows in memory (equal exactly, tolerance 0).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import quantreg
from quantreg import cli
from quantreg import io as qio
from quantreg.cli import main
from quantreg.datasets import make_panel
from quantreg.exceptions import (
    DatasetError,
    DatasetLayoutError,
    DateFormatError,
    IncompleteDatasetError,
    PartialDatasetWarning,
    UnsafeOutputError,
)
from quantreg.io import atomic_open, list_partitions, read_panel, write_panel

WINDOW = 12
TICKERS = ["000001", "0700", "NA", "NULL", "nan", "AAPL"]
INTERRUPTED = "quantreg: interrupted; run the same command again to resume\n"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """Weekly dates over several months (for month= keys), NaN, unbalanced starts."""
    return make_panel(6, 60, 2, nan_frac=0.05, freq="W-FRI", seed=14)


@pytest.fixture(scope="module")
def tickers(panel) -> pd.DataFrame:
    """The panel with tickers that type inference or NA parsing would change."""
    names = dict(zip(sorted(panel.index.levels[1]), TICKERS))
    return panel.rename(index=names, level="instrument").sort_index()


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def command(*args: object, check_code: int | None = None) -> subprocess.CompletedProcess:
    """``python -m quantreg ARGS`` in a fresh process (same environment, this checkout)."""
    env = dict(os.environ)
    root = str(Path(quantreg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "quantreg", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    if check_code is not None:
        assert done.returncode == check_code, done.stderr
    return done


def one_error_line(err: str, pattern: str) -> None:
    """stderr is exactly one ``quantreg: error:`` line matching ``pattern``."""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("quantreg: error: "), err
    assert "Traceback" not in err
    assert re.search(pattern, err), err


def resid(panel: pd.DataFrame, **options) -> pd.Series:
    """The in-memory reference, sorted by (datetime, instrument)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", quantreg.exceptions.QuantregWarning)
        return quantreg.rolling_resid(panel, **options).sort_index()


def assert_same(got: pd.Series, expected: pd.Series) -> None:
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_freq=False,
                                   check_index_type=False, check_names=False)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links not followed) with its content."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def hive(frame: pd.DataFrame, root: Path, keys: list[str]) -> Path:
    """Write a flat frame as another tool would: pyarrow's own hive dataset writer."""
    ds.write_dataset(pa.Table.from_pandas(frame, preserve_index=False), root, format="parquet",
                     partitioning=keys, partitioning_flavor="hive",
                     existing_data_behavior="overwrite_or_ignore")
    return root


def with_month(panel: pd.DataFrame) -> pd.DataFrame:
    flat = panel.reset_index()
    return flat.assign(month=flat["datetime"].dt.strftime("%Y-%m"))


# =========================================================== 1. never destroy what is not ours
def test_overwrite_deletes_only_the_files_quantreg_listed(tmp_path, panel):
    root = write_panel(panel, tmp_path / "data")
    (root / "notes.parquet").write_bytes(b"the user's notes")
    (root / "sub").mkdir()
    (root / "sub" / "other.parquet").write_bytes(b"the user's other file")
    (root / "instrument=A000" / "mine.parquet").write_bytes(b"inside a partition folder")
    foreign = {k: v for k, v in tree(root).items() if not k.endswith("part-0.parquet")
               and k != qio.SIDECAR}

    smaller = panel.iloc[: len(panel) // 2]
    write_panel(smaller, root, partition=2, overwrite=True)
    after = tree(root)
    assert {k: after[k] for k in foreign} == foreign  # every foreign file survives, unchanged
    assert sorted(set(after) - set(foreign)) == [
        qio.SIDECAR, "bucket=0/part-0.parquet", "bucket=1/part-0.parquet"]
    assert not (root / "instrument=A001").exists()  # quantreg's emptied folders are removed
    pd.testing.assert_frame_equal(read_panel(root), smaller.sort_index(), check_exact=True,
                                  check_freq=False)  # foreign files are not read either


def test_overwrite_refuses_a_folder_that_is_not_a_quantreg_dataset(tmp_path, panel):
    mine = tmp_path / "mine"
    (mine / "2024").mkdir(parents=True)
    (mine / "prices.parquet").write_bytes(b"precious")
    (mine / "2024" / "jan.parquet").write_bytes(b"also precious")
    before = tree(mine)
    with pytest.raises(UnsafeOutputError, match=r"'.*mine' is not empty and is not a quantreg "
                       r"dataset \(it has no _quantreg\.json\): overwrite=True only replaces "
                       r"datasets written by quantreg.* Write to a new or empty directory"):
        write_panel(panel, mine, overwrite=True)
    assert tree(mine) == before


def test_overwrite_refuses_to_replace_a_file_it_did_not_write(tmp_path, panel):
    root = write_panel(panel, tmp_path / "data", partition=3)
    (root / "instrument=A002").mkdir()
    (root / "instrument=A002" / "part-0.parquet").write_bytes(b"the user's, same name")
    before = tree(root)
    with pytest.raises(UnsafeOutputError, match=r"instrument=A002/part-0\.parquet' exists and "
                       r"was not written by quantreg .*quantreg never overwrites it"):
        write_panel(panel, root, overwrite=True)  # would write instrument=A002/part-0.parquet
    assert tree(root) == before  # refused before deleting anything: the old dataset is intact
    pd.testing.assert_frame_equal(read_panel(root), panel, check_exact=True, check_freq=False)


def test_overwrite_never_follows_paths_out_of_the_dataset(tmp_path, panel):
    root = write_panel(panel, tmp_path / "data")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "part-0.parquet").write_bytes(b"not quantreg's")
    # a partition folder replaced by a link to another folder
    for child in (root / "instrument=A001").iterdir():
        child.unlink()
    (root / "instrument=A001").rmdir()
    (root / "instrument=A001").symlink_to(victim, target_is_directory=True)
    with pytest.raises(UnsafeOutputError, match=r"instrument=A001' is a symbolic link; quantreg "
                       "does not write or delete through it"):
        write_panel(panel, root, overwrite=True)
    assert (victim / "part-0.parquet").read_bytes() == b"not quantreg's"

    # a sidecar listing a path outside the dataset
    other = write_panel(panel, tmp_path / "other")
    meta = json.loads((other / qio.SIDECAR).read_text())
    meta["files"]["../victim/part-0.parquet"] = {"rows": 1}
    (other / qio.SIDECAR).write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=r"lists the path '\.\./victim/part-0\.parquet', which "
                       "is not a plain path inside the dataset"):
        write_panel(panel, other, overwrite=True)
    assert (victim / "part-0.parquet").read_bytes() == b"not quantreg's"


def test_atomic_open_creates_a_new_file_and_never_writes_through_links(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "out.txt"
    old_name = tmp_path / f".{target.name}.tmp-{os.getpid()}"  # the old, predictable name
    old_name.symlink_to(victim)
    target.symlink_to(victim)  # a link planted at the target itself
    with atomic_open(target) as fh:
        fh.write(b"new")
    assert victim.read_text() == "keep me"
    assert not target.is_symlink() and target.read_bytes() == b"new"
    assert old_name.is_symlink()  # not ours: left alone
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # as any new file

    with pytest.raises(KeyboardInterrupt), atomic_open(target) as fh:  # interrupted
        fh.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [old_name.name, "out.txt", "victim.txt"])  # its temporary file removed, nothing else
    with pytest.raises(FileNotFoundError, match="directory not found"):
        atomic_open(tmp_path / "no" / "such.txt").__enter__()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_outputs_never_write_through_links(capsys, tmp_path, panel, suffix):
    source = tmp_path / "in.parquet"
    panel.to_parquet(source)
    victim = tmp_path / "victim.bin"
    victim.write_bytes(b"keep me")
    out = tmp_path / f"out{suffix}"
    (tmp_path / f".{out.name}.tmp-{os.getpid()}").symlink_to(victim)
    out.symlink_to(victim)
    code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
    assert code == 0, err
    assert victim.read_bytes() == b"keep me"
    assert not out.is_symlink()
    got = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(
        out, parse_dates=["datetime"]).set_index(["datetime", "instrument"])
    np.testing.assert_array_equal(got["residual"].to_numpy(),
                                  quantreg.rolling_resid(panel, window=WINDOW).to_numpy())


def test_out_of_core_output_refuses_planted_links_and_foreign_files(capsys, tmp_path, panel):
    source = write_panel(panel, tmp_path / "panel")
    out = tmp_path / "out"
    assert run(capsys, "resid", source, "-o", out, "--window", WINDOW)[0] == 0
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "residual.parquet").write_bytes(b"keep me")
    for child in (out / "instrument=A003").iterdir():
        child.unlink()
    (out / "instrument=A003").rmdir()
    (out / "instrument=A003").symlink_to(victim, target_is_directory=True)
    code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
    assert code == 2
    one_error_line(err, r"instrument=A003' is a symbolic link; quantreg does not write or "
                        r"delete through it")
    assert (victim / "residual.parquet").read_bytes() == b"keep me"


CLI_OVERLAPS = {
    "same path": lambda d: (d / "in.parquet", d / "in.parquet"),
    "other spelling": lambda d: (d / "in.parquet", d / "sub" / ".." / "in.parquet"),
    "symbolic link": lambda d: (d / "in.parquet", d / "link.parquet"),
    "hard link": lambda d: (d / "in.parquet", d / "hard.parquet"),
}


@pytest.mark.parametrize("case", list(CLI_OVERLAPS))
def test_cli_refuses_to_write_over_its_input(capsys, tmp_path, panel, case):
    (tmp_path / "sub").mkdir()
    source, out = CLI_OVERLAPS[case](tmp_path)
    panel.to_parquet(source)
    (tmp_path / "link.parquet").symlink_to(source)
    os.link(source, tmp_path / "hard.parquet")
    before = source.read_bytes()
    code, stdout, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
    assert (code, stdout) == (2, "")
    one_error_line(err, r"^quantreg: error: OUTPUT '.*' is the INPUT '.*in\.parquet'; writing "
                        r"it would destroy the input: choose another -o path$")
    assert source.read_bytes() == before


def test_cli_refuses_outputs_inside_or_around_an_input_dataset(capsys, tmp_path, panel):
    source = write_panel(panel, tmp_path / "panel")
    before = tree(source)
    for out, pattern in [
        (source, r"is the INPUT"),
        (source / "resid", r"lies inside the INPUT dataset '.*panel', whose files it would "
                           r"change: choose a -o path outside it"),
        (source / "instrument=A000" / "r.parquet", r"lies inside the INPUT dataset"),
        (tmp_path, r"OUTPUT '.*' contains the INPUT '.*panel': choose a -o path that does not "
                   r"contain the input"),
    ]:
        code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
        assert code == 2
        one_error_line(err, pattern)
    single = tmp_path / "single.parquet"
    panel.to_parquet(single)
    code, _, err = run(capsys, "resid", single, "-o", tmp_path, "--window", WINDOW)
    one_error_line(err, r"OUTPUT '.*' contains the INPUT '.*single\.parquet'")
    assert tree(source) == before


def test_command_refuses_to_overwrite_its_input(tmp_path, panel):
    source = tmp_path / "in.parquet"
    panel.to_parquet(source)
    before = source.read_bytes()
    done = command("resid", source, "-o", source, "--window", WINDOW, check_code=2)
    assert done.stdout == ""
    one_error_line(done.stderr, r"is the INPUT .*writing it would destroy the input")
    assert source.read_bytes() == before


# =========================================================== 2. never reinterpret
def test_csv_tickers_stay_as_written(capsys, tmp_path, tickers):
    source = tmp_path / "panel.csv"
    tickers.to_csv(source)
    text = source.read_text()
    assert all(f",{name}," in text for name in TICKERS)
    for out in (tmp_path / "r.csv", tmp_path / "r.parquet"):
        code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
        assert code == 0, err
        if out.suffix == ".csv":
            back = pd.read_csv(out, dtype={"instrument": str}, keep_default_na=False,
                               na_values={"residual": ["", "NA"]}, parse_dates=["datetime"])
            got = back.set_index(["datetime", "instrument"])["residual"]
        else:
            got = pd.read_parquet(out)["residual"]
        assert sorted(got.index.get_level_values("instrument").unique()) == sorted(TICKERS)
        expected = quantreg.rolling_resid(tickers, window=WINDOW)
        assert_same(got.sort_index(), expected.sort_index())


def test_csv_data_columns_still_parse_as_numbers(capsys, tmp_path, tickers):
    source = tmp_path / "panel.csv"
    holes = tickers.copy()
    holes.iloc[3, 0] = np.nan
    holes.to_csv(source, na_rep="NA")  # data column: NA is a missing number
    code, _, err = run(capsys, "resid", source, "-o", tmp_path / "r.parquet", "--window", WINDOW)
    assert code == 0, err
    assert_same(pd.read_parquet(tmp_path / "r.parquet")["residual"].sort_index(),
                resid(holes, window=WINDOW))


@pytest.fixture
def day_first_csv(tmp_path, panel) -> Path:
    """Dates written day first: 07/01/2000 is 7 January."""
    flat = panel.reset_index()
    flat["datetime"] = flat["datetime"].dt.strftime("%d/%m/%Y")
    source = tmp_path / "day_first.csv"
    flat.to_csv(source, index=False)
    return source


def test_dates_are_never_guessed(capsys, tmp_path, panel, day_first_csv):
    out = tmp_path / "r.parquet"
    code, stdout, err = run(capsys, "resid", day_first_csv, "-o", out, "--window", WINDOW)
    assert (code, stdout) == (2, "")
    one_error_line(err, r"^quantreg: error: column 'datetime' of '.*day_first\.csv' holds dates "
                        r"that are not ISO 8601 \(YYYY-MM-DD, optionally with a time\), e\.g\. "
                        r"'07/01/2000' \(row 0\); quantreg does not guess whether the day or the "
                        r"month comes first: give the format with --date-format, e\.g\. "
                        r"--date-format '%d/%m/%Y' \(day first\) or --date-format '%m/%d/%Y' "
                        r"\(month first\)\.$")
    assert not out.exists()

    code, _, err = run(capsys, "resid", day_first_csv, "-o", out, "--window", WINDOW,
                       "--date-format", "%d/%m/%Y")
    assert code == 0, err
    got = pd.read_parquet(out)["residual"]
    assert_same(got.sort_index(), resid(panel, window=WINDOW))  # 07/01/2000 is 7 January

    code, _, err = run(capsys, "resid", day_first_csv, "-o", out, "--window", WINDOW,
                       "--date-format", "%m/%d/%Y")  # month first: 13/01/2000 cannot be read
    one_error_line(err, r"column 'datetime' of '.*' holds '\d\d/\d\d/2000' \(row \d+\), which "
                        r"does not match --date-format '%m/%d/%Y'; give the format of every "
                        r"date in the column\.$")


def test_command_reads_01_02_2020_only_as_told(tmp_path):
    source = tmp_path / "p.csv"
    rows = ["datetime,instrument,x,y"] + [
        f"{day:02d}/02/2020,0700,{x},{2 * x + (x % 3)}" for day, x in zip(range(1, 13), range(12))
    ]
    source.write_text("\n".join(rows) + "\n")
    out = tmp_path / "r.csv"
    done = command("resid", source, "-o", out, "--window", 6, check_code=2)
    one_error_line(done.stderr, r"e\.g\. '01/02/2020' \(row 0\).*--date-format '%d/%m/%Y'")
    command("resid", source, "-o", out, "--window", 6, "--date-format", "%d/%m/%Y",
            check_code=0)
    back = pd.read_csv(out, dtype={"instrument": str}, keep_default_na=False)
    assert back["datetime"].iloc[0] == "2020-02-01"  # 1 February, not 2 January
    assert set(back["instrument"]) == {"0700"}


def test_parquet_time_columns(capsys, tmp_path, panel):
    out = tmp_path / "r.parquet"
    expected = resid(panel, window=WINDOW)
    as_text = panel.reset_index()
    as_text["datetime"] = as_text["datetime"].dt.strftime("%d.%m.%Y")
    as_text.to_parquet(tmp_path / "text.parquet")
    code, _, err = run(capsys, "resid", tmp_path / "text.parquet", "-o", out, "--window", WINDOW)
    one_error_line(err, r"'07\.01\.2000' \(row 0\).*give the format with --date-format")
    assert run(capsys, "resid", tmp_path / "text.parquet", "-o", out, "--window", WINDOW,
               "--date-format", "%d.%m.%Y")[0] == 0
    assert_same(pd.read_parquet(out)["residual"].sort_index(), expected)

    as_int = panel.reset_index()
    as_int["datetime"] = as_int["datetime"].dt.strftime("%Y%m%d").astype(np.int64)
    as_int.to_parquet(tmp_path / "int.parquet")
    code, _, err = run(capsys, "resid", tmp_path / "int.parquet", "-o", out, "--window", WINDOW)
    one_error_line(err, r"column 'datetime' of '.*int\.parquet' holds int64 values, not dates; "
                        r"store timestamps \(pd\.to_datetime\) or ISO 8601 text; e\.g\. "
                        r"--date-format '%Y%m%d' for 20200131\.$")
    assert run(capsys, "resid", tmp_path / "int.parquet", "-o", out, "--window", WINDOW,
               "--date-format", "%Y%m%d")[0] == 0
    assert_same(pd.read_parquet(out)["residual"].sort_index(), expected)

    text_index = panel.copy()  # a MultiIndex whose time level is ISO text
    text_index.index = text_index.index.set_levels(
        text_index.index.levels[0].strftime("%Y-%m-%d"), level="datetime")
    text_index.to_parquet(tmp_path / "text_index.parquet")
    assert run(capsys, "resid", tmp_path / "text_index.parquet", "-o", out, "--window",
               WINDOW)[0] == 0
    assert_same(pd.read_parquet(out)["residual"].sort_index(), expected)


def test_datasets_with_text_dates(capsys, tmp_path, panel):
    flat = panel.reset_index()
    flat["datetime"] = flat["datetime"].dt.strftime("%d/%m/%Y")
    root = hive(flat, tmp_path / "hive", ["instrument"])
    with pytest.raises(DateFormatError, match=r"holds dates that are not ISO 8601 .*e\.g\. "
                       r"'07/01/2000' \(row 0\).*give the format with date_format, e\.g\. "
                       r"date_format='%d/%m/%Y' \(day first\)"):
        read_panel(root)
    back = read_panel(root, start="2000-03-01", end="2000-06-30", date_format="%d/%m/%Y")
    pd.testing.assert_frame_equal(back, panel.loc["2000-03-01":"2000-06-30"], check_exact=True,
                                  check_freq=False, check_index_type=False)
    out = tmp_path / "out"
    code, _, err = run(capsys, "resid", root, "-o", out, "--window", WINDOW)
    one_error_line(err, r"'07/01/2000' \(row 0\).*give the format with --date-format")
    assert not out.exists()
    code, _, err = run(capsys, "resid", root, "-o", out, "--window", WINDOW,
                       "--date-format", "%d/%m/%Y")
    assert code == 0, err
    assert_same(read_panel(out)["residual"], resid(panel, window=WINDOW))


def test_foreign_hive_keys_are_text(capsys, tmp_path, tickers):
    root = hive(tickers.reset_index(), tmp_path / "hive", ["instrument"])
    assert (root / "instrument=0700").is_dir()
    back = read_panel(root)
    pd.testing.assert_frame_equal(back, tickers, check_exact=True, check_freq=False,
                                  check_index_type=False)
    assert sorted(back.index.levels[1]) == sorted(TICKERS)  # not 700, 1 or NaN
    assert read_panel(root, instruments="0700").index.get_level_values(1).unique().tolist() == [
        "0700"]
    code, _, err = run(capsys, "resid", root, "-o", tmp_path / "out", "--window", WINDOW)
    assert code == 0, err
    assert_same(read_panel(tmp_path / "out")["residual"], resid(tickers, window=WINDOW))


def test_extra_hive_keys_are_not_data_columns(capsys, tmp_path, panel):
    """instrument=X/month=M/: the month key is not the default y, and windows do not restart
    at every month: the out-of-core unit is the whole instrument=X folder."""
    root = hive(with_month(panel), tmp_path / "hive", ["instrument", "month"])
    assert len(list((root / "instrument=A000").iterdir())) > 3
    assert list(read_panel(root).columns) == list(panel.columns)
    months = read_panel(root, columns=["month"])["month"]  # there when asked, as text
    assert months.iloc[0] == "2000-01"
    assert [p.key for p in list_partitions(root)] == [f"instrument=A00{i}" for i in range(6)]
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "resid", root, "-o", out, "--window", WINDOW)
    assert code == 0, err
    assert "6 partitions (0 up to date, 0 recomputed, 6 new)" in stdout
    expected = resid(panel, window=WINDOW)
    assert np.isfinite(expected).sum() > len(expected) // 2
    assert_same(read_panel(out)["residual"], expected)
    code, _, err = run(capsys, "resid", root, "-o", tmp_path / "o2", "--window", WINDOW,
                       "--y", "y", "--x", "x1")
    assert code == 0, err
    assert_same(read_panel(tmp_path / "o2")["residual"], resid(panel, y="y", x=["x1"],
                                                               window=WINDOW))


SPLIT_LAYOUTS = {
    "month first": (["month", "instrument"], r"is partitioned by 'month' first \(e\.g\. "
                                             r"'month=2000-01/'\)"),
    "date only": (["datetime"], r"is partitioned by 'datetime' first \(e\.g\. "
                                r"'datetime=2000-01-07/'\)"),
}


@pytest.mark.parametrize("layout", list(SPLIT_LAYOUTS))
def test_layouts_that_split_instruments_are_bucketed_first(capsys, tmp_path, panel, layout):
    keys, where = SPLIT_LAYOUTS[layout]
    flat = with_month(panel) if "month" in keys else panel.reset_index()
    if keys == ["datetime"]:
        flat["datetime"] = flat["datetime"].dt.strftime("%Y-%m-%d")  # a datetime=... folder each
    root = hive(flat, tmp_path / "hive", keys)
    message = (where + r": an instrument's rows may then lie in several partitions, and rolling "
               r"windows cannot be computed one partition at a time\. quantreg processes one "
               r"top-level 'instrument=\.\.\.' folder at a time .*quantreg\.io\.write_panel\("
               r"quantreg\.io\.read_panel\(path\), new_path\) .*quantreg\.io\.repartition")
    with pytest.raises(DatasetLayoutError, match=message):
        list_partitions(root)  # not units of one instrument partition each...
    code, stdout, err = run(capsys, "resid", root, "-o", tmp_path / "out", "--window", WINDOW)
    assert code == 0, err  # ...so the command buckets the rows first
    assert "quantreg repartition: " in stdout
    assert_same(read_panel(tmp_path / "out")["residual"], resid(panel, window=WINDOW))
    # read whole, in memory, the layout does not matter (and the advice works)
    back = read_panel(root)
    pd.testing.assert_frame_equal(back, panel, check_exact=True, check_freq=False,
                                  check_index_type=False)


def test_files_outside_instrument_folders_are_refused(tmp_path, panel):
    root = hive(panel.reset_index(), tmp_path / "hive", ["instrument"])
    pq.write_table(pa.Table.from_pandas(panel.reset_index().iloc[:3], preserve_index=False),
                   root / "stray.parquet")
    with pytest.raises(DatasetLayoutError, match=r"has files outside instrument=\.\.\. folders "
                       r"\(e\.g\. 'stray\.parquet'\)"):
        list_partitions(root)


def test_command_buckets_a_month_first_dataset(tmp_path, panel):
    root = hive(with_month(panel), tmp_path / "hive", ["month", "instrument"])
    done = command("resid", root, "-o", tmp_path / "out", "--window", WINDOW, "--memory", "2M",
                   check_code=0)
    assert "quantreg repartition: " in done.stdout and done.stderr == ""
    assert_same(read_panel(tmp_path / "out")["residual"], resid(panel, window=WINDOW))


def test_dask_reads_datasets_by_the_same_rules(tmp_path, panel):
    pytest.importorskip("dask.dataframe")
    import quantreg.distributed as qd

    def by_key(lazy) -> pd.Series:
        got = lazy.compute(scheduler="sync")
        return got.set_index(["datetime", "instrument"])["residual"].sort_index()

    # month first: instruments span folders; one Dask partition per file, then a shuffle
    by_month = hive(with_month(panel), tmp_path / "by_month", ["month", "instrument"])
    lazy = qd.rolling_resid(by_month, window=WINDOW)
    assert_same(by_key(lazy), resid(panel, window=WINDOW))
    nested = hive(with_month(panel), tmp_path / "nested", ["instrument", "month"])
    lazy = qd.rolling_resid(nested, window=WINDOW)
    assert lazy.npartitions == 6  # one per instrument folder, month folders read together
    assert_same(by_key(lazy), resid(panel, window=WINDOW))


# =========================================================== 3. never stale, never partial
def _rewrite_instrument(root: Path, panel: pd.DataFrame, name: str) -> pd.DataFrame:
    """Change one instrument's y in a foreign hive dataset (its file only); the new panel."""
    changed = panel.copy()
    rows = changed.index.get_level_values("instrument") == name
    changed.loc[rows, "y"] = changed.loc[rows, "y"] * 2.0 + 1.0
    folder = root / f"instrument={name}"
    for child in folder.iterdir():
        child.unlink()
    part = changed[rows].reset_index().drop(columns="instrument")
    pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / "data.parquet")
    return changed


def test_rerun_recomputes_changed_partitions_and_drops_vanished_ones(capsys, tmp_path, panel):
    root = hive(panel.reset_index(), tmp_path / "hive", ["instrument"])
    out = tmp_path / "out"
    args = ("resid", root, "-o", out, "--window", WINDOW)
    assert run(capsys, *args)[0] == 0
    (out / "mine.txt").write_text("the user's")

    changed = _rewrite_instrument(root, panel, "A002")
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert "6 partitions (5 up to date, 1 recomputed, 0 new)," in stdout
    n_a002 = int((panel.index.get_level_values("instrument") == "A002").sum())
    assert f" {n_a002:,} rows computed" in stdout
    assert_same(read_panel(out)["residual"], resid(changed, window=WINDOW))  # not yesterday's

    gone = changed.drop(index="A004", level="instrument")
    for child in (root / "instrument=A004").iterdir():
        child.unlink()
    (root / "instrument=A004").rmdir()
    extra = make_panel(1, 60, 2, nan_frac=0.0, freq="W-FRI", seed=3).rename(
        index={"A000": "B000"}, level="instrument")
    hive(extra.reset_index(), root, ["instrument"])  # a new instrument folder
    latest = pd.concat([gone, extra]).sort_index()
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert ("6 partitions (5 up to date, 0 recomputed, 1 new), output of 1 vanished "
            "partition(s) removed") in stdout
    assert not (out / "instrument=A004").exists()
    assert (out / "mine.txt").read_text() == "the user's"
    assert_same(read_panel(out)["residual"], resid(latest, window=WINDOW))

    code, stdout, _ = run(capsys, *args)
    assert "(6 up to date, 0 recomputed, 0 new), 0 rows computed" in stdout


def test_rerun_after_write_panel_overwrite_recomputes_everything(tmp_path, panel):
    """The fingerprint is of the files: a rewritten dataset is recomputed, even with the same
    rows. Through the command, as a user would run it after refreshing the data."""
    source = write_panel(panel, tmp_path / "panel", partition=2)
    out = tmp_path / "out"
    command("resid", source, "-o", out, "--window", WINDOW, check_code=0)
    changed = panel.assign(y=panel["y"] - panel["x1"])
    time.sleep(0.01)
    write_panel(changed, source, partition=2, overwrite=True)
    done = command("resid", source, "-o", out, "--window", WINDOW, check_code=0)
    assert "2 partitions (0 up to date, 2 recomputed, 0 new)" in done.stdout
    assert_same(read_panel(out)["residual"], resid(changed, window=WINDOW))


def test_other_options_on_the_same_output_are_refused(capsys, tmp_path, panel):
    source = write_panel(panel, tmp_path / "panel")
    out = tmp_path / "out"
    assert run(capsys, "resid", source, "-o", out, "--window", WINDOW)[0] == 0
    before = tree(out)
    code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW,
                       "--date-format", "%Y-%m-%d")
    one_error_line(err, r"holds the results of another run \(quantreg resid .*panel -o .*out "
                        r"--window 12\); to resume, repeat that command; otherwise choose a new "
                        r"-o directory")
    assert tree(out) == before
    again = tmp_path / "panel" / ".." / "panel"  # the same input, spelled differently
    code, stdout, err = run(capsys, "resid", again, "-o", out, "--window", WINDOW)
    assert code == 0, err
    assert "6 partitions (6 up to date, 0 recomputed, 0 new)" in stdout


def test_a_failed_run_that_wrote_nothing_can_be_run_again_differently(capsys, tmp_path, panel):
    source = write_panel(panel.assign(sector="tech"), tmp_path / "panel")
    out = tmp_path / "out"
    code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)  # y = sector
    one_error_line(err, r"column 'sector' has non-numeric dtype")
    code, stdout, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW,
                            "--y", "y", "--x", "x1", "x2")
    assert code == 0, err
    assert "6 partitions (0 up to date, 0 recomputed, 6 new)" in stdout
    assert_same(read_panel(out)["residual"], resid(panel, window=WINDOW))


def _interrupt_on(monkeypatch, n: int) -> None:
    """Make the ``n``-th Parquet file write die half-way (as Ctrl-C or a kill would)."""
    calls = {"n": 0}
    real = qio.pq.write_table

    def dies(table, where, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            where.write(b"PAR1 partial")
            raise KeyboardInterrupt
        return real(table, where, **kwargs)

    monkeypatch.setattr(qio.pq, "write_table", dies)


def test_an_interrupted_output_is_not_read_as_complete(capsys, tmp_path, panel, monkeypatch):
    source = write_panel(panel, tmp_path / "panel")
    out = tmp_path / "out"
    _interrupt_on(monkeypatch, 3)
    code, _, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
    assert (code, err) == (130, INTERRUPTED)
    monkeypatch.undo()
    with pytest.raises(IncompleteDatasetError, match=r"the dataset '.*out' is incomplete: 2 of 6 "
                       r"partitions were written \(quantreg resid was interrupted, or is still "
                       r"running\); run the same 'quantreg resid' command again to finish it, or "
                       r"pass allow_partial=True to read the partitions written so far\."):
        read_panel(out)
    expected = resid(panel, window=WINDOW)
    done = expected[expected.index.get_level_values("instrument").isin(["A000", "A001"])]
    with pytest.warns(PartialDatasetWarning, match=rf"'.*out' is incomplete: read 2 of 6 "
                      rf"partitions \({len(done)} rows\); run the same 'quantreg resid' command"):
        partial = read_panel(out, allow_partial=True)
    assert_same(partial["residual"], done)
    assert run(capsys, "resid", source, "-o", out, "--window", WINDOW)[0] == 0
    assert_same(read_panel(out, allow_partial=True)["residual"], expected)  # complete: no warning


def test_an_interrupted_write_panel_is_not_read_as_complete(tmp_path, panel, monkeypatch):
    root = tmp_path / "panel"
    _interrupt_on(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        write_panel(panel, root)
    monkeypatch.undo()
    with pytest.raises(IncompleteDatasetError, match=r"incomplete: 1 of 6 partitions were "
                       r"written \(write_panel was interrupted.*write it again with "
                       r"quantreg\.io\.write_panel\(df, path, overwrite=True\), or pass "
                       "allow_partial=True"):
        read_panel(root)
    with pytest.raises(IncompleteDatasetError, match="incomplete"):
        list_partitions(root)  # nor computed on
    with pytest.warns(PartialDatasetWarning, match=r"read 1 of 6 partitions \(\d+ rows\)"):
        partial = read_panel(root, allow_partial=True)
    pd.testing.assert_frame_equal(partial, panel.loc[(slice(None), ["A000"]), :],
                                  check_exact=True, check_freq=False)
    write_panel(panel, root, partition=3, overwrite=True)  # the pending sidecar is quantreg's
    pd.testing.assert_frame_equal(read_panel(root), panel, check_exact=True, check_freq=False)
    assert not [f for f in tree(root) if f.endswith(".tmp")]


def test_a_complete_dataset_missing_a_file_is_an_error(tmp_path, panel):
    root = write_panel(panel, tmp_path / "panel")
    (root / "instrument=A003" / "part-0.parquet").unlink()
    with pytest.raises(DatasetError, match=r"instrument=A003/part-0\.parquet', listed in .* is "
                       r"missing: the dataset was changed after quantreg wrote it"):
        read_panel(root, instruments=["A000"])


# =========================================================== 4. Ctrl-C on the command line
def test_ctrl_c_is_one_line_and_exit_130(capsys, tmp_path, panel, monkeypatch):
    source = tmp_path / "in.parquet"
    panel.to_parquet(source)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_fit_rows", interrupted)
    out = tmp_path / "r.parquet"
    code, stdout, err = run(capsys, "resid", source, "-o", out, "--window", WINDOW)
    assert (code, stdout, err) == (130, "", INTERRUPTED)
    assert not out.exists()
    monkeypatch.setattr(cli, "_run_demo", interrupted)
    assert run(capsys, "demo")[::2] == (130, INTERRUPTED)


def test_sigint_to_the_command_then_resume(tmp_path):
    """A real Ctrl-C (SIGINT) while the out-of-core job runs: one line, exit 130, then the same
    command finishes the job and the result is complete and exact."""
    panel = make_panel(300, 30, 1, nan_frac=0.0, seed=5)
    source = write_panel(panel, tmp_path / "panel")
    out = tmp_path / "out"
    env = dict(os.environ)
    root = str(Path(quantreg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    job = subprocess.Popen(
        [sys.executable, "-m", "quantreg", "resid", str(source), "-o", str(out), "--window",
         "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not any(out.glob("*/residual.parquet")):
        assert job.poll() is None and time.monotonic() < deadline, job.communicate()
        time.sleep(0.005)
    job.send_signal(signal.SIGINT)
    stdout, stderr = job.communicate(timeout=60)
    assert (job.returncode, stdout, stderr) == (130, "", INTERRUPTED)
    finished = len(list(out.glob("*/residual.parquet")))
    assert 0 < finished < 300
    with pytest.raises(IncompleteDatasetError, match=rf"{finished} of 300 partitions"):
        read_panel(out)
    code = main(["resid", str(source), "-o", str(out), "--window", "10"])
    assert code == 0
    assert_same(read_panel(out)["residual"], resid(panel, window=10))


# =========================================================== property
def by_row(series: pd.Series) -> pd.Series:
    """The values keyed by (datetime in ns, instrument as text), sorted."""
    index = pd.MultiIndex.from_arrays([series.index.get_level_values(0).as_unit("ns"),
                                       series.index.get_level_values(1).astype(str)])
    return pd.Series(series.to_numpy(), index=index).sort_index()


LAYOUTS = ["write_panel", "buckets", "instrument", "instrument/month", "month/instrument",
           "month"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_instruments=st.integers(1, 4),
    n_dates=st.integers(10, 40),
    k=st.integers(1, 2),
    window=st.integers(2, 15),
    nan_frac=st.sampled_from([0.0, 0.1]),
    layout=st.sampled_from(LAYOUTS),
    names=st.permutations(["0700", "000001", "NA", "nan", "A", "x/y"]),
    seed=st.integers(0, 2**16),
)
def test_property_directory_job_equals_in_memory_or_one_error_line(
    n_instruments, n_dates, k, window, nan_frac, layout, names, seed
):
    panel = make_panel(n_instruments, n_dates, k, nan_frac=nan_frac, freq="W-FRI", seed=seed)
    panel = panel.rename(index=dict(zip(sorted(panel.index.levels[1]), names)),
                         level="instrument").sort_index()
    try:
        expected = resid(panel, window=window)
    except ValueError:  # e.g. a window smaller than the number of regressors
        expected = None
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in", Path(tmp) / "out"
        if layout == "write_panel":
            write_panel(panel, source)
        elif layout == "buckets":
            write_panel(panel, source, partition=2)
        else:
            flat = with_month(panel) if "month" in layout else panel.reset_index()
            hive(flat, source, layout.split("/"))
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["resid", str(source), "-o", str(out), "--window", str(window)])
        event(f"{layout}: exit {code}")
        if code == 0:
            assert expected is not None
            got = by_row(read_panel(out)["residual"])
            expected = by_row(expected)
            assert len(got) == len(expected) and got.index.sort_values().equals(expected.index)
            np.testing.assert_array_equal(got.reindex(expected.index).to_numpy(),
                                          expected.to_numpy())
        else:
            assert code == 2 and stdout.getvalue() == ""
            assert stderr.getvalue().count("\n") == 1
            assert stderr.getvalue().startswith("quantreg: error: ")
            assert expected is None  # refused only for a reason
