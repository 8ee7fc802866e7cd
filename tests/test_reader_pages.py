"""The pages and files a reader meets first: citation, changelog, landing figure, serving, the guide."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_citation_file_matches_the_book_and_the_landing_page() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["authors"]
    assert cff["title"] == config["title"]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{cff["version"]}"' in pyproject
    intro = (ROOT / "intro.md").read_text(encoding="utf-8")
    block = intro[intro.index("## Cite this book"):]
    assert f"title   = {{{cff['title']}}}" in block
    assert f"version = {{{cff['version']}}}" in block
    assert f"year    = {{{str(cff['date-released'])[:4]}}}" in block


def test_changelog_has_the_first_edition_and_a_second_edition_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## 0\.1\.0: first edition", text, re.MULTILINE)
    assert re.search(r"^## Unreleased: second edition", text, re.MULTILINE)


def test_landing_figure_is_what_the_script_draws() -> None:
    """docs/landing-figure.svg is not stale: the script redraws it byte for byte (deterministic SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    spec = importlib.util.spec_from_file_location("make_readme_figure", ROOT / "scripts" / "make_readme_figure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "landing-figure.svg").read_text(encoding="utf-8")
    assert module.render_svg() == committed, "run python scripts/make_readme_figure.py and commit docs/"
    width = float(re.search(r'<svg[^>]*\bwidth="([0-9.]+)pt"', committed).group(1))
    from lrtheory.plotting import COLUMN_WIDTH_IN

    assert width == 72 * COLUMN_WIDTH_IN
    assert "docs/landing-figure.svg" in (ROOT / "intro.md").read_text(encoding="utf-8")


def test_make_serve_listens_on_this_machine_only() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    serve = makefile[makefile.index("\nserve:"):].split("\n\n")[0]
    assert "--bind 127.0.0.1" in serve


def test_reading_guide_is_listed_under_using_the_book() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    (part,) = [p for p in toc["parts"] if p["caption"] == "Using the book"]
    assert part["chapters"][0]["file"] == "reading_guide"
    guide = (ROOT / "reading_guide.md").read_text(encoding="utf-8")
    # the guide demonstrates each mechanism once
    for needle in (":tags: [check]", "glue_number(", "{glue:md}", "glue_figure(", "slider_figure(",
                   "{solution-start}", "{solution-end}"):
        assert needle in guide, needle
