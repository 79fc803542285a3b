"""The one place that configures numba for quantreg's kernels.

Every kernel is compiled with float64 arithmetic as written (no ``fastmath``), without the GIL,
for one signature (callers normalise values to float64 and indices to int64; the number of
regressors is a run-time argument), and cached on disk so that a fresh process (or a Dask
worker) loads machine code instead of compiling again. When numba cannot find a writable
cache location (a read-only install with no ``NUMBA_CACHE_DIR``), the kernels are compiled in
memory instead of failing at import time.

Kernels are called from Python (the finishers, the coordinate descent: the Python entry
point), by other kernels through their addresses (the steps of :mod:`quantreg._kernels.steps`:
the C entry point), or only from other kernels' code (helpers such as ``refine_chunk``:
neither). Entry points nothing calls are not compiled.
"""

from __future__ import annotations

from typing import Any, Callable

import numba

__all__ = ["jit"]


def jit(inline: str = "never", *, python: bool = True, address: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a kernel with quantreg's numba settings. ``inline="always"`` is for glue only
    (a function inlined into its callers is typed again in each of them). ``python``: called
    from Python (compile the Python entry point); ``address``: called by other kernels through
    its address (:mod:`quantreg._kernels.steps`; compile the C entry point)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        options = dict(nogil=True, fastmath=False, error_model="numpy", inline=inline, no_cpython_wrapper=not python,
                       no_cfunc_wrapper=not address)
        try:
            return numba.njit(cache=True, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(func)

    return decorate
