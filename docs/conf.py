"""Sphinx configuration of the quantreg documentation (``bash scripts/docs.sh`` builds it).

The notebooks of ``notebooks/`` and the benchmark pages of ``benchmarks/`` are copied into
``docs/notebooks/`` and ``docs/benchmarks/`` (generated, not committed) so that their relative
links resolve inside the site. The notebooks and the user-guide pages (MyST notebooks) are
executed at build time by myst-nb; an error in any cell fails the build. ``QUANTREG_SMALL=1`` in
the environment runs the notebooks on their small parameters (the test suite does).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))


def _mirror(source: Path, target: Path, patterns: tuple[str, ...]) -> None:
    """Copy the files of ``source`` matching ``patterns`` into ``target`` (rewritten only when
    they changed, so that Sphinx and the execution cache see unchanged pages as unchanged), and
    remove the copies whose original is gone."""
    target.mkdir(exist_ok=True)
    wanted = {f.name: f for pattern in patterns for f in source.glob(pattern)}
    for name, original in wanted.items():
        copy = target / name
        if not copy.exists() or copy.read_bytes() != original.read_bytes():
            copy.write_bytes(original.read_bytes())
    for copy in target.iterdir():
        if copy.name not in wanted:
            copy.unlink()


_mirror(ROOT / "notebooks", DOCS / "notebooks", ("*.ipynb",))
_mirror(ROOT / "benchmarks", DOCS / "benchmarks", ("*.md", "*.png"))

import quantreg  # noqa: E402

project = "quantreg"
author = "quantreg developers"
copyright = "quantreg developers"
release = quantreg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "api/generated/*.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# --- API reference: autosummary pages from the numpydoc docstrings ------------------------
templates_path = ["_templates"]
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc Parameters sections say it in words
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- MyST and notebook execution -----------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# Full builds keep executed pages in docs/_build/.jupyter_cache (keyed by the cells' code) and
# re-execute only pages that changed; small builds (QUANTREG_SMALL=1) always execute and cache
# nothing, so they never serve their short-sample outputs to a full build.
SMALL = os.environ.get("QUANTREG_SMALL") == "1"
nb_execution_mode = os.environ.get("QUANTREG_DOCS_EXECUTE") or ("force" if SMALL else "cache")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 600
nb_execution_in_temp = True
nb_merge_streams = True

# --- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"quantreg {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
