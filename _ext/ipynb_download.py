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
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict[str, Any]:
    # the theme builds its header buttons at priority 501: run just before it
    app.connect("html-page-context", _add_ipynb, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
