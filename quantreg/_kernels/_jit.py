"""The one place that configures numba for quantreg's kernels.

Every kernel is compiled with float64 arithmetic as written (no ``fastmath``), without the GIL,
and cached on disk so that a fresh process (or a Dask worker) loads machine code instead of
compiling again. When numba cannot find a writable cache location (a read-only install with no
``NUMBA_CACHE_DIR``), the kernels are compiled in memory instead of failing at import time.
"""

from __future__ import annotations

from typing import Any, Callable

import numba

__all__ = ["jit", "prange"]

prange = numba.prange


def jit(*, parallel: bool = False, inline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a kernel with quantreg's numba settings.

    Parameters
    ----------
    parallel : bool
        Compile with ``parallel=True`` so that ``prange`` loops run on all cores.
    inline : bool
        Inline the function into its (jitted) callers at numba IR level: for the small
        per-row helpers of the hot loops, where a call costs as much as the work.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        options = dict(
            nogil=True, fastmath=False, error_model="numpy", parallel=parallel,
            inline="always" if inline else "never",
        )
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(func)

    return decorate

