"""The reading-path checks fail on defects: a fake site with one planted defect per page.

As ``test_negative.py`` does for ``sitecheck``, a small hand-written site
mimics what the book's build emits (the theme's 688 px text column, the
book's own CSS from ``_static/``, the offline MathJax, sphinx-togglebutton's
dropdown for a solution, a real slider from
:func:`lrtheory.interactive.slider_figure`, an ``.ipynb`` download), and each
page plants exactly one defect.  Each defect must be reported by the check
meant to catch it, and the clean control page must pass every check, so the
reading checks neither miss defects nor flag everything.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import shutil
from pathlib import Path

import nbformat
import pytest

import readingcheck
import sitecheck
from test_negative import MATHJAX_HEAD, _mathjax_source

ROOT = Path(__file__).resolve().parents[2]

HEAD = """
<link rel="stylesheet" href="{root}_static/togglebutton.css">
<link rel="stylesheet" href="{root}_static/lrtheory.css">
<style>
  body { margin: 0; font: 16px/1.6 sans-serif; }
  article.bd-article { max-width: 688px; margin: 0 auto; padding: 0 16px; }
  pre { overflow-x: auto; font: 14px monospace; }
  div.math .eqno { float: right; }
  a.headerlink { visibility: hidden; }
</style>
<script>let toggleHintShow = 'Click to show';</script>
<script>let toggleHintHide = 'Click to hide';</script>
<script>let toggleOpenOnPrint = 'true';</script>
<script>var togglebuttonSelector = '.toggle, .admonition.dropdown';</script>
<script src="{root}_static/togglebutton.js"></script>
"""

PROSE = "<p>" + " ".join(["The learning rate sets the step of Euler's method for the gradient flow."] * 12) + "</p>\n"

CLEAN_BODY = (
    '<main><article class="bd-article"><section id="clean"><h1>Clean page</h1>\n'
    + PROSE * 6
    + '<div class="cell docutils container" id="nb-cell-1"><div class="cell_input docutils container">'
      '<div class="highlight"><pre>theta = theta - lr * grad(theta)</pre></div></div></div>\n'
    + '<p>The error is <span class="pasted-text">1.2 × 10⁻⁵</span> and the loss \u22120.3, for steps 1-2 of the top-5 runs.</p>\n'
    + '<div class="math notranslate nohighlight" id="equation-eq-short">'
      '<span class="eqno">(1.1)<a class="headerlink" href="#equation-eq-short">#</a></span>'
      r'\[\theta_{k+1} = \theta_k - \gamma \nabla L(\theta_k)\]</div>' "\n"
    + '<figure class="align-default" id="fig-small"><img alt="A small figure" src="{root}_images/small.png" />'
      '<figcaption><p><span class="caption-number">Fig. 1.1 </span><span class="caption-text">Small.</span></p>'
      "</figcaption></figure>\n"
    + '<figure class="align-default" id="fig-slider">{slider}<figcaption><p><span class="caption-number">Fig. 1.2 '
      '</span><span class="caption-text">A slider.</span></p></figcaption></figure>\n'
    + '<div class="exercise admonition" id="ex-1"><p class="admonition-title">Exercise 1.1</p><p>Which step?</p></div>\n'
      '<div class="solution dropdown admonition" id="sol-1"><p class="admonition-title">Solution to Exercise 1.1</p>'
      '<section id="solution-content"><p>The step one over lambda.</p>'
      '<div class="cell docutils container" id="nb-cell-2"><div class="cell_input docutils container">'
      '<div class="highlight"><pre>assert step == 1 / lam</pre></div></div></div></section></div>\n'
    + PROSE * 6
    + '<a class="btn btn-download-notebook-button" href="{root}_sources/chapters/{notebook}">.ipynb</a>\n'
    + "</section></article></main>"
)

LONG_LINE = "values = [" + ", ".join(f"{i}.0" for i in range(60)) + "]"
TALL_CELLS = "".join(
    f'<div class="cell docutils container" id="nb-cell-{10 + k}"><div class="cell_input docutils container">'
    f'<div class="highlight"><pre>{chr(10).join(f"x{i} = {i}" for i in range(40))}</pre></div></div></div>'
    for k in range(3)
)
WIDE_EQ = (
    '<div class="math notranslate nohighlight" id="equation-eq-wide"><span class="eqno">(1.2)'
    '<a class="headerlink" href="#equation-eq-wide">#</a></span>\\['
    + " + ".join(f"\\frac{{\\partial^2 L}}{{\\partial \\theta_{{{i}}}^2}}" for i in range(24)) + "\\]</div>"
)

# page name -> (the check that must fire, (old, new) replacement in the clean body)
DEFECTS: dict[str, tuple[str, tuple[str, str]]] = {
    "code_share": ("code-share", ("<p>The error is", TALL_CELLS + "<p>The error is")),
    "overflowing_cell": ("overflow", ("theta = theta - lr * grad(theta)", LONG_LINE)),
    "wide_equation": ("equation", ("<p>The error is", WIDE_EQ + "<p>The error is")),
    "shrunk_figure": ("figure-size", ("_images/small.png", "_images/large.png")),
    "dead_slider": ("slider", ("<script>(function(){", "<script>(function(){return;")),
    "visible_solution": ("solution", ('class="solution dropdown admonition"', 'class="solution admonition"')),
    "solution_code_outside": ("solution", ("</section></div>\n", '</section></div>\n<div class="cell docutils container" '
                                           'id="nb-cell-3"><div class="cell_input docutils container"><div class="highlight">'
                                           "<pre>assert answer</pre></div></div></div>\n")),
    "e_notation": ("prose-number", ("1.2 × 10⁻⁵", "1.2e-05")),
    "hyphen_negative": ("prose-number", ("the loss \u22120.3", "the loss -0.3")),
    "unformatted_number": ("prose-number", ("1.2 × 10⁻⁵", "0.9992243366045159")),
    "narrow_overflow": ("narrow", ("<p>The error is", '<div style="width: 600px; height: 4px"></div><p>The error is')),
    "download_without_figures": ("download", ("{notebook}", "no_figures.ipynb")),
    "download_noise": ("download", ("{notebook}", "noisy.ipynb")),
}


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return buf.getvalue()


def _slider_html() -> str:
    import matplotlib

    matplotlib.use("Agg")
    from lrtheory.interactive import slider_figure
    from lrtheory.plotting import subplots

    def draw(v: float):
        fig, ax = subplots(width=4.0, height=1.6)
        ax.plot([0.0, 1.0], [0.0, v])
        ax.set_ylim(0, 3)
        return fig

    return slider_figure("ch0-fig-fake", draw, [1.0, 2.0, 3.0], label="slope", glue=False).html()


def _notebooks(folder: Path) -> None:
    def nb_with(*outputs):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1", execution_count=1)
        cell.outputs = list(outputs)
        nb.cells = [nbformat.v4.new_markdown_cell("# Clean"), cell]
        return nb

    import base64

    image = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(_png(20, 10)).decode(),
                                                        "text/plain": "<Figure>"})
    nbformat.write(nb_with(image), str(folder / "clean.ipynb"))
    nbformat.write(nb_with(nbformat.v4.new_output("stream", name="stdout", text="1\n")), str(folder / "no_figures.ipynb"))
    noise = nbformat.v4.new_output("stream", name="stderr",
                                   text="/home/u/.venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning\n")
    bar = nbformat.v4.new_output("stream", name="stdout", text=" 10%|#         | 1/10\r 20%|##        | 2/10\r")
    nbformat.write(nb_with(image, noise, bar), str(folder / "noisy.ipynb"))


def _page(body: str, root: str) -> str:
    head = MATHJAX_HEAD.replace("{root}", root) + HEAD.replace("{root}", root)
    return ("<!DOCTYPE html><html lang='en' data-theme='light'><head><meta charset='utf-8'><title>t</title>"
            f"{head}</head><body>{body.replace('{root}', root)}</body></html>")


def build_fake_site(root: Path) -> Path:
    static = root / "_static"
    static.mkdir(parents=True)
    try:
        os.symlink(_mathjax_source(), static / "mathjax", target_is_directory=True)
    except OSError:
        shutil.copytree(_mathjax_source(), static / "mathjax")
    toggle = Path(str(importlib.metadata.distribution("sphinx-togglebutton").locate_file("sphinx_togglebutton/_static")))
    for name in ("togglebutton.js", "togglebutton.css"):
        shutil.copy2(toggle / name, static / name)
    shutil.copy2(ROOT / "_static" / "lrtheory.css", static / "lrtheory.css")
    (root / "_images").mkdir()
    (root / "_images" / "small.png").write_bytes(_png(400, 200))
    (root / "_images" / "large.png").write_bytes(_png(1200, 400))
    sources = root / "_sources" / "chapters"
    sources.mkdir(parents=True)
    _notebooks(sources)
    chapters = root / "chapters"
    chapters.mkdir()
    clean = CLEAN_BODY.replace("{slider}", _slider_html())
    (chapters / "clean.html").write_text(_page(clean.replace("{notebook}", "clean.ipynb"), "../"), encoding="utf-8")
    for name, (_, (old, new)) in DEFECTS.items():
        assert old in clean, f"fake-site defect {name}: {old!r} not in the clean page"
        body = clean.replace(old, new, 1).replace("{notebook}", "clean.ipynb")
        (chapters / f"{name}.html").write_text(_page(body, "../"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake_checker(chromium: str, tmp_path_factory: pytest.TempPathFactory):
    site = build_fake_site(tmp_path_factory.mktemp("fake_reading_site"))
    with sitecheck.SiteChecker(site, chromium, screenshots=None) as checker:
        yield checker


def test_clean_page_passes(fake_checker: sitecheck.SiteChecker) -> None:
    """The control: short code, a fitting equation and figure, a live slider, a hidden solution, clean prose."""
    report = readingcheck.check_reading(fake_checker, "chapters/clean.html")
    assert report.problems == [], [str(p) for p in report.problems]
    desktop = report.info["desktop"]
    assert len(desktop["sliders"]) == 1 and len(desktop["solutions"]) == 1 and desktop["equations"]
    assert [c["label"] for c in desktop["cells"]] == ["cell [1]", "cell [2]"]


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_is_reported(fake_checker: sitecheck.SiteChecker, name: str) -> None:
    """Each planted defect is reported, by the check meant to catch it, naming the element."""
    expected = DEFECTS[name][0]
    report = readingcheck.check_reading(fake_checker, f"chapters/{name}.html", narrow=expected == "narrow")
    assert expected in report.checks_failed(), f"{name}: expected {expected!r}, got {[str(p) for p in report.problems]}"
    details = " ".join(p.detail for p in report.problems if p.check == expected)
    named = {"overflowing_cell": "cell [1]", "wide_equation": "equation (1.2)", "shrunk_figure": "Fig. 1.1",
             "solution_code_outside": "cell [3]", "e_notation": "1.2e-05", "hyphen_negative": "-0.3",
             "unformatted_number": "0.9992243366045159",
             "code_share": "cell [1"}
    if name in named:
        assert named[name] in details, details


# ----------------------------------------------------------------------------- without a browser


@pytest.mark.parametrize(("text", "found"), [
    ("within 5.7e-04 of the flow", True), ("a factor 3.99e+03", True), ("1e-5", True), ("2E-3 and", True),
    ("1.2 × 10⁻⁵", False), ("commit e65ffe0", False), ("the 2e element", False), ("10e", False),
])
def test_e_notation_pattern(text: str, found: bool) -> None:
    assert bool(readingcheck.E_NOTATION.search(text)) is found


@pytest.mark.parametrize(("text", "found"), [
    ("between -0.100 and 0.15", True), ("(-0.3, 0.2)", True), ("x=-2", True), ("-.5 at the start", True),
    ("\u22120.3", False), ("steps 1-2", False), ("top-5 accuracy", False), ("2026-11-23", False),
    ("ch1-headline", False), ("build with -W", False),
])
def test_hyphen_negative_pattern(text: str, found: bool) -> None:
    assert bool(readingcheck.HYPHEN_NEGATIVE.search(text)) is found


@pytest.mark.parametrize(("text", "found"), [
    ("at 0.9992243366045159 per step", True), ("2.999999999999999 times", True),
    ("0.999 per step", False), ("version 2026.10.18", False), ("3.1415 rad", False),
])
def test_unformatted_number_pattern(text: str, found: bool) -> None:
    assert bool(readingcheck.UNFORMATTED.search(text)) is found


def test_reading_pages_exclude_the_api_reference() -> None:
    assert readingcheck.is_reading_page("chapters/01_rmsprop_ode.html")
    assert readingcheck.is_reading_page("reading_guide.html")
    assert not readingcheck.is_reading_page("api/flows.html")
    assert not readingcheck.is_reading_page("genindex.html")


def test_notebook_analysis_counts_figures_and_noise() -> None:
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {"text/html": "<div><svg></svg></div>"}}]}]}
    assert readingcheck.analyse_notebook(nb, 1, "x.ipynb") == []
    nb["cells"][0]["outputs"] = [{"output_type": "display_data", "data": {"image/svg+xml": "<svg></svg>"}}]
    assert "SVG only" in readingcheck.analyse_notebook(nb, 1, "x.ipynb")[0].detail
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "done\n"}]
    assert [p.check for p in readingcheck.analyse_notebook(nb, 2, "x.ipynb")] == ["download"]
    assert readingcheck.analyse_notebook(nb, 0, "x.ipynb") == []
