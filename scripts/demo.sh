#!/usr/bin/env bash
# The README's first command: set up (or reuse) a virtual environment, install quantreg with the
# plotting and progress extras, run `quantreg demo` on the bundled French portfolios.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${QUANTREG_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[plot,progress]"
"$venv/bin/quantreg" demo "$@"
