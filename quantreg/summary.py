"""Readable results: the statsmodels-style text summary of one window, and short reprs.

:meth:`quantreg.RollingOLSResult.summary` builds a :class:`WindowSummary` from one row's
numbers; this module only lays them out (no statistics are computed here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["WindowSummary", "status_shares"]

WIDTH = 78


def _number(value: float, digits: int = 4) -> str:
    """A number as statsmodels prints it: fixed point, or exponent when very large or small."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    value = float(value)
    if value != 0.0 and (abs(value) >= 1e5 or abs(value) < 10.0 ** -digits):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"


class WindowSummary:
    """The summary of one rolling window: a header of window statistics and the coefficient
    table, printed like statsmodels' ``OLSResults.summary()``.

    Attributes
    ----------
    title : str
    header : list of (label, value) pairs (two columns of the header, left then right)
    table : DataFrame
        ``coef``, ``std err``, ``t`` (or ``z``), ``P>|t|`` (or ``P>|z|``) and the confidence
        bounds, one row per coefficient.
    notes : list of str
    """

    def __init__(self, title: str, left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]],
                 table: pd.DataFrame, notes: Sequence[str] = ()) -> None:
        self.title = title
        self.left = list(left)
        self.right = list(right)
        self.table = table
        self.notes = list(notes)

    def as_text(self) -> str:
        """The summary as plain text (78 columns)."""
        half = WIDTH // 2
        lines = [self.title.center(WIDTH).rstrip(), "=" * WIDTH]
        for i in range(max(len(self.left), len(self.right))):
            cells = []
            for pairs in (self.left, self.right):
                label, value = pairs[i] if i < len(pairs) else ("", "")
                text = f"{label}:" if label else ""
                cells.append(text + str(value).rjust(half - 1 - len(text)))
            lines.append((cells[0] + "  " + cells[1]).rstrip())
        lines.append("=" * WIDTH)
        columns = list(self.table.columns)
        names = [str(n) for n in self.table.index]
        name_width = max(8, *(len(n) for n in names)) + 2
        cell = (WIDTH - name_width) // len(columns)
        lines.append(" " * name_width + "".join(str(c).rjust(cell) for c in columns))
        lines.append("-" * WIDTH)
        for name, row in zip(names, self.table.itertuples(index=False)):
            values = [f"{v:.3f}" if c.startswith("P>") else _number(v) for c, v in zip(columns, row)]
            lines.append(name.ljust(name_width) + "".join(v.rjust(cell) for v in values))
        lines.append("=" * WIDTH)
        if self.notes:
            lines.append("Notes:")
            lines += [f"[{i}] {note}" for i, note in enumerate(self.notes, 1)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()


def status_shares(codes: np.ndarray, categories: Sequence[str]) -> str:
    """``ok=27 (93.1%), warmup=2 (6.9%)`` — count and share of each status present in ``codes``."""
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(categories))
    total = max(int(counts.sum()), 1)
    parts = [f"{name}={int(n):,} ({100.0 * n / total:.1f}%)" for name, n in zip(categories, counts) if n]
    return ", ".join(parts) if parts else "no rows"
