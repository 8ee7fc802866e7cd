"""Offer each executed chapter as an ``.ipynb`` in the page's download menu.

sphinx-book-theme adds a ".ipynb" entry to the download dropdown only when a
launch button (Binder, Colab, ...) is configured, and none of those works for
this book.  This extension does the part that matters without the launch
buttons: for every page that is a notebook, it copies the notebook that
myst-nb executed during the build (``_build/jupyter_execute/<page>.ipynb``)
next to the page sources (``_build/html/_sources/<page>.ipynb``) and tells the
theme about it, before the theme builds its header buttons.
"""

from __future__ import annotations

import shutil
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


def setup(app: Sphinx) -> dict[str, Any]:
    # the theme builds its header buttons at priority 501: run just before it
    app.connect("html-page-context", _add_ipynb, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
