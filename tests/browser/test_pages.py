"""The built book, page by page, in headless Chromium with the network off.

Every page listed in the build's search index (minus genindex and search) is
loaded from a local server; ``sitecheck.SiteChecker.check`` lists what is
wrong with it (see that module for the checks) and a full-page screenshot is
saved under ``test-artifacts/screenshots/``.  Without a build these tests
skip, unless ``LRTHEORY_REQUIRE_BOOK=1``.
"""

from __future__ import annotations

import re

import pytest

import readingcheck
import sitecheck


def _format(report: sitecheck.PageReport) -> str:
    lines = [f"{report.page}: {len(report.problems)} problem(s)"]
    lines += [f"  {p}" for p in report.problems]
    if report.screenshot is not None:
        lines.append(f"  screenshot: {report.screenshot}")
    return "\n".join(lines)


def test_page(book_checker: sitecheck.SiteChecker, book_page: str | None) -> None:
    """Math typeset, images loaded with alt text, clean outputs, live links, numbers, download, no errors."""
    assert book_page is not None  # the fixture skipped or failed already without a build
    report = book_checker.check(book_page)
    assert report.screenshot is not None and report.screenshot.stat().st_size > 0
    if report.problems:
        pytest.fail(_format(report), pytrace=False)


def test_reading_path(book_checker: sitecheck.SiteChecker, reading_page: str | None) -> None:
    """The page reads like a textbook (issue 18), at 1280 px and at 390 px; see ``readingcheck``.

    Visible code at most 10% of the height, no code cell or display equation
    wider than its box, no figure shrunk below 0.8 of its natural width, every
    slider responds with the network off, solutions hidden, no e-notation or
    hyphen-minus negatives in the prose, a download that shows the figures, and
    no sideways scrolling of the page at 390 px.  Each problem names the cell
    (``cell [N]``), equation, figure or solution it is about.
    """
    assert reading_page is not None  # the fixture skipped or failed already without a build
    shots = book_checker.screenshots
    report = readingcheck.check_reading(book_checker, reading_page, screenshots=shots)
    if report.problems:
        pytest.fail(_format(report), pytrace=False)


def _chapter_pages(checker: sitecheck.SiteChecker) -> list[str]:
    return [p for p in sitecheck.list_pages(checker.site) if p.startswith("chapters/")]


def test_book_has_pages_and_math(book_checker: sitecheck.SiteChecker) -> None:
    """The build is not empty and MathJax typesets it: the first page with math has all of it rendered."""
    pages = sitecheck.list_pages(book_checker.site)
    assert "intro.html" in pages
    for page in ["intro.html"] + _chapter_pages(book_checker):
        report = book_checker.check(page, screenshot_name="")
        if report.info["mathCount"]:
            assert report.info["mathRendered"] >= report.info["mathCount"], page
            return
    pytest.fail("no page of the book has any math: MathJax cannot be checked", pytrace=False)


def _luminance(css_color: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_figures_readable_in_dark_mode(book_checker: sitecheck.SiteChecker) -> None:
    """In the theme's dark mode the page turns dark, and every figure keeps an opaque light background.

    The book's figure style (``lrtheory.plotting``) paints figures on opaque
    white, so dark text and axes stay legible when the page around them is
    dark.  A transparent figure would show its black axes on a dark page.
    Dark-mode screenshots of the chapters are saved as ``*-dark.png``.
    """
    pages = [p for p in _chapter_pages(book_checker)] or ["intro.html"]
    seen_figures = 0
    for page in pages:
        name = page.replace("/", "__").removesuffix(".html") + "-dark.png"
        report = book_checker.check(page, color_scheme="dark", screenshot_name=name)
        assert report.info["theme"] == "dark", f"{page}: dark mode did not apply"
        assert _luminance(report.info["pageBackground"]) < 0.35, f"{page}: page background {report.info['pageBackground']}"
        for fig in report.info["figurePixels"]:
            seen_figures += 1
            for rgba in fig["corners"]:
                assert rgba[3] == 255, f"{page}: figure {fig['src']} has a transparent background"
                assert min(rgba[:3]) >= 230, f"{page}: figure {fig['src']} corner {rgba} is not a light background"
    if not seen_figures:
        pytest.skip("no figure in the built chapters yet (dark-mode screenshots were still saved)")
