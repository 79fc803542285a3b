"""Grouping rows into contiguous per-instrument segments (numba, no pandas)."""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit


@jit()
def group_by_code(codes: np.ndarray, n_groups: int, perm: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Stable counting sort of rows by an integer group code in ``[0, n_groups)``, checking on
    the way that ``keys`` increase within every group.

    Fills ``perm`` (any integer dtype, length of ``codes``) so that ``codes[perm]`` is
    non-decreasing and rows keep their order within a group. Returns ``(offsets, position,
    kind)``: the int64 ``offsets`` (length ``n_groups + 1``; group ``g`` is
    ``perm[offsets[g]:offsets[g+1]]``) and, as :func:`first_disorder`, the first sorted position
    whose key does not increase (``kind`` 2: a duplicate, 1: out of order, 0: none) — found
    while reading the rows in order, without a second pass in sorted order.
    """
    n = codes.shape[0]
    offsets = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    fill = offsets[:-1].copy()
    last = np.empty(n_groups, dtype=np.int64)
    position, kind = 0, 0
    for i in range(n):
        g = codes[i]
        key = keys[i]
        if fill[g] > offsets[g] and key <= last[g]:
            found = 2 if key == last[g] else 1
            if found > kind or (found == kind and fill[g] < position):
                position, kind = fill[g], found
        last[g] = key
        perm[fill[g]] = i
        fill[g] += 1
    return offsets, position, kind


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
