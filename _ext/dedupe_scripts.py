"""Drop repeated ``<script>`` entries from every page's ``<head>``.

sphinx-thebe (loaded by Jupyter Book 1 whether or not thebe is used) and
sphinx-togglebutton register their inline configuration scripts at
``env-before-read-docs``, after the HTML builder has already copied the
registered scripts; Sphinx 7 then emits each of them twice.  The second copy of
``const THEBE_JS_URL = ...`` is a JavaScript ``SyntaxError`` ("Identifier
'THEBE_JS_URL' has already been declared") on every page, which the browser
test-suite (``tests/browser``) reports as a console error.  This extension keeps
the first of any identical script entries (same file, same attributes, same body).
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    filename = getattr(script, "filename", script) or ""  # None or "" for an inline script
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def _dedupe(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    # in place: the list is the builder's, and extensions that run later in this
    # event (sphinx.ext.mathjax adds MathJax here) append to that same list
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    # emit_firstresult: a handler that returns a template name stops the chain, so run early
    app.connect("html-page-context", _dedupe, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
