"""Fixtures for the browser tests of the built book.

Configuration (environment variables):

``LRTHEORY_BOOK_HTML``
    the built HTML to test; default ``_build/html`` at the repository root.
``LRTHEORY_REQUIRE_BOOK=1``
    a missing build, a missing Chromium or a missing Playwright is a test
    failure instead of a skip (CI sets it after ``make book``).
``LRTHEORY_CHROMIUM``
    the Chromium executable; default Debian's ``chromium``.
``LRTHEORY_ARTIFACTS``
    where screenshots go; default ``test-artifacts`` at the repository root
    (``test-artifacts/screenshots/<page>.png``).

Install the browser and the client with ``scripts/install_browser.sh``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import readingcheck
import sitecheck

ROOT = Path(__file__).resolve().parents[2]


def require() -> bool:
    return os.environ.get("LRTHEORY_REQUIRE_BOOK", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (with LRTHEORY_REQUIRE_BOOK=1) for a missing prerequisite."""
    if require():
        pytest.fail(f"{reason} (LRTHEORY_REQUIRE_BOOK=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def book_dir() -> Path:
    return Path(os.environ.get("LRTHEORY_BOOK_HTML") or ROOT / "_build" / "html").resolve()


def artifacts_dir() -> Path:
    return Path(os.environ.get("LRTHEORY_ARTIFACTS") or ROOT / "test-artifacts").resolve()


def book_pages() -> list[str]:
    site = book_dir()
    if not (site / "index.html").is_file() and not (site / "searchindex.js").is_file():
        return []
    return sitecheck.list_pages(site)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "book_page" in metafunc.fixturenames:
        pages = book_pages()
        # one placeholder when there is no build, so the test reports the skip (or the failure)
        metafunc.parametrize("book_page", pages or [None], ids=pages or ["no-build"])
    if "reading_page" in metafunc.fixturenames:
        pages = [p for p in book_pages() if readingcheck.is_reading_page(p)]
        metafunc.parametrize("reading_page", pages or [None], ids=pages or ["no-build"])


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Playwright client is not installed: run scripts/install_browser.sh")
    path = sitecheck.find_chromium()
    if path is None:
        unavailable("no Chromium found (set LRTHEORY_CHROMIUM or run scripts/install_browser.sh)")
    return path


@pytest.fixture(scope="session")
def book_checker(chromium: str):
    site = book_dir()
    if not book_pages():
        unavailable(f"no built book at {site}: run `make book` first (or set LRTHEORY_BOOK_HTML)")
    with sitecheck.SiteChecker(site, chromium, artifacts_dir() / "screenshots") as checker:
        yield checker
