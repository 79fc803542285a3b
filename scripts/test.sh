#!/usr/bin/env bash
# The README's test command: set up (or reuse) a virtual environment, install quantreg with its
# test extras from pyproject.toml, run the whole suite (unit tests, doctests, notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${QUANTREG_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[test]"
"$venv/bin/python" -m pytest "$@"
