"""The browser checks fail on defects: a fake site with one planted defect per page.

The issue asks to demonstrate each failure once; these tests make that
demonstration permanent.  A small hand-written site mimics what Sphinx and
myst-nb emit (math elements typeset by the same offline MathJax the book
ships, a numbered equation and figure, a cell output, a notebook download), and
then each page plants exactly one defect.  Every defect must be reported by the
check that is meant to catch it, and the clean control page must pass, so the
checks neither miss defects nor flag everything.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import shutil
from pathlib import Path

import nbformat
import pytest

import sitecheck

MATHJAX_HEAD = (
    '<script>window.MathJax = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}</script>\n'
    '<script defer="defer" src="{root}_static/mathjax/tex-chtml.js"></script>'
)

CLEAN_BODY = r"""
<main><article class="bd-article">
<section class="tex2jax_ignore mathjax_ignore" id="clean">
<h1>Clean page</h1>
<p>Inline math <span class="math notranslate nohighlight">\(\theta_{k+1} = \theta_k - \eta \nabla L\)</span>.</p>
<div class="math notranslate nohighlight" id="equation-eq-flow">
<span class="eqno">(1.1)<a class="headerlink" href="#equation-eq-flow">#</a></span>\[\dot\theta = -\frac{\partial L}{\partial \theta}\]</div>
<p>See <a class="reference internal" href="#equation-eq-flow">(1.1)</a> and
<a class="reference internal" href="#fig-curve"><span class="std std-numref">Fig. 1.1</span></a>,
and <a class="reference internal" href="other.html#target">the other page</a>.</p>
<figure class="align-default" id="fig-curve">
<img alt="A decreasing curve" src="{root}_images/figure.png" />
<figcaption><p><span class="caption-number">Fig. 1.1 </span><span class="caption-text">A curve.</span></p></figcaption>
</figure>
<div class="cell docutils container"><div class="cell_input docutils container"><pre>print(1 + 1)  # \frac stays raw inside code</pre></div>
<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi notranslate"><pre>2</pre></div></div></div>
<a class="btn btn-download-notebook-button" href="{root}_sources/chapters/clean.ipynb">.ipynb</a>
</section></article></main>
"""

# page name -> (the check that must fire, a replacement applied to the clean body or a new body)
DEFECTS: dict[str, tuple[str, tuple[str, str]]] = {
    # dollarmath did not parse this: raw LaTeX reaches the reader
    "raw_latex": ("math", ("<p>Inline math", r"<p>Unparsed $$\frac{a}{b}$$ display math.</p><p>Inline math")),
    # the figure file is missing
    "broken_image": ("image", ("_images/figure.png", "_images/missing.png")),
    # a figure glued without :alt: (myst-nb then uses the path as alt text)
    "missing_alt": ("alt", ('alt="A decreasing curve"', 'alt="../_images/figure.png"')),
    # a cell raised and the traceback was rendered
    "traceback": ("output", ("<pre>2</pre>", "<pre>Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: boom</pre>")),
    # a cell printed a warning
    "warning_output": ("output", ("<pre>2</pre>", "<pre>/x.py:3: RuntimeWarning: overflow encountered in exp</pre>")),
    # link to a page that does not exist
    "dead_link": ("link", ('href="other.html#target"', 'href="no_such_page.html"')),
    # link to an anchor that does not exist on an existing page
    "dead_anchor": ("anchor", ('href="other.html#target"', 'href="other.html#no-such-anchor"')),
    # a {numref} whose label does not exist is left as an unlinked .xref
    "unresolved_xref": ("xref", ("and <a class", '<span class="xref std std-numref">fig-ch9-nothing</span> and <a class')),
    # a labelled equation without its number
    "missing_eq_number": ("number", ('<span class="eqno">(1.1)', '<span class="eqno">')),
    # a reference to an equation that shows its label instead of a number
    "label_not_number": ("number", ('href="#equation-eq-flow">(1.1)</a>', 'href="#equation-eq-flow">eq-flow</a>')),
    # the page loads a script from the internet: it would not work offline
    "needs_network": ("network", ("<main>", '<script src="https://cdn.example.org/lib.js"></script><main>')),
    # a script error on the page
    "console_error": ("console", ("<main>", "<script>throw new Error('planted error');</script><main>")),
    # the download button serves a broken notebook
    "bad_download": ("download", ("_sources/chapters/clean.ipynb", "_sources/chapters/broken.ipynb")),
    # the download button serves the notebook without its outputs (never executed)
    "unexecuted_download": ("download", ("_sources/chapters/clean.ipynb", "_sources/chapters/unexecuted.ipynb")),
}


def _page(body: str, root: str, with_mathjax: bool = True) -> str:
    head = MATHJAX_HEAD.replace("{root}", root) if with_mathjax else ""
    return (
        "<!DOCTYPE html><html lang='en' data-theme='light'><head><meta charset='utf-8'><title>t</title>"
        f"{head}</head><body>{body.replace('{root}', root)}</body></html>"
    )


def _mathjax_source() -> Path:
    """The offline MathJax that the book itself ships (sphinx-mathjax-offline)."""
    dist = importlib.metadata.distribution("sphinx-mathjax-offline")
    path = Path(str(dist.locate_file("sphinx-mathjax-offline/static/mathjax")))
    if not (path / "tex-chtml.js").is_file():
        pytest.skip("sphinx-mathjax-offline's MathJax not found")
    return path


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buf, format="PNG")
    return buf.getvalue()


def build_fake_site(root: Path) -> Path:
    """Write the fake site into ``root``: a clean control page and one page per defect."""
    (root / "_static").mkdir(parents=True)
    try:
        os.symlink(_mathjax_source(), root / "_static" / "mathjax", target_is_directory=True)
    except OSError:
        shutil.copytree(_mathjax_source(), root / "_static" / "mathjax")
    (root / "_images").mkdir()
    (root / "_images" / "figure.png").write_bytes(_png())
    sources = root / "_sources" / "chapters"
    sources.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1 + 1)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Clean"), cell]
    nbformat.write(nb, str(sources / "clean.ipynb"))
    bare = nbformat.v4.new_notebook()
    bare.cells = [nbformat.v4.new_markdown_cell("# Clean"), nbformat.v4.new_code_cell("print(1 + 1)")]
    nbformat.write(bare, str(sources / "unexecuted.ipynb"))
    (sources / "broken.ipynb").write_text('{"cells": [ this is not json', encoding="utf-8")
    chapters = root / "chapters"
    chapters.mkdir()
    (chapters / "other.html").write_text(_page('<main><p id="target">Target.</p></main>', "../"), encoding="utf-8")
    (chapters / "clean.html").write_text(_page(CLEAN_BODY, "../"), encoding="utf-8")
    for name, (_, (old, new)) in DEFECTS.items():
        assert old in CLEAN_BODY, f"fake-site defect {name}: {old!r} not in the clean page"
        (chapters / f"{name}.html").write_text(_page(CLEAN_BODY.replace(old, new, 1), "../"), encoding="utf-8")
    # MathJax missing altogether: math elements stay raw
    (chapters / "no_mathjax.html").write_text(_page(CLEAN_BODY, "../", with_mathjax=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake_checker(chromium: str, tmp_path_factory: pytest.TempPathFactory):
    site = build_fake_site(tmp_path_factory.mktemp("fake_site"))
    with sitecheck.SiteChecker(site, chromium, screenshots=None) as checker:
        yield checker


def test_clean_page_passes(fake_checker: sitecheck.SiteChecker) -> None:
    """The control: a page with math, a numbered equation and figure, an output and a download is clean."""
    report = fake_checker.check("chapters/clean.html")
    assert report.problems == [], [str(p) for p in report.problems]
    assert report.info["mathCount"] == 2 and report.info["mathRendered"] == 2
    assert report.info["figurePixels"] and all(c[3] == 255 for c in report.info["figurePixels"][0]["corners"])


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_is_reported(fake_checker: sitecheck.SiteChecker, name: str) -> None:
    """Each planted defect is reported, by the check meant to catch it."""
    expected = DEFECTS[name][0]
    report = fake_checker.check(f"chapters/{name}.html")
    assert expected in report.checks_failed(), f"{name}: expected a {expected!r} problem, got {[str(p) for p in report.problems]}"


def test_missing_mathjax_is_reported(fake_checker: sitecheck.SiteChecker) -> None:
    """Without MathJax the math stays raw: reported as untypeset math and as raw LaTeX in the text."""
    report = fake_checker.check("chapters/no_mathjax.html")
    details = " ".join(p.detail for p in report.problems if p.check == "math")
    assert "MathJax did not load" in details and "raw LaTeX" in details


def test_notebook_page_without_download_is_reported(fake_checker: sitecheck.SiteChecker) -> None:
    """A chapter page with notebook cells but no .ipynb button fails the download check."""
    body = CLEAN_BODY.replace('<a class="btn btn-download-notebook-button" href="{root}_sources/chapters/clean.ipynb">.ipynb</a>', "")
    (fake_checker.site / "chapters" / "no_download.html").write_text(_page(body, "../"), encoding="utf-8")
    report = fake_checker.check("chapters/no_download.html")
    assert "download" in report.checks_failed()


# ----------------------------------------------------------------------------- without a browser


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        (r"$$x$$", True),
        (r"\frac{a}{b}", True),
        (r"\begin{align}", True),
        (r"\(x\)", True),
        (r"\theta_k", True),
        ("the learning rate eta is 0.1; cost $5", False),
        ("a path C:\\temp and a backslash \\ alone", False),
        ("θ̇ = −∇L(θ)", False),
    ],
)
def test_raw_latex_pattern(text: str, raw: bool) -> None:
    assert bool(sitecheck.RAW_LATEX.search(text)) is raw


def test_list_pages_reads_the_search_index(tmp_path: Path) -> None:
    (tmp_path / "searchindex.js").write_text(
        'Search.setIndex({"alltitles": {}, "docnames": ["chapters/01_x", "genindex", "intro", "search"], "envversion": {}})',
        encoding="utf-8",
    )
    assert sitecheck.list_pages(tmp_path) == ["chapters/01_x.html", "intro.html"]


def test_list_pages_without_index(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.html").write_text("<p>x</p>", encoding="utf-8")
    (tmp_path / "search.html").write_text("<p>x</p>", encoding="utf-8")
    assert sitecheck.list_pages(tmp_path) == ["a/b.html"]
