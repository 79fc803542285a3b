#!/usr/bin/env bash
# Build the documentation site: set up (or reuse) a virtual environment, install quantreg with
# the `docs` extra (Sphinx, pydata-sphinx-theme, numpydoc, myst-nb), and run Sphinx with
# warnings as errors. The notebooks and the user-guide pages are executed during the build
# (cached in docs/_build between builds); the site is written to docs/_build/html.
# Extra arguments go to sphinx-build (e.g. -E to rebuild every page).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${QUANTREG_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[docs]"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.numba-cache}"
"$venv/bin/python" -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html "$@"
echo "documentation written to docs/_build/html/index.html"
