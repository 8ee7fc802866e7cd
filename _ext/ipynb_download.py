"""Offer each executed chapter as an ``.ipynb`` in the page's download menu.

sphinx-book-theme adds a ".ipynb" entry to the download dropdown only when a
launch button (Binder, Colab, ...) is configured, and none of those works for
this book.  This extension does the part that matters without the launch
buttons: for every page that is a notebook, it copies the notebook that
myst-nb executed during the build (``_build/jupyter_execute/<page>.ipynb``)
next to the page sources (``_build/html/_sources/<page>.ipynb``) and tells the
theme about it, before the theme builds its header buttons.

The copy is cleaned for readers (:func:`clean_notebook`): outputs merged back
from the execution cache when myst-nb saved them without; stderr streams
dropped (the pages drop them too: progress bars, library warnings); progress-bar
fragments (carriage-return redraws) reduced to their final state; absolute paths
of the build machine (the book's folder, the virtual environment, the home
folder) shortened.  The notebook copies of glued figures
(:func:`lrtheory.plotting.glue_figure`), which the pages leave out, stay, so the
downloaded notebook shows its figures where they are made.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _add_ipynb(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    _merge_cached_outputs(app, target)
    _clean(app, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _merge_cached_outputs(app: Sphinx, path: Path) -> None:
    """Put the outputs back into a notebook that myst-nb wrote from its cache without them.

    When a build reuses jupyter-cache, myst-nb 1.4 writes the notebook to
    ``jupyter_execute`` without outputs; the cache still has them, keyed by the
    notebook's code, so they are merged back here.
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    if any(c.get("execution_count") for c in nb.cells if c.cell_type == "code"):
        return
    cache_path = getattr(app.config, "nb_execution_cache_path", "") or str(Path(app.outdir).parent / ".jupyter_cache")
    try:
        from jupyter_cache import get_cache

        _, merged = get_cache(cache_path).merge_match_into_notebook(nb)
    except Exception:  # no cache entry matches: leave the notebook as it is
        return
    nbformat.write(merged, str(path))


# --------------------------------------------------------------------------- cleaning

_BAR = re.compile(r"\d+%\|.*\||\d+(?:\.\d+)?(?:it/s|s/it)\]")
"""A tqdm progress-bar line: ``42%|####  | 21/50 [00:01<00:02, 12.3it/s]``."""


def _final_line_state(text: str) -> str:
    """Text as a terminal would show it: each line only after its last carriage return."""
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            line = line.rstrip("\r").rsplit("\r", 1)[-1]
        lines.append(line)
    return "\n".join(lines)


def path_replacements(srcdir: str | Path) -> list[tuple[str, str]]:
    """(absolute path, shown as) pairs for this machine, longest first."""
    pairs: list[tuple[str, str]] = []
    for folder in {p for p in sys.path if p.endswith("site-packages")}:
        pairs.append((folder.rstrip("/") + "/", "<site-packages>/"))
    pairs.append((sys.prefix.rstrip("/") + "/", "<venv>/"))
    pairs.append((str(Path(srcdir).resolve()).rstrip("/") + "/", ""))
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        pairs.append((home.rstrip("/") + "/", "~/"))
    return sorted(set(pairs), key=lambda p: len(p[0]), reverse=True)


def _shorten(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def clean_notebook(nb: Any, srcdir: str | Path) -> Any:
    """Clean an executed notebook for download, in place; return it.

    Drops stderr streams, reduces progress-bar redraws to their final state and
    drops lines that are only a progress bar, drops streams left empty, and
    shortens the build machine's absolute paths in text outputs.  Every other
    output (figures, notebook copies, tables, Markdown) is kept as it is.
    """
    pairs = path_replacements(srcdir)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream":
                if out.get("name") == "stderr":
                    continue
                text = _final_line_state("".join(out.get("text", "")))
                text = "\n".join(line for line in text.split("\n") if not _BAR.search(line))
                text = _shorten(text, pairs)
                if not text.strip():
                    continue
                out["text"] = text
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                for mime in ("text/plain", "text/markdown"):
                    if isinstance(data.get(mime), str):
                        data[mime] = _shorten(data[mime], pairs)
            elif kind == "error":
                out["traceback"] = [_shorten(line, pairs) for line in out.get("traceback", [])]
            kept.append(out)
        cell["outputs"] = kept
    return nb


def _clean(app: Sphinx, path: Path) -> None:
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nbformat.write(clean_notebook(nb, app.srcdir), str(path))


def setup(app: Sphinx) -> dict[str, Any]:
    # the theme builds its header buttons at priority 501: run just before it
    app.connect("html-page-context", _add_ipynb, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
