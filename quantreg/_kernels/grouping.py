"""Grouping rows into contiguous per-instrument segments (numba, no pandas)."""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit


@jit()
def group_by_code(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort of rows by an integer group code in ``[0, n_groups)``.

    Returns
    -------
    perm : int64 array, ``codes[perm]`` is non-decreasing and rows keep their order within a
        group.
    offsets : int64 array of length ``n_groups + 1``; group ``g`` is ``perm[offsets[g]:offsets[g+1]]``.
    """
    n = codes.shape[0]
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    fill = offsets[:-1].copy()
    perm = np.empty(n, dtype=np.int64)
    for i in range(n):
        g = codes[i]
        perm[fill[g]] = i
        fill[g] += 1
    return perm, offsets


@jit()
def first_disorder(keys: np.ndarray, perm: np.ndarray, offsets: np.ndarray) -> tuple[int, int]:
    """Check that ``keys[perm]`` strictly increases within every segment.

    Returns ``(position, kind)``: ``kind`` 0 when all segments are strictly increasing, 1 when
    ``position`` (in sorted order) is not after its predecessor (unsorted), 2 when it equals it
    (a duplicated key). A duplicate is reported in preference to disorder.
    """
    disorder = -1
    for g in range(offsets.shape[0] - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            a = keys[perm[i - 1]]
            b = keys[perm[i]]
            if a == b:
                return i, 2
            if a > b and disorder < 0:
                disorder = i
    if disorder >= 0:
        return disorder, 1
    return 0, 0


@jit()
def is_identity(perm: np.ndarray) -> bool:
    """Whether ``perm`` is ``0, 1, …, n − 1``."""
    for i in range(perm.shape[0]):
        if perm[i] != i:
            return False
    return True
