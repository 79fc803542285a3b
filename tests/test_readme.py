"""The README runs: every ```python block, as written, in order, in a fresh Python process, in
an empty temporary directory, on the bundled data. Also: its links point inside the repository,
it lists every notebook, and the LICENSE is the one pyproject.toml names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_every_python_block_runs_in_a_fresh_process(tmp_path):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 8, "the README's Python blocks were not found"
    script = tmp_path / "readme_blocks.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    # the comparison with the groupby + statsmodels workflow prints its agreement
    assert float(lines[lines.index("Name: count, dtype: int64") + 1]) < 1e-10
    assert "True" in lines
    assert "Mkt-RF" in done.stdout and "residual" in done.stdout
    assert (tmp_path / "panel" / "_quantreg.json").is_file()  # the dataset the blocks wrote


def test_links_stay_inside_the_repository():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert targets
    for target in targets:
        assert "://" not in target, f"README links outside the repository: {target}"
        assert (ROOT / target).exists(), f"README links to a missing file: {target}"


def test_every_notebook_is_listed():
    text = README.read_text(encoding="utf-8")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{notebook.name}" in text


@pytest.mark.parametrize("line", ["BSD 3-Clause License", "Copyright (c) 2026, quantreg developers"])
def test_license_file(line):
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    assert 'license = "BSD-3-Clause"' in pyproject and 'license-files = ["LICENSE"]' in pyproject
    assert line in (ROOT / "LICENSE").read_text(encoding="utf-8").splitlines()
