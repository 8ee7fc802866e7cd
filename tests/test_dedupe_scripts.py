"""_ext/dedupe_scripts.py: repeated <script> entries are dropped, in place, first one kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sphinx.builders.html._assets import _JavaScript

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dedupe():
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import dedupe_scripts

        yield dedupe_scripts
    finally:
        sys.path.remove(str(ROOT / "_ext"))


def test_duplicates_dropped_in_place(dedupe) -> None:
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("_static/doctools.js"),
        _JavaScript(None, body=thebe),
        _JavaScript("_static/sphinx-thebe.js", **{"async": "async"}),
        _JavaScript("", body=thebe),  # the same inline script, registered a second time
        _JavaScript("_static/doctools.js"),
        _JavaScript("_static/sphinx-thebe.js"),  # same file, other attributes: kept
    ]
    context = {"script_files": scripts}
    same_list = context["script_files"]
    dedupe._dedupe(None, "page", "page.html", context, None)
    assert context["script_files"] is same_list  # later handlers (MathJax) append to this list
    assert [(s.filename or "", s.attributes) for s in same_list] == [
        ("_static/doctools.js", {}),
        ("", {"body": thebe}),
        ("_static/sphinx-thebe.js", {"async": "async"}),
        ("_static/sphinx-thebe.js", {}),
    ]


def test_no_scripts_is_fine(dedupe) -> None:
    context: dict = {}
    dedupe._dedupe(None, "page", "page.html", context, None)
    assert context == {}
