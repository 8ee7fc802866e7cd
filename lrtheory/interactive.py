"""Figures to play with: a slider over pre-rendered frames, offline, in plain HTML.

Where a reader would rather move a slider than read (the learning rate
against the stability edge, a schedule against its bound, the SimSiam toy's
basin, EG's path on the simplex), a chapter calls :func:`slider_figure` with a
function that draws one frame for one parameter value.  Every frame is
rendered by matplotlib when the chapter executes; the result is one
self-contained HTML fragment (inline SVG frames, a range input and a dozen
lines of inline JavaScript; no CDN, no widget server), so the figure works in
the built book with the network off.  Where scripts do not run (a PDF, an
untrusted notebook) the initial frame shows as a static image, and the
object's PNG form is that same frame.

Used in every chapter (see :func:`slider_figure`); nothing here runs at import time.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import Any, Callable, Sequence

from ._validation import check_array, check_callable, check_int

__all__ = ["SliderFigure", "slider_figure"]

_ID = re.compile(r'\bid="([^"]+)"')
_SAFE_KEY = re.compile(r"[^a-zA-Z0-9_-]")


def _svg_of(fig: Any, prefix: str) -> str:
    """The figure as inline SVG, with every id prefixed so frames cannot clash in one page."""
    import matplotlib as mpl

    buf = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "lrtheory"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]                      # drop the XML prolog and doctype
    # scale down with a narrow column (the frame keeps its aspect ratio through its viewBox)
    svg = svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
    ids = set(_ID.findall(svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}{old}"
        svg = (svg.replace(f'id="{old}"', f'id="{new}"')
               .replace(f"url(#{old})", f"url(#{new})")
               .replace(f'href="#{old}"', f'href="#{new}"'))
    return svg


def _png_of(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


class SliderFigure:
    """A figure with a slider over pre-rendered frames (see :func:`slider_figure`).

    Attributes
    ----------
    key : str
        Its identifier (also the glue key when glued).
    values : tuple of float
        The parameter value of each frame.
    label : str
        What the slider moves (plain text or a short HTML-safe string).
    frames : list of str
        Inline SVG of each frame.
    png : bytes
        The initial frame as PNG (the static fallback).
    initial : int
        Index of the frame shown first.
    """

    def __init__(self, key: str, values: tuple[float, ...], label: str, frames: list[str], png: bytes,
                 initial: int, value_format: str) -> None:
        self.key = key
        self.values = values
        self.label = label
        self.frames = frames
        self.png = png
        self.initial = initial
        self.value_format = value_format

    def html(self) -> str:
        """The self-contained HTML fragment (frames, slider and inline script)."""
        uid = "lrt-slider-" + _SAFE_KEY.sub("-", self.key)
        shown = [html.escape(self.value_format.format(v)) for v in self.values]
        frames = "".join(
            f'<div class="lrt-frame" data-index="{i}"{"" if i == self.initial else " hidden"}>{svg}</div>'
            for i, svg in enumerate(self.frames))
        labels = "|".join(shown)
        script = (
            "(function(){var r=document.getElementById('%s');if(!r)return;"
            "var s=r.querySelector('input'),o=r.querySelector('output'),f=r.querySelectorAll('.lrt-frame'),"
            "v=r.getAttribute('data-values').split('|');"
            "function u(){var k=+s.value;for(var i=0;i<f.length;i++){f[i].hidden=(i!==k);}o.textContent=v[k];"
            "r.setAttribute('data-current',k);}s.addEventListener('input',u);u();})();" % uid)
        return (
            f'<div class="lrt-slider" id="{uid}" data-values="{labels}" data-current="{self.initial}">'
            f'<label class="lrt-slider-control">{html.escape(self.label)} = '
            f'<output>{shown[self.initial]}</output>'
            f'<input type="range" min="0" max="{len(self.frames) - 1}" step="1" value="{self.initial}" '
            f'aria-label="{html.escape(self.label)}" style="width:100%"></label>'
            f'{frames}</div><script>{script}</script>')

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        # every display of the object in a notebook is a notebook copy: the book places the
        # figure with {glue:figure}, so a slider left as a cell's last expression does not
        # appear twice on the page (with clashing ids)
        from .plotting import NOTEBOOK_COPY_METADATA

        data = {"text/html": self.html(), "image/png": base64.b64encode(self.png).decode("ascii"),
                "text/plain": f"<SliderFigure {self.key!r}: {len(self.frames)} frames of {self.label}>"}
        return data, dict(NOTEBOOK_COPY_METADATA)

    def __repr__(self) -> str:
        return f"<SliderFigure {self.key!r}: {len(self.frames)} frames of {self.label}>"


def slider_figure(key: str, draw: Callable[[float], Any], values: Sequence[float], *, label: str,
                  initial: int | None = None, value_format: str = "{:.3g}", glue: bool = True) -> SliderFigure:
    """Render ``draw(v)`` for every ``v`` in ``values`` into one offline slider figure.

    Parameters
    ----------
    key : str
        The glue key (``chN-fig-...``); the book places the figure with a
        ``{glue:figure}`` directive as usual.
    draw : callable
        ``draw(value)`` returns a matplotlib ``Figure`` for one parameter value
        (use :func:`lrtheory.plotting.subplots`, fixed axis limits and a fixed
        size, so frames line up); it is closed after rendering.
    values : sequence of float
        The slider's positions, 2 to 60 finite values (frames cost page weight:
        keep them few and the drawings simple).
    label : str
        What the slider moves, e.g. ``"learning rate γ"``.
    initial : int, optional
        Index of the frame shown first and used as the static image (default: the middle).
    value_format : str, optional
        ``str.format`` pattern of the value shown beside the slider.
    glue : bool, optional
        Glue the figure under ``key`` (``display=False``) and display it once for
        notebook readers (marked as a notebook copy, like
        :func:`lrtheory.plotting.glue_figure`). Default ``True``.

    Returns
    -------
    SliderFigure

    Raises
    ------
    TypeError, ValueError
        For a bad key, a ``draw`` that does not return a Figure, or bad values.

    Notes
    -----
    The HTML is deterministic (fixed SVG id salt, no dates), so two builds give
    the same page.  The browser tests move each slider with the network off and
    check that the visible frame changes.
    """
    from matplotlib.figure import Figure
    import matplotlib.pyplot as plt

    if not isinstance(key, str) or not key:
        raise TypeError("key must be a non-empty str")
    check_callable("draw", draw)
    vals = check_array("values", values, ndim=1)
    if not 2 <= vals.size <= 60:
        raise ValueError(f"values must hold 2 to 60 slider positions, got {vals.size}")
    if not isinstance(label, str) or not label:
        raise TypeError("label must be a non-empty str")
    if not isinstance(value_format, str):
        raise TypeError(f"value_format must be a str, got {type(value_format).__name__}")
    try:
        value_format.format(float(vals[0]))
    except (ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"value_format cannot format a float: {exc}") from None
    initial = vals.size // 2 if initial is None else check_int("initial", initial, low=0, high=vals.size - 1)
    if not isinstance(glue, bool):
        raise TypeError(f"glue must be a bool, got {type(glue).__name__}")
    frames: list[str] = []
    png = b""
    safe = _SAFE_KEY.sub("-", key)
    for i, v in enumerate(vals):
        fig = draw(float(v))
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        try:
            frames.append(_svg_of(fig, f"{safe}-f{i}-"))
            if i == initial:
                png = _png_of(fig)
        finally:
            plt.close(fig)
    out = SliderFigure(key, tuple(float(v) for v in vals), label, frames, png, initial, value_format)
    if glue:
        from IPython.display import display
        from myst_nb import glue as nb_glue

        from .plotting import NOTEBOOK_COPY_METADATA

        nb_glue(key, out, display=False)
        display(out, metadata=NOTEBOOK_COPY_METADATA)
    return out
