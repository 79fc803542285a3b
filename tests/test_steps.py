"""The walk's steps as first-class functions (quantreg._kernels.steps): compiled once, shared by
every finisher, compiled in a helper process when the cache lacks them — and a failed helper
costs time, never a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import quantreg
from quantreg import engine
from quantreg._kernels import steps
from quantreg._kernels.steps import STEPS, Step
from quantreg._parallel import n_threads

ROOT = Path(__file__).resolve().parents[1]

FRESH_PROCESS = r"""
import json, sys
import numpy as np, pandas as pd
import quantreg
from quantreg._kernels.steps import STEPS
rng = np.random.default_rng(3)
idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=80), ["A", "B", "C"]],
                                 names=["datetime", "instrument"])
df = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["y", "a", "b"])
resid = quantreg.rolling_resid(df, y="y", x=["a", "b"], window=20)
stats = {name: {"hits": sum(step._kernel.stats.cache_hits.values()),
                "misses": sum(step._kernel.stats.cache_misses.values())}
         for name, step in STEPS._asdict().items()}
print(json.dumps({"resid": resid.to_numpy().tolist(), "steps": stats}))
"""


def run_fresh(cache: Path) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(n_threads() < 2, reason="the helper process needs a second core")
def test_a_fresh_process_has_the_helper_compile_steps_into_the_cache(tmp_path):
    """Empty cache: the helper compiles walk_chunk and solve_chunk, this process loads them from
    the cache (hits) and compiles the other steps (misses); the residuals are those of this
    process. A second fresh process compiles no step at all."""
    first = run_fresh(tmp_path)
    helped = {name for name, step in STEPS._asdict().items() if step in engine._HELPED}
    assert helped == {"walk_chunk", "solve_chunk"}
    for name in helped:
        assert first["steps"][name] == {"hits": 1, "misses": 0}, name
    for name in set(STEPS._fields) - helped:
        assert first["steps"][name] == {"hits": 0, "misses": 1}, name
    rng = np.random.default_rng(3)
    idx = pd.MultiIndex.from_product([pd.date_range("2020-01-01", periods=80), ["A", "B", "C"]],
                                     names=["datetime", "instrument"])
    df = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["y", "a", "b"])
    expected = quantreg.rolling_resid(df, y="y", x=["a", "b"], window=20).to_numpy()
    np.testing.assert_array_equal(np.array(first["resid"], dtype=float), expected)
    second = run_fresh(tmp_path)
    assert all(stat == {"hits": 1, "misses": 0} for stat in second["steps"].values())
    assert second["resid"] == first["resid"]


def test_a_step_whose_helper_failed_compiles_itself(monkeypatch):
    """The helper exits without compiling anything: the step compiles (here: finds) its code and
    gives the same address as the shared step."""
    shared = STEPS.walk_chunk
    address = shared.__wrapper_address__()
    step = Step(shared._kernel, shared.signature())
    monkeypatch.setattr(steps, "_ALL", {"walk_chunk": step})
    monkeypatch.setattr(steps.sys, "executable", sys.executable)
    helper = steps._Helper([step])
    helper._process.kill()  # fails before it has compiled anything
    step.helper = helper
    assert step.__wrapper_address__() == address > 0
    assert step.helper is None


def test_steps_have_one_signature_each():
    """Each step is compiled for exactly its declared signature (float64 values, int64 indices,
    C-contiguous arrays): calling the finishers never adds a specialisation."""
    df = pd.DataFrame(
        np.random.default_rng(0).normal(size=(60, 3)), columns=["y", "a", "b"],
        index=pd.MultiIndex.from_product([pd.date_range("2021-01-01", periods=30), ["A", "B"]],
                                         names=["datetime", "instrument"]),
    )
    quantreg.rolling_ols(df, y="y", x=["a", "b"], window=10, cov_type="HC1")
    quantreg.rolling_resid(df, y="y", x=["a"], window="7D")
    for name, step in STEPS._asdict().items():
        assert list(step._kernel.overloads) == [step.signature().args], name


def test_the_steps_are_typed_before_anything_is_compiled():
    """numba types first-class functions only once its CPU target has loaded the registries that
    do it; the steps module loads them itself, so that a process whose first numba call is a
    finisher does not fail to type its steps."""
    code = ("import numba; from quantreg._kernels.steps import SOLVE_STEPS, SOLVERS, STEPS; "
            "print(all(type(numba.typeof(t)).__name__ == 'NamedTuple' for t in (STEPS, SOLVE_STEPS, SOLVERS)))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "True"
