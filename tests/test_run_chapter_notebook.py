"""scripts/run_chapter_notebook.py: a chapter runs as a notebook (jupytext -> ipynb -> nbclient).

The running-locally page promises that a reader can execute any chapter as a
notebook with this script; these tests run it on small generated chapters in a
temporary folder (a fresh kernel each, a few seconds).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "run_chapter_notebook.py"

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
    jupytext_version: 1.19.6
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A tiny chapter
"""


def _write_chapter(folder: Path, name: str, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(HEADER + "\n```{code-cell} ipython3\n" + code + "\n```\n", encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_chapter_runs_in_mode_and_folder(tmp_path: Path) -> None:
    code = (
        "import os\n"
        "from lrtheory.experiments import get_mode\n"
        "assert get_mode() == 'quick', get_mode()\n"
        "assert os.path.isfile('data.txt')  # the kernel runs in the chapter's folder\n"
        "print('mode', get_mode(), 2 + 3)"
    )
    chapter = _write_chapter(tmp_path / "chapters", "01_tiny", code)
    (chapter.parent / "data.txt").write_text("x", encoding="utf-8")
    out, record = tmp_path / "out", tmp_path / "timings.json"
    result = _run(str(chapter), "--mode", "quick", "--output-dir", str(out), "--record", str(record))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    nb = nbformat.read(str(out / "01_tiny.ipynb"), as_version=4)
    nbformat.validate(nb)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0].outputs[0]["text"].strip() == "mode quick 5"
    timings = json.loads(record.read_text(encoding="utf-8"))
    (entry,) = timings["chapters"].values()
    assert entry["quick"]["seconds"] > 0
    assert "CPU cores" in timings["machine"]


def test_failing_chapter_exits_nonzero(tmp_path: Path) -> None:
    good = _write_chapter(tmp_path, "good", "x = 1")
    bad = _write_chapter(tmp_path, "bad", "raise ValueError('planted failure')")
    result = _run(str(bad), str(good), "--mode", "quick", "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "FAIL" in result.stderr and "bad.md" in result.stderr and "planted failure" in result.stderr
    assert "ok" in result.stdout and "good.md" in result.stdout  # the other chapter still ran
