#!/usr/bin/env bash
# The README's test command: set up (or reuse) a virtual environment, install quantreg with its
# test extras from pyproject.toml, run the whole suite (unit tests, doctests, the README's
# Python blocks, the documentation build, which executes the notebooks).
# The install is editable, so the tests, the subprocesses they start (the `quantreg` command)
# and the notebooks' kernels all import this one copy and share one numba cache: every kernel
# is compiled once per run at most.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${QUANTREG_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[test]"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.numba-cache}"
"$venv/bin/python" -m pytest "$@"
