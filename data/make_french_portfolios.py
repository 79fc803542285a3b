"""Convert linearmodels' ``french`` dataset into quantreg's bundled long panel (run once).

The script reads the monthly Kenneth R. French data shipped inside the installed
``linearmodels`` package, turns the 30 portfolio returns into EXCESS returns (portfolio return
minus the one-month T-bill rate ``RF``), repeats the four factors for every portfolio and writes
a long panel with a (datetime, instrument) MultiIndex to ``quantreg/data/french_portfolios.parquet``
(package data, installed with quantreg). ``data/README.md`` documents the result.

Usage (from the repository root)::

    python data/make_french_portfolios.py          # writes quantreg/data/french_portfolios.parquet
    python data/make_french_portfolios.py --check  # verifies the committed file instead

The output is deterministic: running the script again reproduces the same frame.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUTPUT = Path(__file__).resolve().parents[1] / "quantreg" / "data" / "french_portfolios.parquet"

#: Source column -> output column for the factors (names as on Ken French's web site).
FACTORS = {"MktRF": "Mkt-RF", "SMB": "SMB", "HML": "HML", "Mom": "Mom"}
#: The 30 portfolios, in the source's order: 12 industries, 3x3 size/value, 3x3 size/momentum.
PORTFOLIOS = (
    ["NoDur", "Durbl", "Manuf", "Enrgy", "Chems", "BusEq",
     "Telcm", "Utils", "Shops", "Hlth", "Money", "Other"]
    + [f"S{s}V{v}" for s in (1, 3, 5) for v in (1, 3, 5)]
    + [f"S{s}M{m}" for s in (1, 3, 5) for m in (1, 3, 5)]
)
LABEL = "excess_return"


def load_source() -> pd.DataFrame:
    """Return linearmodels' ``french`` data (one row per month, returns in decimal units)."""
    from linearmodels.datasets import french

    wide = french.load()
    missing = sorted((set(FACTORS) | set(PORTFOLIOS) | {"RF", "dates"}) - set(wide.columns))
    if missing:
        raise SystemExit(f"linearmodels' french dataset lacks columns {missing}")
    return wide


def convert(wide: pd.DataFrame) -> pd.DataFrame:
    """Turn the wide monthly frame into the long (datetime, instrument) excess-return panel."""
    wide = wide.sort_values("dates")
    dates = pd.DatetimeIndex(wide["dates"]).as_unit("ns")
    # Units: linearmodels stores Ken French's percent figures divided by 100 (0.01 == 1 %).
    # Guard against a future release switching to percent.
    if wide["RF"].abs().max() > 0.05:
        raise SystemExit("RF exceeds 5 % per month: the source no longer holds decimal returns")
    n_dates, n_assets = len(dates), len(PORTFOLIOS)
    rf = wide["RF"].to_numpy(dtype=np.float64)
    raw = wide[PORTFOLIOS].to_numpy(dtype=np.float64)  # (n_dates, n_assets)
    excess = raw - rf[:, None]

    instruments = pd.Index(PORTFOLIOS, dtype="str")
    order = np.argsort(instruments.to_numpy())  # rows sorted by (datetime, instrument name)
    index = pd.MultiIndex.from_arrays(
        [dates.repeat(n_assets), np.tile(instruments[order], n_dates)],
        names=["datetime", "instrument"],
    )
    columns = {
        new: np.repeat(wide[old].to_numpy(dtype=np.float64), n_assets)
        for old, new in FACTORS.items()
    }
    columns[LABEL] = excess[:, order].ravel()  # the label last: rolling_ols's default y
    return pd.DataFrame(columns, index=index)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the existing Parquet file with a fresh conversion")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    panel = convert(load_source())
    if args.check:
        stored = pd.read_parquet(args.output)
        pd.testing.assert_frame_equal(stored, panel)
        print(f"{args.output} matches a fresh conversion ({len(panel):,} rows)")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    panel.to_parquet(args.output, engine="pyarrow", compression="zstd", index=True)
    dates = panel.index.get_level_values("datetime")
    print(
        f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KiB): {len(panel):,} rows, "
        f"{panel.index.get_level_values('instrument').nunique()} portfolios, "
        f"{dates.min():%Y-%m} .. {dates.max():%Y-%m}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
