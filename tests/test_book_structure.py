"""Consistency of the book with the package: every module documented, every chapter listed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

import lrtheory

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files() -> list[str]:
    out: list[str] = []

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                out.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    out.append(TOC["root"])
    walk(TOC.get("parts"))
    walk(TOC.get("chapters"))
    return out


def test_every_submodule_has_an_api_page_in_the_toc():
    files = set(toc_files())
    for name in lrtheory._SUBMODULES:
        assert f"api/{name}" in files, f"api/{name}.md is missing from _toc.yml"
        page = (ROOT / "api" / f"{name}.md").read_text()
        assert f"automodule:: lrtheory.{name}" in page


def test_every_toc_file_exists_and_every_chapter_is_listed():
    files = toc_files()
    assert len(files) == len(set(files)), "a page is listed twice"
    for f in files:
        assert (ROOT / f"{f}.md").is_file(), f"{f}.md listed in _toc.yml does not exist"
    chapters = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert chapters <= set(files), f"chapters not in _toc.yml: {chapters - set(files)}"


@pytest.mark.parametrize("name", lrtheory._SUBMODULES)
def test_public_functions_have_docstrings_naming_sections(name):
    mod = importlib.import_module(f"lrtheory.{name}")
    public = getattr(mod, "__all__", [])
    assert public, f"lrtheory.{name} has no __all__"
    for attr in public:
        obj = getattr(mod, attr)
        if callable(obj) and not isinstance(obj, type(re)):
            doc = getattr(obj, "__doc__", None) or ""
            assert doc.strip(), f"lrtheory.{name}.{attr} has no docstring"
