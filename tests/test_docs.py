"""The documentation site builds with warnings as errors (``-W``), as ``bash scripts/docs.sh``
builds it: the API reference from the docstrings, the user guide, and the notebooks of
``notebooks/``, every page executed by myst-nb (an error in any cell fails the build).

This is also the test that the notebooks run end to end: they are executed here once, on
their small parameters (``QUANTREG_SMALL=1``), and their figures must reach the pages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
USER_GUIDE = ["rolling_ols", "inference", "factors", "selection", "asset_pricing", "theory",
              "scale_out", "cli"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("docs")
    env = dict(os.environ, QUANTREG_SMALL="1")
    env.pop("MPLBACKEND", None)  # the notebooks' kernels draw with the inline backend
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(build / "doctrees"), str(ROOT / "docs"), str(build / "html")],
        capture_output=True, text=True, env=env, timeout=1500, check=False,
    )
    problems = [line for line in done.stderr.splitlines() if "IPKernelApp" not in line]
    assert done.returncode == 0, "\n".join(problems[-60:])
    return build / "html"


@pytest.mark.slow
def test_site_builds_without_warnings(site):
    for page in ["index", "getting_started", "api", "notebooks", "architecture",
                 "benchmarks/RESULTS", "benchmarks/README",
                 *(f"user_guide/{name}" for name in USER_GUIDE)]:
        assert (site / f"{page}.html").is_file(), page


@pytest.mark.slow
def test_api_reference_from_the_docstrings(site):
    page = (site / "api" / "generated" / "quantreg.rolling_ols.html").read_text(encoding="utf-8")
    assert "Rolling least squares of" in page and "Parameters" in page and "Examples" in page
    for name in ["quantreg.RollingOLSResult", "quantreg.asset_pricing.fama_macbeth",
                 "quantreg.selection.SCAD", "quantreg.theory.fit_mle", "quantreg.io.write_panel",
                 "quantreg.distributed.rolling_resid", "quantreg.cli.main"]:
        assert (site / "api" / "generated" / f"{name}.html").is_file(), name


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_executed_with_their_figures(site, notebook):
    page = (site / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<img [^>]*src=\"\.\./_images/", page)) >= 1
    assert "Traceback" not in page


@pytest.mark.slow
def test_user_guide_outputs(site):
    cli = (site / "user_guide" / "cli.html").read_text(encoding="utf-8")
    assert "1,770 NaN: 1,770 warmup" in cli
    assert "no_previous_fit" in cli and "[exit code 2]" in cli
    results = (site / "benchmarks" / "RESULTS.html").read_text(encoding="utf-8")
    assert "bench_rolling.py" in results and "scaling.png" in results
