"""Kernels called by other kernels through their addresses: the steps of the walk, compiled
once and shared by every finisher, and the selection solvers.

A numba function that calls another copies the callee's optimised code into its own module
and optimises and compiles it again: linked that way, the walk (:mod:`quantreg._kernels.walk`)
and the solver (:mod:`quantreg._kernels.linalg`) would be compiled once in their own right
and once more inside every finisher kernel. Instead each finisher receives :data:`STEPS`, a
named tuple of first-class functions — the steps' addresses — and calls them through it: each
step is compiled (or loaded from the disk cache) once per process, for one signature, and a
finisher's module holds only its own code. A call costs an indirect jump per chunk of
:data:`~quantreg._kernels.walk.CHUNK` rows, nothing measurable. The selection finisher
receives the coordinate descent the same way (:data:`SOLVERS`: once per window, next to a
solve of O(k²) per sweep).

The steps have fixed signatures (float64 values, int64 indices, C-contiguous arrays, as
:class:`quantreg.panel.Layout` normalises them); a finisher calling a step with other types
fails to compile instead of silently converting.

**Compiling in parallel.** With an empty cache, the steps are most of a first call's
compilation. :func:`prepare` (called by the engine before a finisher's first call in a
process) loads the steps that are cached, and when at least two are not and the kernels may
use a second core (:func:`quantreg._parallel.n_threads`), has a helper process compile some of
them — the finisher's choice, about half the work — into the same disk cache while this
process compiles the finisher and the others; a step
waits for the helper only when its address is first needed, then loads from the cache (or
compiles here, should the helper have failed). Without a disk cache, or on one core,
everything is compiled here.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numba.experimental.function_type  # noqa: F401  (numba's typing of first-class functions)
from numba import types as nt
from numba.core.dispatcher import Dispatcher
from numba.core.typing import Signature
from numba.core.types.function_type import WrapperAddressProtocol

from quantreg._kernels.coordinate_descent import cd_continuation_gram, cd_gram, cholesky_solve
from quantreg._kernels.linalg import factor_chunk, solve_chunk
from quantreg._kernels.ols import window_states
from quantreg._kernels.walk import begin_segment, walk_chunk
from quantreg._parallel import n_threads

__all__ = ["SOLVERS", "SOLVE_STEPS", "STEPS", "SolveSteps", "Solvers", "Step", "Steps", "compile_steps", "prepare"]

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
        self.prepared = False  # by prepare()
        self.helper: _Helper | None = None  # a process compiling this step into the disk cache

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
                    self.helper.wait_for(self)
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


class SolveSteps(NamedTuple):
    """The solver's steps alone, for finishers that do not walk (one fit per segment)."""

    factor_chunk: Any
    solve_chunk: Any


#: The solver's steps (the same compiled code as in :data:`STEPS`), passed to the
#: cross-section finisher, which takes each segment's record without the walk.
SOLVE_STEPS = SolveSteps(factor_chunk=STEPS.factor_chunk, solve_chunk=STEPS.solve_chunk)


class Solvers(NamedTuple):
    """The solvers of the selection finisher (:mod:`quantreg._kernels.select`)."""

    cholesky_solve: Any
    cd_gram: Any
    cd_continuation_gram: Any


_FIT = nt.Tuple((_INT, nt.float64))

#: The coordinate descent (:mod:`quantreg._kernels.coordinate_descent`), passed by the engine
#: to the selection finisher (the estimators call the same kernels from Python).
SOLVERS = Solvers(
    cholesky_solve=Step(cholesky_solve, _INT(_F2, _F1, _F1)),
    cd_gram=Step(cd_gram, _FIT(_F2, _F1, _F1, _INT, _F1, _INT, nt.float64)),
    cd_continuation_gram=Step(cd_continuation_gram,
                              _FIT(_F2, _F1, _F1, _INT, _F1, _INT, nt.float64, _INT, nt.float64)),
)

_ALL = {**STEPS._asdict(), **SOLVERS._asdict()}
#: Seconds a step waits for the helper before compiling itself.
HELPER_TIMEOUT = 300.0
_prepare_lock = threading.Lock()


def compile_steps(names: list[str]) -> None:
    """Compile the named steps (into the disk cache), printing each name when it is done: what
    the helper process runs."""
    for name in names:
        _ALL[name].compile()
        print(name, flush=True)


def prepare(steps: tuple[Step, ...], helped: tuple[Step, ...]) -> None:
    """Before a finisher's first call in a process: load those of ``steps`` that are cached,
    and when at least two are not, have a helper process compile those of ``helped`` (about
    half the work) while this process compiles the finisher and the rest (see the module's
    docstring). Steps already prepared are left alone."""
    with _prepare_lock:
        todo = [step for step in steps if not step.prepared]
        for step in todo:
            step.prepared = True
        missing = [step for step in todo if not step.load_cached()]
        for_helper = [step for step in missing if step in helped]
        if for_helper and len(missing) >= 2 and n_threads() >= 2 and sys.executable and missing[0].disk_cache:
            _start_helper(for_helper)


class _Helper:
    """A process compiling steps into the disk cache; it prints each step's name when done."""

    def __init__(self, steps: list[Step]) -> None:
        names = {name: step for name, step in _ALL.items() if step in steps}
        # the kernels without quantreg/__init__ (pandas and the rest): the same files, so the
        # same cache entries
        script = (
            "import sys, types; package = types.ModuleType('quantreg'); "
            f"package.__path__ = [{str(Path(__file__).resolve().parents[1])!r}]; sys.modules['quantreg'] = package; "
            f"from quantreg._kernels.steps import compile_steps; compile_steps({list(names)!r})"
        )
        self._ready = {step: threading.Event() for step in steps}
        self._names = {name: self._ready[step] for name, step in names.items()}
        self._process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with self._process.stdout as lines:
            for line in lines:
                if line.strip() in self._names:
                    self._names[line.strip()].set()
        self._process.wait()
        for ready in self._ready.values():  # done, or failed: nobody waits any longer
            ready.set()

    def wait_for(self, step: Step) -> None:
        """Until ``step`` is in the cache, the helper has exited, or :data:`HELPER_TIMEOUT`."""
        if not self._ready[step].wait(HELPER_TIMEOUT):
            self._process.kill()


def _start_helper(steps: list[Step]) -> None:
    try:
        helper = _Helper(steps)
    except OSError:  # cannot start a process here: compile in this one
        return
    for step in steps:
        step.helper = helper
