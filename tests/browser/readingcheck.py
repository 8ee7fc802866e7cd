"""The reading-path checks of a built page: does it read like a textbook? (issue 18)

``sitecheck`` checks that a page works (math typeset, links live, images
loaded); this module checks that it reads well, on the chapter, appendix and
reader pages (not the API reference).  At 1280 px, with the network off:

* ``code-share``: visible code inputs take at most :data:`CODE_SHARE_MAX` of the
  article's height (check cells fold behind their toggle);
* ``overflow``: no visible code cell scrolls sideways;
* ``equation``: no display equation is wider than its box (less its number);
* ``figure-size``: no figure is shown below :data:`FIGURE_SCALE_MIN` of its
  natural width (a figure wider than the column shrinks, its text with it);
* ``slider``: every slider responds: moved with the keyboard, it shows another
  frame (one frame visible, ``data-current`` and the value change);
* ``solution``: nothing of a solution but its title is visible before its toggle
  is opened, and no visible code cell sits right after one (the old pattern of
  solution code outside the dropdown);
* ``prose-number``: no e-notation (``1.2e-05``), no hyphen-minus negative
  (``-0.3``) and no float at full precision (``0.9992243366045159``) in the
  prose (code, math and outputs are not prose);
* ``download``: a page that shows figures serves a notebook that shows them
  too (image outputs, with a PNG beside any SVG: JupyterLab renders SVG only in
  trusted notebooks), without stderr, progress-bar redraws or machine paths;

and at 390 px (``narrow``): the page does not scroll sideways (wide code and
equations scroll inside their own boxes) and the text column stays usable.

Every problem names the page's element: the cell as ``cell [N]`` (its
execution count, from the ``nb-cell-N`` anchor that ``_ext/reading_path.py``
adds), the equation by its number, the figure by its number and label.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sitecheck import PageReport, Problem, SiteChecker

__all__ = [
    "CODE_SHARE_MAX", "FIGURE_SCALE_MIN", "DESKTOP_WIDTH", "NARROW_WIDTH", "E_NOTATION", "HYPHEN_NEGATIVE",
    "UNFORMATTED",
    "is_reading_page", "analyse_desktop", "analyse_narrow", "analyse_prose", "analyse_notebook", "check_reading",
]

CODE_SHARE_MAX = 0.10
"""Visible code inputs may take at most this share of a page's article height."""

FIGURE_SCALE_MIN = 0.8
"""A figure may be shown at no less than this fraction of its natural width."""

DESKTOP_WIDTH = 1280
NARROW_WIDTH = 390
NARROW_MIN_TEXT_PX = 300
"""At 390 px the article keeps at least this width (px)."""

E_NOTATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE](?:[-+\u2212]\d+|0\d+)\b")
"""A number in e-notation as Python prints it: ``5.7e-04``, ``3.99e+03``."""

HYPHEN_NEGATIVE = re.compile(r"(?:^|(?<=[\s(\[{=:;,/<>\u2248\u2264\u2265]))-(?=\.?\d)")
"""A hyphen-minus used as a minus sign: ``-0.3`` after a space, bracket or relation (not ``1-2``, ``top-5``)."""

UNFORMATTED = re.compile(r"(?<![\w.])\d+\.\d{7,}(?![\w.])")
"""A float pasted at full precision (``0.9992243366045159``): ``{glue:text}`` without a format."""

MACHINE_PATH = re.compile(r"site-packages|/\.venv/|(?<![\w:/.])/(?:home|work|Users|root|tmp)/[\w.-]+/")
PROGRESS_BAR = re.compile(r"\r|\d+%\|.*\||\d(?:it/s|s/it)\]")

_JS = (Path(__file__).with_name("inspect_reading.js")).read_text(encoding="utf-8")
_SKIP = ("genindex.html", "search.html", "py-modindex.html")


def is_reading_page(page: str) -> bool:
    """The pages a reader reads: everything but the API reference and Sphinx's index pages."""
    return not page.startswith("api/") and page not in _SKIP


# --------------------------------------------------------------------------- analysis (no browser)


def analyse_desktop(info: dict[str, Any]) -> list[Problem]:
    """Judge the layout facts collected by ``inspect_reading.js`` at 1280 px."""
    out: list[Problem] = []
    height = max(float(info.get("articleHeight") or 0), 1.0)
    shown = [c for c in info.get("cells", []) if c["visible"]]
    code = sum(c["height"] for c in shown)
    share = code / height
    if share > CODE_SHARE_MAX:
        tallest = sorted(shown, key=lambda c: -c["height"])[:5]
        names = ", ".join(f"{c['label']} ({c['height']:.0f} px, {c['firstLine']!r})" for c in tallest)
        out.append(Problem("code-share", f"visible code is {share:.1%} of the page height ({code:.0f} of {height:.0f} px; "
                                         f"target <= {CODE_SHARE_MAX:.0%}); {len(shown)} visible cells, the tallest: {names}"))
    for c in shown:
        if c["overflowPx"] > 1:
            out.append(Problem("overflow", f"{c['label']} ({c['firstLine']!r}) is wider than its box by {c['overflowPx']:.0f} px "
                                           "(scrolls sideways)"))
    for eq in info.get("equations", []):
        if not eq["visible"]:
            continue
        room = eq["box"] - eq["numberWidth"]
        if eq["width"] > room + 1:
            tex = f" “{eq['tex']}”" if eq.get("tex") else ""
            out.append(Problem("equation", f"{eq['label']}{tex} is {eq['width']:.0f} px wide in {room:.0f} px "
                                           f"(box {eq['box']:.0f} px less its number): wider by {eq['width'] - room:.0f} px"))
    for fig in info.get("figures", []):
        scale = fig["shown"] / max(float(fig["natural"]), 1.0)
        if scale < FIGURE_SCALE_MIN:
            out.append(Problem("figure-size", f"{fig['label']} is shown at {scale:.2f} of its natural width "
                                              f"({fig['shown']:.0f} of {fig['natural']:.0f} px; minimum {FIGURE_SCALE_MIN}): "
                                              "make it at most plotting.COLUMN_WIDTH_IN wide"))
    for sol in info.get("solutions", []):
        for leak in sol["leaks"][:3]:
            out.append(Problem("solution", f"{sol['label']}: visible before its toggle is opened: {leak!r}"))
        if sol.get("codeAfter"):
            out.append(Problem("solution", f"{sol['label']}: {sol['codeAfter']} right after it is visible (solution code "
                                           "outside the dropdown: use solution-start / solution-end)"))
    out += analyse_prose(info.get("prose", []))
    return out


def _excerpt(text: str, start: int, end: int) -> str:
    return re.sub(r"\s+", " ", text[max(start - 40, 0): end + 40]).strip()


def analyse_prose(blocks: list[dict[str, Any]]) -> list[Problem]:
    """E-notation and hyphen-minus negatives in the prose blocks of a page."""
    out: list[Problem] = []
    for block in blocks:
        text = block["text"]
        where = f" (section #{block['section']})" if block.get("section") else ""
        for m in E_NOTATION.finditer(text):
            out.append(Problem("prose-number", f"e-notation {m.group(0)!r}{where}: {_excerpt(text, m.start(), m.end())!r} "
                                               "(glue it with lrtheory.fmt.glue_number and {glue:md})"))
        for m in UNFORMATTED.finditer(text):
            out.append(Problem("prose-number", f"unformatted number {m.group(0)!r}{where}: "
                                               f"{_excerpt(text, m.start(), m.end())!r} ({{glue:text}} without a format: "
                                               "write {glue:md}`key` for a number glued with glue_number)"))
        for m in HYPHEN_NEGATIVE.finditer(text):
            number = re.match(r"-\.?[\d.]+", text[m.start():])
            out.append(Problem("prose-number", f"hyphen-minus negative {number.group(0) if number else '-'!r}{where}: "
                                               f"{_excerpt(text, m.start(), m.start() + 6)!r} (use lrtheory.fmt's true minus)"))
    return out


def analyse_narrow(info: dict[str, Any]) -> list[Problem]:
    """Judge the page at 390 px: no sideways scrolling of the page, a usable text column."""
    out: list[Problem] = []
    viewport = info["viewport"]["width"]
    if info["pageScrollWidth"] > viewport + 1:
        wide = "; ".join(info.get("wide", [])[:5]) or "no single element found"
        out.append(Problem("narrow", f"at {viewport} px the page scrolls sideways ({info['pageScrollWidth']} px wide); "
                                     f"elements past the edge: {wide}"))
    if info["articleWidth"] < NARROW_MIN_TEXT_PX:
        out.append(Problem("narrow", f"at {viewport} px the text column is {info['articleWidth']:.0f} px wide "
                                     f"(minimum {NARROW_MIN_TEXT_PX})"))
    return out


def _has_figure(output: dict[str, Any]) -> bool:
    data = output.get("data", {})
    return any(m in data for m in ("image/png", "image/svg+xml", "image/jpeg")) or "<svg" in str(data.get("text/html", ""))


def analyse_notebook(nb: dict[str, Any], figure_count: int, name: str) -> list[Problem]:
    """The downloaded notebook of a page that shows ``figure_count`` figures: figures in, noise out."""
    out: list[Problem] = []
    figures = svg_only = stderr = bars = 0
    paths: list[str] = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if o.get("output_type") in ("display_data", "execute_result") and _has_figure(o):
                figures += 1
                data = o.get("data", {})
                svg_only += "image/svg+xml" in data and "image/png" not in data
            if o.get("output_type") == "stream":
                text = "".join(o.get("text", ""))
                stderr += o.get("name") == "stderr"
                bars += bool(PROGRESS_BAR.search(text))
                paths += [m.group(0) for m in MACHINE_PATH.finditer(text)]
            if o.get("output_type") in ("display_data", "execute_result"):
                paths += [m.group(0) for m in MACHINE_PATH.finditer(str(o.get("data", {}).get("text/plain", "")))]
    if figure_count and not figures:
        out.append(Problem("download", f"{name} shows no figure (no image output) though the page shows {figure_count}: "
                                       "glue figures with lrtheory.plotting.glue_figure"))
    if svg_only:
        out.append(Problem("download", f"{name} has {svg_only} figure(s) as SVG only: JupyterLab shows SVG only in "
                                       "trusted notebooks, so a downloaded one shows none (lrtheory.plotting."
                                       "use_book_style adds a PNG)"))
    if stderr:
        out.append(Problem("download", f"{name} has {stderr} stderr output(s) (warnings, progress bars)"))
    if bars:
        out.append(Problem("download", f"{name} has {bars} output(s) with progress-bar fragments"))
    if paths:
        out.append(Problem("download", f"{name} shows paths of the build machine: {sorted(set(paths))[:3]}"))
    return out


# --------------------------------------------------------------------------- in the browser

_SLIDER_STATE = """id => {
  const s = document.getElementById(id);
  const frames = Array.from(s.querySelectorAll('.lrt-frame'));
  const shown = frames.filter(f => f.checkVisibility ? f.checkVisibility() : f.offsetParent !== null);
  return {current: s.getAttribute('data-current'), value: (s.querySelector('output') || {}).textContent || '',
          shown: shown.map(f => f.getAttribute('data-index'))};
}"""


def exercise_sliders(pg: Any, sliders: list[dict[str, Any]]) -> list[Problem]:
    """Move every slider with the keyboard (the network is off) and check that the figure changes."""
    out: list[Problem] = []
    for s in sliders:
        name = f"slider #{s['id']} in {s['label']}"
        if s["frames"] < 2:
            out.append(Problem("slider", f"{name} has {s['frames']} frame(s)"))
            continue
        before = pg.evaluate(_SLIDER_STATE, s["id"])
        if len(before["shown"]) != 1:
            out.append(Problem("slider", f"{name} shows {len(before['shown'])} frames at once before it is moved"))
        handle = pg.locator(f"[id='{s['id']}'] input[type=range]")
        handle.focus()
        handle.press("Home" if before["current"] not in (None, "0") else "End")
        after = pg.evaluate(_SLIDER_STATE, s["id"])
        if after["current"] == before["current"]:
            out.append(Problem("slider", f"{name} did not respond: data-current stayed {before['current']!r}"))
        elif after["shown"] != [after["current"]]:
            out.append(Problem("slider", f"{name} moved to {after['current']!r} but shows frames {after['shown']}"))
        elif after["value"] == before["value"]:
            out.append(Problem("slider", f"{name} moved but its value label stayed {before['value']!r}"))
    return out


def check_reading(checker: SiteChecker, page: str, *, screenshots: Path | None = None,
                  narrow: bool = True) -> PageReport:
    """All reading-path checks of one page, at 1280 px and (unless ``narrow=False``) at 390 px.

    See the module docstring for the checks; ``screenshots`` is a folder for a
    full-page screenshot at 390 px (``<page>-390.png``).
    """
    problems: list[Problem] = []
    with checker.open_page(page, problems, width=DESKTOP_WIDTH) as pg:
        info = pg.evaluate(_JS)
        problems += analyse_desktop(info)
        problems += exercise_sliders(pg, info.get("sliders", []))
    if info.get("ipynb"):
        path = checker._local_path(info["ipynb"])
        if path is not None and path.is_file():
            try:
                nb = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                nb = None  # sitecheck's download check reports a notebook that does not open
            if nb is not None:
                problems += analyse_notebook(nb, info.get("figureCount", 0), path.name)
    shot = None
    if not narrow:
        return PageReport(page, problems, shot, {"desktop": info})
    with checker.open_page(page, problems, width=NARROW_WIDTH, height=844) as pg:
        narrow = pg.evaluate(_JS)
        problems += analyse_narrow(narrow)
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            shot = screenshots / (page.replace("/", "__").removesuffix(".html") + f"-{NARROW_WIDTH}.png")
            pg.screenshot(path=str(shot), full_page=True)
    return PageReport(page, problems, shot, {"desktop": info, "narrow": narrow})
