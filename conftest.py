"""Root pytest configuration: run the chapters (jupytext MyST markdown) through nbval.

nbval collects ``.ipynb`` files only.  The chapters are stored as MyST
markdown, so this conftest collects ``chapters/*.md``, ``appendix/*.md`` and the reader's
guide (``reading_guide.md``) when they carry a
jupytext header and hands them to nbval's own collector, with the notebook
read through jupytext instead of nbformat.  Each chapter then runs cell by
cell in a fresh kernel (lax mode: outputs are not compared; the cells'
asserts are the checks), with ``LRTHEORY_MODE=quick`` unless the caller set
another mode.
"""

from __future__ import annotations

import os
import types
from pathlib import Path


os.environ.setdefault("LRTHEORY_MODE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("LRTHEORY_PROGRESS", "0")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # each xdist worker runs its own kernel: one thread each, or two workers on a
    # two-core machine oversubscribe it several times over (torch, BLAS)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DIRS = (ROOT / "chapters", ROOT / "appendix")
NOTEBOOK_PAGES = (ROOT / "reading_guide.md",)


def is_chapter_notebook(path: Path) -> bool:
    """True for a MyST-markdown notebook in ``chapters/``, ``appendix/`` or a listed page (it has a jupytext kernelspec)."""
    if path.suffix != ".md":
        return False
    if path.parent.resolve() not in NOTEBOOK_DIRS and path.resolve() not in NOTEBOOK_PAGES:
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "jupytext" in head and "kernelspec" in head


def _jupytext_nbformat_shim():
    """A stand-in for the ``nbformat`` module inside nbval that reads .md through jupytext."""
    import jupytext
    import nbformat

    def read(fp, as_version=4, **kwargs):
        if str(fp).endswith(".md"):
            return jupytext.read(fp, as_version=as_version)
        return nbformat.read(fp, as_version=as_version, **kwargs)

    shim = types.SimpleNamespace(**{k: getattr(nbformat, k) for k in dir(nbformat) if not k.startswith("__")})
    shim.read = read
    return shim


def pytest_collect_file(file_path: Path, parent):
    if not is_chapter_notebook(file_path):
        return None
    import nbval.plugin

    if not isinstance(nbval.plugin.nbformat, types.SimpleNamespace):
        nbval.plugin.nbformat = _jupytext_nbformat_shim()
    return nbval.plugin.IPyNbFile.from_parent(parent, path=file_path)
