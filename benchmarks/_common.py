"""Shared helpers of the benchmark scripts: machine info, best-of-N timing, peak memory in a
fresh process, Markdown tables and the per-script sections of ``benchmarks/RESULTS.md``.

Nothing here is part of the installed package; the scripts put the repository root on
``sys.path`` themselves, so they run from a checkout with ``python benchmarks/bench_*.py``.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"

if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

VERSIONED = ("numpy", "pandas", "numba", "statsmodels", "polars", "polars_ols", "quantreg")


# --------------------------------------------------------------------------- machine info
def cpu_model() -> str:
    """CPU model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        module = importlib.import_module(name)
    except ImportError:
        return "not installed"
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version(name.replace("_", "-"))
        except Exception:  # noqa: BLE001 - informational only
            version = "?"
    return str(version)


def machine_info(packages: Sequence[str] = VERSIONED) -> dict[str, str]:
    """What the numbers depend on: CPU, cores, threads, load, Python and package versions."""
    info = {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(),
        "logical cores": str(os.cpu_count()),
    }
    try:
        info["cores available"] = str(len(os.sched_getaffinity(0)))
    except AttributeError:
        pass
    try:
        import numba

        info["numba threads"] = str(numba.get_num_threads())
    except ImportError:
        pass
    try:
        from quantreg._parallel import n_threads

        info["quantreg kernel threads"] = str(n_threads())
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        info["load average (1 min) at start"] = f"{os.getloadavg()[0]:.2f}"
    info["python"] = platform.python_version()
    info["os"] = f"{platform.system()} {platform.release()}"
    for name in packages:
        info[name.replace("_", "-")] = package_version(name)
    return info


def format_info(info: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


# --------------------------------------------------------------------------- timing
def best_of(func: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Call ``func`` ``repeat`` times; return (best seconds, all times, last result).

    Garbage collection runs before each call and is disabled during it, so that a collection
    triggered by an earlier step is not charged to the timed one.
    """
    times = []
    result = None
    for _ in range(max(1, repeat)):
        result = None
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            result = func()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times), times, result


def fmt_seconds(seconds: float) -> str:
    if math.isnan(seconds):
        return "–"
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_ratio(ratio: float) -> str:
    if math.isnan(ratio):
        return "–"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def fmt_err(value: float) -> str:
    if math.isnan(value):
        return "–"
    if value == 0:
        return "0"
    return f"{value:.1e}"


# --------------------------------------------------------------------------- subprocesses
def run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 900) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (repository root on ``PYTHONPATH``).

    The code must print one JSON object on its last line of stdout; it is returned.
    """
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *([full_env["PYTHONPATH"]] if full_env.get("PYTHONPATH") else [])]
    )
    if env:
        full_env.update(env)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
        path = fh.name
    try:
        proc = subprocess.run(
            [sys.executable, path], check=False, capture_output=True, text=True, env=full_env, timeout=timeout,
            cwd=str(ROOT),
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- Markdown
def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[str(cell) for cell in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def update_results(script: str, body: str, path: Path = RESULTS) -> None:
    """Write ``body`` as the section of ``script`` in RESULTS.md, replacing the previous one.

    Sections are delimited by HTML comments, so other scripts' sections are left untouched.
    The file is replaced atomically.
    """
    start, end = f"<!-- {script}:start -->", f"<!-- {script}:end -->"
    section = f"{start}\n{body.rstrip()}\n{end}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = (
            "# Benchmark results\n\n"
            "Written by the scripts in `benchmarks/` (one section per script, replaced when the "
            "script runs again). Do not edit by hand: re-run the script.\n"
        )
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def finish(script: str, title: str, info: dict[str, str], elapsed: float, command: str,
           report: "Report", write: bool) -> None:
    """Print the checks' status and write the script's RESULTS.md section (header, blocks, status)."""
    header = (
        f"## {script} — {title}\n\n"
        f"`{command.strip()}` — run on {info['date']}, {elapsed:.0f} s in all. Ratios compare "
        "tools timed in the same process; absolute times on a shared machine move with its "
        "load.\n\n"
        f"Machine:\n\n{format_info(info)}\n"
    )
    status = "All checks passed." if not report.failures else (
        "Checks that failed:\n\n" + "\n".join(f"- {f}" for f in report.failures))
    body = header + "\n" + "\n".join(report.blocks) + "\n" + status + "\n"
    print("\n" + status)
    if write:
        update_results(script, body)
        print(f"\nwritten to {RESULTS}")


@dataclass
class Report:
    """Markdown blocks for RESULTS.md and the checks that failed."""

    blocks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, title: str, text: str) -> None:
        block = f"### {title}\n\n{text.rstrip()}\n"
        self.blocks.append(block)
        print("\n" + block, flush=True)

    def check(self, ok: bool, message: str) -> str:
        if not ok:
            self.failures.append(message)
        return "yes" if ok else "**NO**"
