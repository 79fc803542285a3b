"""The steps of the walk, compiled once and called by every finisher through their addresses.

A numba function that calls another copies the callee's optimised code into its own module
and optimises and compiles it again: linked that way, the walk (:mod:`quantreg._kernels.walk`)
and the solver (:mod:`quantreg._kernels.linalg`) would be compiled once in their own right
and once more inside every finisher kernel. Instead each finisher receives :data:`STEPS`, a
named tuple of first-class functions — the steps' addresses — and calls them through it: each
step is compiled (or loaded from the disk cache) once per process, for one signature, and a
finisher's module holds only its own code. A call costs an indirect jump per chunk of
:data:`~quantreg._kernels.walk.CHUNK` rows, nothing measurable.

The steps have fixed signatures (float64 values, int64 indices, C-contiguous arrays, as
:class:`quantreg.panel.Layout` normalises them); a finisher calling a step with other types
fails to compile instead of silently converting.

**Compiling the steps in parallel.** With an empty cache, the steps are most of a first
call's compilation. :func:`prepare` (called by the engine before its first kernel call in a
process) loads the steps that are cached, and when at least two are not and there is a core to
spare, compiles :data:`HELPER_STEPS` in a helper process — into the same disk cache — while
this process compiles the finisher and the other steps; a step waits for the helper only when
its address is first needed, then loads from the cache (or compiles here, should the helper
have failed). Without a disk cache, or on one core, everything is compiled here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

from numba import types as nt
from numba.core.dispatcher import Dispatcher
from numba.core.typing import Signature
from numba.core.types.function_type import WrapperAddressProtocol

from quantreg._kernels.linalg import factor_chunk, solve_chunk
from quantreg._kernels.ols import window_states
from quantreg._kernels.walk import begin_segment, walk_chunk

__all__ = ["HELPER_STEPS", "STEPS", "Step", "Steps", "compile_steps", "prepare"]

_F1, _F2 = nt.float64[::1], nt.float64[:, ::1]
_I1, _I2 = nt.int64[::1], nt.int64[:, ::1]
_B1, _S1 = nt.boolean[::1], nt.int8[::1]
_INT, _BOOL = nt.int64, nt.boolean


class Step(WrapperAddressProtocol):
    """A kernel passed to other kernels as a first-class function of one signature: numba
    types it as ``FunctionType(signature)`` and calls it through the address of its compiled
    code, compiled (or loaded from the cache) when first asked for."""

    def __init__(self, kernel: Dispatcher, signature: Signature) -> None:
        self._kernel = kernel
        self._signature = signature
        self._address: int | None = None
        self._lock = threading.Lock()
        self.helper: subprocess.Popen | None = None  # a process compiling this step into the disk cache

    def signature(self) -> Signature:
        return self._signature

    @property
    def disk_cache(self) -> bool:
        """Whether compiled code is cached on disk (else it lives in this process only)."""
        return self._kernel._cache.cache_path is not None

    def compile(self) -> None:
        """Compile the step, or load it from the disk cache."""
        self._kernel.compile(self._signature)

    def load_cached(self) -> bool:
        """Load the step from the disk cache if it is there (``False``: it is not, or there is
        no disk cache)."""
        if self._signature.args in self._kernel.overloads:
            return True
        if self._kernel._cache.load_overload(self._signature, self._kernel.targetctx) is None:
            return False
        self.compile()  # loads it from the cache
        return True

    def __wrapper_address__(self) -> int:
        with self._lock:
            if self._address is None:
                if self.helper is not None:  # being compiled into the cache: wait for it
                    try:
                        self.helper.wait(timeout=HELPER_TIMEOUT)
                    except subprocess.TimeoutExpired:  # stuck: compile here instead
                        self.helper.kill()
                    self.helper = None
                compiled = self._kernel.get_compile_result(self._signature)  # from the cache, or compiled
                self._address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_cfunc_wrapper_name)
            return self._address

    def __repr__(self) -> str:
        return f"Step({self._kernel.py_func.__name__}, {self._signature})"


class Steps(NamedTuple):
    """The steps every finisher composes (a named tuple: numba types each field on its own;
    their addresses are taken in this order, those the helper compiles last)."""

    begin_segment: Any
    window_states: Any
    factor_chunk: Any
    walk_chunk: Any
    solve_chunk: Any


#: The walk's steps, passed by the engine to every finisher kernel.
STEPS = Steps(
    begin_segment=Step(begin_segment, nt.UniTuple(_INT, 2)(
        _F2, _I1, _F1, _I1, _INT, _I1, _INT, _INT, nt.float64, _F1, _I2, _F2, _I1)),
    window_states=Step(window_states, nt.void(_I2, _INT, _INT, _INT, _INT, _BOOL, _BOOL, _S1, _B1)),
    factor_chunk=Step(factor_chunk, nt.void(_F2, _INT, _INT, _BOOL, _S1, _F2)),
    walk_chunk=Step(walk_chunk, nt.void(
        _F2, _I1, _F1, _INT, _I2, _F2, _INT, _INT, _B1, _BOOL, _F2, _F2, _F1, _I1, _F2, _INT)),
    solve_chunk=Step(solve_chunk, nt.void(_F2, _INT, _INT, _BOOL, _BOOL, _INT, _S1, _F2)),
)

#: The steps a helper process compiles when the cache lacks them: about as long to compile as
#: a finisher and the other steps together.
HELPER_STEPS = ("walk_chunk", "solve_chunk")
#: Seconds a step waits for the helper before compiling itself.
HELPER_TIMEOUT = 300.0

_prepared = threading.Event()
_prepare_lock = threading.Lock()


def compile_steps(names: list[str]) -> None:
    """Compile the named steps (into the disk cache): what the helper process runs."""
    for name in names:
        getattr(STEPS, name).compile()


def prepare() -> None:
    """Once per process, before the first finisher is called: load the cached steps, and have a
    helper process compile :data:`HELPER_STEPS` if they are not cached (see the module's
    docstring)."""
    if _prepared.is_set():
        return
    with _prepare_lock:
        if not _prepared.is_set():
            _start_helper([name for name, step in STEPS._asdict().items() if not step.load_cached()])
            _prepared.set()


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start_helper(missing: list[str]) -> None:
    helped = [name for name in HELPER_STEPS if name in missing]
    if not helped or len(missing) < 2 or _usable_cores() < 2 or not sys.executable:
        return
    if not STEPS.walk_chunk.disk_cache:  # nothing to share with a helper
        return
    # the helper imports the kernels without running quantreg/__init__ (pandas and the rest):
    # the same files, so the same cache entries
    script = (
        "import sys, types; package = types.ModuleType('quantreg'); "
        f"package.__path__ = [{str(Path(__file__).resolve().parents[1])!r}]; sys.modules['quantreg'] = package; "
        f"from quantreg._kernels.steps import compile_steps; compile_steps({helped!r})"
    )
    try:
        helper = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except OSError:  # cannot start a process here: compile in this one
        return
    for name in helped:
        getattr(STEPS, name).helper = helper
