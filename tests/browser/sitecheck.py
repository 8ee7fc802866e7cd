"""Check a built HTML book page by page in headless Chromium.

This module is the engine of the browser test-suite (``tests/browser``).  It
knows nothing about pytest: it serves a folder of HTML on ``127.0.0.1``,
drives the system Chromium through Playwright (no browser download), blocks
every request that does not go to that local server, and returns, for each
page, the list of :class:`Problem` it found.  The tests in this folder run it
on the real book (``test_pages.py``) and on small fake sites with one planted
defect each (``test_negative.py``), which proves every check can fail.

Per page it checks

* ``math``: every math element was typeset by MathJax (``mjx-container``),
  MathJax reported no TeX error (``mjx-merror``), and no raw LaTeX
  (``$$``, ``\\frac``, ``\\begin``, ``\\(`` ...) is left in the text outside
  code blocks;
* ``image``: every ``<img>`` loaded (``naturalWidth > 0``);
* ``alt``: every ``<img>`` has alt text (not the file path myst-nb falls back to);
* ``output``: no notebook cell output shows a traceback, a warning or stderr;
* ``link`` / ``anchor``: every internal ``href`` points to a file of the
  site, and its ``#fragment`` to an ``id`` on the target page;
* ``xref``: no cross-reference was left unresolved (an ``.xref`` outside a link);
* ``number``: labelled equations show ``(N)`` numbers, labelled figures a
  ``Fig. N`` caption number, and links to equations and figures show numbers;
* ``download``: a notebook page's ``.ipynb`` download exists and is a valid
  notebook for :mod:`nbformat`;
* ``console`` / ``network`` / ``http``: no console error or uncaught
  exception, no request that needed the network, no local 4xx/5xx response.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urljoin, urlsplit

__all__ = [
    "CHROMIUM_ARGS",
    "Problem",
    "PageReport",
    "SiteChecker",
    "find_chromium",
    "list_pages",
    "serve",
    "RAW_LATEX",
]

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # belt and braces for "the network is off": no name resolves except the local server
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
"""Command-line flags for Chromium (Playwright adds a fresh temporary ``--user-data-dir``)."""

RAW_LATEX = re.compile(
    r"\$\$|\\\(|\\\)|\\\[|\\\]"
    r"|\\(?:frac|dfrac|tfrac|begin|end|sum|prod|int|sqrt|mathbb|mathrm|mathbf|mathcal|operatorname"
    r"|nabla|partial|theta|eta|alpha|beta|gamma|lambda|sigma|left|right|cdot|dot|ddot|hat|tilde"
    r"|leq|geq|le|ge|infty|approx|mid|label|tag|eqref)(?![A-Za-z])"
)
"""LaTeX that should never survive into a rendered page's text (outside code)."""

OUTPUT_DEFECT = re.compile(
    r"Traceback \(most recent call last\)|\b[A-Z]\w*Warning\b|\bwarnings\.warn\b",
)
"""Text in a cell output that betrays a traceback or a warning."""

EQ_NUMBER = re.compile(r"^\(\d+(?:\.\d+)*\)$")
FIG_NUMBER = re.compile(r"^Fig(?:ure)?\.?\s+\d+(?:\.\d+)*")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One defect found on a page: a check name and a human-readable detail."""

    check: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.detail}"


@dataclasses.dataclass
class PageReport:
    """What one page showed: its problems and, when taken, its screenshot."""

    page: str
    problems: list[Problem]
    screenshot: Path | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def checks_failed(self) -> set[str]:
        return {p.check for p in self.problems}


# --------------------------------------------------------------------------- locating things


def find_chromium() -> str | None:
    """Path of the system Chromium: ``$LRTHEORY_CHROMIUM``, else Debian's binary, else on ``PATH``."""
    env = os.environ.get("LRTHEORY_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    # Debian's /usr/bin/chromium is a shell wrapper; the real binary sits beside its libraries
    for candidate in ("/usr/lib/chromium/chromium",):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def list_pages(site: Path) -> list[str]:
    """Every page of a Sphinx HTML build, from its ``searchindex.js``, minus genindex and search.

    Returns paths relative to ``site`` such as ``"chapters/01_rmsprop_ode.html"``.
    Without a search index (a hand-written site) every ``.html`` file is a page.
    """
    index = site / "searchindex.js"
    if index.is_file():
        text = index.read_text(encoding="utf-8")
        payload = text[text.index("(") + 1 : text.rindex(")")]
        docnames = json.loads(payload)["docnames"]
    else:
        docnames = sorted(str(p.relative_to(site).with_suffix("")) for p in site.rglob("*.html"))
    skip = {"genindex", "search", "py-modindex"}
    return [f"{d}.html" for d in docnames if d not in skip]


# --------------------------------------------------------------------------- static HTML facts


class _IdCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value is not None and (key == "id" or (key == "name" and tag == "a")):
                self.ids.add(value)


@functools.lru_cache(maxsize=512)
def _ids_of(path: str, mtime: float) -> frozenset[str]:
    parser = _IdCollector()
    parser.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def ids_of(path: Path) -> frozenset[str]:
    """All ``id`` attributes (and ``<a name>``) of an HTML file, cached by modification time."""
    return _ids_of(str(path), path.stat().st_mtime)


# --------------------------------------------------------------------------- the local server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on ``127.0.0.1`` at a free port; yield the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- in-page inspection

_INSPECT_JS = (Path(__file__).with_name("inspect_page.js")).read_text(encoding="utf-8")
"""The in-page collector (``inspect_page.js``): one async function, evaluated after the page loads."""


class SiteChecker:
    """Check the pages of a built site in one headless Chromium.

    Parameters
    ----------
    site : Path
        The folder that holds the HTML (``_build/html``).
    chromium : str
        Path of the Chromium executable.
    screenshots : Path or None
        Where to save a full-page PNG of each checked page (``None``: no screenshots).
    """

    def __init__(self, site: Path, chromium: str, screenshots: Path | None = None) -> None:
        self.site = Path(site).resolve()
        self.chromium = chromium
        self.screenshots = screenshots
        self._stack = contextlib.ExitStack()

    # context management: server + browser live as long as the checker
    def __enter__(self) -> "SiteChecker":
        from playwright.sync_api import sync_playwright

        try:
            self.base = self._stack.enter_context(serve(self.site))
            self._pw = self._stack.enter_context(sync_playwright())
            self.browser = self._pw.chromium.launch(
                executable_path=self.chromium, headless=True, args=list(CHROMIUM_ARGS)
            )
            self._stack.callback(self.browser.close)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    # -- one page
    @contextlib.contextmanager
    def open_page(self, page: str, problems: list[Problem], *, color_scheme: str = "light",
                  width: int = 1280, height: int = 900) -> Iterator[Any]:
        """Load ``page`` in a fresh browser context with the network off; yield the Playwright page.

        Requests that leave the local server, console errors, uncaught
        exceptions and local 4xx/5xx responses are appended to ``problems``
        (checks ``network``, ``console``, ``http``) while the page is open.
        """
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
            service_workers="block",
        )
        local = urlsplit(self.base).netloc

        def route(r: Any) -> None:
            url = r.request.url
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local:
                problems.append(Problem("network", f"page needs the network: {url}"))
                r.abort("blockedbyclient")
            else:
                r.continue_()

        context.route("**/*", route)
        try:
            pg = context.new_page()
            pg.on("console", lambda m: m.type == "error" and problems.append(Problem("console", m.text[:300])))
            pg.on("pageerror", lambda e: problems.append(Problem("console", f"uncaught: {str(e)[:300]}")))

            def on_response(resp: Any) -> None:
                if urlsplit(resp.url).netloc == local and resp.status >= 400:
                    problems.append(Problem("http", f"{resp.status} for {resp.url}"))

            pg.on("response", on_response)
            if color_scheme == "dark":
                # the pydata theme keeps the reader's choice in localStorage
                pg.add_init_script("try { localStorage.setItem('theme', 'dark'); localStorage.setItem('mode', 'dark'); } catch (e) {}")
            pg.goto(self.base + page, wait_until="load", timeout=30000)
            yield pg
        finally:
            context.close()

    def check(self, page: str, *, color_scheme: str = "light", screenshot_name: str | None = None) -> PageReport:
        """Load ``page`` (relative to the site) and return everything wrong with it.

        ``screenshot_name`` names the PNG under ``screenshots`` (default: the page
        path with ``/`` as ``__``); ``""`` takes no screenshot.
        """
        problems: list[Problem] = []
        info: dict[str, Any] = {}
        shot: Path | None = None
        with self.open_page(page, problems, color_scheme=color_scheme) as pg:
            info = pg.evaluate(_INSPECT_JS)
            problems.extend(self.analyse(page, info))
            if self.screenshots is not None and screenshot_name != "":
                self.screenshots.mkdir(parents=True, exist_ok=True)
                name = screenshot_name or page.replace("/", "__").removesuffix(".html") + ".png"
                shot = self.screenshots / name
                pg.screenshot(path=str(shot), full_page=True)
        return PageReport(page, problems, shot, info)

    # -- pure analysis of what the page showed (testable without a browser)
    def analyse(self, page: str, info: dict[str, Any]) -> list[Problem]:
        out: list[Problem] = []
        # math
        if info["mathCount"] and not info.get("mathjaxLoaded"):
            out.append(Problem("math", f"{info['mathCount']} math element(s) but MathJax did not load"))
        elif info.get("mathjaxLoaded") and not info.get("mathjaxDone", False):
            out.append(Problem("math", "MathJax did not finish typesetting within 15 s"))
        for raw in info["mathUnrendered"][:5]:
            out.append(Problem("math", f"math element not typeset: {raw!r}"))
        for err in info["mathErrors"][:5]:
            out.append(Problem("math", f"MathJax error: {err!r}"))
        text = info["text"]
        raw_lines = []
        for m in RAW_LATEX.finditer(text):
            line = text[text.rfind("\n", 0, m.start()) + 1 : (text.find("\n", m.end()) + 1 or len(text) + 1) - 1]
            if line not in raw_lines:
                raw_lines.append(line)
        for line in raw_lines[:5]:
            out.append(Problem("math", f"raw LaTeX in the text: {line.strip()[:120]!r}"))
        # images
        for im in info["images"]:
            if not im["ok"]:
                out.append(Problem("image", f"image did not load: {im['src']}"))
            alt = (im["alt"] or "").strip()
            if not alt or alt == im["rawSrc"] or re.search(r"\.(png|jpe?g|svg|gif)$", alt, re.IGNORECASE):
                # myst-nb uses the file path as alt text for a figure without :alt:
                out.append(Problem("alt", f"image without alt text (alt={im['alt']!r}): {im['src']}"))
        # outputs
        for cls in info["errorOutputs"]:
            out.append(Problem("output", f"error/stderr output block ({cls})"))
        for o in info["outputs"]:
            m = OUTPUT_DEFECT.search(o["text"])
            if m:
                out.append(Problem("output", f"cell output shows {m.group(0).strip()!r}: {o['text'][:200]!r}"))
        # links
        page_url = self.base + page
        checked: set[str] = set()
        for link in info["links"]:
            href = link["href"]
            if not href or href.startswith(("javascript:", "mailto:", "data:", "tel:")) or href == "#":
                continue
            absolute = urljoin(page_url, href)
            if absolute in checked:
                continue
            checked.add(absolute)
            problem = self._check_link(page, href, absolute)
            if problem is not None:
                out.append(problem)
        # cross-references and numbers
        for xref in info["unresolved"]:
            # autodoc leaves references to other libraries (object, torch.optim.Optimizer, ...)
            # unlinked, since the book has no intersphinx (offline); only our own must resolve
            external = " py " in f" {xref['classes']} " and not xref["text"].startswith(("lrtheory", "~lrtheory"))
            if not external:
                out.append(Problem("xref", f"unresolved cross-reference: {xref['text']!r} ({xref['classes']})"))
        for eq in info["equations"]:
            if not eq["number"] or not EQ_NUMBER.match(eq["number"]):
                out.append(Problem("number", f"labelled equation {eq['id']} shows no number (got {eq['number']!r})"))
        for fig in info["figures"]:
            if fig["hasCaption"] and (not fig["number"] or not FIG_NUMBER.match(fig["number"])):
                out.append(Problem("number", f"labelled figure {fig['id']} shows no 'Fig. N' (got {fig['number']!r})"))
        for ref in info["refs"]:
            frag = ref["href"].split("#", 1)[1]
            pattern = EQ_NUMBER if frag.startswith("equation-") else FIG_NUMBER
            if not pattern.match(ref["text"]):
                out.append(Problem("number", f"reference to {frag} shows {ref['text']!r}, not a number"))
        # download
        if info["isNotebook"] and page.startswith("chapters/"):
            if not info["ipynb"]:
                out.append(Problem("download", "notebook page without an .ipynb download"))
        if info["ipynb"]:
            problem = self._check_ipynb(info["ipynb"])
            if problem is not None:
                out.append(problem)
        return out

    def _local_path(self, absolute: str) -> Path | None:
        parts = urlsplit(absolute)
        if parts.netloc != urlsplit(self.base).netloc:
            return None
        rel = unquote(parts.path).lstrip("/")
        path = self.site / rel
        if rel == "" or rel.endswith("/"):
            path = path / "index.html"
        return path

    def _check_link(self, page: str, href: str, absolute: str) -> Problem | None:
        path = self._local_path(absolute)
        if path is None:
            return None  # external: offline, not checked (the network check covers loads)
        try:
            path.resolve().relative_to(self.site)
        except ValueError:
            return Problem("link", f"{href!r} leaves the site")
        if not path.is_file():
            return Problem("link", f"dead link {href!r} (no file {path.relative_to(self.site)})")
        frag = unquote(urlsplit(absolute).fragment)
        if frag and path.suffix == ".html" and frag not in ids_of(path):
            return Problem("anchor", f"dead anchor {href!r} (no id {frag!r} in {path.relative_to(self.site)})")
        return None

    def _check_ipynb(self, absolute: str) -> Problem | None:
        import nbformat

        path = self._local_path(absolute)
        if path is None or not path.is_file():
            return Problem("download", f"the .ipynb download is missing: {absolute}")
        try:
            nb = nbformat.read(str(path), as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # any failure to open is the defect we report
            return Problem("download", f"{path.name} does not open with nbformat: {type(exc).__name__}: {str(exc)[:200]}")
        code = [c for c in nb.cells if c.cell_type == "code"]
        if code and not any(c.get("execution_count") for c in code):
            # e.g. myst-nb saves the un-merged notebook when it reuses a jupyter-cache record
            return Problem("download", f"{path.name} was never executed (no execution counts, no outputs)")
        return None

