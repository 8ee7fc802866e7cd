"""The README's local commands work: JupyterLab with jupytext, and a chapter executed by nbconvert.

The README promises that, in the environment ``make venv`` builds from
``requirements.txt``, a reader can open the chapters in JupyterLab (through
jupytext's JupyterLab extension) and execute a chapter from the command line
into a notebook that shows its figures.  These tests run exactly the commands
of the README's block marked ``<!-- tested by tests/test_readme_commands.py -->``,
on the chapter that is quickest in quick mode among those that glue their
figures with ``glue_figure``, in a temporary copy of the
repository's layout, with this interpreter's environment first on ``PATH``
(in CI, the fresh venv made from requirements.txt).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = "<!-- tested by tests/test_readme_commands.py -->"
README_CHAPTER = "chapters/01_rmsprop_ode"
"""The chapter the README's commands name."""


def _shows_figures(doc: str) -> bool:
    source = (ROOT / f"{doc}.md").read_text(encoding="utf-8")
    return "glue_figure(" in source or "slider_figure(" in source


def quickest_chapter() -> str:
    """The quickest chapter in quick mode (``reproduce_timings.json``) among those that show figures.

    A chapter shows its figures in a notebook when it glues them with
    ``lrtheory.plotting.glue_figure`` (or a slider); while no chapter does,
    the quickest chapter of all.
    """
    timings = json.loads((ROOT / "reproduce_timings.json").read_text(encoding="utf-8"))["chapters"]
    quick = {doc: t["quick"]["seconds"] for doc, t in timings.items()
             if "quick" in t and (ROOT / f"{doc}.md").is_file()}
    showing = {doc: s for doc, s in quick.items() if _shows_figures(doc)}
    pool = showing or quick
    return min(pool, key=pool.get) if pool else README_CHAPTER


def readme_commands() -> list[str]:
    """The shell commands of the README block after the marker (comments dropped)."""
    text = README.read_text(encoding="utf-8")
    assert MARKER in text, f"README.md lost the marker {MARKER!r} of the tested command block"
    block = re.search(r"```bash\n(.*?)```", text[text.index(MARKER):], re.DOTALL)
    assert block, "no ```bash block after the marker in README.md"
    commands = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    return [c for c in commands if c and not c.startswith("#")]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["LRTHEORY_MODE"] = "quick"
    env["LRTHEORY_PROGRESS"] = "0"
    return env


def test_readme_block_names_the_commands_a_reader_needs() -> None:
    commands = readme_commands()
    assert any(c.startswith("jupytext --to ipynb") for c in commands), commands
    assert any(c.startswith("jupyter nbconvert") and "--execute" in c for c in commands), commands


def test_jupyterlab_and_its_jupytext_extension_are_installed() -> None:
    """``jupyter lab`` exists and opens .md notebooks through jupytext (labextension and server extension)."""
    env = _env()
    lab = subprocess.run(["jupyter", "lab", "--version"], capture_output=True, text=True, env=env, timeout=60)
    assert lab.returncode == 0, f"`jupyter lab` is not installed: {lab.stderr[-500:]}"
    ext = subprocess.run(["jupyter", "labextension", "list"], capture_output=True, text=True, env=env, timeout=60)
    listing = ext.stdout + ext.stderr
    assert re.search(r"jupyterlab-jupytext\S*\s+v[\d.]+\s+\S*enabled", listing), listing[-800:]
    server = subprocess.run(["jupyter", "server", "extension", "list"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert "jupyterlab_jupytext" in server.stdout + server.stderr, (server.stdout + server.stderr)[-800:]


def _figures(nb: dict) -> int:
    count = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            data = out.get("data", {})
            count += any(m in data for m in ("image/png", "image/svg+xml"))
    return count


def test_readme_commands_execute_a_chapter_into_a_notebook_with_figures(tmp_path: Path) -> None:
    chapter = quickest_chapter()
    (tmp_path / "chapters").mkdir()
    shutil.copy2(ROOT / f"{chapter}.md", tmp_path / f"{chapter}.md")
    for command in readme_commands():
        command = command.replace(README_CHAPTER, chapter)
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, env=_env(),
                              timeout=300)
        assert done.returncode == 0, f"README command failed: {command}\n{(done.stdout + done.stderr)[-3000:]}"
    executed = tmp_path / f"{chapter}.ipynb"
    assert executed.is_file(), f"the README's commands did not write {executed.name}"
    nb = json.loads(executed.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "not every code cell was executed"
    if not _figures(nb):
        if not _shows_figures(chapter):
            pytest.xfail(f"{chapter} still glues its figures with display=False (its second edition uses "
                         "lrtheory.plotting.glue_figure, which shows them in the notebook)")
        pytest.fail(f"the executed {executed.name} shows no figure (no image/png or image/svg+xml output)")
